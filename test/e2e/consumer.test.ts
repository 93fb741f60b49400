/**
 * The component as a package another stack installs: `npm pack` of this repo, installed into a copy of
 * examples/consumer (offline, from the npm cache: tests reach no registry), type-checked against the
 * shipped declarations, then deployed to the local hosts by the real Pulumi CLI and checked over TLS.
 */
import { after, before, test } from "node:test";
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { stringify } from "yaml";
import { LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import { hosts, hostsUp, Inventory, ROOT, stackMembers } from "../support/hosts";
import { ClientCreds, localEtcdctl, releaseArchive, writeCreds } from "../support/etcdctl";
import { assertOneHealthyCluster } from "../support/checks";
import { automationEnv, pulumiSuite } from "../support/toolchain";

const VERSION = "3.6.16";
const NAMES = ["etcd1", "etcd2", "etcd3"];
let inv: Inventory;
let dir: string;
let stack: Stack;
let tarball: string;
const output: string[] = [];

const run = (cmd: string, args: string[], cwd: string) => execFileSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 10 * 60 * 1000 });

pulumiSuite("etcd-pulumi as an installed package (examples/consumer, real Pulumi CLI)", { timeout: 30 * 60 * 1000 }, () => {
    before(() => {
        hosts("down");
        inv = hostsUp(3);
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "etcd-consumer-"));
    });

    after(async () => {
        try {
            await stack?.destroy({ onOutput: (o) => output.push(o) });
        } catch {
            /* best effort: the hosts go away next */
        }
        if (!process.env.E2E_KEEP) hosts("down");
        fs.rmSync(dir, { recursive: true, force: true });
    });

    test("npm pack ships compiled JavaScript with declarations and the host programs, and no stack files, scripts or tests", () => {
        const packed = JSON.parse(run("npm", ["pack", "--json", "--pack-destination", dir], ROOT)) as { filename: string; files: { path: string }[] }[];
        tarball = path.join(dir, packed[0].filename);
        const files = packed[0].files.map((f) => f.path);
        assert.ok(files.includes("dist/components/index.js") && files.includes("dist/components/index.d.ts"), files.join("\n"));
        // The host programs (shell and awk files the members run) ship beside the code that uploads them.
        const unwanted = files.filter((f) => !/^(dist\/components\/.*\.(js|d\.ts)|dist\/components\/(.+\/)?host\/[^/]+\.(sh|awk)|package\.json|README\.md|LICENSE)$/.test(f));
        assert.ok(files.includes("dist/components/backup/host/etcd-backup.sh"), "the backup's host program is in the package");
        assert.deepEqual(unwanted, [], "the package carries more than the component");
    });

    test("another project installs the tarball and type-checks against it", () => {
        const project = path.join(dir, "consumer");
        fs.cpSync(path.join(ROOT, "examples", "consumer"), project, { recursive: true });
        // Point package.json and its lock at this run's tarball (the lock pins everything else, so the
        // install comes from the npm cache that setup filled: no registry is reached).
        const pkgFile = path.join(project, "package.json");
        const lockFile = path.join(project, "package-lock.json");
        const pkg = JSON.parse(fs.readFileSync(pkgFile, "utf8"));
        const lock = JSON.parse(fs.readFileSync(lockFile, "utf8"));
        pkg.dependencies["etcd-pulumi"] = lock.packages[""].dependencies["etcd-pulumi"] = `file:${tarball}`;
        lock.packages["node_modules/etcd-pulumi"].resolved = `file:${tarball}`;
        delete lock.packages["node_modules/etcd-pulumi"].integrity;
        fs.writeFileSync(pkgFile, JSON.stringify(pkg, null, 2));
        fs.writeFileSync(lockFile, JSON.stringify(lock, null, 2));
        run("npm", ["ci", "--offline", "--no-audit", "--no-fund", "--loglevel=error"], project);
        assert.ok(fs.existsSync(path.join(project, "node_modules", "etcd-pulumi", "dist", "components", "index.js")));
        assert.ok(!fs.existsSync(path.join(project, "node_modules", "etcd-pulumi", "index.ts")), "the stack program must not be in the package");
        run(path.join(project, "node_modules", ".bin", "tsc"), ["-p", "tsconfig.json"], project);
    });

    test("its stack deploys a healthy cluster on the local hosts, and a second preview shows no changes", async () => {
        const project = path.join(dir, "consumer");
        const { archive, sums } = releaseArchive(VERSION);
        const members = stackMembers(inv, NAMES);
        const config = {
            "etcd-consumer:members": members,
            "etcd-consumer:binary": { path: archive, sha256sums: sums },
            "etcd-consumer:healthTimeoutSeconds": 60,
        };
        fs.writeFileSync(path.join(project, "Pulumi.test.yaml"), stringify({ config }));
        fs.mkdirSync(path.join(project, ".state"));
        stack = await LocalWorkspace.createOrSelectStack(
            { stackName: "test", workDir: project },
            {
                envVars: automationEnv(path.join(project, ".state"), "consumer-test-passphrase"),
            },
        );
        await stack.setConfig("etcd-consumer:sshPrivateKey", { value: fs.readFileSync(inv.sshKeyPath, "utf8"), secret: true });
        const t0 = Date.now();
        const up = await stack.up({ onOutput: (o) => output.push(o) });
        console.log(`consumer up: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
        assert.equal(up.summary.result, "succeeded", output.join(""));
        const endpoints = up.outputs.etcdEndpoints.value as string;
        assert.equal(endpoints, members.map((m) => `https://${m.address}:2379`).join(","));
        assert.equal(up.outputs.apiserverKeyPem.secret, true);
        const creds: ClientCreds = writeCreds(path.join(dir, "creds"), "apiserver", {
            ca: up.outputs.etcdCaCertPem.value,
            cert: up.outputs.apiserverCertPem.value,
            key: up.outputs.apiserverKeyPem.value,
        });
        assertOneHealthyCluster(localEtcdctl(VERSION), endpoints, creds, members, "consumer cluster");
        await stack.preview({ expectNoChanges: true, onOutput: (o) => output.push(o) });
    });
});

/**
 * EtcdCluster from other Pulumi languages: this repository as a source-based Pulumi package, consumed by
 * examples/consumer-yaml (Pulumi YAML, `pulumi package add <path>`) and examples/consumer-go (Go,
 * `pulumi package add <git URL>` of a tagged copy served over HTTPS on loopback), each deploying a
 * 3-member cluster onto the local hosts with the real CLI, checked from outside over TLS, then a
 * no-change preview and a destroy. The package is a copy of the working tree (what a clone would hold),
 * installed offline from the npm cache; Go modules come from the module proxy. Both consumers share one
 * boot of the hosts (the first destroys with purgeDataOnDestroy, so the second starts clean).
 */
import { after, before, test } from "node:test";
import * as assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse, stringify } from "yaml";
import { LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import { hosts, hostsUp, Inventory, onHost, ROOT, stackMembers } from "../support/hosts";
import { ClientCreds, localEtcdctl, releaseArchive, writeCreds } from "../support/etcdctl";
import { assertNoPlainHttp, assertOneHealthyCluster } from "../support/checks";
import { GitHttpsServer, gitHttpsServerUnavailable, startGitHttpsServer } from "../support/gitHttpsServer";
import { COMPONENT_TOKEN, PackageSchema, schemaProblems, secretPaths } from "../support/packageSchema";
import { automationEnv, languageHostUnavailable, pulumiSuite } from "../support/toolchain";

const VERSION = "3.6.16";
const NAMES = ["etcd1", "etcd2", "etcd3"];
const PACKAGE_VERSION = (JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { version: string }).version;
let inv: Inventory;
let dir: string;
let home: string;
let pkg: string;
let gitServer: GitHttpsServer | undefined;
const stacks: Stack[] = [];
const output: string[] = [];
const record = (label: string) => (o: string) => {
    output.push(o);
    if (process.env.E2E_VERBOSE) process.stderr.write(`[${label}] ${o}`);
};

/** The environment of every CLI run here: the project's toolchain switches, a private PULUMI_HOME, no registry. */
function cliEnv(project: string, extra: Record<string, string> = {}): Record<string, string> {
    return {
        ...automationEnv(path.join(project, ".state"), "multilang-test-passphrase"),
        PULUMI_HOME: home,
        // The package's `npm install` (run by the nodejs language host) comes from the npm cache setup filled.
        npm_config_offline: "true",
        npm_config_audit: "false",
        npm_config_fund: "false",
        GOFLAGS: "-mod=mod",
        ...extra,
    };
}

/** Run a command without blocking the event loop (the test's git server answers from it meanwhile); its stdout. */
function run(cmd: string, args: string[], cwd: string, env: Record<string, string>): Promise<string> {
    return new Promise((resolve, reject) => {
        const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"], timeout: 20 * 60 * 1000 });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (c) => (stdout += c));
        child.stderr.on("data", (c) => (stderr += c));
        child.on("error", reject);
        child.on("close", (code, signal) =>
            code === 0 ? resolve(stdout) : reject(new Error(`${cmd} ${args.join(" ")} (in ${cwd}) failed (${signal ?? `exit ${code}`}):\n${stdout}\n${stderr}`)),
        );
    });
}

/** Where a plaintext private key sits in the stack's state as stored on disk (file and JSON path), for a failure message. */
function plaintextKeys(stateDir: string): string[] {
    const found: string[] = [];
    const walk = (v: unknown, at: string): void => {
        if (typeof v === "string" && /PRIVATE KEY/.test(v)) found.push(at);
        else if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${at}[${i}]`));
        else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) walk(x, `${at}.${k}`);
    };
    const files = (fs.readdirSync(stateDir, { recursive: true }) as string[]).filter((f) => f.endsWith(".json") && f.includes("stacks"));
    assert.ok(files.length > 0, `no stack state under ${stateDir}`);
    for (const f of files) walk(JSON.parse(fs.readFileSync(path.join(stateDir, f), "utf8")), f);
    return found;
}

/** The working tree as a clone would hold it: tracked and untracked files git does not ignore. */
function copyWorkingTree(to: string): void {
    const files = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: ROOT, encoding: "utf8" }).split("\0");
    for (const f of files) {
        if (!f || f.split("/").includes("node_modules") || !fs.existsSync(path.join(ROOT, f))) continue;
        fs.mkdirSync(path.dirname(path.join(to, f)), { recursive: true });
        fs.cpSync(path.join(ROOT, f), path.join(to, f), { verbatimSymlinks: true });
    }
}

/** A PULUMI_HOME of this run's own (a git-URL package is installed into it), with the pinned resource plugins linked in. */
function privatePulumiHome(to: string): void {
    const shared = path.join(process.env.PULUMI_HOME ?? path.join(os.homedir(), ".pulumi"), "plugins");
    fs.mkdirSync(path.join(to, "plugins"), { recursive: true });
    for (const d of fs.readdirSync(shared).filter((n) => /^resource-.+-v\d[^/]*$/.test(n) && !/\.(lock|partial|lastused)$/.test(n))) {
        try {
            execFileSync("cp", ["-al", path.join(shared, d), path.join(to, "plugins", d)]); // hard links: no copy of 190 MB
        } catch {
            execFileSync("cp", ["-a", path.join(shared, d), path.join(to, "plugins", d)]);
        }
        fs.writeFileSync(path.join(to, "plugins", `${d}.lock`), "");
    }
}

/** Deploy a consumer project's stack, check the cluster from outside, preview (no changes), destroy. */
async function deployAndCheck(project: string, label: string, env: Record<string, string>): Promise<void> {
    const projectName = (parse(fs.readFileSync(path.join(project, "Pulumi.yaml"), "utf8")) as { name: string }).name;
    const { archive, sums } = releaseArchive(VERSION);
    const members = stackMembers(inv, NAMES);
    const config = {
        [`${projectName}:members`]: members,
        [`${projectName}:binary`]: { path: archive, sha256sums: sums },
        [`${projectName}:healthTimeoutSeconds`]: 60,
        // The second consumer deploys onto the same hosts: this one leaves nothing behind.
        [`${projectName}:purgeDataOnDestroy`]: true,
    };
    fs.writeFileSync(path.join(project, "Pulumi.test.yaml"), stringify({ config }));
    fs.mkdirSync(path.join(project, ".state"), { recursive: true });
    const stack = await LocalWorkspace.createOrSelectStack({ stackName: "test", workDir: project }, { envVars: env });
    stacks.push(stack);
    await stack.setConfig(`${projectName}:sshPrivateKey`, { value: fs.readFileSync(inv.sshKeyPath, "utf8"), secret: true });

    let destroyed = false;
    try {
        await upCheckDestroy(stack, label, members, project);
        destroyed = true;
    } finally {
        // A failure leaves nothing running for the next consumer on these hosts.
        if (!destroyed) await stack.destroy({ onOutput: record(`${label} cleanup`) }).catch(() => undefined);
    }
}

async function upCheckDestroy(stack: Stack, label: string, members: { name: string; address: string }[], project: string): Promise<void> {
    let t0 = Date.now();
    const up = await stack.up({ onOutput: record(label) });
    console.log(`${label} up: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    assert.equal(up.summary.result, "succeeded", output.join(""));
    const endpoints = up.outputs.etcdEndpoints.value as string;
    assert.equal(endpoints, members.map((m) => `https://${m.address}:2379`).join(","));
    assert.equal(up.outputs.apiserverKeyPem.secret, true, "the key output is a secret");
    assert.match(up.outputs.apiserverKeyPem.value as string, /PRIVATE KEY/);
    const creds: ClientCreds = writeCreds(path.join(project, "creds"), "apiserver", {
        ca: up.outputs.etcdCaCertPem.value,
        cert: up.outputs.apiserverCertPem.value,
        key: up.outputs.apiserverKeyPem.value,
    });
    assertOneHealthyCluster(localEtcdctl(VERSION), endpoints, creds, members, `${label} cluster`);
    for (const m of members) await assertNoPlainHttp(m.address, 2379);
    assert.deepEqual(plaintextKeys(path.join(project, ".state")), [], `${label}: a private key in plaintext in the state`);
    const exported = JSON.stringify(await stack.exportStack());
    assert.ok(exported.includes(`"type":"${COMPONENT_TOKEN}"`), `${label}: no ${COMPONENT_TOKEN} in the state`);

    t0 = Date.now();
    await stack.preview({ expectNoChanges: true, onOutput: record(label) });
    console.log(`${label} no-change preview: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    t0 = Date.now();
    const down = await stack.destroy({ onOutput: record(label) });
    console.log(`${label} destroy: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    assert.equal(down.summary.result, "succeeded");
    for (const m of members) {
        assert.notEqual(onHost(inv, m.name, "systemctl is-active etcd").stdout.trim(), "active", `${label}: etcd still active on ${m.name}`);
        assert.equal(onHost(inv, m.name, "test -e /var/lib/etcd").status, 1, `${label}: ${m.name} kept its data dir despite purgeDataOnDestroy`);
    }
}

pulumiSuite("EtcdCluster from YAML and Go (source-based package, real Pulumi CLI)", { timeout: 60 * 60 * 1000 }, () => {
    before(() => {
        hosts("down");
        inv = hostsUp(3);
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "etcd-multilang-"));
        home = path.join(dir, "pulumi-home");
        privatePulumiHome(home);
        pkg = path.join(dir, "etcd-pulumi");
        copyWorkingTree(pkg);
    });

    after(async () => {
        for (const s of stacks) {
            try {
                await s.destroy({ onOutput: record("cleanup") });
            } catch {
                /* best effort: the hosts go away next */
            }
        }
        await gitServer?.close();
        if (!process.env.E2E_KEEP) hosts("down");
        fs.rmSync(dir, { recursive: true, force: true });
    });

    test("pulumi package get-schema <repo>: installs and builds the package, then shows EtcdCluster typed, described, secrets marked", async () => {
        const t0 = Date.now();
        const schema = JSON.parse(await run("pulumi", ["package", "get-schema", pkg], dir, cliEnv(dir))) as PackageSchema;
        console.log(`get-schema (npm install and build of the package included): ${((Date.now() - t0) / 1000).toFixed(1)} s`);
        assert.ok(fs.existsSync(path.join(pkg, "dist", "components", "provider", "main.js")), "npm install's prepare script built dist/");
        assert.deepEqual(schemaProblems(schema), []);
        assert.deepEqual(secretPaths(schema), ["EtcdBackup.encryptionKey", "EtcdBackup.secretAccessKey", "EtcdClientCertificate.keyPem", "EtcdSsh.privateKey", "output.adminKeyPem", "output.apiserverKeyPem", "output.backupEncryptionKey", "output.clientCertificates", "output.monitoringKeyPem"]);
        assert.deepEqual(schema.resources[COMPONENT_TOKEN].requiredInputs, ["members", "ssh"]);
        assert.equal(schema.resources[COMPONENT_TOKEN].inputProperties!.members.items!.$ref, "#/types/etcd-pulumi:index:EtcdMember");
    });

    test("Pulumi YAML (examples/consumer-yaml): pulumi package add <path>, up: a healthy TLS cluster, no-change preview, destroy", { skip: languageHostUnavailable("yaml") }, async () => {
        const project = path.join(dir, "consumer-yaml");
        fs.cpSync(path.join(ROOT, "examples", "consumer-yaml"), project, { recursive: true, filter: (src) => path.basename(src) !== "sdks" });
        const env = cliEnv(project);
        const t0 = Date.now();
        await run("pulumi", ["package", "add", pkg], project, env);
        console.log(`yaml: pulumi package add: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
        assert.equal((parse(fs.readFileSync(path.join(project, "Pulumi.yaml"), "utf8")) as { packages: Record<string, string> }).packages["etcd-pulumi"], pkg);
        await deployAndCheck(project, "yaml", env);
    });

    test(
        "Go (examples/consumer-go): pulumi package add <git URL of a tagged checkout>, Go SDK generated, up: a healthy TLS cluster, no-change preview, destroy",
        { skip: languageHostUnavailable("go") ?? goUnavailable() ?? gitHttpsServerUnavailable() },
        async () => {
            // A repository with the working tree committed and tagged v<package.json version>: the CLI installs
            // the latest tag, and the generated SDK asks for the plugin at exactly that version.
            const src = path.join(dir, "git-src");
            copyWorkingTree(src);
            const git = (args: string[], cwd: string) => execFileSync("git", ["-c", "user.name=test", "-c", "user.email=test@localhost", "-c", "init.defaultBranch=main", ...args], { cwd, stdio: "ignore" });
            git(["init", "-q"], src);
            git(["add", "-A"], src);
            git(["commit", "-qm", "etcd-pulumi"], src);
            git(["tag", `v${PACKAGE_VERSION}`], src);
            const repos = path.join(dir, "git");
            fs.mkdirSync(path.join(repos, "team"), { recursive: true });
            git(["clone", "-q", "--bare", src, path.join(repos, "team", "etcd-pulumi.git")], dir);
            gitServer = await startGitHttpsServer(repos, dir, `127.0.16.${inv.hostSet}`, 443);
            // Go programs trust the system CAs plus the test server's certificate (the module proxy stays reachable).
            const bundle = path.join(dir, "ca-bundle.pem");
            const system = "/etc/ssl/certs/ca-certificates.crt";
            fs.writeFileSync(bundle, (fs.existsSync(system) ? fs.readFileSync(system, "utf8") : "") + fs.readFileSync(gitServer.caFile, "utf8"));

            const project = path.join(dir, "consumer-go");
            fs.cpSync(path.join(ROOT, "examples", "consumer-go"), project, { recursive: true, filter: (p) => path.basename(p) !== "sdks" });
            const env = cliEnv(project, { SSL_CERT_FILE: bundle });
            // The module files are made where the example runs, as its README says (none are committed): the
            // Pulumi Go SDK at the pinned version from the module proxy.
            await run("go", ["mod", "init", "etcd-consumer-go"], project, env);
            await run("go", ["get", `github.com/pulumi/pulumi/sdk/v3@v${PULUMI_GO_SDK_VERSION}`], project, env);
            const url = gitServer.url("team/etcd-pulumi.git");
            const t0 = Date.now();
            await run("pulumi", ["package", "add", url], project, env);
            console.log(`go: pulumi package add ${url}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
            const installed = fs.readdirSync(path.join(home, "plugins")).find((d) => d.includes("etcd-pulumi.git") && d.endsWith(`-v${PACKAGE_VERSION}`));
            assert.ok(installed, `the package is installed from git at v${PACKAGE_VERSION}: ${fs.readdirSync(path.join(home, "plugins")).join(", ")}`);
            assert.ok(fs.existsSync(path.join(home, "plugins", installed, "dist", "components", "provider", "main.js")), "the checkout was built by npm install's prepare script");
            const goMod = fs.readFileSync(path.join(project, "go.mod"), "utf8");
            assert.match(goMod, new RegExp(`^\\s*(require\\s+)?github\\.com/pulumi/pulumi/sdk/v3 v${PULUMI_GO_SDK_VERSION.replace(/\./g, "\\.")}(\\s*//.*)?$`, "m"), "the Pulumi Go SDK stays at the pinned version");
            assert.match(goMod, /^replace example\.com\/pulumi-etcd-pulumi\/sdk\/go => \.\/sdks\/\S+$/m, "the generated SDK is wired in with a replace");
            await deployAndCheck(project, "go", env);
        },
    );
});

/** The Pulumi Go SDK the example uses: the CLI's version (the pinned toolchain). */
const PULUMI_GO_SDK_VERSION = "3.259.0";

function goUnavailable(): string | undefined {
    try {
        execFileSync("go", ["version"], { stdio: "ignore" });
        return undefined;
    } catch {
        return "the go toolchain is not on PATH (README: Go >= 1.26)";
    }
}

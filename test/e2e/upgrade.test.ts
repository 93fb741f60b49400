/**
 * A version upgrade as a user makes it: one config edit (3.5.35 -> 3.6.16) and `pulumi up`, through the
 * real engine, with a writer running throughout. The component takes a verified snapshot first, then
 * restarts one member at a time on the new binary behind the health and catch-up gate.
 */
import { after, before, test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { hosts, hostsUp, Inventory, onHostOk, stackMembers } from "../support/hosts";
import { ClientCreds, etcdctl, localEtcdctl, releaseArchive, writeCreds } from "../support/etcdctl";
import { assertOneHealthyCluster } from "../support/checks";
import { cleanup, recorder, setConfig, TestProject, testProject } from "../support/project";
import { pulumiSuite } from "../support/toolchain";
import { underLoad } from "../support/underLoad";

const FROM = "3.5.35";
const TO = "3.6.16";
const NAMES = ["etcd1", "etcd2", "etcd3"];
let inv: Inventory;
let p: TestProject;
let bin: string;
let endpoints: string;
let admin: ClientCreds;

const members = () => stackMembers(inv, NAMES);
const versions = () => JSON.parse(etcdctl(bin, endpoints, admin, ["endpoint", "status", "-w", "json"]).stdout).map((s: { Status: { version: string } }) => s.Status.version);

pulumiSuite(`etcd upgrade ${FROM} -> ${TO} through pulumi up (real Pulumi CLI)`, { timeout: 20 * 60 * 1000 }, () => {
    before(async () => {
        hosts("down");
        inv = hostsUp(3);
        bin = localEtcdctl(TO);
        const any = releaseArchive("{version}");
        p = await testProject("upgrade", {
            members: members(),
            sshUser: "root",
            sshPrivateKeyPath: inv.sshKeyPath,
            version: FROM,
            binary: { path: any.archive, sha256sums: any.sums },
            healthTimeoutSeconds: 60,
        });
    });

    after(async () => {
        try {
            await p?.stack.destroy({ onOutput: recorder(p, "destroy") });
        } catch {
            /* best effort: the hosts go away next */
        }
        if (!process.env.E2E_KEEP) hosts("down");
        if (p) cleanup(p);
    });

    test(`deploys ${FROM}`, async () => {
        const up = await p.stack.up({ onOutput: recorder(p, "up") });
        endpoints = up.outputs.clientEndpoints.value as string;
        admin = writeCreds(fs.mkdtempSync(path.join(os.tmpdir(), "upgrade-creds-")), "admin", { ca: up.outputs.caCertPem.value, cert: up.outputs.adminCertPem.value, key: up.outputs.adminKeyPem.value });
        assert.equal(up.outputs.etcdVersion.value, FROM);
        assert.deepEqual(versions(), [FROM, FROM, FROM]);
        assert.equal(etcdctl(bin, endpoints, admin, ["put", "/upgrade/before", "kept"]).status, 0);
    });

    test(`version: ${TO} in config: the preview names the snapshot and each restart; up upgrades one member at a time under load, losing no write`, async () => {
        await setConfig(p, "version", TO);
        const mark = p.output.length;
        await p.stack.preview({ onOutput: recorder(p, "preview-upgrade") });
        const plan = p.output.slice(mark).join("");
        assert.match(plan, new RegExp(`etcd ${FROM.replace(/\./g, "\\.")} -> ${TO.replace(/\./g, "\\.")} \\(minor upgrade\\): verified snapshot on etcd1`));
        for (const name of NAMES) assert.match(plan, new RegExp(`${name}: restart \\(.*binary ${TO.replace(/\./g, "\\.")}`));
        const { result: up } = await underLoad(
            { label: `upgrade ${FROM} -> ${TO} of 3 members through pulumi up`, bin, creds: admin, prefix: "/upgrade/writes", writeVia: endpoints, maxGapMs: 5000, targetGapMs: 300, minWrites: 10 },
            () => p.stack.up({ onOutput: recorder(p, "up-upgrade") }),
        );
        assert.equal(up.outputs.etcdVersion.value, TO);
        assert.deepEqual(versions(), [TO, TO, TO]);
        const snapshots = onHostOk(inv, "etcd1", `ls /var/lib/etcd-backups/etcd-pre-install-${TO}-*.db`).trim().split("\n");
        assert.equal(snapshots.length, 1, "one verified snapshot before the new release went in");
        assertOneHealthyCluster(bin, endpoints, admin, members(), "after upgrade");
        assert.equal(etcdctl(bin, endpoints, admin, ["get", "/upgrade/before", "--print-value-only"]).stdout.trim(), "kept");
        await p.stack.preview({ expectNoChanges: true, onOutput: recorder(p, "preview-upgraded") });
    });
});

/**
 * Restore after losing every member, through the real engine on 3 local hosts: keys written, a snapshot
 * taken by the scheduled-snapshot service, every member's data dir deleted, then `restoreFrom` + `pulumi
 * up`. The keys are back, the cluster passes the health and TLS checks, it is a new cluster (new ID) at a
 * bumped, compacted revision. Leaving restoreFrom set changes nothing; another snapshot restores again
 * (the old data moved aside, never deleted), and a run that failed part-way converges when re-run; a bad
 * snapshot is refused before any host is touched.
 */
import { after, before, test } from "node:test";
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { etcdStartStamp, hosts, hostsUp, Inventory, onHost, onHostOk, stackMembers } from "../support/hosts";
import { ClientCreds, etcdctl, localEtcdctl, releaseArchive, writeCreds } from "../support/etcdctl";
import { assertNoPlainHttp, assertOneHealthyCluster } from "../support/checks";
import { cleanup, recorder, setConfig, TestProject, testProject } from "../support/project";
import { pulumiSuite } from "../support/toolchain";

const VERSION = "3.6.16";
const NAMES = ["etcd1", "etcd2", "etcd3"];
const BUMP = 1_000_000_000;
let inv: Inventory;
let p: TestProject;
let bin: string;
let admin: ClientCreds;
let endpoints: string;
const work = fs.mkdtempSync(path.join(os.tmpdir(), "etcd-restore-"));
const members = () => stackMembers(inv, NAMES);

const put = (k: string, v: string) => assert.equal(etcdctl(bin, endpoints, admin, ["put", k, v]).status, 0, `put ${k}`);
const get = (k: string) => etcdctl(bin, endpoints, admin, ["get", k, "--print-value-only"]).stdout.trim();
const status = () => JSON.parse(etcdctl(bin, endpoints, admin, ["endpoint", "status", "-w", "json"]).stdout) as { Status: { header: { cluster_id: number; revision: number } } }[];

/** The scheduled-snapshot service run by hand on `host`, the file copied to the deployer. */
function takeSnapshot(host: string, local: string): { seconds: number; revision: number } {
    const t0 = Date.now();
    onHostOk(inv, host, "systemctl start etcd-snapshot.service");
    const seconds = (Date.now() - t0) / 1000;
    const last = JSON.parse(onHostOk(inv, host, "cat /var/lib/etcd-pulumi/last-snapshot.json")) as { file: string; revision: number };
    const h = inv.hosts.find((x) => x.name === host)!;
    execFileSync("scp", ["-q", "-i", inv.sshKeyPath, "-P", String(h.sshPort), "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", `root@${h.address}:${last.file}`, local]);
    return { seconds, revision: last.revision };
}

async function preview(label: string): Promise<string> {
    const mark = p.output.length;
    await p.stack.preview({ onOutput: recorder(p, label) });
    return p.output.slice(mark).join("");
}

pulumiSuite("restore after losing every member (real Pulumi CLI)", { timeout: 30 * 60 * 1000 }, () => {
    before(async () => {
        hosts("down");
        inv = hostsUp(3);
        bin = localEtcdctl(VERSION);
        const { archive, sums } = releaseArchive(VERSION);
        p = await testProject("restore", {
            members: members(),
            sshUser: "root",
            sshPrivateKeyPath: inv.sshKeyPath,
            version: VERSION,
            binary: { path: archive, sha256sums: sums },
            healthTimeoutSeconds: 60,
            sshDialErrorLimit: 2,
            sshPerDialTimeout: 5,
        });
        const up = await p.stack.up({ onOutput: recorder(p, "up-initial") });
        endpoints = up.outputs.clientEndpoints.value as string;
        admin = writeCreds(work, "admin", { ca: up.outputs.caBundlePem.value, cert: up.outputs.adminCertPem.value, key: up.outputs.adminKeyPem.value });
    });

    after(async () => {
        if (process.env.E2E_KEEP) return;
        try {
            await p?.stack.destroy({ onOutput: recorder(p, "destroy") });
        } catch {
            /* best effort: the hosts go away next */
        }
        hosts("down");
        if (p) cleanup(p);
        fs.rmSync(work, { recursive: true, force: true });
    });

    test("every data dir lost: restoreFrom + pulumi up brings the keys back as a new, healthy, TLS-only cluster", async () => {
        for (let i = 0; i < 20; i++) put(`/restore/k${i}`, `v${i}`);
        const before = status();
        const snap = path.join(work, "first.db");
        const taken = takeSnapshot("etcd2", snap);
        console.log(`snapshot by etcd-snapshot.service on etcd2: ${taken.seconds.toFixed(1)} s, revision ${taken.revision}, ${fs.statSync(snap).size} bytes`);
        put("/restore/after-snapshot", "not in the snapshot");

        // Total loss: every member's etcd stopped and its data dir deleted.
        for (const n of NAMES) onHostOk(inv, n, "systemctl stop etcd && rm -rf /var/lib/etcd");
        assert.notEqual(etcdctl(bin, endpoints, admin, ["get", "/restore/k0"], 8000).status, 0, "the cluster is gone");

        await setConfig(p, "restoreFrom", snap);
        const plan = await preview("preview-restore");
        assert.match(plan, /warning: RESTORE from .*first\.db \(revision \d+, 2\d keys/, "the preview says loudly what will happen");
        assert.match(plan, /every member \(etcd1, etcd2, etcd3\) stops at once/);
        const t0 = Date.now();
        await p.stack.up({ onOutput: recorder(p, "up-restore") });
        console.log(`restore of 3 members through pulumi up: ${((Date.now() - t0) / 1000).toFixed(1)} s`);

        assertOneHealthyCluster(bin, endpoints, admin, members(), "after the restore");
        for (let i = 0; i < 20; i++) assert.equal(get(`/restore/k${i}`), `v${i}`, `/restore/k${i} is back`);
        assert.equal(get("/restore/after-snapshot"), "", "a write made after the snapshot is not in the restored cluster");
        const after = status();
        assert.notEqual(String(after[0].Status.header.cluster_id), String(before[0].Status.header.cluster_id), "a new cluster identity");
        assert.ok(after.every((x) => x.Status.header.revision > BUMP + taken.revision - 1), `revision bumped: ${after.map((x) => x.Status.header.revision)}`);
        // Marked compacted: history before the restore point cannot be read (watchers must re-list).
        const old = etcdctl(bin, endpoints, admin, ["get", "/restore/k0", `--rev=${taken.revision}`]);
        assert.notEqual(old.status, 0, "an old revision is compacted");
        assert.match(old.stderr, /compacted/);
        for (const m of members()) {
            await assertNoPlainHttp(m.address, 2379);
            await assertNoPlainHttp(m.address, 2380);
        }
        const noCert = etcdctl(bin, endpoints, { caFile: admin.caFile }, ["get", "/restore/k0"], 8000);
        assert.notEqual(noCert.status, 0, "a client without a certificate is refused");
        for (const n of NAMES) assert.equal(onHostOk(inv, n, "stat -c '%a %U' /var/lib/etcd").trim(), "700 etcd", `${n}: restored data dir owner and mode`);

        // Left set, restoreFrom changes nothing on later runs.
        const stamps = NAMES.map((n) => etcdStartStamp(inv, n));
        await p.stack.preview({ expectNoChanges: true, onOutput: recorder(p, "preview-after-restore") });
        await p.stack.up({ onOutput: recorder(p, "up-after-restore") });
        assert.deepEqual(NAMES.map((n) => etcdStartStamp(inv, n)), stamps, "no member restarted");
        assert.equal(get("/restore/k3"), "v3");
    });

    test("another snapshot restores again (converging after a failed first attempt); the old data is moved aside, never deleted", async () => {
        put("/restore/second", "in snapshot two");
        const snap = path.join(work, "second.db");
        takeSnapshot("etcd1", snap);
        put("/restore/after-second", "not in snapshot two");
        await setConfig(p, "restoreFrom", snap);
        // A failure part-way: etcd3 cannot read the snapshot. The run fails naming host and step, before any data is replaced.
        onHostOk(inv, "etcd3", "mv /usr/local/bin/etcdutl /usr/local/bin/etcdutl.real && printf '#!/bin/sh\necho simulated etcdutl failure >&2; exit 1\n' > /usr/local/bin/etcdutl && chmod 0755 /usr/local/bin/etcdutl");
        const mark = p.output.length;
        await assert.rejects(p.stack.up({ onOutput: recorder(p, "up-restore-2-fails") }));
        assert.match(p.output.slice(mark).join(""), /etcd-pulumi: \[etcd3\] step restore-stop: etcdutl snapshot status rejects .*simulated etcdutl failure/);
        for (const n of NAMES) assert.notEqual(onHost(inv, n, "ls -d /var/lib/etcd.before-restore-*").status, 0, `${n}: no data replaced yet`);
        onHostOk(inv, "etcd3", "mv -f /usr/local/bin/etcdutl.real /usr/local/bin/etcdutl");
        // Re-run: only what is left is done.
        const t0 = Date.now();
        await p.stack.up({ onOutput: recorder(p, "up-restore-2") });
        console.log(`second restore (re-run after a failed first attempt) through pulumi up: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
        assertOneHealthyCluster(bin, endpoints, admin, members(), "after the second restore");
        assert.equal(get("/restore/second"), "in snapshot two");
        assert.equal(get("/restore/after-second"), "");
        assert.equal(get("/restore/k7"), "v7");
        for (const n of NAMES) {
            const aside = onHostOk(inv, n, "ls -d /var/lib/etcd.before-restore-*").trim().split("\n");
            assert.equal(aside.length, 1, `${n}: one data dir moved aside`);
            assert.ok(onHost(inv, n, `test -d ${aside[0]}/member/snap`).status === 0, `${n}: the moved-aside dir holds the old data`);
        }
        await p.stack.preview({ expectNoChanges: true, onOutput: recorder(p, "preview-after-restore-2") });
    });

    test("a bad snapshot is refused at preview, naming restoreFrom, before any host is touched", async () => {
        const stamps = NAMES.map((n) => etcdStartStamp(inv, n));
        const good = fs.readFileSync(path.join(work, "second.db"));
        const corrupt = path.join(work, "corrupt.db");
        const bad = Buffer.from(good);
        bad[bad.length - 100] ^= 0xff;
        fs.writeFileSync(corrupt, bad);
        const notSnapshot = path.join(work, "notes.txt");
        fs.writeFileSync(notSnapshot, "not a snapshot\n".repeat(1000));
        const cases: [string, RegExp][] = [
            [corrupt, /restoreFrom: .*corrupt\.db is corrupt: its content does not match the SHA-256/],
            [path.join(work, "missing.db"), /restoreFrom: .*missing\.db does not exist/],
            [notSnapshot, /restoreFrom: .*notes\.txt is not an etcd snapshot/],
        ];
        for (const [file, message] of cases) {
            await setConfig(p, "restoreFrom", file);
            const mark = p.output.length;
            await assert.rejects(p.stack.preview({ onOutput: recorder(p, "preview-bad") }), (e: Error) => {
                assert.match(`${p.output.slice(mark).join("")}\n${e.message}`, message);
                return true;
            });
        }
        assert.deepEqual(NAMES.map((n) => etcdStartStamp(inv, n)), stamps, "nothing restarted");
        await setConfig(p, "restoreFrom", path.join(work, "second.db"));
        await p.stack.preview({ expectNoChanges: true, onOutput: recorder(p, "preview-good-again") });
    });
});

/**
 * Off-host, encrypted backups through the real engine on local hosts, against a real S3-compatible store
 * (versitygw over TLS on this machine's address on the hosts' bridge): backups land from one member (the
 * leader), the store holds only ciphertext, a killed leader's successor takes over, an unreachable store
 * fails the job loudly while etcd and the local tier go on and the gap is filled afterwards, retention
 * deletes what the policy says on a simulated clock, and after losing every host the cluster comes back on
 * brand-new hosts from `restoreFrom: backup:latest` with every write older than the RPO.
 */
import { after, before, test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { hosts, hostsUp, Inventory, onHost, onHostOk, stackMembers } from "../support/hosts";
import { ClientCreds, etcdctl, etcdctlAsync, localEtcdctl, releaseArchive, writeCreds } from "../support/etcdctl";
import { assertOneHealthyCluster } from "../support/checks";
import { cleanup, recorder, setConfig, stateFiles, TestProject, testProject } from "../support/project";
import { pulumiUnavailable, s3ServerUnavailable, suiteNeeding } from "../support/toolchain";
import { S3Server, startS3Server } from "../support/s3Server";
import { underLoad } from "../support/underLoad";
import { Writer } from "../support/writer";
import { deriveBackupKeys, readHead } from "../../components/backup/keys";
import { BackupObject, parseObjectKey } from "../../components/backup/objectNames";
import { S3Client } from "../../components/backup/s3/client";

const VERSION = "3.6.16";
const NAMES = ["etcd1", "etcd2", "etcd3"];
const RPO_SECONDS = 10;
const PREFIX = "prod";
let inv: Inventory;
let s3: S3Server;
let p: TestProject;
let bin: string;
let admin: ClientCreds;
let endpoints: string;
let backupKey: string;
const work = fs.mkdtempSync(path.join(os.tmpdir(), "etcd-backup-e2e-"));
const members = () => stackMembers(inv, NAMES);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const put = (k: string, v: string, via = endpoints) => {
    const r = etcdctl(bin, via, admin, ["put", k, v, "-w", "json"]);
    assert.equal(r.status, 0, `put ${k}: ${r.stderr}`);
    return Number(/"revision":(\d+)/.exec(r.stdout)?.[1]);
};
const get = (k: string, via = endpoints) => etcdctl(bin, via, admin, ["get", k, "--print-value-only"]).stdout.trim();

/** The store's objects, as the hosts named them (relative to the prefix), from the server's own files. */
function storeObjects(): BackupObject[] {
    const root = path.join(s3.dataDir, s3.bucket, PREFIX);
    if (!fs.existsSync(root)) return [];
    return (fs.readdirSync(root, { recursive: true }) as string[])
        .map((rel) => ({ rel, full: path.join(root, rel) }))
        .filter((f) => fs.statSync(f.full).isFile())
        .map((f) => parseObjectKey(f.rel, "", fs.statSync(f.full).size))
        .filter((o): o is BackupObject => o !== undefined);
}

/** A cluster's HEAD in the store, authenticated with the stack's key. */
function head(cluster: string): { revision: number; member: string } | undefined {
    const f = path.join(s3.dataDir, s3.bucket, PREFIX, `cluster-${cluster}`, "HEAD");
    if (!fs.existsSync(f)) return undefined;
    return readHead(deriveBackupKeys(backupKey), `cluster-${cluster}/HEAD`, fs.readFileSync(f)) as unknown as { revision: number; member: string };
}

const clusterId = (via = endpoints) => String(JSON.parse(etcdctl(bin, via, admin, ["endpoint", "status", "-w", "json"]).stdout.replace(/"cluster_id":(\d+)/g, '"cluster_id":"$1"'))[0].Status.header.cluster_id);
function leader(): string {
    const st = JSON.parse(etcdctl(bin, endpoints, admin, ["endpoint", "status", "--cluster", "-w", "json"]).stdout.replace(/"(member_id|leader)":(\d+)/g, '"$1":"$2"')) as { Endpoint: string; Status: { header: { member_id: string }; leader: string } }[];
    const l = st.find((x) => x.Status.header.member_id === x.Status.leader)!;
    return members().find((m) => l.Endpoint.includes(m.address))!.name;
}

/** Waits until the store's HEAD covers `revision`; returns the HEAD. */
async function untilStored(cluster: string, revision: number, seconds = 60): Promise<{ revision: number; member: string }> {
    const deadline = Date.now() + seconds * 1000;
    for (;;) {
        const h = head(cluster);
        if (h && h.revision >= revision) return h;
        if (Date.now() > deadline) throw new Error(`the store's HEAD did not reach revision ${revision} within ${seconds} s (HEAD ${JSON.stringify(h)})`);
        await sleep(500);
    }
}

/** Every revision from the first full base to `upTo` is covered by deltas (overlaps allowed, no gap). */
function assertNoGap(cluster: string, upTo: number, label: string): void {
    const mine = storeObjects().filter((o) => o.cluster === cluster);
    const fulls = mine.filter((o) => o.kind === "full").sort((a, b) => a.toRevision - b.toRevision);
    assert.ok(fulls.length > 0, `${label}: a full base`);
    let covered = fulls[0].toRevision;
    const deltas = mine.filter((o) => o.kind === "delta").sort((a, b) => a.fromRevision - b.fromRevision || a.toRevision - b.toRevision);
    for (const d of deltas) {
        assert.ok(d.fromRevision <= covered, `${label}: a gap between revision ${covered} and ${d.fromRevision}`);
        covered = Math.max(covered, d.toRevision);
    }
    assert.ok(covered >= upTo, `${label}: the deltas reach ${covered}, not ${upTo}`);
}

const backupConfig = (extra: Record<string, unknown> = {}) => ({
    store: `s3://${s3.bucket}/${PREFIX}`,
    endpoint: s3.endpoint,
    region: s3.region,
    caBundlePath: s3.caFile,
    accessKeyId: s3.accessKeyId,
    secretAccessKey: s3.secretAccessKey,
    rpoSeconds: RPO_SECONDS,
    ...extra,
});

suiteNeeding(pulumiUnavailable() ?? s3ServerUnavailable(), "off-host encrypted backups to an S3-compatible store (real Pulumi CLI, versitygw)", { timeout: 40 * 60 * 1000 }, () => {
    before(async () => {
        hosts("down");
        inv = hostsUp(6);
        s3 = await startS3Server({ listenAddress: inv.gateway });
        bin = localEtcdctl(VERSION);
        const { archive, sums } = releaseArchive(VERSION);
        p = await testProject("backup", {
            members: members(),
            sshUser: "root",
            sshPrivateKeyPath: inv.sshKeyPath,
            version: VERSION,
            binary: { path: archive, sha256sums: sums },
            healthTimeoutSeconds: 60,
            sshDialErrorLimit: 2,
            sshPerDialTimeout: 5,
        });
        await setConfig(p, "backup", backupConfig(), true);
        const up = await p.stack.up({ onOutput: recorder(p, "up-initial") });
        endpoints = up.outputs.clientEndpoints.value as string;
        backupKey = up.outputs.backupEncryptionKey.value as string;
        assert.equal(up.outputs.backupEncryptionKey.secret, true, "the backup key is a secret output");
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
        await s3?.stop();
        if (p) cleanup(p);
        fs.rmSync(work, { recursive: true, force: true });
    });

    test("the leader uploads, the others skip; the store holds only ciphertext; an idle period uploads nothing", async () => {
        const marker = `very-secret-value-${Date.now()}`;
        const cluster = clusterId();
        // The cluster's first run uploads a full base; later writes arrive as deltas.
        await untilStored(cluster, put("/backup/first", "1"));
        const rev = put("/backup/marker", marker);
        const h = await untilStored(cluster, rev);
        const lead = leader();
        assert.equal(h.member, lead, "the leader wrote HEAD");
        assertNoGap(cluster, rev, "steady state");
        const objects = storeObjects();
        assert.ok(objects.some((o) => o.kind === "full") && objects.some((o) => o.kind === "delta"), `a full base and deltas: ${objects.map((o) => o.name).join(", ")}`);
        for (const n of NAMES) {
            const last = onHost(inv, n, "cat /var/lib/etcd-pulumi/last-backup.json");
            if (n === lead) {
                const j = JSON.parse(last.stdout) as { time: string; revision: number; size: number; object: string; member: string };
                assert.ok(j.revision >= rev && j.size > 0 && objects.some((o) => o.name === j.object) && j.member === n, `${n}: ${last.stdout}`);
                assert.match(onHostOk(inv, n, "cat /var/lib/etcd-pulumi/metrics/etcd-backup.prom"), /^etcd_pulumi_backup_uploader 1$/m);
            } else {
                assert.notEqual(last.status, 0, `${n} (a follower) never uploaded`);
                assert.match(onHostOk(inv, n, "journalctl -u etcd-backup.service --no-pager -o cat | tail -n 20"), /not the leader \(leader \d+\): the leader uploads/);
                assert.match(onHostOk(inv, n, "cat /var/lib/etcd-pulumi/metrics/etcd-backup.prom"), /^etcd_pulumi_backup_uploader 0$/m);
            }
        }
        // Ciphertext only: neither the value nor its base64 (as the watch carries it) is in any stored file.
        const needles = [marker, Buffer.from(marker).toString("base64").replace(/=+$/, "")];
        for (const f of s3.storedFiles()) {
            const bytes = fs.readFileSync(f);
            for (const n of needles) assert.equal(bytes.indexOf(n), -1, `${f} holds ${n}`);
        }
        // ...while the local tier holds it in the clear (so the search above can find what it looks for).
        onHostOk(inv, lead, "systemctl start etcd-snapshot.service");
        assert.match(onHostOk(inv, lead, `grep -c ${marker} "$(grep -o '"file":"[^"]*' /var/lib/etcd-pulumi/last-snapshot.json | cut -d'"' -f4)" || true`), /^[1-9]/m);

        // The store's secret and the backup key are encrypted in the stack's state, like every other secret.
        for (const f of stateFiles(p)) {
            const text = fs.readFileSync(f, "utf8");
            assert.ok(!text.includes(s3.secretAccessKey) && !text.includes(backupKey), `${f} holds a backup secret in plaintext`);
        }
        const count = storeObjects().length;
        const before = JSON.parse(onHostOk(inv, lead, "cat /var/lib/etcd-pulumi/last-backup.json")) as { time: string };
        await sleep(2.5 * (RPO_SECONDS / 2) * 1000);
        assert.equal(storeObjects().length, count, "idle periods upload nothing");
        const later = JSON.parse(onHostOk(inv, lead, "cat /var/lib/etcd-pulumi/last-backup.json")) as { time: string };
        assert.ok(later.time > before.time, "an idle period still confirms the store is up to date");
    });

    test("a killed leader's successor uploads the next period, with no gap, while writes go on", async () => {
        const cluster = clusterId();
        const old = leader();
        const others = members().filter((m) => m.name !== old).map((m) => `https://${m.address}:2379`).join(",");
        await underLoad({ label: "leader killed during backups", bin, creds: admin, prefix: "/backup-load/kill", writeVia: others, maxGapMs: 5000, maxUnhealthy: 1 }, async () => {
            // Killed, and kept down until a new leader has uploaded: back too soon (RestartSec=5s), it could win
            // the next election and lead again, and the check below would prove nothing.
            onHostOk(inv, old, "systemctl kill -s KILL etcd && systemctl stop etcd");
            // The election takes one to two election timeouts: a put in the meantime times out, so retry for a while.
            let rev = 0;
            for (const deadline = Date.now() + 30_000; !rev; await sleep(500)) {
                const r = await etcdctlAsync(bin, others, admin, ["put", "/backup/after-kill", "1", "-w", "json"]);
                if (r.status === 0) rev = Number(/"revision":(\d+)/.exec(r.stdout)?.[1]);
                else assert.ok(Date.now() < deadline, `no put accepted within 30 s of killing the leader: ${r.stderr}`);
            }
            const h = await untilStored(cluster, rev, 90);
            assert.notEqual(h.member, old, `the new leader uploaded (HEAD by ${h.member})`);
            // Back, and healthy before the next test starts.
            onHostOk(inv, old, "systemctl start etcd");
            const back = members().find((m) => m.name === old)!;
            for (const until = Date.now() + 60_000; ; await sleep(500)) {
                if ((await etcdctlAsync(bin, `https://${back.address}:2379`, admin, ["endpoint", "health"])).status === 0) break;
                assert.ok(Date.now() < until, `${old} did not come back within 60 s of being killed`);
            }
        });
        assertNoGap(cluster, head(cluster)!.revision, "after the leader change");
    });

    test("an unreachable store fails the job loudly; etcd and the local tier go on; the gap is filled when it is back", async () => {
        const cluster = clusterId();
        await s3.takeOffline();
        let rev = 0;
        try {
            // Nothing happens to etcd here: no member may turn unhealthy; the gap bound only catches a stall (the writer
            // runs one etcdctl per write, so a loaded 2-core machine alone shows gaps of seconds).
            await underLoad({ label: "store unreachable", bin, creds: admin, prefix: "/backup-load/offline", writeVia: endpoints, maxGapMs: 10_000, maxUnhealthy: 0 }, async () => {
                rev = put("/backup/while-offline", "1");
                const lead = leader();
                const since = onHostOk(inv, lead, "date -u '+%Y-%m-%d %H:%M:%S'").trim();
                const journal = () => onHostOk(inv, lead, `journalctl -u etcd-backup.service --since '${since}' --no-pager -o cat`);
                const deadline = Date.now() + 60_000;
                while (!/Failed with result 'exit-code'/.test(journal()) && Date.now() < deadline) await sleep(1000);
                assert.match(journal(), /etcd-backup on etcd\d \(delta\): reading cluster-\d+\/HEAD from the store failed: .*did not answer[\s\S]*Failed with result 'exit-code'/, "the backup unit fails loudly, naming the store");
                assert.match(onHostOk(inv, lead, "cat /var/lib/etcd-pulumi/metrics/etcd-backup.prom"), /^etcd_pulumi_backup_consecutive_failures [1-9]/m);
                onHostOk(inv, lead, "systemctl start etcd-snapshot.service");
            });
        } finally {
            await s3.bringOnline();
        }
        const t0 = Date.now();
        await untilStored(cluster, rev, 90);
        console.log(`store back: the gap was filled ${((Date.now() - t0) / 1000).toFixed(1)} s later`);
        assertNoGap(cluster, rev, "after the store came back");
        const lead = leader();
        const deadline = Date.now() + 30_000;
        while (!/^etcd_pulumi_backup_consecutive_failures 0$/m.test(onHostOk(inv, lead, "cat /var/lib/etcd-pulumi/metrics/etcd-backup.prom")) && Date.now() < deadline) await sleep(1000);
        assert.match(onHostOk(inv, lead, "cat /var/lib/etcd-pulumi/metrics/etcd-backup.prom"), /^etcd_pulumi_backup_consecutive_failures 0$/m);
    });

    test("retention on a simulated clock deletes exactly what the policy says, in the real store", async () => {
        const cluster = clusterId();
        const client = new S3Client({ endpoint: s3.endpoint, region: s3.region, bucket: s3.bucket, pathStyle: true, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, caBundlePem: s3.caPem });
        // The clock jumps 10 days ahead: the live cluster's backups are then 10 days old.
        const now = Date.now() + 10 * 86_400_000;
        const stamp = (ago: number) => new Date(now - ago).toISOString().replace(/[-:]/g, "").replace(/\.\d{3}Z$/, "Z");
        const pad = (n: number) => String(n).padStart(20, "0");
        const oldCluster = (kind: string, rev: number, ago: number) =>
            kind === "full" ? `cluster-77/full/${pad(rev)}-${stamp(ago)}-k1.db.enc` : `cluster-77/delta/${pad(rev)}-${pad(rev + 5)}-${stamp(ago)}-k1.events.gz.enc`;
        const day = 86_400_000;
        const synthetic = {
            keptWeekly: oldCluster("full", 300, 20 * day), // the newest full of its week
            olderSameWeek: oldCluster("full", 290, 20 * day + 3_600_000),
            beyondWeeks: oldCluster("full", 100, 40 * day),
            oldDelta: oldCluster("delta", 300, 20 * day - 60_000),
        };
        for (const key of Object.values(synthetic)) await client.putObject(`${PREFIX}/${key}`, Buffer.from("not a real backup"));
        await client.putObject(`${PREFIX}/cluster-77/HEAD`, Buffer.from("{}\n"));
        const live = storeObjects().filter((o) => o.cluster === cluster);
        const newestFull = live.filter((o) => o.kind === "full").sort((a, b) => b.time.localeCompare(a.time))[0];
        const out = onHostOk(inv, leader(), `ETCD_PULUMI_BACKUP_NOW=${new Date(now).toISOString()} /usr/local/lib/etcd-pulumi/backup/etcd-backup gc`);
        console.log(out.trim());
        const left = new Set(storeObjects().map((o) => o.name));
        assert.ok(left.has(synthetic.keptWeekly), "the newest full of a week within the weekly tier stays");
        for (const gone of [synthetic.olderSameWeek, synthetic.beyondWeeks, synthetic.oldDelta]) assert.ok(!left.has(gone), `${gone} deleted`);
        assert.ok(fs.existsSync(path.join(s3.dataDir, s3.bucket, PREFIX, "cluster-77", "HEAD")), "a cluster with a kept object keeps its HEAD");
        // The live cluster's newest full base and every delta after it stay (the latest restore point); older deltas go.
        assert.ok(left.has(newestFull.name), "the newest full base stays");
        for (const o of live) {
            const needed = o.name === newestFull.name || (o.kind === "delta" && o.toRevision > newestFull.toRevision);
            assert.equal(left.has(o.name), needed, `${o.name} ${needed ? "kept" : "deleted"}`);
        }
        await client.deleteObject(`${PREFIX}/${synthetic.keptWeekly}`);
        await client.deleteObject(`${PREFIX}/cluster-77/HEAD`);
    });

    test("every host lost: restoreFrom backup:latest on brand-new hosts brings back every write older than the RPO", async () => {
        const old = members();
        const cluster = clusterId();
        const writer = new Writer(bin, endpoints, admin, "/backup-load/loss");
        writer.start();
        await sleep(3 * (RPO_SECONDS / 2) * 1000);
        // Total loss, abrupt: every host cut off at once (nothing more reaches the store), then powered off for good
        // with its data dir and local backups.
        for (const n of NAMES) hosts("isolate", n);
        const lossAt = Date.now(); // no write is acknowledged, and nothing uploaded, after this
        for (const n of NAMES) hosts("stop", n);
        const written = await writer.stop();
        const lastHead = head(cluster)!;
        console.log(`lost the cluster with ${written.acknowledged.length} acknowledged writes; the store's HEAD is at revision ${lastHead.revision}`);

        // The replacement hosts: etcd4-6's addresses, the same member names.
        const fresh = ["etcd4", "etcd5", "etcd6"].map((h, i) => {
            const host = inv.hosts.find((x) => x.name === h)!;
            return { name: NAMES[i], address: host.address, hostKey: host.hostKey };
        });
        await setConfig(p, "members", fresh);
        await setConfig(p, "restoreFrom", "backup:latest");
        // Another key cannot open the backups: refused at preview, before anything is touched.
        await setConfig(p, "backup", backupConfig({ encryptionKey: "an-unrelated-key-that-did-not-write-these" }), true);
        let mark = p.output.length;
        await assert.rejects(p.stack.preview({ onOutput: recorder(p, "preview-wrong-key") }));
        assert.match(p.output.slice(mark).join(""), /restoreFrom: cluster-\d+\/HEAD does not authenticate with this stack's backup key: the backups in s3:\/\/.* were written with another key: set backup\.encryptionKey/);
        await setConfig(p, "backup", backupConfig(), true);

        mark = p.output.length;
        await p.stack.preview({ onOutput: recorder(p, "preview-restore") });
        const plan = p.output.slice(mark).join("");
        assert.match(plan, new RegExp(`warning: RESTORE from backup:latest \\(the backup of cluster ${cluster} in s3://${s3.bucket}/${PREFIX} taken \\S+: revision \\d+, \\d+ keys`));
        const t0 = Date.now();
        await p.stack.up({ onOutput: recorder(p, "up-restore") });
        const took = (Date.now() - t0) / 1000;
        const newEndpoints = fresh.map((m) => `https://${m.address}:2379`).join(",");
        assertOneHealthyCluster(bin, newEndpoints, admin, fresh, "after the restore from the store");
        assert.notEqual(clusterId(newEndpoints), cluster, "a new cluster");
        assert.equal(get("/backup/marker", newEndpoints).startsWith("very-secret-value-"), true);
        assert.equal(get("/backup/while-offline", newEndpoints), "1");

        // What a total loss cost: acknowledged writes missing after the restore, and how long before the loss they were made.
        const present = new Set(etcdctl(bin, newEndpoints, admin, ["get", "/backup-load/loss/", "--prefix", "--keys-only"], 60_000).stdout.split("\n").filter(Boolean));
        const lost = written.acknowledged.map((k, i) => ({ k, at: written.acknowledgedAt[i] })).filter((x) => !present.has(x.k));
        const windowMs = lost.length ? lossAt - Math.min(...lost.map((x) => x.at)) : 0;
        console.log(`restore from the store onto 3 new hosts through pulumi up: ${took.toFixed(1)} s; ${lost.length} of ${written.acknowledged.length} acknowledged writes lost, made within ${(windowMs / 1000).toFixed(1)} s before the loss (RPO ${RPO_SECONDS} s)`);
        assert.ok(windowMs <= RPO_SECONDS * 1000, `lost writes from ${(windowMs / 1000).toFixed(1)} s before the loss: more than the RPO`);
        for (const [i, k] of written.acknowledged.entries()) if (written.acknowledgedAt[i] < lossAt - RPO_SECONDS * 1000) assert.ok(present.has(k), `${k}, acknowledged ${((lossAt - written.acknowledgedAt[i]) / 1000).toFixed(1)} s before the loss, is back`);

        endpoints = newEndpoints;
        await p.stack.preview({ expectNoChanges: true, onOutput: recorder(p, "preview-after-restore") });
        // The restored cluster backs itself up under its own ID.
        const rev = put("/backup/after-restore", "1", newEndpoints);
        const newCluster = clusterId(newEndpoints);
        await untilStored(newCluster, rev, 90);
        assert.ok(old.every((m) => !fresh.some((f) => f.address === m.address)), "the cluster runs on other hosts than before");
    });
});

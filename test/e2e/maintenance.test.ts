/**
 * End to end, through the real engine on 3 local hosts: the maintenance job (components/maintenance).
 * One deployment with a 16 MiB quota: defragmentation started by hand on a follower under a writer, two
 * passes started at once on two members, a NOSPACE alarm recovered by hand and by the timer, a data set
 * that outgrew the quota (reported, alarm left) and the way out (quotaBackendBytes raised: a rolling
 * restart under the alarm), then a settings change (files rewritten, no restart) whose schedule runs one
 * pass per elapse across the cluster.
 */
import { after, before, test } from "node:test";
import * as assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { etcdStartStamp, hostAddress, hosts, hostsUp, Inventory, onHost, onHostOk, stackMembers } from "../support/hosts";
import { ClientCreds, etcdctl, localEtcdctl, releaseArchive, writeCreds } from "../support/etcdctl";
import { cleanup, recorder, setConfig, TestProject, testProject } from "../support/project";
import { runRemote } from "../support/remote";
import { pulumiSuite } from "../support/toolchain";
import { assertOneHealthyCluster } from "../support/checks";
import { underLoad } from "../support/underLoad";

const VERSION = "3.6.16";
const NAMES = ["etcd1", "etcd2", "etcd3"];
const MiB = 1024 * 1024;
const QUOTA = 16 * MiB;
const CHECK_INTERVAL = 20;
/** The maintenance settings of this stack: no scheduled pass and no fragmentation trigger until the last test (they would race the others). */
const MAINTENANCE = { defragSchedule: "off", defragMinReclaimableBytes: 8 * 1024 * MiB, checkIntervalSeconds: CHECK_INTERVAL, defragTimeoutSeconds: 60 };
const PREFIX = "/etcd-pulumi/maintenance/";

let inv: Inventory;
let p: TestProject;
let bin: string;
let endpoints: string;
let admin: ClientCreds;
/** The data that outgrew the quota: every key acknowledged, with its value's sequence number. */
const outgrownData = new Map<string, number>();
const creds = fs.mkdtempSync(path.join(os.tmpdir(), "etcd-e2e-maint-creds-"));

interface MemberEntry {
    member: string;
    role: "follower" | "leader";
    result: string;
    startedAtMs: number;
    endedAtMs: number;
    durationSeconds: number;
    before: { dbSize: number; dbSizeInUse: number };
    after: { dbSize: number; dbSizeInUse: number };
    leadershipMovedTo?: string;
}
interface DefragRecord {
    member: string;
    reason: string;
    automatic: boolean;
    result: string;
    error?: string;
    startedAtMs: number;
    endedAtMs: number;
    durationSeconds: number;
    waitedForLockSeconds: number;
    reclaimedBytes: number;
    nospace: { alarm: boolean; compactedToRevision: number | null; disarmed: boolean; outgrown: boolean; quotaBackendBytes: number };
    members: MemberEntry[];
}

const url = (name: string) => `https://${hostAddress(inv, name)}:2379`;
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** etcdctl from the deployer without blocking the event loop (the writer and the poller keep running); `input` is the value of a put. */
function etcdctlAsync(args: string[], input?: string, via = endpoints): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
        const child = spawn(bin, [`--endpoints=${via}`, `--cacert=${admin.caFile}`, `--cert=${admin.certFile}`, `--key=${admin.keyFile}`, "--dial-timeout=3s", "--command-timeout=10s", ...args]);
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => (stdout += d));
        child.stderr.on("data", (d) => (stderr += d));
        child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
        // etcdctl may exit before it read a value (a refused put): that is its answer, not an error here.
        child.stdin.on("error", () => undefined);
        child.stdin.end(input ?? "");
    });
}

function status(name: string): { dbSize: number; dbSizeInUse: number; leader: string; id: string; revision: number } {
    const r = etcdctl(bin, url(name), admin, ["endpoint", "status", "-w", "json"]);
    assert.equal(r.status, 0, `${name}: ${r.stderr}`);
    const s = (JSON.parse(r.stdout) as { Status: { dbSize: number; dbSizeInUse: number; leader: number | string; header: { member_id: number | string; revision: number } } }[])[0].Status;
    return { dbSize: s.dbSize, dbSizeInUse: s.dbSizeInUse, leader: String(s.leader), id: String(s.header.member_id), revision: s.header.revision };
}

function leaderName(): string {
    const leader = status(NAMES[0]).leader;
    const name = NAMES.find((n) => status(n).id === leader);
    assert.ok(name, `no leader among ${NAMES.join(", ")}`);
    return name;
}

const dbFile = (name: string) => Number(onHostOk(inv, name, "stat -c %s /var/lib/etcd/member/snap/db").trim());
const record = (name: string) => JSON.parse(onHostOk(inv, name, "cat /var/lib/etcd-pulumi/last-defrag.json")) as DefragRecord;
const metric = (name: string, metricName: string) => Number(/^(\S+) (\S+)$/m.exec(onHostOk(inv, name, `grep '^${metricName} ' /var/lib/etcd-pulumi/metrics/etcd-defrag.prom`).trim())![2]);
const alarmList = () => etcdctl(bin, endpoints, admin, ["alarm", "list"]).stdout.trim();
const timers = (action: "start" | "stop") => NAMES.forEach((n) => onHostOk(inv, n, `systemctl ${action} etcd-defrag.timer`));
const value = (seq: number, bytes: number) => `${seq}:`.padEnd(bytes, "x");

/**
 * Puts values of `bytes` bytes: `keys` keys overwritten in turn (history a compaction frees), or every
 * put a new key (data that stays), `count` puts or, with count undefined, until etcd refuses one for
 * lack of space. Returns the last acknowledged sequence number of each key.
 */
async function fill(prefix: string, o: { keys?: number; bytes: number; count?: number }): Promise<{ acked: Map<string, number>; refused: string }> {
    const acked = new Map<string, number>();
    const limit = o.count ?? Math.ceil((QUOTA * 4) / o.bytes);
    for (let seq = 0; seq < limit; seq++) {
        const key = `${prefix}/${String(o.keys ? seq % o.keys : seq).padStart(5, "0")}`;
        let r = await etcdctlAsync(["put", key], value(seq, o.bytes));
        for (let retry = 0; r.code !== 0 && !/database space exceeded/.test(r.stderr) && retry < 5; retry++) r = await etcdctlAsync(["put", key], value(seq, o.bytes));
        if (r.code === 0) acked.set(key, seq);
        else if (/database space exceeded/.test(r.stderr)) return { acked, refused: r.stderr.trim() };
        else assert.fail(`put ${key}: ${r.stderr}`);
    }
    if (o.count === undefined) assert.fail(`etcd accepted ${limit} puts of ${o.bytes} bytes under a ${QUOTA}-byte quota`);
    return { acked, refused: "" };
}

/** Every acknowledged last value is still there. */
async function assertAcked(acked: Map<string, number>, label: string): Promise<void> {
    for (const [key, seq] of acked) {
        const r = await etcdctlAsync(["get", key, "--print-value-only"]);
        assert.equal(r.code, 0, `${label}: get ${key}: ${r.stderr}`);
        assert.equal(r.stdout.split(":")[0], String(seq), `${label}: ${key} lost its acknowledged value ${seq}`);
    }
}

/** Fragmentation: `mib` MiB of overwrites of 4 keys, then a compaction to the current revision (history freed, the file stays). */
async function fragment(prefix: string, mib: number, waitFragmented = true): Promise<void> {
    await fill(prefix, { keys: 4, bytes: 128 * 1024, count: mib * 8 });
    const r = await etcdctlAsync(["compact", String(status(NAMES[0]).revision), "--physical"]);
    assert.equal(r.code, 0, r.stderr);
    if (!waitFragmented) return;
    // Each member frees the compacted revisions on its own, and its in-use size counts the freed pages only
    // after a later write (bbolt releases them then): nudge with a small one.
    await waitFor("every member fragmented after the compaction", 60, async () => {
        await etcdctlAsync(["put", "/maint/nudge", String(Date.now())]);
        await pause(500);
        return NAMES.every((n) => status(n).dbSizeInUse < status(n).dbSize / 2);
    });
}

/** What etcd itself logged about defragmentations on a member since `sinceMs`: [start, end] in ms. */
function etcdDefragIntervals(name: string, sinceMs: number): [number, number][] {
    const lines = onHostOk(inv, name, `journalctl -u etcd -o cat --no-pager --since=@${Math.floor(sinceMs / 1000)} | grep -e '"msg":"starting defragment"' -e '"msg":"finished defragment"' || true`).trim().split("\n").filter(Boolean);
    const out: [number, number][] = [];
    let start: number | undefined;
    for (const l of lines) {
        const e = JSON.parse(l) as { ts: string; msg: string };
        const t = Date.parse(e.ts);
        if (e.msg === "starting defragment") start = t;
        else if (start !== undefined) {
            out.push([start, t]);
            start = undefined;
        }
    }
    return out;
}

/** No two intervals overlap; returns the smallest gap between consecutive ones (ms). */
function assertDisjoint(intervals: { who: string; from: number; to: number }[], label: string): number {
    const sorted = [...intervals].sort((a, b) => a.from - b.from);
    let minGap = Infinity;
    for (let i = 1; i < sorted.length; i++) {
        const gap = sorted[i].from - sorted[i - 1].to;
        assert.ok(gap > 0, `${label}: ${sorted[i - 1].who} [${sorted[i - 1].from}, ${sorted[i - 1].to}] overlaps ${sorted[i].who} [${sorted[i].from}, ${sorted[i].to}]`);
        minGap = Math.min(minGap, gap);
    }
    return minGap;
}

async function waitFor(label: string, seconds: number, ok: () => boolean | Promise<boolean>): Promise<number> {
    const t0 = Date.now();
    while (!(await ok())) {
        assert.ok(Date.now() - t0 < seconds * 1000, `${label}: not within ${seconds} s`);
        await pause(1000);
    }
    return (Date.now() - t0) / 1000;
}

pulumiSuite("maintenance: defragmentation and NOSPACE recovery on 3 local hosts (real Pulumi CLI)", { timeout: 40 * 60 * 1000 }, () => {
    before(async () => {
        inv = hostsUp(3);
        bin = localEtcdctl(VERSION);
        const { archive, sums } = releaseArchive(VERSION);
        p = await testProject("maint", {
            members: stackMembers(inv, NAMES),
            sshUser: "root",
            sshPrivateKeyPath: inv.sshKeyPath,
            binary: { path: archive, sha256sums: sums },
            healthTimeoutSeconds: 60,
            quotaBackendBytes: QUOTA,
            maintenance: MAINTENANCE,
        });
    });

    after(async () => {
        if (process.env.E2E_KEEP) return;
        try {
            await p?.stack.destroy({ onOutput: recorder(p, "destroy-after") });
        } catch {
            /* best effort: the hosts go away next */
        }
        hosts("down");
        if (p) cleanup(p);
    });

    test("up installs the maintenance job on every member: timer, units, program, settings; every member joins the lock's roster", async () => {
        const up = await p.stack.up({ onOutput: recorder(p, "up") });
        assert.equal(up.summary.result, "succeeded");
        endpoints = up.outputs.clientEndpoints.value as string;
        admin = writeCreds(creds, "admin", { ca: up.outputs.caCertPem.value, cert: up.outputs.adminCertPem.value, key: up.outputs.adminKeyPem.value });
        for (const name of NAMES) {
            assert.equal(onHostOk(inv, name, "systemctl is-enabled etcd-defrag.timer; systemctl is-active etcd-defrag.timer").trim(), "enabled\nactive", `${name}: timer`);
            assert.equal(onHostOk(inv, name, "systemctl show etcd-defrag.timer -p Triggers --value").trim(), "etcd-defrag-check.service");
            assert.equal(
                onHostOk(inv, name, "stat -c '%a %U:%G' /usr/local/lib/etcd-pulumi/etcd-defrag /usr/local/lib/etcd-pulumi/maintenance/lock.sh /etc/etcd-pulumi/maintenance/defrag.env /etc/systemd/system/etcd-defrag.service").trim(),
                "755 root:root\n644 root:root\n644 root:root\n644 root:root",
            );
            const env = onHostOk(inv, name, "cat /etc/etcd-pulumi/maintenance/defrag.env");
            assert.match(env, new RegExp(`^DEFRAG_MEMBER='${name}'$`, "m"));
            assert.match(env, new RegExp(`^QUOTA_BACKEND_BYTES='${QUOTA}'$`, "m"));
            assert.match(env, /^DEFRAG_SCHEDULE='off'$/m);
        }
        const took = await waitFor("every member in the maintenance roster", 3 * CHECK_INTERVAL, () => {
            const roster = etcdctl(bin, endpoints, admin, ["get", `${PREFIX}roster`, "--print-value-only"]).stdout.trim().split(" ").sort();
            return JSON.stringify(roster) === JSON.stringify(NAMES);
        });
        const tokens = etcdctl(bin, endpoints, admin, ["get", `${PREFIX}token/`, "--prefix", "--keys-only"]).stdout.trim().split("\n").filter(Boolean);
        assert.deepEqual(tokens.sort(), NAMES.map((n) => `${PREFIX}token/${n}`), "the lock is free: every member's token is present");
        console.log(`every member joined the maintenance roster ${took.toFixed(0)} s after the up`);
    });

    test("a pass started by hand on a follower defragments every member, followers first and the leader last, under a writer: files shrink, no write lost, one member unavailable at most", async () => {
        await fragment("/maint/frag", 10);
        const leader = leaderName();
        const follower = NAMES.find((n) => n !== leader)!;
        const before = Object.fromEntries(NAMES.map((n) => [n, { ...status(n), file: dbFile(n) }]));
        for (const n of NAMES) assert.ok(before[n].dbSize > 8 * MiB && before[n].dbSizeInUse < before[n].dbSize / 2, `${n} is not fragmented: ${JSON.stringify(before[n])}`);
        const since = Date.now();
        const { result: run, took, writes } = await underLoad(
            { label: `defragmentation pass started on ${follower} (follower)`, bin, creds: admin, prefix: "/maint/w1", writeVia: endpoints, maxGapMs: 2000, targetGapMs: 1000 },
            () => runRemote(inv, "root", hostAddress(inv, follower), "systemctl start etcd-defrag.service"),
        );
        assert.equal(run.status, 0, `systemctl start etcd-defrag.service on ${follower}: ${run.stderr}`);
        const r = record(follower);
        assert.equal(r.result, "ok", JSON.stringify(r));
        assert.deepEqual([r.member, r.reason, r.automatic], [follower, "manual", false]);
        const followers = NAMES.filter((n) => n !== leader);
        assert.deepEqual(r.members.map((m) => m.member), [...followers, leader], "followers first (by name), the leader last");
        assert.deepEqual(r.members.map((m) => m.role), ["follower", "follower", "leader"]);
        const movedTo = r.members[2].leadershipMovedTo;
        assert.ok(movedTo && followers.includes(movedTo), `the leader's leadership was moved to a defragmented follower first: ${JSON.stringify(r.members[2])}`);
        assert.notEqual(leaderName(), leader, "leadership moved away from the old leader");
        for (const m of r.members) {
            const now = status(m.member);
            const file = dbFile(m.member);
            console.log(
                `  ${m.member} (${m.role}): ${(m.before.dbSize / MiB).toFixed(1)} MiB -> ${(m.after.dbSize / MiB).toFixed(1)} MiB (file ${(before[m.member].file / MiB).toFixed(1)} -> ${(file / MiB).toFixed(1)} MiB) in ${m.durationSeconds} s`,
            );
            assert.equal(m.result, "ok");
            assert.ok(now.dbSize < before[m.member].dbSize / 2, `${m.member}'s database did not shrink: ${before[m.member].dbSize} -> ${now.dbSize}`);
            assert.ok(file < before[m.member].file, `${m.member}'s database file did not shrink: ${before[m.member].file} -> ${file}`);
        }
        // The job's own record and etcd's journals agree: one member at a time, in that order.
        const jobIntervals = r.members.map((m) => ({ who: m.member, from: m.startedAtMs, to: m.endedAtMs }));
        assertDisjoint(jobIntervals, "the job's record");
        const etcdIntervals = NAMES.flatMap((n) => etcdDefragIntervals(n, since).map(([from, to]) => ({ who: n, from, to })));
        assert.equal(etcdIntervals.length, 3, `etcd logged ${etcdIntervals.length} defragmentations: ${JSON.stringify(etcdIntervals)}`);
        assertDisjoint(etcdIntervals, "etcd's journals");
        assert.deepEqual([...etcdIntervals].sort((a, b) => a.from - b.from).map((i) => i.who), [...followers, leader], "etcd's journals: followers first, the leader last");
        console.log(
            `defragmentation pass: ${r.durationSeconds} s in all (${took.toFixed(1)} s for systemctl start), reclaimed ${(r.reclaimedBytes / MiB).toFixed(1)} MiB; ` +
                `per member ${r.members.map((m) => `${m.member} ${m.durationSeconds} s`).join(", ")}; longest write gap ${writes.longestGapMs} ms (target <= 1000 ms)`,
        );
        assert.equal(metric(follower, "etcd_pulumi_defrag_last_run_success"), 1);
        assert.equal(metric(follower, "etcd_pulumi_defrag_reclaimed_bytes"), r.reclaimedBytes);
        assert.ok(r.reclaimedBytes > 3 * 8 * MiB, `reclaimed ${r.reclaimedBytes}`);
        assertOneHealthyCluster(bin, endpoints, admin, stackMembers(inv, NAMES));
    });

    test("two passes started at the same moment on two members never defragment two members at once", async () => {
        await fragment("/maint/frag2", 6);
        const since = Date.now();
        const [a, b] = ["etcd1", "etcd3"];
        const { result: runs } = await underLoad(
            { label: "two passes started at once (etcd1, etcd3)", bin, creds: admin, prefix: "/maint/w2", writeVia: endpoints, maxGapMs: 2000, targetGapMs: 1000 },
            () => Promise.all([a, b].map((n) => runRemote(inv, "root", hostAddress(inv, n), "systemctl start etcd-defrag.service"))),
        );
        runs.forEach((run, i) => assert.equal(run.status, 0, `${[a, b][i]}: ${run.stderr}`));
        const records = [a, b].map(record);
        for (const r of records) {
            assert.equal(r.result, "ok", JSON.stringify(r));
            assert.ok(r.startedAtMs >= since, `${r.member}'s record is from this test`);
            assert.equal(r.members.length, 3, `${r.member}'s pass defragmented every member`);
        }
        const job = records.flatMap((r) => r.members.map((m) => ({ who: `${m.member} (pass of ${r.member})`, from: m.startedAtMs, to: m.endedAtMs })));
        const gap = assertDisjoint(job, "both passes' records");
        const etcdIntervals = NAMES.flatMap((n) => etcdDefragIntervals(n, since).map(([from, to]) => ({ who: n, from, to })));
        assert.equal(etcdIntervals.length, 6, `etcd logged ${etcdIntervals.length} defragmentations, expected 3 per pass`);
        assertDisjoint(etcdIntervals, "etcd's journals");
        // Whichever took the lock first: the other one waited for it.
        const [first, second] = [...records].sort((x, y) => x.members[0].startedAtMs - y.members[0].startedAtMs);
        assert.ok(second.waitedForLockSeconds > 0, `${second.member} waited for the lock: ${JSON.stringify(second)}`);
        const waited = onHostOk(inv, second.member, `journalctl -u etcd-defrag.service --since=@${Math.floor(since / 1000)} -o cat --no-pager`);
        assert.match(waited, new RegExp(`waiting for ${first.member}'s pass to finish`), `${second.member} waited for the lock`);
        console.log(`two passes: ${first.member} ${first.durationSeconds} s, then ${second.member} ${second.durationSeconds} s (of which ${second.waitedForLockSeconds} s waiting for the lock); 6 defragmentations, none overlapping (closest ${gap} ms apart)`);
    });

    test("NOSPACE: a small quota filled until the alarm, writes refused (and no lease-based lock can be had); the job started by hand compacts, defragments, disarms; writes accepted again, nothing acknowledged lost", async () => {
        timers("stop");
        try {
            const { result } = await underLoad(
                { label: "NOSPACE recovered by hand", bin, creds: admin, prefix: "/maint/w3", writeVia: endpoints, maxGapMs: 10 * 60 * 1000, nospaceServes: true },
                async () => {
                    const { acked, refused } = await fill("/maint/full", { keys: 4, bytes: 128 * 1024 });
                    assert.match(refused, /database space exceeded/);
                    assert.match(alarmList(), /alarm:NOSPACE/);
                    const put = await etcdctlAsync(["put", "/maint/probe", "x"]);
                    assert.notEqual(put.code, 0, "a write must be refused under the alarm");
                    assert.match(put.stderr, /database space exceeded/);
                    const lock = await etcdctlAsync(["lock", "/maint/a-lease-lock", "--", "true"]);
                    assert.notEqual(lock.code, 0, "etcdctl lock needs a lease, which etcd refuses under NOSPACE");
                    console.log(`under NOSPACE: put refused (${put.stderr.trim().split("\n").pop()}); etcdctl lock refused too (${lock.stderr.trim().split("\n").pop()})`);
                    const t0 = Date.now();
                    const run = await runRemote(inv, "root", hostAddress(inv, "etcd2"), "systemctl start etcd-defrag.service");
                    const took = (Date.now() - t0) / 1000;
                    assert.equal(run.status, 0, run.stderr);
                    assert.equal(alarmList(), "", "alarm disarmed");
                    assert.equal((await etcdctlAsync(["put", "/maint/probe", "after"])).code, 0, "writes accepted again");
                    await assertAcked(acked, "NOSPACE by hand");
                    return { took, acked: acked.size };
                },
            );
            const r = record("etcd2");
            assert.equal(r.result, "ok", JSON.stringify(r));
            assert.deepEqual([r.reason, r.nospace.alarm, r.nospace.disarmed, r.nospace.outgrown], ["manual", true, true, false]);
            assert.ok((r.nospace.compactedToRevision ?? 0) > 0, "compacted to the current revision");
            for (const n of NAMES) assert.ok(status(n).dbSize < QUOTA * 0.5, `${n} back under the quota: ${status(n).dbSize}`);
            assert.equal(metric("etcd2", "etcd_pulumi_nospace_recoveries_total"), 1);
            console.log(`NOSPACE recovered by hand in ${result.took.toFixed(1)} s (pass ${r.durationSeconds} s: compacted to ${r.nospace.compactedToRevision}, ${r.members.map((m) => `${m.member} ${(m.before.dbSize / MiB).toFixed(1)} -> ${(m.after.dbSize / MiB).toFixed(1)} MiB`).join(", ")})`);
        } finally {
            timers("start");
        }
    });

    test("NOSPACE: recovered by the timer within its interval, nothing acknowledged lost", async () => {
        const { result } = await underLoad(
            { label: "NOSPACE recovered by the timer", bin, creds: admin, prefix: "/maint/w4", writeVia: endpoints, maxGapMs: 10 * 60 * 1000, nospaceServes: true },
            async () => {
                const { acked, refused } = await fill("/maint/full2", { keys: 4, bytes: 128 * 1024 });
                assert.match(refused, /database space exceeded/);
                const raisedAt = Date.now();
                const took = await waitFor("the timer's recovery", CHECK_INTERVAL + 90, () => alarmList() === "");
                assert.equal((await etcdctlAsync(["put", "/maint/probe", "after-timer"])).code, 0, "writes accepted again");
                await assertAcked(acked, "NOSPACE by the timer");
                return { took, raisedAt };
            },
        );
        const recs = NAMES.map((n) => ({ n, r: onHost(inv, n, "cat /var/lib/etcd-pulumi/last-defrag.json").stdout })).filter((x) => x.r !== "").map((x) => JSON.parse(x.r) as DefragRecord);
        const byTimer = recs.filter((r) => r.startedAtMs >= result.raisedAt && r.automatic && r.reason === "nospace");
        assert.equal(byTimer.length, 1, `one automatic NOSPACE pass: ${JSON.stringify(recs.map((r) => [r.member, r.reason, r.automatic, r.startedAtMs]))}`);
        assert.equal(byTimer[0].nospace.disarmed, true);
        console.log(`NOSPACE recovered by the timer: alarm gone ${result.took.toFixed(0)} s after it was raised (check every ${CHECK_INTERVAL} s; pass on ${byTimer[0].member}: ${byTimer[0].durationSeconds} s)`);
    });

    test("data that really outgrew the quota: the job says so (non-zero exit, journal naming quotaBackendBytes), leaves the alarm, and writes stay refused", async () => {
        timers("stop");
        try {
            // New keys until the alarm, and again after each recovery that still found room: until the data itself no longer fits.
            let run = { status: 0, stdout: "", stderr: "" };
            let since = 0;
            for (let round = 1; run.status === 0; round++) {
                assert.ok(round <= 6, "the job kept disarming: the data never outgrew the quota");
                const { acked, refused } = await fill(`/maint/big/r${round}`, { bytes: 128 * 1024 });
                assert.match(refused, /database space exceeded/);
                for (const [k, v] of acked) outgrownData.set(k, v);
                since = Math.floor(Date.now() / 1000);
                run = onHost(inv, "etcd1", "systemctl start etcd-defrag.service", 300_000);
                console.log(`outgrown, round ${round}: ${run.status === 0 ? "the job found room and disarmed" : "the job failed"}`);
            }
            const journal = onHostOk(inv, "etcd1", `journalctl -u etcd-defrag.service --since=@${since} -o cat --no-pager`);
            assert.match(journal, /the data outgrew quotaBackendBytes \(16777216 bytes, 16\.0 MiB\).*The NOSPACE alarm stays raised.*Raise quotaBackendBytes/s);
            assert.match(onHost(inv, "etcd1", "systemctl is-failed etcd-defrag.service").stdout, /failed/);
            assert.match(alarmList(), /alarm:NOSPACE/, "the alarm stays");
            assert.notEqual((await etcdctlAsync(["put", "/maint/probe", "x"])).code, 0, "writes stay refused");
            const r = record("etcd1");
            assert.deepEqual([r.result, r.nospace.outgrown, r.nospace.disarmed], ["failed", true, false]);
            assert.match(r.error ?? "", /outgrew quotaBackendBytes/);
            assert.equal(metric("etcd1", "etcd_pulumi_defrag_last_run_success"), 0);
            assert.ok(metric("etcd1", "etcd_pulumi_defrag_failures_total") >= 1);
            const sizes = NAMES.map((n) => status(n).dbSize);
            console.log(`outgrown: ${sizes.map((b) => (b / MiB).toFixed(1)).join(", ")} MiB of live data under a 16 MiB quota after compaction and defragmentation; the job failed after ${r.durationSeconds} s and left the alarm`);
        } finally {
            timers("start");
        }
    });

    test("the way out: raising quotaBackendBytes is a rolling restart, also under the NOSPACE alarm; then the timer's check disarms it, nothing lost", async () => {
        await setConfig(p, "quotaBackendBytes", 48 * MiB);
        const mark = p.output.length;
        await p.stack.preview({ onOutput: recorder(p, "preview-quota") });
        for (const name of NAMES) assert.match(p.output.slice(mark).join(""), new RegExp(`${name}: restart \\(config: quota-backend-bytes\\)`));
        const stamps = NAMES.map((n) => etcdStartStamp(inv, n));
        const { result } = await underLoad(
            { label: "quota raised under NOSPACE (rolling restart), then disarmed by the timer", bin, creds: admin, prefix: "/maint/w5", writeVia: endpoints, maxGapMs: 10 * 60 * 1000, nospaceServes: true },
            async () => {
                const t0 = Date.now();
                const up = await p.stack.up({ onOutput: recorder(p, "up-quota") });
                assert.equal(up.summary.result, "succeeded");
                const upTook = (Date.now() - t0) / 1000;
                const disarmedAfter = await waitFor("the NOSPACE alarm disarmed after the quota was raised", CHECK_INTERVAL + 120, () => alarmList() === "");
                assert.equal((await etcdctlAsync(["put", "/maint/probe", "after-quota"])).code, 0, "writes accepted again");
                return { upTook, disarmedAfter };
            },
        );
        NAMES.map((n) => etcdStartStamp(inv, n)).forEach((s, i) => assert.notEqual(s, stamps[i], `${NAMES[i]} was not restarted`));
        for (const n of NAMES) assert.match(onHostOk(inv, n, "cat /etc/etcd-pulumi/maintenance/defrag.env"), /^QUOTA_BACKEND_BYTES='50331648'$/m);
        await assertAcked(outgrownData, "the data that outgrew the quota");
        // Deleted again (the next compaction frees it), so that the next test starts from a cluster with room.
        assert.equal((await etcdctlAsync(["del", "/maint/big/", "--prefix"])).code, 0);
        console.log(`quota raised 16 -> 48 MiB: rolling restart under the alarm ${result.upTook.toFixed(1)} s, alarm disarmed ${result.disarmedAfter.toFixed(0)} s after the up; all ${outgrownData.size} keys of the outgrown data kept`);
        await p.stack.preview({ expectNoChanges: true, onOutput: recorder(p, "preview-quota-after") });
    });

    test("changing the maintenance settings rewrites the job's files and restarts nothing; then a fragmented member starts a pass by itself, and the schedule runs one pass per elapse across the cluster", async () => {
        const stamps = NAMES.map((n) => etcdStartStamp(inv, n));
        await setConfig(p, "maintenance", { ...MAINTENANCE, defragSchedule: "minutely", defragMinReclaimableBytes: 4 * MiB, defragTimeoutSeconds: 90 });
        const mark = p.output.length;
        const pv = await p.stack.preview({ onOutput: recorder(p, "preview-maint") });
        assert.doesNotMatch(p.output.slice(mark).join(""), /: restart \(/, "a maintenance setting never restarts etcd");
        assert.deepEqual(Object.fromEntries(Object.entries(pv.changeSummary).filter(([k, v]) => k !== "same" && v > 0)), { update: 3 }, "only the members' configure steps change");
        const up = await p.stack.up({ onOutput: recorder(p, "up-maint") });
        assert.equal(up.summary.result, "succeeded");
        const changedAt = Date.now();
        assert.deepEqual(NAMES.map((n) => etcdStartStamp(inv, n)), stamps, "etcd was restarted");
        for (const n of NAMES) {
            const env = onHostOk(inv, n, "cat /etc/etcd-pulumi/maintenance/defrag.env");
            assert.match(env, /^DEFRAG_SCHEDULE='minutely'$/m);
            assert.match(env, /^DEFRAG_MIN_RECLAIMABLE_BYTES='4194304'$/m);
            assert.match(onHostOk(inv, n, "systemctl show etcd-defrag.service -p TimeoutStartUSec --value"), /min/);
        }
        await p.stack.preview({ expectNoChanges: true, onOutput: recorder(p, "preview-maint-after") });
        const automaticPasses = () =>
            NAMES.flatMap((n) =>
                onHostOk(inv, n, `journalctl -u etcd-defrag.service --since=@${Math.floor(changedAt / 1000)} -o short-unix --no-pager | grep -E 'pass over .*\\((schedule|threshold)' || true`)
                    .trim()
                    .split("\n")
                    .filter(Boolean)
                    .map((l) => ({ host: n, at: Number(l.split(" ")[0]), reason: /\((schedule|threshold)/.exec(l)![1] })),
            );
        // Fragmentation past the threshold (in use below 50% of the file, more than 4 MiB to win back): a pass within a check interval or two.
        // (No wait until it shows: the job may well see it first.)
        await fragment("/maint/frag3", 8, false);
        for (let i = 0; i < 3; i++) {
            await etcdctlAsync(["put", "/maint/nudge", String(Date.now())]); // bbolt counts freed pages after a later write
            await pause(300);
        }
        const fragmentedAt = Date.now();
        const byThreshold = await waitFor("a pass started by the fragmentation threshold", 3 * CHECK_INTERVAL + 60, () => automaticPasses().some((x) => x.reason === "threshold"));
        await waitFor("every member defragmented by the threshold's pass", 120, () => NAMES.every((n) => status(n).dbSize < 4 * MiB));
        await waitFor("two scheduled passes", 4 * 60, () => automaticPasses().filter((x) => x.reason === "schedule").length >= 2);
        // Every member's check has looked at the last elapse since (a duplicate pass would show now).
        await pause((CHECK_INTERVAL + 5) * 1000);
        const passes = automaticPasses();
        const perMinute = new Map<number, string[]>();
        for (const x of passes.filter((y) => y.reason === "schedule")) perMinute.set(Math.floor(x.at / 60), [...(perMinute.get(Math.floor(x.at / 60)) ?? []), `${x.host} (${x.reason})`]);
        console.log(
            `a threshold pass ${byThreshold.toFixed(0)} s after the fragmentation (${((Date.now() - fragmentedAt) / 1000).toFixed(0)} s ago; ` +
                `${passes.filter((x) => x.reason === "threshold").map((x) => x.host).join(", ")}); scheduled passes per minute: ${[...perMinute.entries()].map(([m, h]) => `${new Date(m * 60000).toISOString().slice(11, 16)} ${h.join(" + ")}`).join(", ")}`,
        );
        for (const [m, h] of perMinute) assert.equal(h.length, 1, `minute ${new Date(m * 60000).toISOString()}: ${h.join(", ")}; one elapse, one pass across the cluster`);
    });

    test("destroy stops the job and removes its units and programs on every member", async () => {
        await p.stack.destroy({ onOutput: recorder(p, "destroy") });
        for (const n of NAMES) {
            assert.notEqual(onHost(inv, n, "systemctl is-active etcd-defrag.timer").stdout.trim(), "active", `${n}: timer still active`);
            assert.equal(onHost(inv, n, "ls /etc/systemd/system/etcd-defrag* /usr/local/lib/etcd-pulumi/etcd-defrag /etc/etcd-pulumi/maintenance 2>/dev/null").stdout.trim(), "", `${n}: files left`);
        }
    });
});

/**
 * Day 2 from a diff, as a user makes it: every change below is one edit of stack config plus `pulumi up`
 * through the real engine (Automation API) on the local hosts, with a writer and a health poller running
 * throughout. After each: 0 acknowledged writes lost, never more than one member unhealthy at a time,
 * the member list exactly as configured (all started, no learner), and a no-change preview.
 *   scale out 3 -> 5, scale in 5 -> 3, an interrupted scale out finished by the next up, replacing a
 *   member whose host died (same name, new host), scaling in a member whose host is gone for good (one
 *   quick up, the dead host never waited for), replacing a member that lost its disk (same address,
 *   replacement counter), and a CA rotation in three phases with clients on the published bundle.
 * And `npm run status` on the same cluster: healthy (exit 0, the table), a member down or its host gone
 * (exit 1, naming it).
 */
import { after, before, test } from "node:test";
import { spawn } from "node:child_process";
import * as assert from "node:assert/strict";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { etcdStartStamp, hosts, hostsUp, Inventory, onHost, onHostOk, stackMembers } from "../support/hosts";
import { ClientCreds, etcdctl, localEtcdctl, releaseArchive, writeCreds } from "../support/etcdctl";
import { assertOneHealthyCluster } from "../support/checks";
import { cleanup, copyIntoProject, recorder, setConfig, TestProject, testProject } from "../support/project";
import { pulumiSuite } from "../support/toolchain";
import { underLoad } from "../support/underLoad";

const VERSION = "3.6.16";
let inv: Inventory;
let p: TestProject;
let bin: string;
let admin: ClientCreds;
const creds = fs.mkdtempSync(path.join(os.tmpdir(), "etcd-day2-engine-"));
/** The members as configured now (stack config `members`). */
let current: { name: string; address: string; hostKey: string; replacement?: number }[] = [];

const url = (m: { address: string }) => `https://${m.address}:2379`;
const endpointsOf = (ms: { address: string }[]) => ms.map(url).join(",");
const hostOf = (address: string) => inv.hosts.find((h) => h.address === address)!.name;
const startStamps = (ms: { address: string }[]) => ms.map((m) => etcdStartStamp(inv, m.address));
const certHashes = (ms: { address: string }[]) =>
    ms.map((m) => createHash("sha256").update(onHostOk(inv, hostOf(m.address), "cat /etc/etcd/pki/*.crt")).digest("hex"));

async function setMembers(ms: typeof current): Promise<void> {
    current = ms;
    await setConfig(p, "members", ms);
}

/** `npm run status -- day2` in the project copy, with its stack's backend and passphrase. */
function status(): Promise<{ code: number | null; stdout: string; stderr: string; seconds: number }> {
    const t0 = Date.now();
    const child = spawn("bash", [path.join(p.dir, "scripts", "status.sh"), "day2"], { cwd: p.dir, env: { ...process.env, ...p.env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    return new Promise((resolve, reject) => {
        child.on("error", reject);
        child.on("close", (code) => resolve({ code, stdout, stderr, seconds: (Date.now() - t0) / 1000 }));
    });
}

/** The status table's row of a member, split into its columns. */
const statusRow = (out: string, name: string) => out.split("\n").find((l) => l.startsWith(`${name} `))?.split(/ {2,}/);

/** The preview's plan in words (the component prints it as info lines). */
async function previewPlan(label: string): Promise<string> {
    const mark = p.output.length;
    await p.stack.preview({ onOutput: recorder(p, `preview-${label}`) });
    return p.output.slice(mark).join("");
}

/**
 * `pulumi up` with a writer (through `writeVia`) and a health poller (through every endpoint involved)
 * going; then the checks every day-2 operation must pass. Returns the up's wall time in seconds.
 */
async function upUnderLoad(label: string, writeVia: string, targetGapMs: number, expectMembers = current, up: () => Promise<unknown> = () => p.stack.up({ onOutput: recorder(p, `up-${label}`) })): Promise<number> {
    const checkVia = [...new Set([...writeVia.split(","), ...expectMembers.map(url)])].join(",");
    const { took } = await underLoad({ label: `${label} through pulumi up`, bin, creds: admin, prefix: `/day2-engine/${label}`, writeVia, checkVia, maxGapMs: 5000, targetGapMs }, up);
    assertOneHealthyCluster(bin, endpointsOf(expectMembers), admin, expectMembers, label);
    await p.stack.preview({ expectNoChanges: true, onOutput: recorder(p, `preview-after-${label}`) });
    return took;
}

pulumiSuite("day 2 from a config diff through pulumi up (real Pulumi CLI)", { timeout: 60 * 60 * 1000 }, () => {
    before(async () => {
        hosts("down");
        inv = hostsUp(6);
        bin = localEtcdctl(VERSION);
        const { archive, sums } = releaseArchive(VERSION);
        current = stackMembers(inv, ["etcd1", "etcd2", "etcd3"]);
        p = await testProject("day2", {
            members: current,
            sshUser: "root",
            sshPrivateKeyPath: inv.sshKeyPath,
            version: VERSION,
            binary: { path: archive, sha256sums: sums },
            healthTimeoutSeconds: 60,
            sshDialErrorLimit: 2,
            sshPerDialTimeout: 5,
        });
        copyIntoProject(p, ["scripts", "tools"]);
        const up = await p.stack.up({ onOutput: recorder(p, "up-initial") });
        admin = writeCreds(creds, "admin", { ca: up.outputs.caBundlePem.value, cert: up.outputs.adminCertPem.value, key: up.outputs.adminKeyPem.value });
        assert.equal(etcdctl(bin, endpointsOf(current), admin, ["put", "/day2-engine/hello", "world"]).status, 0);
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
    });

    test("scale out 3 -> 5 in one up: the preview names each join; learners one at a time; existing members not restarted, their certificates unchanged", async () => {
        const before = current;
        const stamps = startStamps(before);
        const certs = certHashes(before);
        await setMembers(stackMembers(inv, ["etcd1", "etcd2", "etcd3", "etcd4", "etcd5"]));
        const plan = await previewPlan("scale-out");
        assert.match(plan, /etcd4 \([\d.]+\): joins as a learner \(initial-cluster-state existing, initial-cluster etcd1, etcd2, etcd3, etcd4\), promoted once in sync/);
        assert.match(plan, /etcd5 \([\d.]+\): joins as a learner \(initial-cluster-state existing, initial-cluster etcd1, etcd2, etcd3, etcd4, etcd5\)/);
        await upUnderLoad("scale out 3 -> 5", endpointsOf(before), 1000);
        assert.deepEqual(startStamps(before), stamps, "an existing member was restarted");
        assert.deepEqual(certHashes(before), certs, "an existing member's certificates changed");
        assert.equal(etcdctl(bin, url(current[4]), admin, ["get", "/day2-engine/hello", "--print-value-only", "--consistency=s"]).stdout.trim(), "world");
    });

    test("npm run status: a healthy cluster is one table and exit 0; a member whose etcd is down makes it exit 1, naming it", async () => {
        const ok = await status();
        console.log(`npm run status (5 members, healthy): ${ok.seconds.toFixed(1)} s`);
        assert.equal(ok.code, 0, `${ok.stdout}\n${ok.stderr}`);
        assert.match(ok.stdout, /^Cluster of stack day2: 5 member\(s\), leader etcd\d\n/);
        assert.match(ok.stdout, /\nMEMBER +ADDRESS +HEALTH +LEADER +RAFT INDEX +DB SIZE +IN USE +ALARMS +VERSION +LAST SNAPSHOT +LAST BACKUP +CERTS EXPIRE\n/);
        const rows = current.map((m) => statusRow(ok.stdout, m.name)!);
        for (const [i, r] of rows.entries()) {
            assert.ok(r, `no row for ${current[i].name}:\n${ok.stdout}`);
            assert.deepEqual([r[1], r[2], r[7], r[8]], [current[i].address, "healthy", "-", VERSION], r.join(" | "));
            assert.match(r[4], /^\d+$/, "raft index");
            assert.match(r[5], /^[\d.]+ (KiB|MiB)$/, "db size");
            assert.match(r[11], /^\d{4}-\d\d-\d\d \(\d+d\)$/, "certificate expiry read on the host");
        }
        assert.equal(rows.filter((r) => r[3] === "leader").length, 1, "exactly one leader");
        assert.match(ok.stdout, /\nOff-host backup: not configured\n/);
        assert.match(ok.stdout, /\nResult: ok\n$/);

        onHostOk(inv, "etcd4", "systemctl stop etcd");
        try {
            const down = await status();
            console.log(`npm run status (etcd4 stopped): ${down.seconds.toFixed(1)} s, exit ${down.code}`);
            assert.equal(down.code, 1, `${down.stdout}\n${down.stderr}`);
            assert.equal(statusRow(down.stdout, "etcd4")![2], "unreachable");
            assert.match(down.stdout, /\nNeeds attention:\n {2}etcd4: unreachable over TLS at https:\/\/[\d.]+:2379 /);
            assert.match(down.stdout, /\nResult: ATTENTION \(1\)\n$/, "only etcd4 needs attention");
        } finally {
            onHostOk(inv, "etcd4", "systemctl start etcd");
        }
        assertOneHealthyCluster(bin, endpointsOf(current), admin, current, "after etcd4 came back");
    });

    test("scale in 5 -> 3: member remove first (through a member that stays), then the leaving hosts are stopped, disabled and cleaned; data kept", async () => {
        const stay = stackMembers(inv, ["etcd1", "etcd2", "etcd3"]);
        await setMembers(stay);
        const plan = await previewPlan("scale-in");
        assert.match(plan, /etcd4 \([\d.]+\): leaves the cluster first .*4 members, quorum 3/);
        assert.match(plan, /etcd5: its etcd service is stopped and disabled/);
        await upUnderLoad("scale in 5 -> 3", endpointsOf(stay), 1000);
        for (const name of ["etcd4", "etcd5"]) {
            assert.equal(onHost(inv, name, "systemctl is-enabled etcd").stdout.trim() === "enabled", false, `${name} still enabled`);
            assert.notEqual(onHost(inv, name, "systemctl is-active etcd").stdout.trim(), "active", `${name} still running`);
            assert.equal(onHost(inv, name, "test -e /etc/etcd/etcd.conf.yml").status, 1, `${name} config not removed`);
            assert.equal(onHost(inv, name, "test -d /var/lib/etcd/member").status, 0, `${name}: data dir not kept`);
        }
    });

    test("an up interrupted mid-join (Ctrl-C) is finished by the next up, without steps by hand; the old data of a re-added member is moved aside", async () => {
        const before = current;
        await setMembers(stackMembers(inv, ["etcd1", "etcd2", "etcd3", "etcd4", "etcd5"]));
        const etcd4Peer = `https://${current[3].address}:2380`;
        await upUnderLoad("interrupted scale out + re-run", endpointsOf(before), 1000, current, async () => {
            const run = p.stack.up({ onOutput: recorder(p, "up-interrupted") });
            // Ctrl-C as soon as etcd4 is in the member list (mid-way through the joins).
            const deadline = Date.now() + 120_000;
            while (Date.now() < deadline && !etcdctl(bin, endpointsOf(before), admin, ["member", "list"]).stdout.includes(etcd4Peer)) await new Promise((r) => setTimeout(r, 200));
            assert.ok(interruptCli(p.dir) > 0, "no pulumi process found to interrupt");
            await assert.rejects(run, "the interrupted up must fail");
            const half = etcdctl(bin, endpointsOf(before), admin, ["member", "list", "-w", "json"]).stdout;
            console.log(`interrupted with the member list at: ${(JSON.parse(half).members as { name: string; isLearner?: boolean }[]).map((m) => `${m.name || "(unstarted)"}${m.isLearner ? " (learner)" : ""}`).join(", ")}`);
            await p.stack.up({ onOutput: recorder(p, "up-after-interrupt") });
        });
        assert.match(onHostOk(inv, "etcd4", "ls -d /var/lib/etcd.replaced-* | head -1"), /\/var\/lib\/etcd\.replaced-\d{8}T\d{6}Z/, "etcd4's old data dir was not moved aside");
    });

    test("replace a member whose host died: same name, new host; the dead member is removed first, the new one joins fresh", async () => {
        const dead = current.find((m) => m.name === "etcd3")!;
        hosts("stop", "etcd3");
        const newHost = inv.hosts.find((h) => h.name === "etcd6")!;
        const replaced = current.map((m) => (m.name === "etcd3" ? { name: "etcd3", address: newHost.address, hostKey: newHost.hostKey } : m));
        await setMembers(replaced);
        const plan = await previewPlan("replace-dead");
        assert.match(plan, new RegExp(`etcd3: replaced \\(${dead.address.replace(/\./g, "\\.")} -> ${newHost.address.replace(/\./g, "\\.")}\\): the old member is removed first`));
        const mark = p.output.length;
        const took = await upUnderLoad("replace a dead member", endpointsOf(current.filter((m) => m.name !== "etcd3")), 1000);
        assert.equal(etcdctl(bin, url(newHost), admin, ["get", "/day2-engine/hello", "--print-value-only", "--consistency=s"]).stdout.trim(), "world");
        // The old host is not any member's any more: its clean-up is tried, bounded, and skipped with a warning.
        assert.match(p.output.slice(mark).join(""), new RegExp(`warning: etcd-pulumi: \\[etcd3\\] etcd3 left the cluster, but its host ${dead.address.replace(/\./g, "\\.")} did not answer over SSH`));
        assert.ok(took < 180, `the replace took ${took} s`);
    });

    test("scale in a member whose host is gone for good (etcd5 powered off) with a live one (etcd4), in one quick up: removed through the members that stay, the dead host skipped with a warning, the live one cleaned", async () => {
        hosts("stop", "etcd5");
        const seen = await status();
        assert.equal(seen.code, 1, seen.stdout);
        assert.match(seen.stdout, /\n {2}etcd5: unreachable over TLS at /);
        assert.match(seen.stdout, /\n {2}etcd5: its host did not answer over SSH \(unreachable: /);
        const stay = current.filter((m) => m.name !== "etcd4" && m.name !== "etcd5");
        await setMembers(stay);
        const plan = await previewPlan("scale-in-dead");
        assert.match(plan, /etcd5 \([\d.]+\): leaves the cluster first/);
        assert.match(plan, /etcd5: its etcd service is stopped and disabled, its files removed \(best-effort at the end of the run: a host that does not answer is reported and skipped\)/);
        const mark = p.output.length;
        const took = await upUnderLoad("scale in 5 -> 3 with etcd5's host dead", endpointsOf(stay), 1000);
        const printed = p.output.slice(mark).join("");
        assert.match(printed, /warning: etcd-pulumi: \[etcd5\] etcd5 left the cluster, but its host [\d.]+ did not answer over SSH \(2 attempt\(s\)/);
        assert.match(printed, /etcd-pulumi: \[etcd4\] etcd4 left the cluster: host [\d.]+ cleaned/);
        assert.ok(took < 120, `the up took ${took} s: it must not wait on the dead host`);
        assert.equal(onHost(inv, "etcd4", "systemctl is-enabled etcd").stdout.trim() === "enabled", false, "etcd4 still enabled");
        assert.notEqual(onHost(inv, "etcd4", "systemctl is-active etcd").stdout.trim(), "active", "etcd4 still running");
        assert.equal(onHost(inv, "etcd4", "test -e /etc/etcd/etcd.conf.yml").status, 1, "etcd4 config not removed");
        assert.equal(onHost(inv, "etcd4", "test -d /var/lib/etcd/member").status, 0, "etcd4: data dir not kept");
        const after = await status();
        assert.equal(after.code, 0, after.stdout);
        assert.match(after.stdout, /^Cluster of stack day2: 3 member\(s\)/);
    });

    test("replace a member that lost its disk: same address, replacement: 1; removed first, joins fresh", async () => {
        const etcd2 = current.find((m) => m.name === "etcd2")!;
        onHostOk(inv, "etcd2", "systemctl stop etcd && rm -rf /var/lib/etcd /var/lib/etcd-pulumi");
        await setMembers(current.map((m) => (m.name === "etcd2" ? { ...m, replacement: 1 } : m)));
        const plan = await previewPlan("replace-disk");
        assert.match(plan, new RegExp(`etcd2: replaced \\(${etcd2.address.replace(/\./g, "\\.")} -> ${etcd2.address.replace(/\./g, "\\.")}, replacement 1\\)`));
        await upUnderLoad("replace a member that lost its disk", endpointsOf(current.filter((m) => m.name !== "etcd2")), 1000);
    });

    test("CA rotation in three ups, clients on the published bundle never lose access: trust both, reissue, drop the old CA", async () => {
        const outputs = async () => p.stack.outputs();
        const caPems = (bundle: string) => bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
        const before = await outputs();
        const oldCa = caPems(before.caBundlePem.value as string);
        assert.equal(oldCa.length, 1);
        // What a client does between phases: take the stack's published bundle and certificates.
        const takePublished = async () => {
            const o = await outputs();
            writeCreds(creds, "admin", { ca: o.caBundlePem.value, cert: o.adminCertPem.value, key: o.adminKeyPem.value });
            return o;
        };
        const all = endpointsOf(current);

        await setConfig(p, "caGeneration", 2);
        await setConfig(p, "caRotation", "trust-both");
        const plan1 = await previewPlan("ca-1");
        assert.match(plan1, /phase 1 of 3 \(trust-both\)/);
        assert.match(plan1, /next: give clients the new caBundlePem/);
        const s1 = startStamps(current);
        await upUnderLoad("CA rotation phase 1 (trust both)", all, 1000);
        startStamps(current).forEach((x, i) => assert.notEqual(x, s1[i], "phase 1 restarts every member (etcd reads its CA only at start)"));
        const o1 = await takePublished();
        assert.equal(caPems(o1.caBundlePem.value as string).length, 2, "the published bundle holds old and new CA");
        assert.equal(o1.adminCertPem.value, before.adminCertPem.value, "phase 1 keeps the certificates");

        await setConfig(p, "caRotation", "reissue");
        assert.match(await previewPlan("ca-2"), /phase 2 of 3 \(reissue\)/);
        const s2 = startStamps(current);
        await upUnderLoad("CA rotation phase 2 (reissue)", all, 1000);
        assert.deepEqual(startStamps(current), s2, "re-issuing certificates restarts nothing");
        const o2 = await takePublished();
        assert.notEqual(o2.adminCertPem.value, before.adminCertPem.value, "phase 2 re-issues the certificates");

        await p.stack.removeConfig("etcd-pulumi:caRotation");
        assert.match(await previewPlan("ca-3"), /phase 3 of 3 \(finish\)/);
        await upUnderLoad("CA rotation phase 3 (drop the old CA)", all, 1000);
        const o3 = await takePublished();
        const newCa = caPems(o3.caBundlePem.value as string);
        assert.equal(newCa.length, 1);
        assert.notEqual(newCa[0], oldCa[0], "the CA is a new one");
        const oldClient = writeCreds(creds, "old-client", { ca: o3.caBundlePem.value, cert: before.adminCertPem.value, key: before.adminKeyPem.value });
        assert.notEqual(etcdctl(bin, all, oldClient, ["get", "/day2-engine/hello"]).status, 0, "a certificate from the old CA must be refused after the rotation");
        assert.equal(etcdctl(bin, all, admin, ["get", "/day2-engine/hello", "--print-value-only"]).stdout.trim(), "world");
    });
});

/** Ctrl-C for the pulumi CLI running in `dir`: SIGINT to it (it cancels: in-flight steps finish, nothing new starts). */
function interruptCli(dir: string): number {
    let n = 0;
    for (const d of fs.readdirSync("/proc").filter((x) => /^\d+$/.test(x))) {
        try {
            if (fs.readFileSync(`/proc/${d}/comm`, "utf8").trim() === "pulumi" && fs.readlinkSync(`/proc/${d}/cwd`) === dir) {
                process.kill(Number(d), "SIGINT");
                n++;
            }
        } catch {
            /* gone meanwhile */
        }
    }
    return n;
}

/**
 * The host side for real, without the Pulumi engine: every step the component runs on a member
 * (rendered by components/render) goes over real SSH, as a non-root user through sudo, to real Debian
 * hosts with systemd, and brings up a real TLS etcd cluster. Then: security from outside, idempotent
 * re-runs, a health-gated rolling restart under write load, quorum protection, SIGKILL recovery and
 * destroy semantics.
 */
import { after, before, describe, test } from "node:test";
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ClusterSettings, MemberSettings } from "../../components/settings";
import * as steps from "../../components/render/scripts";
import { clientUrl } from "../../components/render/config";
import { memberFilePaths } from "../../components/render/files";
import { snapshotScript } from "../../components/render/membership";
import { etcdStartStamp, hostAddress, hosts, hostsUp, Inventory, onHostOk } from "../support/hosts";
import { ClientCreds, etcdctl, localEtcdctl, writeCreds } from "../support/etcdctl";
import { opensslPki, TestPki } from "../support/opensslPki";
import { archiveSha256, HostDriver, paths, settingsFor } from "../support/hostDriver";
import { Writer } from "../support/writer";
import { assertDestroyed, assertKillRecovery, assertMetricsLoopbackOnly, assertNoLostWrites, assertNoPlainHttp, assertOneHealthyCluster, assertPermissions } from "../support/checks";

const VERSION = "3.6.16";
const NAMES = ["etcd1", "etcd2", "etcd3"];
let inv: Inventory;
let s: ClusterSettings;
let pki: TestPki;
let drv: HostDriver;
let bin: string;
let admin: ClientCreds;
let endpoints: string;
let sha256: string;
const creds = fs.mkdtempSync(path.join(os.tmpdir(), "etcd-hoststeps-"));

const settings = (over: Record<string, unknown> = {}) => settingsFor(inv, NAMES, VERSION, over);
const step = (m: MemberSettings, body: string) => drv.step(m, body);
const stepOk = (m: MemberSettings, body: string) => drv.stepOk(m, body);
const bundle = (st: ClusterSettings, m: MemberSettings) => drv.bundle(st, m);

const startStamp = (name: string) => etcdStartStamp(inv, name);

describe("host steps on 3 local hosts over SSH, as a sudo user (no Pulumi engine)", { timeout: 30 * 60 * 1000 }, () => {
    before(() => {
        hosts("down");
        inv = hostsUp(3);
        sha256 = archiveSha256(VERSION);
        s = settings();
        pki = opensslPki(s);
        drv = new HostDriver(inv, pki);
        bin = localEtcdctl(VERSION);
        endpoints = s.members.map((m) => clientUrl(m, s)).join(",");
        admin = writeCreds(creds, "admin", { ca: pki.ca, cert: pki.admin.cert, key: pki.admin.key });
    });

    after(() => {
        if (!process.env.E2E_KEEP) hosts("down");
    });

    test("the pre-install snapshot step is a no-op before etcd ever ran", async () => {
        const r = await stepOk(s.members[0], snapshotScript(s, s.members[0], paths, `pre-install-${VERSION}`));
        assert.match(r.stdout, /etcd is not running here yet: no snapshot needed/);
    });

    test("bootstrap: upload, configure (prepare, install, files), start in parallel, then bounded health wait", async () => {
        const t0 = Date.now();
        await drv.bootstrap(s);
        console.log(`host-steps bootstrap of 3 members: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
        for (const name of NAMES) assert.match(onHostOk(inv, name, "grep '^initial-cluster-state' /etc/etcd/etcd.conf.yml"), /existing/);
        // The running etcd recorded what it was started with; it matches the files on disk.
        for (const name of NAMES) assert.equal(onHostOk(inv, name, `${paths.startInputsTool} changed`).trim(), "");
    });

    test("healthy over TLS with an admin certificate: 3 started members, one leader, put/get", () => {
        assertOneHealthyCluster(bin, endpoints, admin, s.members);
        assert.equal(etcdctl(bin, endpoints, admin, ["put", "/hs/hello", "world"]).status, 0);
        assert.equal(etcdctl(bin, endpoints, admin, ["get", "/hs/hello", "--print-value-only"]).stdout.trim(), "world");
    });

    test("no certificate, a certificate from another CA, and a client cert posing as a peer are all refused", () => {
        assert.notEqual(etcdctl(bin, endpoints, { caFile: admin.caFile }, ["get", "/hs/hello"]).status, 0);
        const rogue = opensslPki(s, "rogue CA");
        const rc = writeCreds(creds, "rogue", { cert: rogue.admin.cert, key: rogue.admin.key });
        const r = etcdctl(bin, endpoints, { caFile: admin.caFile, certFile: rc.certFile, keyFile: rc.keyFile }, ["get", "/hs/hello"]);
        assert.notEqual(r.status, 0);
        assert.doesNotMatch(r.stdout, /world/);
        // The admin cert is from the right CA but its CN is not etcd-peer: the peer port must refuse it.
        const rejected = () => Number(onHostOk(inv, "etcd1", "journalctl -u etcd --no-pager | grep -c 'rejected connection on peer endpoint' || true").trim());
        const before = rejected();
        execFileSync("bash", ["-c", `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | timeout 10 openssl s_client -connect ${hostAddress(inv, "etcd1")}:2380 -CAfile ${admin.caFile} -cert ${admin.certFile} -key ${admin.keyFile} -quiet >/dev/null 2>&1 || true`]);
        let after = before;
        for (let i = 0; i < 10 && after === before; i++) {
            execFileSync("sleep", ["0.5"]);
            after = rejected();
        }
        assert.ok(after > before, "etcd1 did not reject a non-peer certificate on the peer port");
    });

    test("no plain http on the client port; metrics only on loopback", async () => {
        await assertNoPlainHttp(hostAddress(inv, "etcd1"), 2379);
        await assertMetricsLoopbackOnly(inv, "etcd1", hostAddress(inv, "etcd1"), 2381);
    });

    test("keys 0600 etcd, certs 0644, data dir 0700, service runs as etcd, etcdctl profile works", () => {
        for (const name of NAMES) {
            assertPermissions(inv, name);
            assert.equal(onHostOk(inv, name, "ps -o user= -p $(systemctl show etcd -p MainPID --value)").trim(), "etcd");
            assert.match(onHostOk(inv, name, "bash -lc 'source /etc/profile.d/etcdctl.sh && etcdctl endpoint health'"), /is healthy/);
        }
    });

    test("re-running every step changes nothing and restarts nothing", async () => {
        const before = NAMES.map(startStamp);
        for (const m of s.members) {
            const configured = (await stepOk(m, steps.configureScript(s, m, paths, { sha256, bootstrapState: "existing", bundle: bundle(s, m) }))).stdout;
            assert.match(configured, /already installed/);
            assert.match(configured, /0 file\(s\) changed/);
            assert.match((await stepOk(m, steps.serviceScript(s, m, paths, "converge"))).stdout, /no restart/);
        }
        assert.deepEqual(NAMES.map(startStamp), before);
    });

    test("a config change rolls through members one at a time under write load, losing no write", async () => {
        const changed = settings({ logLevel: "warn" });
        const stampsBefore = NAMES.map(startStamp);
        const writer = new Writer(bin, endpoints, admin, "/hs/roll");
        writer.start();
        await new Promise((r) => setTimeout(r, 1500));
        const t0 = Date.now();
        const windows: { name: string; start: number; end: number }[] = [];
        for (const m of changed.members) {
            await stepOk(m, steps.filesScript(changed, m, paths, "existing", bundle(changed, m)));
        }
        for (const m of changed.members) {
            const start = Date.now();
            assert.match((await stepOk(m, steps.serviceScript(changed, m, paths, "converge"))).stdout, /restarted \(config changed\)/);
            windows.push({ name: m.name, start, end: Date.now() });
        }
        const rollMs = Date.now() - t0;
        await new Promise((r) => setTimeout(r, 1500));
        const report = await writer.finish();
        console.log(`rolling restart of 3 members: ${(rollMs / 1000).toFixed(1)} s`);
        for (const name of NAMES) assert.match(onHostOk(inv, name, "grep '^log-level' /etc/etcd/etcd.conf.yml"), /warn/);
        NAMES.map(startStamp).forEach((stamp, i) => assert.notEqual(stamp, stampsBefore[i], `${NAMES[i]} was not restarted`));
        for (let i = 1; i < windows.length; i++) assert.ok(windows[i].start >= windows[i - 1].end, "restarts overlapped");
        assertNoLostWrites(report, "rolling restart", 5000, 20);
        s = changed;
    });

    test("a restart is refused while another member is unreachable (quorum protection)", async () => {
        hosts("isolate", "etcd3");
        try {
            const quick = settings({ logLevel: "error", healthTimeoutSeconds: 8 });
            const before = startStamp("etcd1");
            await stepOk(quick.members[0], steps.filesScript(quick, quick.members[0], paths, "existing", bundle(quick, quick.members[0])));
            const r = await step(quick.members[0], steps.serviceScript(quick, quick.members[0], paths, "converge"));
            assert.notEqual(r.status, 0);
            assert.match(r.stderr, /\[etcd1\] step restart: cluster not healthy before restarting etcd1 for changed config; refusing/);
            assert.equal(startStamp("etcd1"), before, "etcd1 was restarted anyway");
        } finally {
            hosts("heal", "etcd3");
            // Put etcd1's config back to what it runs with.
            await stepOk(s.members[0], steps.filesScript(s, s.members[0], paths, "existing", bundle(s, s.members[0])));
        }
        const deadline = Date.now() + 60_000;
        while (Date.now() < deadline && etcdctl(bin, endpoints, admin, ["endpoint", "health"]).status !== 0) await new Promise((r) => setTimeout(r, 2000));
        assert.equal(etcdctl(bin, endpoints, admin, ["endpoint", "health"]).status, 0);
    });

    test("etcd killed with SIGKILL is restarted by systemd and rejoins", async () => {
        const etcd2 = `https://${hostAddress(inv, "etcd2")}:2379`;
        await assertKillRecovery(inv, "etcd2", etcd2, bin, admin);
        assert.equal(etcdctl(bin, etcd2, admin, ["get", "/hs/hello", "--print-value-only", "--consistency=s"]).stdout.trim(), "world");
    });

    test("the health wait is bounded and, on failure, names the member and shows its last log lines", async () => {
        const m = s.members[2];
        onHostOk(inv, m.name, "systemctl stop etcd");
        try {
            const quick = settings({ logLevel: "warn", healthTimeoutSeconds: 6 });
            const t0 = Date.now();
            const r = await step(quick.members[2], steps.readyScript(quick, quick.members[2], paths));
            const took = Date.now() - t0;
            assert.notEqual(r.status, 0);
            assert.ok(took < 30_000, `took ${took} ms`);
            assert.match(r.stderr, /\[etcd3\] step wait-healthy: member etcd3 not healthy after 6s/);
            assert.match(r.stderr, /last lines of the etcd journal:\n[^]*etcd\.service/, "the journal lines of the member are missing");
            assert.ok(r.stderr.split("\n").length <= 15, `failure output is ${r.stderr.split("\n").length} lines`);
        } finally {
            onHostOk(inv, m.name, "systemctl start etcd");
        }
        assert.equal(etcdctl(bin, endpoints, admin, ["endpoint", "health"]).status, 0);
    });

    test("destroy steps stop etcd and remove what was installed, keeping the data dir", async () => {
        for (const m of s.members) {
            await stepOk(m, steps.stopScript(m));
            await stepOk(m, steps.configureDeleteScript(s, m, paths, memberFilePaths(paths)));
        }
        for (const name of NAMES) assertDestroyed(inv, name);
        // Running the destroy steps again is harmless.
        for (const m of s.members) await stepOk(m, steps.stopScript(m));
    });
});

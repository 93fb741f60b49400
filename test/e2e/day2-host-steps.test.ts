/**
 * Day-2 operations on real hosts through the component's host steps (no Pulumi engine): a verified
 * snapshot and a rolling upgrade 3.5 -> 3.6, scale out 3 -> 5 as learners, scale in 5 -> 3 with
 * member remove before stop, and replacing a member by a new host. A writer runs through each; after
 * each: every acknowledged write readable, member list equals the plan, one cluster ID, one leader,
 * and the longest write gap is reported.
 */
import { after, before, describe, test } from "node:test";
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { checkVersionChange } from "../../components/plan/version";
import { clientUrl } from "../../components/render/config";
import { ClusterSettings, MemberSettings } from "../../components/settings";
import { ClientCreds, etcdctl, localEtcdctl, writeCreds } from "../support/etcdctl";
import { HostDriver, paths, settingsFor } from "../support/hostDriver";
import { filesScript } from "../../components/render/scripts";
import { etcdStartStamp, hosts, hostsUp, Inventory, onHost, onHostOk } from "../support/hosts";
import { assertNoLostWrites, assertOneHealthyCluster } from "../support/checks";
import { issueMember, opensslPki, TestPki } from "../support/opensslPki";
import { underLoad as runUnderLoad } from "../support/underLoad";
import { Writer } from "../support/writer";

const OLD = "3.5.35";
const NEW = "3.6.16";
let inv: Inventory;
let pki: TestPki;
let drv: HostDriver;
let bin: string;
let admin: ClientCreds;
let s: ClusterSettings;
const creds = fs.mkdtempSync(path.join(os.tmpdir(), "etcd-day2-"));

const endpointsOf = (st: ClusterSettings) => st.members.map((m) => clientUrl(m, st)).join(",");
/** When etcd last started on the member's host (by address: a replacement runs on another host). */
const startStamp = (m: MemberSettings) => etcdStartStamp(inv, m.address);

/** Run `op` with a writer and a health poller going; then check the cluster against `expected`. */
async function underLoad(label: string, st: ClusterSettings, op: () => Promise<void>, writeEndpoints = endpointsOf(st)): Promise<void> {
    await runUnderLoad({ label, bin, creds: admin, prefix: `/day2/${label}`, writeVia: writeEndpoints, checkVia: endpointsOf(st), maxGapMs: 10_000 }, op);
    assertOneHealthyCluster(bin, endpointsOf(st), admin, st.members, label);
}

describe("day-2 operations through host steps on local hosts (no Pulumi engine)", { timeout: 40 * 60 * 1000 }, () => {
    before(async () => {
        hosts("down");
        inv = hostsUp(6);
        s = settingsFor(inv, ["etcd1", "etcd2", "etcd3"], OLD);
        const all = settingsFor(inv, ["etcd1", "etcd2", "etcd3", "etcd4", "etcd5"], OLD);
        pki = opensslPki(all);
        drv = new HostDriver(inv, pki);
        bin = localEtcdctl(NEW);
        admin = writeCreds(creds, "admin", { ca: pki.ca, cert: pki.admin.cert, key: pki.admin.key });
        await drv.bootstrap(s);
        assert.equal(etcdctl(bin, endpointsOf(s), admin, ["put", "/day2/hello", "world"]).status, 0);
    });

    after(() => {
        if (!process.env.E2E_KEEP) hosts("down");
    });

    test(`upgrade ${OLD} -> ${NEW}: verified snapshot first, then one member at a time`, async () => {
        assert.equal(checkVersionChange(OLD, NEW), "minor");
        const up = settingsFor(inv, ["etcd1", "etcd2", "etcd3"], NEW);
        let snapshotOut = "";
        await underLoad("upgrade", up, async () => {
            snapshotOut = (await drv.upgrade(up, up.members[0])).stdout;
        });
        assert.match(snapshotOut, /snapshot \/var\/lib\/etcd-backups\/etcd-pre-upgrade-to-3\.6\.16-\d{8}T\d{6}Z\.db verified/);
        for (const m of up.members) assert.match(onHostOk(inv, m.name, "/usr/local/bin/etcd --version"), /etcd Version: 3\.6\.16/);
        const versions = JSON.parse(etcdctl(bin, endpointsOf(up), admin, ["endpoint", "status", "-w", "json"]).stdout) as { Status: { version: string } }[];
        assert.deepEqual(versions.map((v) => v.Status.version), ["3.6.16", "3.6.16", "3.6.16"]);
        assert.equal(etcdctl(bin, endpointsOf(up), admin, ["get", "/day2/hello", "--print-value-only"]).stdout.trim(), "world");
        s = up;
    });

    test("scale out 3 -> 5: learners added one at a time, promoted when in sync; existing members not restarted", async () => {
        const before = s.members.map(startStamp);
        const grown = settingsFor(inv, ["etcd1", "etcd2", "etcd3", "etcd4", "etcd5"], NEW);
        await underLoad("scale-out", grown, () => drv.changeMembership(s.members, grown, grown.members[0]), endpointsOf(s));
        assert.deepEqual(s.members.map(startStamp), before, "existing members were restarted");
        s = grown;
    });

    test("scale in 5 -> 3: member remove first, then the host is stopped and its data wiped", async () => {
        const shrunk = settingsFor(inv, ["etcd1", "etcd2", "etcd3"], NEW);
        await underLoad("scale-in", shrunk, () => drv.changeMembership(s.members, shrunk, shrunk.members[0]), endpointsOf(shrunk));
        for (const name of ["etcd4", "etcd5"]) {
            assert.notEqual(onHost(inv, name, "systemctl is-active etcd").stdout.trim(), "active");
            assert.equal(onHost(inv, name, "test -e /var/lib/etcd").status, 1, `${name} data dir not wiped`);
        }
        s = shrunk;
    });

    test("replace a member that lost its host: remove it first, then add a fresh one under the same name", async () => {
        // etcd3's host dies; a new host (etcd6's address) takes over the name etcd3.
        hosts("stop", "etcd3");
        const dead: MemberSettings = s.members.find((m) => m.name === "etcd3")!;
        const newHost = inv.hosts.find((h) => h.name === "etcd6")!;
        const replaced = settingsFor(inv, ["etcd1", "etcd2", "etcd3"], NEW, {
            members: [
                { name: "etcd1", address: inv.hosts[0].address },
                { name: "etcd2", address: inv.hosts[1].address },
                { name: "etcd3", address: newHost.address },
            ],
        });
        issueMember(pki, replaced.members[2], replaced);
        const reachable = (name: string, address: string) => !(name === dead.name && address === dead.address);
        const live = `${clientUrl(s.members[0], s)},${clientUrl(s.members[1], s)}`;
        await underLoad("replace", replaced, () => drv.changeMembership(s.members, replaced, replaced.members[0], reachable), live);
        assert.equal(onHostOk(inv, "etcd6", "hostname").trim(), "etcd6");
        assert.equal(etcdctl(bin, clientUrl(replaced.members[2], replaced), admin, ["get", "/day2/hello", "--print-value-only", "--consistency=s"]).stdout.trim(), "world");
        s = replaced;
    });

    test("leaf certificate rotation swaps files atomically, restarts nothing, and the new certificates are served", async () => {
        const served = (m: MemberSettings) =>
            execFileSync("bash", ["-c", `timeout 10 openssl s_client -connect ${m.address}:2379 -CAfile ${admin.caFile} -cert ${admin.certFile} -key ${admin.keyFile} </dev/null 2>/dev/null | openssl x509 -noout -serial`]).toString().trim();
        const before = s.members.map(startStamp);
        const servedBefore = s.members.map(served);
        for (const m of s.members) issueMember(pki, m, s);
        await underLoad("rotate-leaf", s, async () => {
            for (const m of s.members) {
                const out = (await drv.stepOk(m, filesScript(s, m, paths, "existing", drv.bundle(s, m)))).stdout;
                assert.match(out, /wrote \/etc\/etcd\/pki\/server\.key/);
                assert.doesNotMatch(out, /etcd\.conf\.yml|etcd\.service/);
            }
        });
        assert.deepEqual(s.members.map(startStamp), before, "rotation restarted etcd");
        const servedAfter = s.members.map(served);
        servedAfter.forEach((serial, i) => assert.notEqual(serial, servedBefore[i], `${s.members[i].name} still serves its old certificate`));
    });

    test("CA rotation: trust both (rolling restart), re-issue leaves (no restart), drop the old CA (rolling restart)", async () => {
        const oldPki = pki;
        const newPki = opensslPki(s, "rotated etcd CA");
        const both = `${oldPki.ca.trimEnd()}\n${newPki.ca}`;
        const oldAdmin = writeCreds(creds, "old-admin", { ca: both, cert: oldPki.admin.cert, key: oldPki.admin.key });
        // Issued once every member trusts the new CA; from then on it must keep working.
        const newAdmin = writeCreds(creds, "new-admin", { ca: both, cert: newPki.admin.cert, key: newPki.admin.key });
        const stamps = () => s.members.map(startStamp);
        const s0 = stamps();
        const writers: Writer[] = [];
        const check = async (w: Writer, label: string) => assertNoLostWrites(await w.finish(endpointsOf(s), newAdmin), label, 5000);
        try {
            const oldWriter = new Writer(bin, endpointsOf(s), oldAdmin, "/day2/rotate-ca-old-client");
            writers.push(oldWriter);
            oldWriter.start();
            await new Promise((r) => setTimeout(r, 1000));
            await drv.roll(s, oldPki, both); // 1. trust both: the CA bundle is read only at start -> rolling restart
            const s1 = stamps();
            s1.forEach((x, i) => assert.notEqual(x, s0[i], "phase 1 must restart each member"));
            const newWriter = new Writer(bin, endpointsOf(s), newAdmin, "/day2/rotate-ca-new-client");
            writers.push(newWriter);
            newWriter.start();
            await new Promise((r) => setTimeout(r, 1000));
            for (const m of s.members) await drv.stepOk(m, filesScript(s, m, paths, "existing", drv.bundle(s, m, s.members, newPki, both))); // 2. new leaves
            assert.deepEqual(stamps(), s1, "re-issuing leaf certificates must not restart");
            await new Promise((r) => setTimeout(r, 1000));
            await check(oldWriter, "rotate-ca-old-client");
            await drv.roll(s, newPki, newPki.ca); // 3. drop the old CA -> rolling restart
            await new Promise((r) => setTimeout(r, 1000));
            await check(newWriter, "rotate-ca-new-client");
        } finally {
            for (const w of writers) await w.stop();
        }
        const onlyNew = writeCreds(creds, "new-only", { ca: newPki.ca, cert: newPki.admin.cert, key: newPki.admin.key });
        assert.equal(etcdctl(bin, endpointsOf(s), onlyNew, ["endpoint", "health"]).status, 0, "the new CA alone must work after rotation");
        assert.notEqual(etcdctl(bin, endpointsOf(s), oldAdmin, ["get", "/day2/hello"]).status, 0, "an old-CA client certificate must be refused after rotation");
        pki = newPki;
        drv = new HostDriver(inv, newPki);
        admin = onlyNew;
    });

    test("re-running a finished membership change is a no-op", async () => {
        const before = s.members.map(startStamp);
        await drv.changeMembership(s.members, s, s.members[0]);
        assert.deepEqual(s.members.map(startStamp), before);
    });
});

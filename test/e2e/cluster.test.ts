/**
 * End to end: the real Pulumi CLI and engine deploy a 3-member cluster onto the local test hosts over
 * SSH, and everything the product promises for day 1 is checked from outside.
 */
import { after, before, test } from "node:test";
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { etcdStartStamp, hostAddress, hosts, hostsUp, Inventory, onHost, onHostOk, stackMembers, subnetAddress } from "../support/hosts";
import { ClientCreds, etcdctl, localEtcdctl, releaseArchive, writeCreds } from "../support/etcdctl";
import { opensslPki } from "../support/opensslPki";
import { cleanup, recorder, setConfig, stateFiles, TestProject, testProject } from "../support/project";
import { pulumiSuite } from "../support/toolchain";
import { assertDestroyed, assertKillRecovery, assertMetricsLoopbackOnly, assertNoPlainHttp, assertOneHealthyCluster, assertPermissions } from "../support/checks";
import { underLoad } from "../support/underLoad";

const VERSION = "3.6.16";
const PREVIOUS = "3.5.35";
const NAMES = ["etcd1", "etcd2", "etcd3"];

let inv: Inventory;
let p: TestProject;
let bin: string;
let endpoints: string;
let admin: ClientCreds;
const creds = fs.mkdtempSync(path.join(os.tmpdir(), "etcd-e2e-creds-"));

const memberConfig = (inventory: Inventory) => stackMembers(inventory, NAMES);

const startStamp = (name: string) => etcdStartStamp(inv, name);

function opCounts(changes: Record<string, number> | undefined): Record<string, number> {
    return Object.fromEntries(Object.entries(changes ?? {}).filter(([k, v]) => k !== "same" && v > 0));
}

pulumiSuite("EtcdCluster on 3 local hosts (real Pulumi CLI)", { timeout: 40 * 60 * 1000 }, () => {
    before(async () => {
        inv = hostsUp(3);
        bin = localEtcdctl(VERSION);
        const { archive, sums } = releaseArchive(VERSION);
        assert.ok(fs.existsSync(archive), `missing ${archive}: run npm run setup`);
        p = await testProject("e2e", {
            members: memberConfig(inv),
            sshUser: "root",
            sshPrivateKeyPath: inv.sshKeyPath,
            binary: { path: archive, sha256sums: sums },
            healthTimeoutSeconds: 60,
            snapshotRetention: 2,
            sshDialErrorLimit: 3,
            sshPerDialTimeout: 5,
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

    test("first up deploys a healthy 3-member cluster", async () => {
        const t0 = Date.now();
        const up = await p.stack.up({ onOutput: recorder(p, "up") });
        console.log(`first up: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
        assert.equal(up.summary.result, "succeeded");
        endpoints = up.outputs.clientEndpoints.value as string;
        assert.equal(endpoints, NAMES.map((n) => `https://${hostAddress(inv, n)}:2379`).join(","));
        assert.equal(up.outputs.adminKeyPem.secret, true);
        admin = writeCreds(creds, "admin", { ca: up.outputs.caCertPem.value, cert: up.outputs.adminCertPem.value, key: up.outputs.adminKeyPem.value });
    });

    test("every endpoint healthy over TLS with the admin certificate; exactly 3 started voting members, one leader, one cluster", () => {
        assertOneHealthyCluster(bin, endpoints, admin, memberConfig(inv));
    });

    test("put/get works", () => {
        assert.equal(etcdctl(bin, endpoints, admin, ["put", "/e2e/hello", "world"]).status, 0);
        const g = etcdctl(bin, endpoints, admin, ["get", "/e2e/hello", "--print-value-only"]);
        assert.equal(g.stdout.trim(), "world");
    });

    test("a client without a certificate is refused", () => {
        const r = etcdctl(bin, endpoints, { caFile: admin.caFile }, ["get", "/e2e/hello"]);
        assert.notEqual(r.status, 0);
        assert.doesNotMatch(r.stdout, /world/);
    });

    test("a client with a certificate from another CA is refused", () => {
        const rogue = opensslPki(undefined, "rogue CA");
        const rc = writeCreds(creds, "rogue", { cert: rogue.admin.cert, key: rogue.admin.key });
        const r = etcdctl(bin, endpoints, { caFile: admin.caFile, certFile: rc.certFile, keyFile: rc.keyFile }, ["get", "/e2e/hello"]);
        assert.notEqual(r.status, 0);
        assert.doesNotMatch(r.stdout, /world/);
    });

    test("nothing speaks plain http on the client port; metrics are loopback-only", async () => {
        await assertNoPlainHttp(hostAddress(inv, "etcd1"), 2379);
        await assertMetricsLoopbackOnly(inv, "etcd1", hostAddress(inv, "etcd1"), 2381);
    });

    test("key files are 0600 owned by etcd, certs 0644, data dir 0700", () => {
        for (const name of NAMES) {
            assertPermissions(inv, name);
            assert.equal(onHostOk(inv, name, "systemctl show etcd -p User --value").trim(), "etcd");
            assert.match(onHostOk(inv, name, "grep '^initial-cluster-state' /etc/etcd/etcd.conf.yml"), /existing/);
        }
    });

    test("scheduled snapshots: a timer on every member; the service takes a verified snapshot at once, keeps the newest N, records the last success, and a failure keeps the good ones", () => {
        for (const name of NAMES) {
            assert.equal(onHostOk(inv, name, "systemctl is-enabled etcd-snapshot.timer; systemctl is-active etcd-snapshot.timer").trim(), "enabled\nactive", `${name}: timer`);
            assert.match(onHostOk(inv, name, "systemctl show etcd-snapshot.timer -p TimersCalendar --value"), /OnCalendar=\*-\*-\* \*:00:00/, `${name}: hourly by default`);
            assert.equal(onHostOk(inv, name, "stat -c '%a %U:%G' /usr/local/lib/etcd-pulumi/snapshot /etc/systemd/system/etcd-snapshot.service /etc/systemd/system/etcd-snapshot.timer").trim(), "755 root:root\n644 root:root\n644 root:root");
        }
        const dir = "/var/lib/etcd-backups/scheduled";
        const files = () => onHostOk(inv, "etcd1", `ls -1 ${dir}/*.db 2>/dev/null || true`).trim().split("\n").filter(Boolean);
        for (let i = 0; i < 3; i++) {
            assert.equal(etcdctl(bin, endpoints, admin, ["put", "/e2e/snapshot", `v${i}`]).status, 0);
            onHostOk(inv, "etcd1", "systemctl start etcd-snapshot.service");
        }
        const kept = files();
        assert.equal(kept.length, 2, `snapshotRetention 2 keeps 2: ${kept.join(", ")}`);
        assert.equal(onHostOk(inv, "etcd1", `stat -c '%a %U:%G' ${dir}`).trim(), "700 root:root");
        const last = JSON.parse(onHostOk(inv, "etcd1", "cat /var/lib/etcd-pulumi/last-snapshot.json")) as { time: string; revision: number; size: number; file: string };
        const revision = Number(JSON.parse(etcdctl(bin, endpoints, admin, ["endpoint", "status", "-w", "json"]).stdout)[0].Status.header.revision);
        assert.ok(last.revision > 1 && last.revision <= revision, `recorded revision ${last.revision}, cluster at ${revision}`);
        assert.ok(kept.includes(last.file), `${last.file} is one of the kept snapshots`);
        assert.equal(Number(onHostOk(inv, "etcd1", `stat -c %s ${last.file}`).trim()), last.size);
        assert.equal(onHostOk(inv, "etcd1", "stat -c %a /var/lib/etcd-pulumi/last-snapshot.json").trim(), "644", "monitoring can read the last success");
        assert.match(onHostOk(inv, "etcd1", `/usr/local/bin/etcdutl snapshot status ${last.file} -w json`), /"revision":/);
        // A failure (etcd down) fails the service visibly and removes no good snapshot.
        onHostOk(inv, "etcd1", "systemctl stop etcd");
        try {
            const failed = onHost(inv, "etcd1", "systemctl start etcd-snapshot.service");
            assert.notEqual(failed.status, 0, "a failed snapshot must fail the service");
            assert.match(onHostOk(inv, "etcd1", "systemctl is-failed etcd-snapshot.service || true").trim(), /failed/);
            assert.match(onHostOk(inv, "etcd1", "journalctl -u etcd-snapshot.service -n 20 --no-pager -o cat"), /etcd-snapshot on etcd1: the local member is not healthy, no snapshot taken/);
            assert.deepEqual(files(), kept, "a failed snapshot removed a good one");
            assert.equal(JSON.parse(onHostOk(inv, "etcd1", "cat /var/lib/etcd-pulumi/last-snapshot.json")).file, last.file);
        } finally {
            onHostOk(inv, "etcd1", "systemctl start etcd");
        }
        assertOneHealthyCluster(bin, endpoints, admin, memberConfig(inv), "after the snapshot failure test");
    });

    test("the state the backend stores on disk holds no private key or SSH key in plaintext", async () => {
        const files = stateFiles(p);
        assert.ok(files.length > 0, "no stack state file found under .state");
        const state = files.map((f) => fs.readFileSync(f, "utf8")).join("\n");
        assert.doesNotMatch(state, /-----BEGIN (EC |RSA |OPENSSH )?PRIVATE KEY-----/);
        const sshKey = fs.readFileSync(inv.sshKeyPath, "utf8").split("\n")[1];
        assert.ok(!state.includes(sshKey), "SSH key in state");
        const ciphertexts = (state.match(/"ciphertext"/g) ?? []).length;
        console.log(`state on disk: ${ciphertexts} ciphertexts, 0 plaintext private keys`);
        assert.ok(ciphertexts > 10, `only ${ciphertexts} ciphertexts`);
    });

    test("a second preview shows no changes (no read step) and a second up restarts nothing", async () => {
        const before = NAMES.map(startStamp);
        const pv = await p.stack.preview({ expectNoChanges: true, onOutput: recorder(p, "preview") });
        assert.deepEqual(opCounts(pv.changeSummary), {});
        const t0 = Date.now();
        const up = await p.stack.up({ onOutput: recorder(p, "up2") });
        console.log(`no-op up: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
        assert.deepEqual(opCounts(up.summary.resourceChanges), {});
        assert.deepEqual(NAMES.map(startStamp), before, "etcd was restarted");
        for (const name of NAMES) assertPermissions(inv, name);
    });

    test("SSH and timeout settings re-run steps at most and restart nothing", async () => {
        const before = NAMES.map(startStamp);
        await setConfig(p, "sshPerDialTimeout", 6);
        await setConfig(p, "healthTimeoutSeconds", 61);
        const mark = p.output.length;
        const up = await p.stack.up({ onOutput: recorder(p, "up-ssh") });
        assert.equal(up.summary.result, "succeeded");
        assert.deepEqual(NAMES.map(startStamp), before, "a setting etcd does not read restarted etcd");
        assert.doesNotMatch(p.output.slice(mark).join(""), /: restart \(/, "the plan must not announce a restart");
        await p.stack.preview({ expectNoChanges: true, onOutput: recorder(p, "preview-ssh") });
    });

    test("a config value: the preview names who restarts and why; up restarts each member once, one at a time, under load, losing no write", async () => {
        await setConfig(p, "logLevel", "warn");
        const mark = p.output.length;
        await p.stack.preview({ onOutput: recorder(p, "preview-loglevel") });
        const previewText = p.output.slice(mark).join("");
        for (const name of NAMES) assert.match(previewText, new RegExp(`${name}: restart \\(config: log-level\\)`));
        const before = NAMES.map(startStamp);
        const { result: up } = await underLoad(
            { label: "rolling restart of 3 members through pulumi up", bin, creds: admin, prefix: "/e2e/roll", writeVia: endpoints, maxGapMs: 5000, targetGapMs: 300, minWrites: 10 },
            () => p.stack.up({ onOutput: recorder(p, "up-loglevel") }),
        );
        assert.equal(up.summary.result, "succeeded");
        NAMES.map(startStamp).forEach((stamp, i) => assert.notEqual(stamp, before[i], `${NAMES[i]} was not restarted`));
        for (const name of NAMES) assert.match(onHostOk(inv, name, "grep '^log-level' /etc/etcd/etcd.conf.yml"), /warn/);
        await p.stack.preview({ expectNoChanges: true, onOutput: recorder(p, "preview-loglevel-after") });
    });

    test("leaf certificates inside certRenewBeforeHours are re-issued on the next up, under load, with no restart", async () => {
        const served = (address: string) =>
            execFileSync("bash", ["-c", `timeout 10 openssl s_client -connect ${address}:2379 -CAfile ${admin.caFile} -cert ${admin.certFile} -key ${admin.keyFile} </dev/null 2>/dev/null | openssl x509 -noout -serial -enddate`]).toString().trim();
        const addresses = memberConfig(inv).map((m) => m.address);
        const before = addresses.map(served);
        const stamps = NAMES.map(startStamp);
        // 29 days before the certificates (5 years) expire: inside the default 30-day window.
        const now = new Date(Date.now() + (5 * 365 - 29) * 24 * 3600 * 1000).toISOString();
        p.stack.workspace.envVars.ETCD_PULUMI_NOW = now;
        try {
            const mark = p.output.length;
            await p.stack.preview({ onOutput: recorder(p, "preview-renew") });
            for (const name of NAMES) assert.match(p.output.slice(mark).join(""), new RegExp(`${name}: leaf certificates renewed, they expire .*; no restart`));
            const { result: up } = await underLoad(
                { label: "leaf renewal through pulumi up", bin, creds: admin, prefix: "/e2e/renew", writeVia: endpoints, maxGapMs: 2000, maxUnhealthy: 0 },
                () => p.stack.up({ onOutput: recorder(p, "up-renew") }),
            );
            assert.equal(up.summary.result, "succeeded");
            const after = addresses.map(served);
            after.forEach((cert, i) => assert.notEqual(cert, before[i], `${NAMES[i]} still serves its old certificate`));
            assert.deepEqual(NAMES.map(startStamp), stamps, "renewal restarted etcd");
            await p.stack.preview({ expectNoChanges: true, onOutput: recorder(p, "preview-renewed") });
        } finally {
            delete p.stack.workspace.envVars.ETCD_PULUMI_NOW;
        }
        await p.stack.preview({ expectNoChanges: true, onOutput: recorder(p, "preview-renewed-now") });
        const out = await p.stack.outputs();
        admin = writeCreds(creds, "admin-renewed", { ca: out.caCertPem.value, cert: out.adminCertPem.value, key: out.adminKeyPem.value });
    });

    test("unsafe changes are refused at preview and at up, naming the key and the fix, and nothing is touched", async () => {
        const original = memberConfig(inv);
        const stamps = NAMES.map(startStamp);
        const caOnHost = () => NAMES.map((n) => onHostOk(inv, n, "sha256sum /etc/etcd/pki/ca.crt /etc/etcd/pki/peer.crt"));
        const certs = caOnHost();
        const refused = async (label: string, message: RegExp) => {
            await assert.rejects(p.stack.preview({ onOutput: recorder(p, `preview-${label}`) }), message);
            await assert.rejects(p.stack.up({ onOutput: recorder(p, `up-${label}`) }), message);
        };
        await setConfig(p, "keyAlgorithm", "RSA");
        await refused("rsa", /keyAlgorithm: a new key algorithm needs a new CA.*bump caGeneration to 2 and set caRotation: trust-both/);
        await p.stack.removeConfig("etcd-pulumi:keyAlgorithm");
        await setConfig(p, "caGeneration", 2);
        await setConfig(p, "caRotation", "reissue");
        await refused("ca-skip", /a rotation to generation 2 starts with caRotation: trust-both/);
        await p.stack.removeConfig("etcd-pulumi:caRotation");
        await p.stack.removeConfig("etcd-pulumi:caGeneration");
        // Two of three members replaced at once: only one current member would stay.
        await setConfig(p, "members", [original[0], { ...original[1], address: subnetAddress(inv, 24) }, { ...original[2], address: subnetAddress(inv, 25) }]);
        await refused("quorum", /keeps only 1 of the 3 current members \(etcd1\); at least 2 must stay to keep quorum/);
        await setConfig(p, "members", original);
        const previous = releaseArchive(PREVIOUS);
        await setConfig(p, "version", PREVIOUS);
        await setConfig(p, "binary", { path: previous.archive, sha256sums: previous.sums });
        await refused("downgrade", /version: 3\.6\.16 -> 3\.5\.35 is a downgrade/);
        await p.stack.removeConfig("etcd-pulumi:version");
        await setConfig(p, "binary", { path: releaseArchive(VERSION).archive, sha256sums: releaseArchive(VERSION).sums });
        await setConfig(p, "peerPort", 2390);
        await refused("peerport", /peerPort: changing 2380 -> 2390/);
        await p.stack.removeConfig("etcd-pulumi:peerPort");
        assert.deepEqual(NAMES.map(startStamp), stamps, "a refused change restarted etcd");
        assert.deepEqual(caOnHost(), certs, "a refused change wrote certificates");
        assertOneHealthyCluster(bin, endpoints, admin, memberConfig(inv));
        await p.stack.preview({ expectNoChanges: true, onOutput: recorder(p, "preview-restored") });
    });

    test("bad config fails like a Pulumi user error: every problem once, naming the key, no stack trace", async () => {
        await setConfig(p, "electionTimeout", 100);
        await setConfig(p, "heartbeatIntreval", 50);
        const mark = p.output.length;
        let message = "";
        try {
            await p.stack.preview({ onOutput: recorder(p, "preview-invalid") });
        } catch (e) {
            message = String((e as Error).message);
        }
        const printed = p.output.slice(mark).join("");
        assert.match(printed, /electionTimeout: 100 ms is less than 5x heartbeatInterval/);
        assert.match(printed, /heartbeatIntreval: unknown config key; did you mean "heartbeatInterval"/);
        assert.equal((printed.match(/electionTimeout: 100 ms/g) ?? []).length, 1, `the list must be printed once:\n${printed}`);
        assert.doesNotMatch(printed, /unhandled exception|\n\s+at .*\.(js|ts):\d+/, `no stack trace:\n${printed}`);
        assert.notEqual(message, "");
        await p.stack.removeConfig("etcd-pulumi:electionTimeout");
        await p.stack.removeConfig("etcd-pulumi:heartbeatIntreval");
    });

    test("a member killed with SIGKILL is restarted by systemd and rejoins", async () => {
        await assertKillRecovery(inv, "etcd2", `https://${hostAddress(inv, "etcd2")}:2379`, bin, admin);
        assert.equal(etcdctl(bin, endpoints, admin, ["get", "/e2e/hello", "--print-value-only"]).stdout.trim(), "world");
    });

    test("an unreachable host fails the up quickly, naming it; after heal the re-run converges", async () => {
        // Whatever earlier tests left, this is a real config change (so it works on its own too).
        const level = onHostOk(inv, "etcd1", "grep '^log-level' /etc/etcd/etcd.conf.yml").includes("error") ? "warn" : "error";
        const before = ["etcd1", "etcd2"].map(startStamp);
        hosts("isolate", "etcd3");
        try {
            await setConfig(p, "logLevel", level);
            const mark = p.output.length;
            const t0 = Date.now();
            let failure = "";
            try {
                await p.stack.up({ onOutput: recorder(p, "up-isolated") });
            } catch (e) {
                failure = String((e as Error).message);
            }
            const took = (Date.now() - t0) / 1000;
            console.log(`up with etcd3 unreachable failed after ${took.toFixed(1)} s`);
            assert.notEqual(failure, "", "up must fail while etcd3 is unreachable");
            assert.match(failure, /etcd3/);
            assert.ok(took < 240, `took ${took} s`);
            // The failure reads like an operator's error (host, step, cause), never the script text.
            const printed = p.output.slice(mark).join("");
            assert.doesNotMatch(printed, /set -euo pipefail|etcdctl_tls\(\)/, "the error quotes the script");
            // Whatever the engine got to before it stopped: no reachable member restarted without quorum protection.
            const refused = printed.includes("cluster not healthy before restarting etcd1");
            console.log(`etcd1's restart ${refused ? "was refused by its health gate" : "was not reached"}`);
            assert.deepEqual(["etcd1", "etcd2"].map(startStamp), before, "a member restarted while etcd3 was unreachable");
            // The two reachable members still serve.
            assert.equal(etcdctl(bin, ["etcd1", "etcd2"].map((n) => `https://${hostAddress(inv, n)}:2379`).join(","), admin, ["get", "/e2e/hello", "--print-value-only"]).stdout.trim(), "world");
        } finally {
            hosts("heal", "etcd3");
        }
        const up = await p.stack.up({ onOutput: recorder(p, "up-healed") });
        assert.equal(up.summary.result, "succeeded");
        for (const name of NAMES) assert.match(onHostOk(inv, name, "grep '^log-level' /etc/etcd/etcd.conf.yml"), new RegExp(level));
        const r = etcdctl(bin, endpoints, admin, ["endpoint", "health", "-w", "json"]);
        assert.equal(r.status, 0, r.stderr);
        await p.stack.preview({ expectNoChanges: true, onOutput: recorder(p, "preview-healed") });
    });

    test("destroy stops etcd, removes what was installed and keeps the data dir", async () => {
        await p.stack.destroy({ onOutput: recorder(p, "destroy") });
        for (const name of NAMES) assertDestroyed(inv, name);
    });
});

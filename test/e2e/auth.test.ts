/**
 * etcd authentication through the real CLI and engine on the local hosts, one deployment through every
 * step (each a config edit plus `pulumi up`, no etcd restart unless the change itself restarts):
 *   clients declared on a cluster deployed without authentication; authentication turned on under a
 *   writer with the admin certificate (the preview names who loses access; 0 acknowledged writes lost);
 *   each client limited to its grants (app-a cannot read or write /app-b/, a read-only client cannot
 *   write, a client no longer declared is refused); day 2: a client added, one widened, one narrowed, one
 *   removed (its unchanged certificate refused); the host steps with authentication on: a rolling
 *   restart from a config change, a scale out, the scheduled snapshot service; leaf renewal and a CA
 *   rotation (the new certificates keep their CNs and their users); authentication turned off again;
 *   users and roles made by hand left alone, a managed role changed by hand set back, and
 *   authentication turned on by hand left on while the config says auth: false.
 */
import { after, before, test } from "node:test";
import * as assert from "node:assert/strict";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { OutputMap } from "@pulumi/pulumi/automation";
import { assertOneHealthyCluster } from "../support/checks";
import { ClientCreds, etcdctl, EtcdctlResult, localEtcdctl, releaseArchive, writeCreds } from "../support/etcdctl";
import { etcdStartStamp, hosts, hostsUp, Inventory, onHost, onHostOk, stackMembers } from "../support/hosts";
import { cleanup, recorder, setConfig, TestProject, testProject } from "../support/project";
import { pulumiSuite } from "../support/toolchain";
import { underLoad } from "../support/underLoad";

const VERSION = "3.6.16";
let inv: Inventory;
let p: TestProject;
let bin: string;
let admin: ClientCreds;
let members: { name: string; address: string; hostKey: string }[] = [];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "etcd-auth-e2e-"));

const rw = (prefix: string) => ({ prefix, access: "readwrite" });
const ro = (prefix: string) => ({ prefix, access: "read" });
const endpoints = () => members.map((m) => `https://${m.address}:2379`).join(",");
const stamps = () => members.map((m) => etcdStartStamp(inv, m.address));
// etcdctl takes a snapshot from one member only.
const run = (c: ClientCreds, args: string[]): EtcdctlResult => etcdctl(bin, args[0] === "snapshot" ? endpoints().split(",")[0] : endpoints(), c, args, 20_000);
const fileHash = (c: ClientCreds) => createHash("sha256").update(fs.readFileSync(c.certFile!)).update(fs.readFileSync(c.keyFile!)).digest("hex");

function allowed(c: ClientCreds, args: string[], label: string): EtcdctlResult {
    const r = run(c, args);
    assert.equal(r.status, 0, `${label}: etcdctl ${args.join(" ")} should succeed: ${r.stderr}`);
    return r;
}
function refused(c: ClientCreds, args: string[], label: string): void {
    const r = run(c, args);
    assert.notEqual(r.status, 0, `${label}: etcdctl ${args.join(" ")} should be refused, got: ${r.stdout}`);
    assert.match(r.stderr, /permission denied/, `${label}: etcdctl ${args.join(" ")}`);
}
/** A watch the client may not open is cancelled by the server at once. */
function watchRefused(c: ClientCreds, prefix: string, label: string): void {
    const r = etcdctl(bin, endpoints(), c, ["watch", "--prefix", prefix], 15_000);
    assert.notEqual(r.status, 0, `${label}: watch ${prefix} should be refused`);
    assert.match(r.stdout + r.stderr, /permission denied/, `${label}: watch ${prefix}`);
}

/** The stack's outputs, and each client's credentials from clientCertificates written to files (label-<name>). */
async function published(label: string): Promise<{ outputs: OutputMap; clients: Record<string, ClientCreds> }> {
    const outputs = await p.stack.outputs();
    const ca = outputs.caBundlePem.value as string;
    admin = writeCreds(dir, "admin", { ca, cert: outputs.adminCertPem.value, key: outputs.adminKeyPem.value });
    const certs = outputs.clientCertificates.value as Record<string, { certPem: string; keyPem: string }>;
    assert.equal(outputs.clientCertificates.secret, true, "clientCertificates is a secret output");
    const clients = Object.fromEntries(Object.entries(certs).map(([n, c]) => [n, writeCreds(dir, `${label}-${n}`, { ca, cert: c.certPem, key: c.keyPem })]));
    return { outputs, clients };
}

async function previewText(label: string): Promise<string> {
    const mark = p.output.length;
    await p.stack.preview({ onOutput: recorder(p, `preview-${label}`) });
    return p.output.slice(mark).join("");
}

/** `pulumi up` with a writer (admin certificate) and a health poller; then a no-change preview. */
async function upUnderLoad(label: string, opts: { maxGapMs: number; maxUnhealthy: number; checkVia?: string } = { maxGapMs: 3000, maxUnhealthy: 0 }): Promise<void> {
    const writeVia = endpoints();
    await underLoad(
        { label: `${label} through pulumi up`, bin, creds: admin, prefix: `/auth-e2e/writer/${label.replace(/\W+/g, "-")}`, writeVia, checkVia: opts.checkVia, maxGapMs: opts.maxGapMs, maxUnhealthy: opts.maxUnhealthy },
        () => p.stack.up({ onOutput: recorder(p, `up-${label}`) }),
    );
    await p.stack.preview({ expectNoChanges: true, onOutput: recorder(p, `preview-after-${label}`) });
}

/** On a member host, as root: etcdctl with the member's own certificate (the host scripts' identity). */
const onMemberEtcdctl = (host: string, args: string) => onHost(inv, host, `. /etc/profile.d/etcdctl.sh && etcdctl --dial-timeout=3s --command-timeout=10s ${args}`);

let before0: Record<string, ClientCreds> = {};

pulumiSuite("etcd authentication and least-privilege clients through pulumi up (real Pulumi CLI)", { timeout: 60 * 60 * 1000 }, () => {
    before(async () => {
        hosts("down");
        inv = hostsUp(4);
        bin = localEtcdctl(VERSION);
        const { archive, sums } = releaseArchive(VERSION);
        members = stackMembers(inv, ["etcd1", "etcd2", "etcd3"]);
        p = await testProject("auth", {
            members,
            sshUser: "root",
            sshPrivateKeyPath: inv.sshKeyPath,
            version: VERSION,
            binary: { path: archive, sha256sums: sums },
            healthTimeoutSeconds: 60,
            sshDialErrorLimit: 2,
            sshPerDialTimeout: 5,
            // Declared before authentication is on: certificates issued, users prepared, nothing enforced yet.
            clients: [
                { name: "app-a", permissions: [rw("/app-a/")] },
                { name: "app-b", permissions: [rw("/app-b/")] },
                { name: "reader", permissions: [ro("/app-a/")] },
                { name: "legacy", permissions: [rw("/legacy/")] },
            ],
        });
        const t0 = Date.now();
        await p.stack.up({ onOutput: recorder(p, "up-initial") });
        console.log(`first up (3 members, auth off, 4 clients): ${((Date.now() - t0) / 1000).toFixed(1)} s`);
        before0 = (await published("off")).clients;
        allowed(admin, ["put", "/app-a/seed", "a"], "admin");
        allowed(admin, ["put", "/app-b/seed", "b"], "admin");
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
        fs.rmSync(dir, { recursive: true, force: true });
    });

    test("without authentication every certificate from the CA has full access (the starting point)", () => {
        assert.deepEqual(Object.keys(before0).sort(), ["app-a", "app-b", "legacy", "reader"]);
        allowed(before0["app-a"], ["put", "/app-b/by-a", "x"], "app-a, auth off");
        allowed(before0.reader, ["put", "/app-a/by-reader", "x"], "reader, auth off");
        assert.match(onMemberEtcdctl("etcd1", "auth status").stdout, /Authentication Status: false/);
    });

    test("authentication turned on for the running cluster under a writer: the preview names who loses access; 0 writes lost; no restart", async () => {
        await setConfig(p, "auth", true);
        await setConfig(p, "clients", [
            { name: "app-a", permissions: [rw("/app-a/")] },
            { name: "app-b", permissions: [rw("/app-b/")] },
            { name: "reader", permissions: [ro("/app-a/")] },
        ]);
        const plan = await previewText("auth-on");
        assert.match(plan, /warning: AUTHENTICATION ON for the running cluster: from this run on etcd checks every request/);
        assert.match(plan, /full access \(root role\): etcd-admin \(the admin certificate\), etcdctl-etcd1, etcdctl-etcd2, etcdctl-etcd3 \(the members' host scripts\)/);
        assert.match(plan, /only what is granted: kube-apiserver-etcd-client \(readwrite prefix \/registry\/;.*\), app-a \(readwrite prefix \/app-a\/\), app-b \(readwrite prefix \/app-b\/\), reader \(read prefix \/app-a\/\)/);
        assert.match(plan, /LOSE ACCESS at once: every other certificate.*\(CN etcd1, etcd2, etcd3\).*; clients removed in this run: legacy/);
        assert.match(plan, /client legacy: removed: its user and role are deleted, so its certificate is refused from now on/);
        const s0 = stamps();
        await upUnderLoad("auth on", { maxGapMs: 3000, maxUnhealthy: 0 });
        assert.deepEqual(stamps(), s0, "turning authentication on restarted etcd");
        assert.match(allowed(admin, ["auth", "status"], "admin").stdout, /Authentication Status: true/);
        for (const m of members) assert.match(onMemberEtcdctl(m.name, "auth status").stdout, /Authentication Status: true/, `${m.name}'s own certificate is root`);
        assert.deepEqual(allowed(admin, ["user", "list"], "admin").stdout.trim().split("\n").sort(), ["app-a", "app-b", "etcd-admin", "etcdctl-etcd1", "etcdctl-etcd2", "etcdctl-etcd3", "kube-apiserver-etcd-client", "reader", "root"]);
    });

    test("each client only what it is granted: app-a cannot read or write /app-b/, a read-only client cannot write, undeclared certificates are refused", async () => {
        const { clients } = await published("on");
        const [a, b, reader] = [clients["app-a"], clients["app-b"], clients.reader];
        assert.equal(clients.legacy, undefined, "a removed client leaves clientCertificates");
        allowed(a, ["put", "/app-a/k", "from-a"], "app-a");
        assert.equal(allowed(a, ["get", "/app-a/k", "--print-value-only"], "app-a").stdout.trim(), "from-a");
        refused(a, ["get", "/app-b/seed"], "app-a reading /app-b/");
        refused(a, ["put", "/app-b/k", "x"], "app-a writing /app-b/");
        refused(a, ["del", "/app-b/seed"], "app-a deleting in /app-b/");
        refused(a, ["get", "/", "--prefix", "--keys-only"], "app-a listing everything");
        watchRefused(a, "/app-b/", "app-a watching /app-b/");
        allowed(b, ["put", "/app-b/k", "from-b"], "app-b");
        refused(b, ["get", "/app-a/k"], "app-b reading /app-a/");
        refused(b, ["put", "/app-a/k", "x"], "app-b writing /app-a/");
        assert.equal(allowed(reader, ["get", "/app-a/k", "--print-value-only"], "reader").stdout.trim(), "from-a");
        refused(reader, ["put", "/app-a/k", "x"], "reader writing");
        refused(reader, ["del", "/app-a/k"], "reader deleting");
        // The legacy client's certificate and key as issued, unchanged, and a member's server certificate used as a client.
        const legacy = before0.legacy;
        refused(legacy, ["get", "/legacy/x"], "legacy (no longer declared)");
        refused(legacy, ["put", "/legacy/x", "y"], "legacy (no longer declared)");
        fs.writeFileSync(path.join(dir, "etcd1-server.crt"), onHostOk(inv, "etcd1", "cat /etc/etcd/pki/server.crt"));
        fs.writeFileSync(path.join(dir, "etcd1-server.key"), onHostOk(inv, "etcd1", "cat /etc/etcd/pki/server.key"), { mode: 0o600 });
        refused({ caFile: admin.caFile, certFile: path.join(dir, "etcd1-server.crt"), keyFile: path.join(dir, "etcd1-server.key") }, ["get", "/app-a/k"], "etcd1's server certificate as a client");
        // Nobody but root may manage users or do admin operations.
        refused(a, ["user", "list"], "app-a listing users");
        refused(a, ["snapshot", "save", path.join(dir, "a.db")], "app-a taking a snapshot");
        refused(clients["app-a"], ["compaction", "1"], "app-a compacting");
        assert.match(allowed(admin, ["role", "get", "etcd-pulumi.reader"], "admin").stdout, /KV Read:\n\t\[\/app-a\/, \/app-a0\) \(prefix \/app-a\/\)\nKV Write:\n$/);
    });

    test("day 2 in one up: a client added, one widened, one narrowed, one removed; applied at once without a restart; the removed one's unchanged certificate is refused", async () => {
        const { clients: was } = await published("day2-before");
        const removed = was["app-a"];
        const removedHash = fileHash(removed);
        allowed(removed, ["get", "/app-a/k"], "app-a before its removal");
        // By hand, outside etcd-pulumi: a user and a role of its own (left alone), and a grant added to a managed role (taken back).
        allowed(admin, ["user", "add", "alice", "--no-password"], "admin");
        allowed(admin, ["role", "add", "hand-made"], "admin");
        allowed(admin, ["user", "grant-role", "alice", "hand-made"], "admin");
        allowed(admin, ["role", "grant-permission", "etcd-pulumi.app-b", "readwrite", "/tampered/", "--prefix"], "admin");
        await setConfig(p, "clients", [
            { name: "app-b", permissions: [ro("/app-b/")] },
            { name: "reader", permissions: [rw("/app-a/")] },
            { name: "app-c", permissions: [rw("/app-c/"), { key: "/shared/flags", access: "read" }] },
        ]);
        const plan = await previewText("day2");
        assert.match(plan, /client app-b: permissions readwrite -> read prefix \/app-b\/: applied at once, no restart/);
        assert.match(plan, /client reader: permissions read -> readwrite prefix \/app-a\/: applied at once, no restart/);
        assert.match(plan, /client app-c: new certificate \(CN app-c\) and user with role etcd-pulumi\.app-c: readwrite prefix \/app-c\/, read key \/shared\/flags/);
        assert.match(plan, /client app-a: removed: its user and role are deleted, so its certificate is refused from now on, even unchanged/);
        const s0 = stamps();
        await upUnderLoad("clients day 2", { maxGapMs: 3000, maxUnhealthy: 0 });
        assert.deepEqual(stamps(), s0, "changing clients restarted etcd");
        const { clients } = await published("day2-after");
        assert.deepEqual(Object.keys(clients).sort(), ["app-b", "app-c", "reader"]);
        assert.equal(fileHash(removed), removedHash, "the removed client's certificate and key are the ones it had");
        refused(removed, ["get", "/app-a/k"], "app-a after its removal");
        refused(removed, ["put", "/app-a/k", "x"], "app-a after its removal");
        allowed(clients.reader, ["put", "/app-a/k", "from-reader"], "reader, widened");
        assert.equal(allowed(clients["app-b"], ["get", "/app-b/k", "--print-value-only"], "app-b, narrowed").stdout.trim(), "from-b");
        refused(clients["app-b"], ["put", "/app-b/k", "x"], "app-b, narrowed");
        allowed(clients["app-c"], ["put", "/app-c/k", "from-c"], "app-c, new");
        allowed(admin, ["put", "/shared/flags", "on"], "admin");
        assert.equal(allowed(clients["app-c"], ["get", "/shared/flags", "--print-value-only"], "app-c reading its key").stdout.trim(), "on");
        refused(clients["app-c"], ["put", "/shared/flags", "off"], "app-c writing a key it may only read");
        refused(clients["app-c"], ["get", "/shared/other"], "app-c reading a key next to its own");
        assert.match(allowed(admin, ["user", "get", "alice"], "admin").stdout, /Roles: hand-made/, "a user made by hand is left alone");
        assert.equal(allowed(admin, ["role", "get", "etcd-pulumi.app-b"], "admin").stdout, "Role etcd-pulumi.app-b\nKV Read:\n\t[/app-b/, /app-b0) (prefix /app-b/)\nKV Write:\n", "a managed role holds exactly its grants");
    });

    test("host steps with authentication on: a rolling restart from a config change, then the scheduled snapshot service on every member", async () => {
        await setConfig(p, "logLevel", "warn");
        assert.match(await previewText("restart"), /etcd1: restart \(config: log-level\)/);
        const s0 = stamps();
        await upUnderLoad("rolling restart with auth on", { maxGapMs: 5000, maxUnhealthy: 1 });
        stamps().forEach((s, i) => assert.notEqual(s, s0[i], `${members[i].name} was not restarted`));
        for (const m of members) {
            const was = onHost(inv, m.name, "cat /var/lib/etcd-pulumi/last-snapshot.json").stdout;
            const r = onHost(inv, m.name, "systemctl start etcd-snapshot.service");
            assert.equal(r.status, 0, `${m.name}: etcd-snapshot.service with auth on: ${r.stderr} ${onHost(inv, m.name, "journalctl -u etcd-snapshot.service -n 5 --no-pager -o cat").stdout}`);
            const last = JSON.parse(onHostOk(inv, m.name, "cat /var/lib/etcd-pulumi/last-snapshot.json")) as { file: string; revision: number };
            assert.notEqual(JSON.stringify(last), was.trim(), `${m.name}: no new snapshot recorded`);
            assert.match(onHostOk(inv, m.name, `/usr/local/bin/etcdutl snapshot status ${last.file} -w json`), /"revision":/);
        }
    });

    test("scale out with authentication on: the new member's user exists before it adds itself; it joins, is promoted, its scripts work", async () => {
        const grown = stackMembers(inv, ["etcd1", "etcd2", "etcd3", "etcd4"]);
        await setConfig(p, "allowEvenMembers", true);
        await setConfig(p, "members", grown);
        const plan = await previewText("scale-out");
        assert.match(plan, /etcd4: user etcdctl-etcd4 with the root role for its host scripts, created before it joins/);
        assert.match(plan, /etcd4 \([\d.]+\): joins as a learner/);
        const writeVia = endpoints();
        members = grown;
        await underLoad(
            { label: "scale out 3 -> 4 with auth on through pulumi up", bin, creds: admin, prefix: "/auth-e2e/writer/scale-out", writeVia, checkVia: endpoints(), maxGapMs: 5000, maxUnhealthy: 1 },
            () => p.stack.up({ onOutput: recorder(p, "up-scale-out") }),
        );
        assertOneHealthyCluster(bin, endpoints(), admin, members, "after the scale out");
        await p.stack.preview({ expectNoChanges: true, onOutput: recorder(p, "preview-after-scale-out") });
        assert.match(onMemberEtcdctl("etcd4", "auth status").stdout, /Authentication Status: true/);
        assert.equal(onHost(inv, "etcd4", "systemctl start etcd-snapshot.service").status, 0, "etcd4's snapshot service");
    });

    test("leaf renewal with authentication on: every certificate re-issued with its CN, no restart; the new ones act as the same users", async () => {
        const { outputs: o0, clients: c0 } = await published("pre-renewal");
        p.stack.workspace.envVars.ETCD_PULUMI_NOW = new Date(Date.now() + (5 * 365 - 29) * 24 * 3600 * 1000).toISOString();
        try {
            assert.match(await previewText("renew"), /etcd1: leaf certificates renewed, they expire .*; no restart/);
            const s0 = stamps();
            await upUnderLoad("leaf renewal with auth on", { maxGapMs: 3000, maxUnhealthy: 0 });
            assert.deepEqual(stamps(), s0, "renewal restarted etcd");
        } finally {
            delete p.stack.workspace.envVars.ETCD_PULUMI_NOW;
        }
        const { outputs: o1, clients: c1 } = await published("renewed");
        assert.notEqual(o1.adminCertPem.value, o0.adminCertPem.value, "the admin certificate was re-issued");
        assert.notEqual(fileHash(c1["app-c"]), fileHash(c0["app-c"]), "app-c's certificate was re-issued");
        allowed(admin, ["user", "list"], "the renewed admin certificate, still root");
        allowed(c1["app-c"], ["put", "/app-c/renewed", "y"], "app-c's renewed certificate");
        refused(c1["app-c"], ["get", "/app-b/k"], "app-c's renewed certificate outside its grants");
        for (const m of members) assert.match(onMemberEtcdctl(m.name, "auth status").stdout, /Authentication Status: true/, `${m.name}'s renewed certificate is root`);
    });

    test("CA rotation with authentication on (three ups, clients on the published bundle): the re-issued certificates keep their users", async () => {
        const all = endpoints();
        await setConfig(p, "caGeneration", 2);
        await setConfig(p, "caRotation", "trust-both");
        await upUnderLoad("CA rotation 1 with auth on", { maxGapMs: 5000, maxUnhealthy: 1 });
        await published("ca-1");
        await setConfig(p, "caRotation", "reissue");
        await upUnderLoad("CA rotation 2 with auth on", { maxGapMs: 5000, maxUnhealthy: 0 });
        await published("ca-2");
        await p.stack.removeConfig("etcd-pulumi:caRotation");
        await upUnderLoad("CA rotation 3 with auth on", { maxGapMs: 5000, maxUnhealthy: 1 });
        const { outputs, clients } = await published("ca-3");
        assert.equal((outputs.caBundlePem.value as string).match(/BEGIN CERTIFICATE/g)?.length, 1, "only the new CA is trusted");
        assert.match(etcdctl(bin, all, admin, ["auth", "status"]).stdout, /Authentication Status: true/, "the new admin certificate is root");
        allowed(clients["app-c"], ["put", "/app-c/rotated", "z"], "app-c's new-CA certificate");
        refused(clients["app-c"], ["put", "/app-b/rotated", "z"], "app-c's new-CA certificate outside its grants");
        allowed(clients.reader, ["get", "/app-a/k"], "reader's new-CA certificate");
        for (const m of members) {
            assert.match(onMemberEtcdctl(m.name, "auth status").stdout, /Authentication Status: true/, `${m.name}'s new-CA certificate is root`);
            assert.equal(onHost(inv, m.name, "systemctl start etcd-snapshot.service").status, 0, `${m.name}: snapshot after the rotation`);
        }
    });

    test("authentication turned off again: loud in the preview, then every certificate has full access; users are kept", async () => {
        await setConfig(p, "auth", false);
        assert.match(await previewText("auth-off"), /warning: AUTHENTICATION OFF for the running cluster: etcd stops checking permissions/);
        const s0 = stamps();
        await upUnderLoad("auth off", { maxGapMs: 3000, maxUnhealthy: 0 });
        assert.deepEqual(stamps(), s0, "turning authentication off restarted etcd");
        const { clients } = await published("off-again");
        allowed(clients["app-b"], ["put", "/app-c/by-b", "x"], "app-b, auth off");
        assert.match(onMemberEtcdctl("etcd1", "auth status").stdout, /Authentication Status: false/);
        assert.match(onMemberEtcdctl("etcd1", "user list").stdout, /^app-c$/m, "users stay for when it is turned on again");
        assert.doesNotMatch(onMemberEtcdctl("etcd1", "role list").stdout, /^etcd-pulumi$/m, "the marker that etcd-pulumi turned it on is gone");
    });

    test("authentication turned on by hand is left on while auth is false: users and roles untouched", async () => {
        allowed(admin, ["auth", "enable"], "admin, by hand");
        await setConfig(p, "clients", [
            { name: "app-b", permissions: [ro("/app-b/")] },
            { name: "reader", permissions: [rw("/app-a/")] },
            { name: "app-c", permissions: [rw("/app-c/"), { key: "/shared/flags", access: "read" }] },
            { name: "app-d", permissions: [rw("/app-d/")] },
        ]);
        await upUnderLoad("auth on by hand, auth false", { maxGapMs: 3000, maxUnhealthy: 0 });
        assert.match(allowed(admin, ["auth", "status"], "admin").stdout, /Authentication Status: true/, "authentication etcd-pulumi did not turn on stays on");
        assert.doesNotMatch(allowed(admin, ["user", "list"], "admin").stdout, /^app-d$/m, "users are left as they were");
        const { clients } = await published("by-hand");
        refused(clients["app-d"], ["put", "/app-d/k", "x"], "app-d (no user while etcd-pulumi leaves authentication alone)");
    });
});

/**
 * Clean-up of leaving hosts (components/hostCleanup/, components/deployerSsh/): which hosts are cleaned,
 * the OpenSSH client config, and the provider's update and delete with a stand-in `ssh` on PATH that
 * answers per host (cleaned, unreachable, failing), so the bounded attempts and the outcomes are real.
 */
import { after, describe, test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { knownHostsLine, renderSshClientConfig } from "../../components/deployerSsh/clientConfig";
import { runOverSsh } from "../../components/deployerSsh/run";
import { cleanupHost, CleanupHost, leavingHosts, outcomeLine } from "../../components/hostCleanup/plan";
import { hostCleanupProvider } from "../../components/hostCleanup/resource";
import { hostPaths } from "../../components/render/paths";
import { resolveSettings } from "../../components/validate";

const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nx\n-----END OPENSSH PRIVATE KEY-----";
const HOSTKEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOr8 root@etcd1";
const settings = (members: { name: string; address: string; sshUser?: string; hostKey?: string; sshPort?: number }[], over = {}) =>
    resolveSettings({ members, ssh: { privateKey: KEY }, binary: { path: "/tmp/x.tgz", sha256: "b".repeat(64) }, allowEvenMembers: true, allowSmallCluster: true, ...over });
const hostsOf = (s: ReturnType<typeof settings>) => s.members.map((m) => cleanupHost(s, m, hostPaths(s.dataDir)));
const three = [
    { name: "etcd1", address: "10.0.0.11", hostKey: HOSTKEY },
    { name: "etcd2", address: "10.0.0.12" },
    { name: "etcd3", address: "10.0.0.13", sshUser: "deploy", sshPort: 2222 },
];

describe("which hosts a run cleans", () => {
    const before = hostsOf(settings(three));
    test("scale in: the host of a member that left", () => {
        assert.deepEqual(leavingHosts(before, hostsOf(settings(three.slice(0, 2)))).map((h) => h.member), ["etcd3"]);
    });
    test("replaced onto another host (same name, new address): the old host", () => {
        const now = hostsOf(settings(three.map((m) => (m.name === "etcd2" ? { name: "etcd2", address: "10.0.0.22" } : m))));
        assert.deepEqual(leavingHosts(before, now).map((h) => `${h.member}@${h.address}`), ["etcd2@10.0.0.12"]);
    });
    test("never a host another member still uses: a bumped replacement counter, a rename on the same host, a reorder, a member added", () => {
        assert.deepEqual(leavingHosts(before, hostsOf(settings(three.map((m) => ({ ...m, replacement: 1 }))))), []);
        assert.deepEqual(leavingHosts(before, hostsOf(settings(three.map((m) => (m.name === "etcd3" ? { ...m, name: "etcd9" } : m))))), []);
        assert.deepEqual(leavingHosts(before, hostsOf(settings([...three].reverse()))), []);
        assert.deepEqual(leavingHosts(before, hostsOf(settings([...three, { name: "etcd4", address: "10.0.0.14" }]))), []);
    });
    test("each host's entry: its SSH route and user, a short command through sudo for a non-root user, the stop and removal scripts; no secret", () => {
        const [h1, , h3] = before;
        assert.deepEqual(h1.route, { target: { host: "10.0.0.11", port: 22, user: "root", hostKey: HOSTKEY } });
        assert.equal(h3.target, "10.0.0.13:2222");
        assert.deepEqual(h3.route.target, { host: "10.0.0.13", port: 2222, user: "deploy" });
        assert.match(h3.command, /^sudo -n \/bin\/bash -c .* etcd-pulumi:etcd3\/cleanup cleanup$/);
        assert.doesNotMatch(h1.command, /sudo/);
        assert.ok(h1.command.length < 300);
        assert.match(h1.script, /^#!etcd-pulumi cleanup\n/);
        assert.match(h1.script, /systemctl disable --now etcd\.service/);
        assert.match(h1.script, /systemctl disable --now etcd-snapshot\.timer/);
        assert.match(h1.script, /rm -f '\/etc\/etcd\/etcd\.conf\.yml'/);
        assert.match(h1.script, /data dir \/var\/lib\/etcd kept \(purgeDataOnDestroy is off\)/);
        assert.doesNotMatch(h1.script, /rm -rf '\/var\/lib\/etcd'/);
        assert.match(hostsOf(settings(three, { purgeDataOnDestroy: true }))[0].script, /rm -rf '\/var\/lib\/etcd'/);
        assert.doesNotMatch(JSON.stringify(before), /PRIVATE KEY/);
        const bastioned = hostsOf(settings(three, { ssh: { privateKey: KEY, bastion: { host: "192.0.2.1", user: "jump", hostKey: HOSTKEY } } }))[1];
        assert.deepEqual(bastioned.route.bastion, { host: "192.0.2.1", port: 22, user: "jump", hostKey: HOSTKEY });
    });
    test("the lines a run prints say what happened and, for a host that did not answer, what to do if it comes back", () => {
        const o = { member: "etcd5", address: "10.0.0.15", attempts: 2, seconds: 6.04 };
        assert.equal(outcomeLine({ ...o, outcome: "cleaned", reason: "" }, "leaves"), "etcd-pulumi: [etcd5] etcd5 left the cluster: host 10.0.0.15 cleaned (etcd stopped and disabled, its files removed) in 6.0 s");
        assert.match(outcomeLine({ ...o, outcome: "unreachable", reason: "No route to host" }, "leaves"), /^etcd-pulumi: \[etcd5\] etcd5 left the cluster, but its host 10\.0\.0\.15 did not answer over SSH \(2 attempt\(s\), 6\.0 s: No route to host\); its clean-up was skipped\. If that host comes back, stop etcd there/);
        assert.match(outcomeLine({ ...o, outcome: "failed", reason: "boom" }, "destroy"), /^etcd-pulumi: \[etcd5\] destroy of etcd5: the clean-up on host 10\.0\.0\.15 failed: boom$/);
    });
});

describe("the deployer's OpenSSH client config", () => {
    const files = { identityFile: "/tmp/k/id", knownHostsFile: "/tmp/k/known_hosts" };
    test("a pinned host key is checked strictly against exactly that key; an unpinned one is not checked (as the command provider does)", () => {
        const pinned = renderSshClientConfig({ target: { host: "10.0.0.11", port: 22, user: "root", hostKey: HOSTKEY } }, files, 5);
        assert.match(pinned.config, /^Host etcd-pulumi-target\n {2}HostName "10\.0\.0\.11"\n {2}Port "22"\n {2}User "root"\n {2}HostKeyAlias etcd-pulumi-target\n {2}StrictHostKeyChecking yes\n {2}UserKnownHostsFile "\/tmp\/k\/known_hosts"\n/);
        assert.equal(pinned.knownHosts, "etcd-pulumi-target ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOr8\n");
        for (const line of ["BatchMode yes", "IdentitiesOnly yes", "IdentityAgent none", "ConnectTimeout 5", "ConnectionAttempts 1", "GlobalKnownHostsFile /dev/null", "ForwardAgent no", `IdentityFile "/tmp/k/id"`]) {
            assert.ok(pinned.config.includes(`\n  ${line}\n`), line);
        }
        const open = renderSshClientConfig({ target: { host: "10.0.0.12", port: 2222, user: "deploy" } }, files, 10);
        assert.match(open.config, /StrictHostKeyChecking no\n {2}UserKnownHostsFile \/dev\/null\n/);
        assert.equal(open.knownHosts, "");
    });
    test("through a bastion: the target jumps via the bastion's own block, each with its own key check", () => {
        const c = renderSshClientConfig({ target: { host: "10.0.0.11", port: 22, user: "root" }, bastion: { host: "192.0.2.1", port: 2200, user: "jump", hostKey: HOSTKEY } }, files, 5);
        assert.match(c.config, /UserKnownHostsFile \/dev\/null\n {2}ProxyJump etcd-pulumi-bastion\nHost etcd-pulumi-bastion\n {2}HostName "192\.0\.2\.1"\n {2}Port "2200"\n {2}User "jump"\n {2}HostKeyAlias etcd-pulumi-bastion\n {2}StrictHostKeyChecking yes/);
        assert.equal(c.knownHosts, "etcd-pulumi-bastion ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOr8\n");
    });
    test("a value that could leave its quotes is refused; a host key line must have a type and a key", () => {
        assert.throws(() => renderSshClientConfig({ target: { host: 'x"\nProxyCommand evil', port: 22, user: "root" } }, files, 5), /refusing the value/);
        assert.throws(() => knownHostsLine("a", "ssh-ed25519"), /not an authorized_keys style line/);
    });
});

/**
 * A stand-in for the OpenSSH client: reads the HostName from the -F config and answers as that host would.
 * 10.0.0.11: runs the command (exit 0); 10.0.0.12: cannot be reached (exit 255, like ssh); 10.0.0.13: the
 * script fails there (exit 1). Every call is logged with its stdin and the key file's mode.
 */
const fake = fs.mkdtempSync(path.join(os.tmpdir(), "fake-ssh-"));
fs.writeFileSync(
    path.join(fake, "ssh"),
    `#!/bin/bash
cfg=$2; host=$(awk '$1 == "HostName" { gsub(/"/, "", $2); print $2; exit }' "$cfg")
key=$(awk '$1 == "IdentityFile" { gsub(/"/, "", $2); print $2; exit }' "$cfg")
{ echo "call $host $(stat -c %a "$key") $(tail -c 1 "$key" | od -An -c | tr -d ' ')"; echo "args: \${*:3}"; sed 's/^/stdin: /'; } >> ${JSON.stringify(path.join(fake, "log"))}
echo "$key" >> ${JSON.stringify(path.join(fake, "keys"))}
case "$host" in
  10.0.0.11) echo "etcd stopped"; exit 0 ;;
  10.0.0.12) echo "ssh: connect to host 10.0.0.12 port 22: No route to host" >&2; exit 255 ;;
  *) echo "etcd-pulumi: [etcd3] step remove: boom" >&2; exit 1 ;;
esac
`,
    { mode: 0o755 },
);
const realPath = process.env.PATH;
process.env.PATH = `${fake}:${realPath}`;
const log = () => (fs.existsSync(path.join(fake, "log")) ? fs.readFileSync(path.join(fake, "log"), "utf8") : "");
const reset = () => ["log", "keys"].forEach((f) => fs.rmSync(path.join(fake, f), { force: true }));
after(() => {
    process.env.PATH = realPath;
    fs.rmSync(fake, { recursive: true, force: true });
});

describe("running over SSH from the deployer (a stand-in ssh)", () => {
    const route = (host: string) => ({ target: { host, port: 22, user: "root" } });
    test("a reached host: one attempt, its output; the key was 0600, newline-terminated, and is gone afterwards", async () => {
        reset();
        const r = await runOverSsh(route("10.0.0.11"), KEY, "the-command", "the script\n", { attempts: 3, connectTimeoutSeconds: 2, runTimeoutSeconds: 10 });
        assert.equal(r.outcome, "ok");
        assert.equal(r.attempts, 1);
        assert.equal(r.stdout, "etcd stopped\n");
        assert.match(log(), /^call 10\.0\.0\.11 600 \\n\nargs: -T etcd-pulumi-target the-command\nstdin: the script\n$/);
        const keyFile = fs.readFileSync(path.join(fake, "keys"), "utf8").trim();
        assert.equal(fs.existsSync(keyFile), false, "the key file is removed after the run");
        assert.equal(fs.existsSync(path.dirname(keyFile)), false, "so is its directory");
    });
    test("an unreachable host: exactly `attempts` dials, then unreachable with ssh's reason", async () => {
        reset();
        const r = await runOverSsh(route("10.0.0.12"), KEY, "c", "s\n", { attempts: 2, connectTimeoutSeconds: 2, runTimeoutSeconds: 10 });
        assert.deepEqual([r.outcome, r.attempts, r.reason], ["unreachable", 2, "ssh: connect to host 10.0.0.12 port 22: No route to host"]);
        assert.equal(log().match(/^call /gm)?.length, 2);
    });
    test("a command that fails on the host is not retried", async () => {
        reset();
        const r = await runOverSsh(route("10.0.0.13"), KEY, "c", "s\n", { attempts: 3, connectTimeoutSeconds: 2, runTimeoutSeconds: 10 });
        assert.deepEqual([r.outcome, r.exitCode, r.attempts, r.reason], ["failed", 1, 1, "etcd-pulumi: [etcd3] step remove: boom"]);
    });
    test("no ssh client on the deployer: unreachable, saying so", async () => {
        const saved = process.env.PATH;
        process.env.PATH = fake.replace(/fake-ssh-.*/, "nowhere");
        try {
            const r = await runOverSsh(route("10.0.0.11"), KEY, "c", "s\n", { attempts: 2, connectTimeoutSeconds: 2, runTimeoutSeconds: 10 });
            assert.deepEqual([r.outcome, r.reason], ["unreachable", "the OpenSSH client (ssh) is not installed on the deployer"]);
        } finally {
            process.env.PATH = saved;
        }
    });
});

describe("the host-cleanup resource's provider", () => {
    const s = settings(three);
    const inputs = (hosts: CleanupHost[], runId: string) => ({ hosts, privateKey: KEY, attempts: 2, connectTimeoutSeconds: 2, runId });
    const all = hostsOf(s);
    test("diff: only the hosts, the key and the SSH bounds count; the run id never does", async () => {
        const d = (a: object, b: object) => hostCleanupProvider.diff!("id", a, b);
        assert.equal((await d(inputs(all, "a"), inputs(all, "b"))).changes, false);
        assert.equal((await d(inputs(all, "a"), inputs(all.slice(0, 2), "b"))).changes, true);
        assert.equal((await d(inputs(all, "a"), { ...inputs(all, "a"), privateKey: "other" })).changes, true);
        assert.equal((await d(inputs(all, "a"), { ...inputs(all, "a"), connectTimeoutSeconds: 9 })).changes, true);
    });
    test("create cleans nothing", async () => {
        reset();
        const r = await hostCleanupProvider.create(inputs(all, "run-1"));
        assert.deepEqual(r.outs.report, { runId: "run-1", lines: [] });
        assert.equal(log(), "");
    });
    const state = (hosts: CleanupHost[]) => ({ ...inputs(hosts, "run-1"), report: { runId: "run-1", lines: [] } });
    const reportOf = (r: { outs?: Record<string, unknown> }) => r.outs!.report as { runId: string; lines: { level: string; text: string }[] };
    test("update: only the leaving host is dialled; a reached one is cleaned (an info line), tagged with this run's id", async () => {
        reset();
        const report = reportOf(await hostCleanupProvider.update!("id", state(all), inputs([all[1], all[2]], "run-2")));
        assert.equal(report.runId, "run-2");
        assert.deepEqual(report.lines.map((l) => l.level), ["info"]);
        assert.match(report.lines[0].text, /^etcd-pulumi: \[etcd1\] etcd1 left the cluster: host 10\.0\.0\.11 cleaned/);
        assert.deepEqual(log().match(/^call \S+/gm), ["call 10.0.0.11"]);
        assert.match(log(), /stdin: #!etcd-pulumi cleanup\n/, "the clean-up script went on stdin");
    });
    test("update: a leaving host that does not answer is a warning after the bounded attempts, and the step succeeds", async () => {
        reset();
        const t0 = Date.now();
        const report = reportOf(await hostCleanupProvider.update!("id", state(all), inputs([all[0], all[2]], "run-2")));
        assert.deepEqual(report.lines.map((l) => l.level), ["warning"]);
        assert.match(report.lines[0].text, /\[etcd2\] etcd2 left the cluster, but its host 10\.0\.0\.12 did not answer over SSH \(2 attempt\(s\), .*No route to host\); its clean-up was skipped/);
        assert.deepEqual(log().match(/^call \S+/gm), ["call 10.0.0.12", "call 10.0.0.12"]);
        assert.ok(Date.now() - t0 < 5000);
    });
    test("update: a leaving host that answers but whose clean-up fails fails the step, naming it (the next up retries)", async () => {
        reset();
        await assert.rejects(hostCleanupProvider.update!("id", state(all), inputs([all[0], all[1]], "run-2")), /\[etcd3\] etcd3 left the cluster: the clean-up on host 10\.0\.0\.13 failed: etcd-pulumi: \[etcd3\] step remove: boom/);
    });
    test("delete (destroy): every host is tried, an unreachable one is reported, a failure fails it after all were tried", async () => {
        reset();
        await assert.rejects(hostCleanupProvider.delete!("id", state(all)), (e: Error) => /\[etcd3\] destroy of etcd3: the clean-up on host 10\.0\.0\.13 failed/.test(e.message) && !/etcd1|etcd2/.test(e.message));
        assert.deepEqual(log().match(/^call \S+/gm)?.sort(), ["call 10.0.0.11", "call 10.0.0.12", "call 10.0.0.12", "call 10.0.0.13"]);
        reset();
        await hostCleanupProvider.delete!("id", state(all.slice(0, 2)));
        assert.deepEqual(log().match(/^call \S+/gm)?.sort(), ["call 10.0.0.11", "call 10.0.0.12", "call 10.0.0.12"]);
    });
});

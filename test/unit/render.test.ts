import { test } from "node:test";
import * as assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { parse } from "yaml";
import { resolveSettings } from "../../components/validate";
import { renderEtcdConfig, initialCluster, PEER_CN } from "../../components/render/config";
import { renderUnit } from "../../components/render/unit";
import { renderEtcdctlProfile } from "../../components/render/profile";
import { hostPaths } from "../../components/render/paths";
import { memberFiles, renderFileBundle } from "../../components/render/files";
import { renderStartInputsTool, startInputsComment } from "../../components/render/startInputs";
import * as scripts from "../../components/render/scripts";
import { shq, stepInvocation, stepStdin } from "../../components/render/shell";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nx\n-----END OPENSSH PRIVATE KEY-----\n";
const settings = (over = {}) =>
    resolveSettings({
        members: [
            { name: "etcd1", address: "10.0.0.11" },
            { name: "etcd2", address: "etcd2.example.com" },
            { name: "etcd3", address: "10.0.0.13" },
        ],
        ssh: { privateKey: KEY },
        binary: { path: "/tmp/x.tgz", sha256: "b".repeat(64) },
        ...over,
    });

test("etcd config: TLS everywhere, cert auth on both ports, peer CN pinned, metrics on loopback", () => {
    const s = settings();
    const paths = hostPaths(s.dataDir);
    const cfg = parse(renderEtcdConfig({ settings: s, member: s.members[0], initialMembers: s.members, clusterToken: "tok-123", paths }));
    assert.equal(cfg.name, "etcd1");
    assert.equal(cfg["listen-client-urls"], "https://10.0.0.11:2379,https://127.0.0.1:2379");
    assert.equal(cfg["listen-peer-urls"], "https://10.0.0.11:2380");
    assert.equal(cfg["listen-metrics-urls"], "http://127.0.0.1:2381");
    assert.equal(cfg["advertise-client-urls"], "https://10.0.0.11:2379");
    assert.equal(cfg["initial-cluster"], "etcd1=https://10.0.0.11:2380,etcd2=https://etcd2.example.com:2380,etcd3=https://10.0.0.13:2380");
    assert.equal(cfg["initial-cluster-state"], "existing");
    assert.equal(cfg["initial-cluster-token"], "tok-123");
    assert.equal(cfg["client-transport-security"]["client-cert-auth"], true);
    assert.equal(cfg["client-transport-security"]["auto-tls"], false);
    assert.equal(cfg["peer-transport-security"]["client-cert-auth"], true);
    assert.deepEqual(cfg["peer-transport-security"]["allowed-cn"], [PEER_CN]);
    assert.equal(cfg["tls-min-version"], "TLS1.2");
    assert.ok(cfg["cipher-suites"].every((c: string) => /ECDHE_(ECDSA|RSA)_WITH_(AES_\d+_GCM|CHACHA20)/.test(c)));
    assert.equal(cfg["strict-reconfig-check"], true);
    for (const banned of ["enable-v2", "unsafe-no-fsync", "force-new-cluster", "auto-tls", "peer-auto-tls"]) assert.ok(!(banned in cfg), banned);
    const urls = Object.entries(cfg).filter(([k]) => k.endsWith("-urls") && k !== "listen-metrics-urls").map(([, v]) => String(v));
    assert.ok(urls.every((u) => u.split(",").every((x) => x.startsWith("https://"))), urls.join(" "));
});

test("etcd config: a DNS-named member listens on all addresses unless told otherwise", () => {
    const s = settings();
    const cfg = parse(renderEtcdConfig({ settings: s, member: s.members[1], initialMembers: s.members, clusterToken: "t", paths: hostPaths(s.dataDir) }));
    assert.equal(cfg["listen-client-urls"], "https://0.0.0.0:2379");
    assert.equal(cfg["advertise-client-urls"], "https://etcd2.example.com:2379");
});

test("etcd config: settings flow through; WAL dir only when set", () => {
    const s = settings({ heartbeatInterval: 250, electionTimeout: 2500, quotaBackendBytes: 8 * 1024 ** 3, walDir: "/wal", logLevel: "warn" });
    const cfg = parse(renderEtcdConfig({ settings: s, member: s.members[0], initialMembers: s.members, clusterToken: "t", paths: hostPaths(s.dataDir, s.walDir) }));
    assert.equal(cfg["heartbeat-interval"], 250);
    assert.equal(cfg["election-timeout"], 2500);
    assert.equal(cfg["quota-backend-bytes"], 8 * 1024 ** 3);
    assert.equal(cfg["wal-dir"], "/wal");
    assert.equal(cfg["log-level"], "warn");
    const none = parse(renderEtcdConfig({ settings: settings(), member: s.members[0], initialMembers: s.members, clusterToken: "t", paths: hostPaths("/var/lib/etcd") }));
    assert.ok(!("wal-dir" in none));
});

test("initial-cluster lists members in the order given", () => {
    const s = settings();
    assert.equal(initialCluster([s.members[2], s.members[0]], s), "etcd3=https://10.0.0.13:2380,etcd1=https://10.0.0.11:2380");
});

test("systemd unit: notify, etcd user, restart on failure, sandboxed, data dirs writable", () => {
    const s = settings({ walDir: "/wal" });
    const unit = renderUnit(s, hostPaths(s.dataDir, s.walDir));
    for (const line of ["Type=notify", "User=etcd", "Group=etcd", "Restart=on-failure", "LimitNOFILE=65536", "NoNewPrivileges=yes", "ProtectSystem=strict", "ReadWritePaths=/var/lib/etcd /wal", "ExecStart=/usr/local/bin/etcd --config-file=/etc/etcd/etcd.conf.yml"]) {
        assert.ok(unit.split("\n").includes(line), `missing ${line}`);
    }
});

test("etcdctl profile points at the local member over TLS", () => {
    const s = settings();
    const p = renderEtcdctlProfile(s, hostPaths(s.dataDir));
    assert.match(p, /ETCDCTL_ENDPOINTS='https:\/\/127\.0\.0\.1:2379'/);
    assert.match(p, /ETCDCTL_KEY='\/etc\/etcd\/pki\/etcdctl\.key'/);
});

test("shq survives hostile values", () => {
    for (const v of ["a b", "it's", '"; rm -rf / #', "$(reboot)", "`id`", "\\n", "x'y'z"]) {
        const out = execFileSync("bash", ["-c", `printf '%s' ${shq(v)}`]).toString();
        assert.equal(out, v);
    }
});

test("every host script is valid bash with strict mode, names host and step; the launcher is valid with and without sudo", () => {
    const s = settings({ walDir: "/wal", purgeDataOnDestroy: true });
    const m = s.members[0];
    const paths = hostPaths(s.dataDir, s.walDir);
    const bundle = "/etc/etcd/x 0600 etcd:etcd eA==\n";
    const all = {
        install: scripts.installScript(s, m, paths, "c".repeat(64)),
        filesNew: scripts.filesScript(s, m, paths, "new", bundle),
        filesExisting: scripts.filesScript(s, m, paths, "existing", bundle),
        configure: scripts.configureScript(s, m, paths, { sha256: "c".repeat(64), bootstrapState: "new", bundle }),
        configureDelete: scripts.configureDeleteScript(s, m, paths, ["/etc/etcd/x"]),
        start: scripts.serviceScript(s, m, paths, "bootstrap"),
        converge: scripts.serviceScript(s, m, paths, "converge"),
        stop: scripts.stopScript(m),
        ready: scripts.readyScript(s, m, paths),
    };
    for (const [name, body] of Object.entries(all)) {
        assert.ok(body.startsWith("set -euo pipefail\n"), `${name} lacks strict mode`);
        assert.match(body, /\[etcd1\] step /, `${name} does not name host and step`);
        const inner = spawnSync("bash", ["-n"], { input: body });
        assert.equal(inner.status, 0, `${name}: ${inner.stderr}`);
    }
    for (const sudo of [false, true]) {
        const cmd = stepInvocation("etcd1/configure", "update", sudo);
        assert.equal(spawnSync("bash", ["-n", "-c", cmd]).status, 0);
        assert.ok(cmd.length < 300, "the command text stays short: the script travels on stdin");
    }
    assert.match(stepInvocation("etcd1/service", "create", true), /^sudo -n \/bin\/bash -c .* etcd-pulumi:etcd1\/service create$/);
    assert.match(all.configureDelete, /rm -rf '\/var\/lib\/etcd'/);
    assert.doesNotMatch(scripts.configureDeleteScript(settings(), m, hostPaths("/var/lib/etcd"), []), /rm -rf '\/var\/lib\/etcd'/);
});

test("the launcher runs exactly the requested action from stdin, with stdin closed, and passes its exit code", () => {
    const stdin = stepStdin({ create: "echo created; read -r x && echo \"stole: $x\"; exit 0", update: "echo updating; exit 7", delete: "echo deleted" });
    const run = (action: string) => spawnSync("bash", ["-c", stepInvocation("etcd1/service", action, false)], { input: stdin });
    const c = run("create");
    assert.equal(c.status, 0);
    assert.equal(c.stdout.toString(), "created\n", "the script must not read the rest of stdin");
    assert.equal(run("update").status, 7);
    assert.equal(run("delete").stdout.toString(), "deleted\n");
    const none = run("refresh");
    assert.notEqual(none.status, 0);
    assert.match(none.stderr.toString(), /no refresh script on stdin for etcd-pulumi:etcd1\/service/);
});

test("start inputs: the host tool sees config, unit, CA and binary changes, and ignores bootstrap-only keys and leaf certificates", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "start-inputs-"));
    const p = { ...hostPaths("/var/lib/etcd"), configFile: `${dir}/etcd.conf.yml`, unitFile: `${dir}/etcd.service`, caCert: `${dir}/ca.crt`, serverCert: `${dir}/server.crt`, binDir: dir, startedWith: `${dir}/run/started-with` };
    const tool = `${dir}/start-inputs`;
    fs.writeFileSync(tool, renderStartInputsTool(p), { mode: 0o755 });
    fs.writeFileSync(p.configFile, "log-level: info\ninitial-cluster: a=https://1.2.3.4:2380\ninitial-cluster-state: new\n");
    fs.writeFileSync(p.unitFile, "[Service]\n");
    fs.writeFileSync(p.caCert, "CA1");
    fs.writeFileSync(p.serverCert, "LEAF1");
    fs.writeFileSync(`${dir}/etcd-3.6.16`, "binary-a");
    fs.writeFileSync(`${dir}/etcd-3.6.17`, "binary-b");
    fs.symlinkSync(`${dir}/etcd-3.6.16`, `${dir}/etcd`);
    const changed = () => execFileSync(tool, ["changed"]).toString().trim();
    assert.equal(changed(), "config,unit,ca,binary", "nothing recorded: everything counts as changed");
    execFileSync(tool, ["record"]);
    assert.equal(changed(), "");
    fs.writeFileSync(p.configFile, "log-level: info\ninitial-cluster: a=https://1.2.3.4:2380,b=https://1.2.3.5:2380\ninitial-cluster-state: existing\n");
    fs.writeFileSync(p.serverCert, "LEAF2");
    assert.equal(changed(), "", "initial-cluster* and leaf certificates need no restart");
    fs.writeFileSync(p.configFile, "log-level: warn\n");
    fs.writeFileSync(p.caCert, "CA2");
    assert.equal(changed(), "ca,config");
    fs.writeFileSync(p.unitFile, "[Service]\nX=1\n");
    fs.rmSync(`${dir}/etcd`);
    fs.symlinkSync(`${dir}/etcd-3.6.17`, `${dir}/etcd`);
    assert.equal(changed(), "binary,ca,config,unit");
    execFileSync(tool, ["record"]);
    assert.equal(changed(), "");
});

test("the service step's text changes with etcd's start inputs only (so it runs again then), not with bootstrap-only keys", () => {
    const s = settings();
    const paths = hostPaths(s.dataDir);
    const grown = settings({ members: [...s.members, { name: "etcd4", address: "10.0.0.14" }, { name: "etcd5", address: "10.0.0.15" }].map((m) => ({ name: m.name, address: m.address })) });
    const key = (st: typeof s, token: string, ca = "ca", sha = "b".repeat(64)) =>
        startInputsComment({ config: renderEtcdConfig({ settings: st, member: st.members[0], initialMembers: st.members, clusterToken: token, paths }), unit: "u", caCert: ca, binarySha256: sha });
    assert.equal(key(grown, "t"), key(s, "t"));
    assert.equal(key(s, "other-token"), key(s, "t"), "the token is bootstrap-only too");
    assert.notEqual(key(settings({ logLevel: "warn" }), "t"), key(s, "t"));
    assert.notEqual(key(s, "t", "other-ca"), key(s, "t"));
    assert.notEqual(key(s, "t", "ca", "c".repeat(64)), key(s, "t"));
});

test("the files step writes atomically, leaves unchanged files alone and keeps an existing directory's mode", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "files-step-"));
    fs.mkdirSync(`${dir}/pki`, { mode: 0o750 });
    fs.chmodSync(`${dir}/pki`, 0o750);
    const s = settings();
    const files = [{ path: `${dir}/pki/a.key`, mode: "0600", owner: "root:root", content: "secret" }, { path: `${dir}/new/b.txt`, mode: "0644", owner: "root:root", content: "b" }];
    // No systemd on the test runner: daemon-reload is what the step does on a host when something changed.
    const body = scripts.filesScript(s, s.members[0], hostPaths(s.dataDir), "existing", renderFileBundle(files)).replace("systemctl daemon-reload", ":");
    const first = spawnSync("bash", ["-c", body]);
    assert.equal(first.status, 0, first.stderr.toString());
    assert.match(first.stdout.toString(), /2 file\(s\) changed/);
    assert.equal(fs.readFileSync(`${dir}/pki/a.key`, "utf8"), "secret");
    assert.equal(fs.statSync(`${dir}/pki/a.key`).mode & 0o777, 0o600);
    assert.equal(fs.statSync(`${dir}/pki`).mode & 0o777, 0o750, "the files step must not loosen the PKI directory");
    assert.match(spawnSync("bash", ["-c", body]).stdout.toString(), /0 file\(s\) changed/);
});

test("a failing host script names the host and the step", () => {
    const s = settings();
    const body = scripts.installScript(s, s.members[0], hostPaths("/nonexistent-etcd-test"), "d".repeat(64)).replace(/\/opt\/etcd/g, "/nonexistent-etcd-test/opt");
    const r = spawnSync("bash", ["-c", body]);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr.toString(), /etcd-pulumi: \[etcd1\] step install: release archive .* was not uploaded/);
});

test("file bundle round-trips through base64 lines and keeps modes", () => {
    const s = settings();
    const paths = hostPaths(s.dataDir);
    const files = memberFiles(paths, { config: "a: 1\n", unit: "u", profile: "p", caCert: "CA", serverCert: "SC", serverKey: "SK\nline2", peerCert: "PC", peerKey: "PK", clientCert: "CC", clientKey: "CK" });
    const lines = renderFileBundle(files).trimEnd().split("\n");
    assert.equal(lines.length, files.length);
    const byPath = new Map(lines.map((l) => { const [p, mode, owner, b64] = l.split(" "); return [p, { mode, owner, content: Buffer.from(b64, "base64").toString() }]; }));
    assert.deepEqual(byPath.get(paths.serverKey), { mode: "0600", owner: "etcd:etcd", content: "SK\nline2" });
    assert.equal(byPath.get(paths.caCert)!.mode, "0644");
    for (const f of files.filter((x) => x.path.endsWith(".key"))) assert.equal(f.mode, "0600");
});

test("day-2 scripts are valid bash, name host and step, and are idempotent by design", async () => {
    const day2 = await import("../../components/render/membership");
    const s = settings();
    const paths = hostPaths(s.dataDir);
    const [a, , c] = s.members;
    const all = {
        add: day2.memberAddScript(s, a, c, paths),
        promote: day2.promoteScript(s, a, c, paths),
        remove: day2.memberRemoveScript(s, a, c, paths),
        snapshot: day2.snapshotScript(s, a, paths, "pre-upgrade"),
    };
    for (const [name, body] of Object.entries(all)) {
        assert.ok(body.startsWith("set -euo pipefail\n"), name);
        assert.match(body, /\[etcd1\] step /, name);
        assert.equal(spawnSync("bash", ["-n"], { input: body }).status, 0, name);
    }
    assert.match(all.add, /already a member/);
    assert.match(all.add, /--learner/);
    assert.match(all.remove, /already removed/);
    assert.match(all.promote, /already a voting member/);
});

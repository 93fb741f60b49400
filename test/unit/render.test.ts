import { test } from "node:test";
import * as assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { parse } from "yaml";
import { resolveSettings } from "../../components/validate";
import { clientUrl, renderEtcdConfig, initialCluster, PEER_CN } from "../../components/render/config";
import { renderUnit } from "../../components/render/unit";
import { renderEtcdctlProfile } from "../../components/render/profile";
import { hostPaths } from "../../components/render/paths";
import { memberFiles, renderFileBundle } from "../../components/render/files";
import { renderStartInputsTool, startInputsComment } from "../../components/render/startInputs";
import * as scripts from "../../components/render/scripts";
import { joinLines, pruneScript, snapshotScript } from "../../components/render/membership";
import { scheduledSnapshotFiles } from "../../components/render/scheduledSnapshot";
import { incarnationOf } from "../../components/plan/bootstrap";
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
    const files = memberFiles(paths, { config: "a: 1\n", unit: "u", profile: "p", caCert: "CA", serverCert: "SC", serverKey: "SK\nline2", peerCert: "PC", peerKey: "PK", clientCert: "CC", clientKey: "CK", snapshotTool: "ST", snapshotService: "SS", snapshotTimer: "TT" });
    const lines = renderFileBundle(files).trimEnd().split("\n");
    assert.equal(lines.length, files.length);
    const byPath = new Map(lines.map((l) => { const [p, mode, owner, b64] = l.split(" "); return [p, { mode, owner, content: Buffer.from(b64, "base64").toString() }]; }));
    assert.deepEqual(byPath.get(paths.serverKey), { mode: "0600", owner: "etcd:etcd", content: "SK\nline2" });
    assert.equal(byPath.get(paths.caCert)!.mode, "0644");
    for (const f of files.filter((x) => x.path.endsWith(".key"))) assert.equal(f.mode, "0600");
});

test("the snapshot script is valid bash and names host and step", () => {
    const s = settings();
    const body = snapshotScript(s, s.members[0], hostPaths(s.dataDir), "pre-upgrade");
    assert.ok(body.startsWith("set -euo pipefail\n"));
    assert.match(body, /\[etcd1\] step snapshot pre-upgrade/);
    assert.equal(spawnSync("bash", ["-n"], { input: body }).status, 0);
});

/**
 * A stand-in host for the day-2 scripts: stub systemctl (etcd "active" is a file), a stateful stub
 * etcdctl (the member list is a file; every call is logged with its endpoints), and `install` without
 * the etcd owner (no etcd user on the test runner). Paths point into a temp dir.
 */
function fakeHost(members: string[], over: Record<string, unknown> = {}) {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "day2-host-"));
    for (const d of ["bin", "sbin", "data"]) fs.mkdirSync(`${root}/${d}`);
    const stub = (file: string, body: string) => fs.writeFileSync(file, `#!/usr/bin/env bash\nR=${shq(root)}\n${body}\n`, { mode: 0o755 });
    stub(
        `${root}/bin/etcdctl`,
        [
            `ep=; peer=; args=()`,
            `for a in "$@"; do case "$a" in --endpoints=*) ep=\${a#--endpoints=} ;; --peer-urls=*) peer=\${a#--peer-urls=} ;; --learner) args+=("$a") ;; --*) ;; *) args+=("$a") ;; esac; done`,
            `echo "$ep | \${args[*]}\${peer:+ --peer-urls=$peer}" >> "$R/etcdctl.log"`,
            `case "\${args[0]} \${args[1]}" in`,
            `  "member list") cat "$R/members" ;;`,
            `  "member remove") grep -v "^\${args[2]}, " "$R/members" > "$R/m.tmp" || true; mv "$R/m.tmp" "$R/members"; echo removed ;;`,
            `  "member add") printf '%s, unstarted, , %s, , true\\n' "new$(wc -l < "$R/members")" "$peer" >> "$R/members"; echo added ;;`,
            `  "member promote") sed -i "s/^\${args[2]}, \\(.*\\), true$/\${args[2]}, \\1, false/" "$R/members"; echo promoted ;;`,
            `  "endpoint health") if [ -e "$R/unhealthy" ]; then echo "unhealthy" >&2; exit 1; fi; echo healthy ;;`,
            `  "endpoint status") echo '[{"Status":{"header":{"member_id":1},"leader":1,"raftIndex":5,"raftAppliedIndex":5}}]' ;;`,
            `  *) echo "stub etcdctl: unexpected \${args[*]}" >&2; exit 3 ;;`,
            `esac`,
        ].join("\n"),
    );
    stub(
        `${root}/sbin/systemctl`,
        [
            `echo "$*" >> "$R/systemctl.log"`,
            `case "$1" in is-active) [ -e "$R/active" ] ;; start) touch "$R/active" ;; stop) rm -f "$R/active" ;; *) : ;; esac`,
        ].join("\n"),
    );
    stub(`${root}/sbin/install`, `a=(); while [ $# -gt 0 ]; do case "$1" in -o|-g) shift 2 ;; *) a+=("$1"); shift ;; esac; done; exec /usr/bin/install "\${a[@]}"`);
    stub(`${root}/bin/start-inputs`, `:`);
    fs.writeFileSync(`${root}/members`, members.map((l) => `${l}\n`).join(""));
    const s = settings({ dataDir: `${root}/data`, healthTimeoutSeconds: 2, ...over });
    const paths = { ...hostPaths(s.dataDir), binDir: `${root}/bin`, startInputsTool: `${root}/bin/start-inputs`, incarnationFile: `${root}/var/lib/etcd-pulumi/incarnation` };
    const read = (f: string) => (fs.existsSync(`${root}/${f}`) ? fs.readFileSync(`${root}/${f}`, "utf8") : "");
    return {
        root,
        s,
        paths,
        run: (body: string) => {
            const r = spawnSync("bash", ["-c", body], { env: { ...process.env, PATH: `${root}/sbin:${process.env.PATH}` } });
            return { status: r.status, out: r.stdout.toString(), err: r.stderr.toString() };
        },
        calls: () => read("etcdctl.log").split("\n").filter(Boolean),
        members: () => read("members").split("\n").filter(Boolean),
        incarnation: () => read("var/lib/etcd-pulumi/incarnation"),
    };
}

const row = (id: string, name: string, peerHost: string, learner = false) => `${id}, started, ${name}, https://${peerHost}:2380, https://${peerHost}:2379, ${learner}`;
const RUNNING = [row("a1", "etcd1", "10.0.0.11"), row("a2", "etcd2", "etcd2.example.com")];

test("join lines of a founder only record the incarnation: no cluster call, no data moved, written once", () => {
    const h = fakeHost(RUNNING);
    const m = h.s.members[0];
    const lines = joinLines(h.s, m, h.paths, { incarnation: incarnationOf(m) });
    assert.equal(lines.length, 1);
    assert.doesNotMatch(lines[0], /etcdctl|member|systemctl|mv /);
    const body = scripts.serviceScript(h.s, m, h.paths, "bootstrap", lines);
    assert.equal(spawnSync("bash", ["-n"], { input: body }).status, 0);
    fs.writeFileSync(`${h.s.dataDir}/keep`, "x");
    const r = h.run(body);
    assert.equal(r.status, 0, r.err);
    assert.equal(h.incarnation(), "10.0.0.11#0\n");
    assert.deepEqual(h.calls(), [], "a founder's service step must not talk to the cluster");
    assert.ok(fs.existsSync(`${h.s.dataDir}/keep`), "a founder's data must stay where it is");
    assert.match(r.out, /etcd start queued/);
    assert.equal(h.run(body).status, 0);
    assert.equal(h.incarnation(), "10.0.0.11#0\n");
});

test("join lines of a joiner: quoted name, peer URL, join endpoints and incarnation; add --learner, promote, health-gated removal of an old incarnation", () => {
    const s = settings({ walDir: "/var/lib/etcd-wal" });
    const m = s.members[2];
    const paths = hostPaths(s.dataDir, s.walDir);
    const via = [clientUrl(s.members[0], s), clientUrl(s.members[1], s)];
    const lines = joinLines(s, m, paths, { incarnation: incarnationOf(m), joinVia: via });
    const text = lines.join("\n");
    assert.ok(lines.includes(`NAME='etcd3'; PEER='https://10.0.0.13:2380'; VIA='https://10.0.0.11:2379,https://etcd2.example.com:2379'; WANT='10.0.0.13#0'`), text);
    assert.match(text, /via member add "\$NAME" --peer-urls="\$PEER" --learner/);
    assert.match(text, /via member promote "\$id"/);
    assert.match(text, /mv '\/var\/lib\/etcd' "\$aside"/, "the data dir is moved aside");
    assert.match(text, /mv '\/var\/lib\/etcd-wal' "\$aside"/, "the WAL dir is moved aside");
    assert.ok(text.indexOf("mv '/var/lib/etcd' ") < text.indexOf("via member add"), "old data is out of the way before the learner is added");
    assert.ok(text.indexOf("wait_for 120 via endpoint health") < text.indexOf(`via member remove "$id"`), "health check before removing an old incarnation");
    assert.ok(text.indexOf(`via member add`) < text.indexOf(`via member promote`));
    const body = scripts.serviceScript(s, m, paths, "converge", lines);
    assert.equal(spawnSync("bash", ["-n"], { input: body }).status, 0);
    assert.ok(body.indexOf("via member promote") < body.indexOf("\nif ! systemctl is-active --quiet etcd.service; then"), "the join runs before the usual start logic");
});

test("a replaced member's service step: old data aside, old member removed after a health check, learner added through the others, started, promoted; a re-run changes nothing", () => {
    const h = fakeHost([...RUNNING, row("a3", "etcd3", "10.0.0.99")]);
    const m = h.s.members[2];
    const via = [clientUrl(h.s.members[0], h.s), clientUrl(h.s.members[1], h.s)];
    const body = scripts.serviceScript(h.s, m, h.paths, "bootstrap", joinLines(h.s, m, h.paths, { incarnation: incarnationOf(m), joinVia: via }));
    fs.writeFileSync(`${h.s.dataDir}/old-wal`, "old");
    fs.writeFileSync(`${h.root}/active`, "");
    const r = h.run(body);
    assert.equal(r.status, 0, r.err + r.out);
    const VIA = via.join(",");
    assert.deepEqual(
        h.calls().filter((c) => !/member list|endpoint status/.test(c)),
        [
            `${VIA} | endpoint health`,
            `${VIA} | member remove a3`,
            `${VIA} | endpoint health`,
            `${VIA} | member add etcd3 --learner --peer-urls=https://10.0.0.13:2380`,
            `${VIA} | member promote new2`,
            `https://127.0.0.1:2379 | endpoint health`,
        ],
    );
    assert.deepEqual(h.members(), [...RUNNING, "new2, unstarted, , https://10.0.0.13:2380, , false"]);
    assert.equal(h.incarnation(), "10.0.0.13#0\n");
    const aside = fs.readdirSync(h.root).filter((f) => f.startsWith("data.replaced-"));
    assert.equal(aside.length, 1, "old data moved aside");
    assert.equal(fs.readFileSync(`${h.root}/${aside[0]}/old-wal`, "utf8"), "old");
    assert.deepEqual(fs.readdirSync(h.s.dataDir), [], "the member starts on an empty data dir");
    assert.match(r.out, /old member etcd3 \(a3\) removed/);
    assert.match(r.out, /etcd3 promoted to voting member/);

    const before = h.calls().length;
    const again = h.run(body);
    assert.equal(again.status, 0, again.err);
    assert.deepEqual(h.calls().slice(before), ["https://127.0.0.1:2379 | endpoint health"], "a finished join only asks the local member whether it is a healthy voter");
    assert.equal(fs.readdirSync(h.root).filter((f) => f.startsWith("data.replaced-")).length, 1);
});

test("a joiner does not remove an old incarnation while the members that stay are unhealthy", () => {
    const h = fakeHost([...RUNNING, row("a3", "etcd3", "10.0.0.99")]);
    fs.writeFileSync(`${h.root}/unhealthy`, "");
    const m = h.s.members[2];
    const body = scripts.serviceScript(h.s, m, h.paths, "bootstrap", joinLines(h.s, m, h.paths, { incarnation: incarnationOf(m), joinVia: [clientUrl(h.s.members[0], h.s)] }));
    const r = h.run(body);
    assert.notEqual(r.status, 0);
    assert.match(r.err, /\[etcd3\] step join: the members that stay are not all healthy; refusing to remove the old etcd3 \(a3\)/);
    assert.ok(!h.calls().some((c) => /member (remove|add)/.test(c)), h.calls().join("\n"));
    assert.equal(h.incarnation(), "", "the incarnation is recorded only once the member was added");
});

test("prune: quoted names, peer URLs and endpoints; valid bash in both modes; only create has the new-cluster exit", () => {
    const s = settings();
    const paths = hostPaths(s.dataDir);
    const create = pruneScript(s, s.members[0], paths, s.members, "create");
    const update = pruneScript(s, s.members[0], paths, s.members, "update");
    for (const body of [create, update]) {
        assert.ok(body.startsWith("set -euo pipefail\n"));
        assert.match(body, /\[etcd1\] step remove-members/);
        assert.equal(spawnSync("bash", ["-n"], { input: body }).status, 0);
        assert.ok(body.includes(`ALL='https://10.0.0.11:2379,https://etcd2.example.com:2379,https://10.0.0.13:2379'`));
        assert.ok(body.includes(`NAMES=' etcd1 etcd2 etcd3 '; PEERS=' https://10.0.0.11:2380 https://etcd2.example.com:2380 https://10.0.0.13:2380 '`));
    }
    assert.match(create, /a new cluster: no member to remove/);
    assert.doesNotMatch(update, /a new cluster/);
});

test("prune create: a host that never ran etcd exits before talking to the cluster; with an incarnation or a running etcd it prunes", () => {
    const h = fakeHost([...RUNNING, row("a3", "etcd3", "10.0.0.13")]);
    const create = pruneScript(h.s, h.s.members[0], h.paths, h.s.members, "create");
    const fresh = h.run(create);
    assert.equal(fresh.status, 0, fresh.err);
    assert.match(fresh.out, /a new cluster: no member to remove/);
    assert.deepEqual(h.calls(), []);
    fs.writeFileSync(`${h.root}/active`, "");
    assert.match(h.run(create).out, /no member to remove/);
    assert.equal(h.calls().length, 1, "a running etcd: the cluster is asked");
    fs.rmSync(`${h.root}/active`);
    fs.mkdirSync(path.dirname(h.paths.incarnationFile), { recursive: true });
    fs.writeFileSync(h.paths.incarnationFile, "10.0.0.11#0\n");
    h.run(create);
    assert.equal(h.calls().length, 2, "an incarnation file: the cluster is asked");
    const update = h.run(pruneScript(h.s, h.s.members[0], h.paths, h.s.members, "update"));
    assert.equal(update.status, 0, update.err);
    assert.equal(h.calls().length, 3);
});

test("prune update: removes exactly the members the config no longer lists, one at a time, each after a health check of the members the config keeps", () => {
    const h = fakeHost([
        ...RUNNING,
        row("a3", "etcd3", "10.0.0.13"),
        row("a4", "etcd4", "10.0.0.14"),
        row("a5", "etcd5", "10.0.0.15"),
        // A learner added for a desired member that has not started yet (no name): not leaving.
        "a6, unstarted, , https://10.0.0.13:2380, , true",
    ]);
    const r = h.run(pruneScript(h.s, h.s.members[0], h.paths, h.s.members, "update"));
    assert.equal(r.status, 0, r.err + r.out);
    const c = h.calls().filter((x) => !/member list/.test(x));
    const base = "https://10.0.0.11:2379,https://etcd2.example.com:2379,https://10.0.0.13:2379";
    // Another leaving member (etcd5) may be dead already: it is not part of the health check.
    assert.deepEqual(c, [`${base} | endpoint health`, `${base} | member remove a4`, `${base} | endpoint health`, `${base} | member remove a5`]);
    assert.deepEqual(h.members().map((l) => l.split(", ")[0]), ["a1", "a2", "a3", "a6"]);
    assert.match(r.out, /etcd4 \(a4\) removed from the cluster/);
    const again = h.run(pruneScript(h.s, h.s.members[0], h.paths, h.s.members, "update"));
    assert.match(again.out, /no member to remove/);

    const sick = fakeHost([...RUNNING, row("a3", "etcd3", "10.0.0.13"), row("a4", "etcd4", "10.0.0.14")]);
    fs.writeFileSync(`${sick.root}/unhealthy`, "");
    const refused = sick.run(pruneScript(sick.s, sick.s.members[0], sick.paths, sick.s.members, "update"));
    assert.notEqual(refused.status, 0);
    assert.match(refused.err, /refusing to remove etcd4/);
    assert.ok(!sick.calls().some((x) => /member remove/.test(x)));
});

test("configure checks that every member accepts the new CA before it writes any file, and only when asked", () => {
    const s = settings();
    const m = s.members[0];
    const paths = hostPaths(s.dataDir);
    const bundle = "/etc/etcd/x 0600 etcd:etcd eA==\n";
    const probeNewCa = { caBundle: "NEWCA", clientCert: "CERT", clientKey: "KEY" };
    const withProbe = scripts.configureScript(s, m, paths, { sha256: "c".repeat(64), bootstrapState: "existing", bundle, probeNewCa });
    const without = scripts.configureScript(s, m, paths, { sha256: "c".repeat(64), bootstrapState: "existing", bundle });
    assert.equal(spawnSync("bash", ["-n"], { input: withProbe }).status, 0);
    const check = withProbe.indexOf("does not accept certificates from the new CA");
    const install = withProbe.indexOf("step install");
    const files = withProbe.indexOf("step files");
    const write = withProbe.indexOf("done <<'ETCD_PULUMI_FILES'");
    assert.ok(install > 0 && check > install && files > check && write > files, `order: install ${install}, check ${check}, files ${files}, write ${write}`);
    assert.ok(withProbe.includes(shq(Buffer.from("NEWCA").toString("base64"))), "the new CA bundle travels in the script");
    assert.doesNotMatch(without, /check-new-ca|new CA/);
    assert.ok(without.includes("done <<'ETCD_PULUMI_FILES'"));
});

test("scheduled snapshot: valid tool, timer on the configured schedule, retention after a verified success only; the service step enables the timer", () => {
    const s = settings({ snapshotSchedule: "*-*-* 00/6:00:00", snapshotRetention: 7 });
    const paths = hostPaths(s.dataDir);
    const f = scheduledSnapshotFiles(s, paths);
    assert.equal(spawnSync("bash", ["-n"], { input: f.snapshotTool }).status, 0);
    assert.match(f.snapshotTimer, /^OnCalendar=\*-\*-\* 00\/6:00:00$/m);
    assert.match(f.snapshotTimer, /^Persistent=true$/m);
    assert.match(f.snapshotService, /^Type=oneshot$/m);
    assert.match(f.snapshotService, /^ExecStart=\/usr\/local\/lib\/etcd-pulumi\/snapshot$/m);
    assert.match(f.snapshotTool, /^keep=7$/m);
    assert.match(f.snapshotTool, /--endpoints='https:\/\/127\.0\.0\.1:2379'/);
    // Order: save -> verify -> rename -> retention -> record; never retention before the verified rename.
    const at = (needle: string) => f.snapshotTool.indexOf(needle);
    const order = [at("endpoint health 2>&1"), at(`snapshot save "$f.part"`), at("snapshot status"), at('mv -f "$f.part" "$f"'), at("tail -n +$((keep + 1))"), at("last-snapshot.json.tmp")];
    assert.deepEqual([...order].sort((a, b) => a - b), order, `order ${order.join(",")}`);
    assert.ok(order.every((i) => i > 0));
    const files = memberFiles(paths, { config: "", unit: "", profile: "", caCert: "", serverCert: "", serverKey: "", peerCert: "", peerKey: "", clientCert: "", clientKey: "", ...f });
    assert.deepEqual(
        files.filter((x) => /snapshot/.test(x.path)).map((x) => `${x.path} ${x.mode} ${x.owner}`),
        ["/usr/local/lib/etcd-pulumi/snapshot 0755 root:root", "/etc/systemd/system/etcd-snapshot.service 0644 root:root", "/etc/systemd/system/etcd-snapshot.timer 0644 root:root"],
    );
    for (const mode of ["bootstrap", "converge"] as const) assert.match(scripts.serviceScript(s, s.members[0], paths, mode), /systemctl enable --now etcd-snapshot\.timer/);
    assert.match(scripts.configureDeleteScript(s, s.members[0], paths, []), /systemctl disable --now etcd-snapshot\.timer/);
});

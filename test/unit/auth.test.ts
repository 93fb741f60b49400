/**
 * Authentication (components/auth/): the settings check, the users the component manages and what each
 * may do, the desired state and the step script it renders, the plan in words of every kind of change,
 * and the host program's shell and awk files.
 */
import { describe, test } from "node:test";
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { authWords } from "../../components/auth/plan";
import { authStepScript, permLine, prefixRangeEnd, renderAuthEnv, renderDesiredAuth, shippedAuthFiles } from "../../components/auth/render";
import { AuthRecord, authRecord, managedUsers } from "../../components/auth/users";
import { reviewTransition } from "../../components/plan/transition";
import { hostPaths } from "../../components/render/paths";
import { argsFromStackConfig } from "../../components/stackConfig";
import { EtcdClusterArgs } from "../../components/types";
import { EtcdConfigError, resolveSettings } from "../../components/validate";
import { recordedCluster } from "../support/clusterRecord";

const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----\n";
const base = (over: Partial<EtcdClusterArgs> = {}): EtcdClusterArgs => ({
    members: [
        { name: "etcd1", address: "10.0.0.11" },
        { name: "etcd2", address: "10.0.0.12" },
        { name: "etcd3", address: "10.0.0.13" },
    ],
    ssh: { privateKey: KEY },
    binary: { path: "/tmp/etcd.tgz", sha256: "a".repeat(64) },
    ...over,
});
const appA = { name: "app-a", permissions: [{ prefix: "/app-a/", access: "readwrite" }] };
const appB = { name: "app-b", permissions: [{ prefix: "/app-b/", access: "read" }, { key: "/shared/config", access: "read" }] };

/** Every problem validation reports for `args` (none: []). */
function problemsOf(args: EtcdClusterArgs): string[] {
    try {
        resolveSettings(args);
        return [];
    } catch (e) {
        assert.ok(e instanceof EtcdConfigError, String(e));
        return e.problems;
    }
}

describe("settings: auth, clients, apiserverPrefix", () => {
    test("defaults: authentication off, no clients, the apiserver's prefix /registry/", () => {
        assert.deepEqual(resolveSettings(base()).auth, { enabled: false, clients: [], apiserverPrefix: "/registry/" });
    });

    test("the issue's shape resolves as written", () => {
        const s = resolveSettings(base({ auth: true, clients: [appA, appB], apiserverPrefix: "/k8s/" }));
        assert.deepEqual(s.auth, {
            enabled: true,
            apiserverPrefix: "/k8s/",
            clients: [
                { name: "app-a", permissions: [{ kind: "prefix", value: "/app-a/", access: "readwrite" }] },
                { name: "app-b", permissions: [{ kind: "prefix", value: "/app-b/", access: "read" }, { kind: "key", value: "/shared/config", access: "read" }] },
            ],
        });
    });

    test("names that are built-in identities are refused, each saying whose it is", () => {
        const names = ["root", "etcd-admin", "kube-apiserver-etcd-client", "etcd-peer", "etcdctl-etcd9", "etcd2", "etcd-monitoring"];
        const problems = problemsOf(base({ clients: names.map((name) => ({ name, permissions: [{ prefix: "/x/", access: "read" }] })) }));
        assert.equal(problems.length, names.length, problems.join("\n"));
        assert.match(problems[0], /^clients\[0\]\.name: "root" is taken: it is etcd's root user.*; give the client another name$/);
        assert.match(problems[1], /^clients\[1\]\.name: "etcd-admin" is taken: it is the admin certificate's CN/);
        assert.match(problems[2], /^clients\[2\]\.name: "kube-apiserver-etcd-client" is taken: .*apiserverPrefix/);
        assert.match(problems[3], /^clients\[3\]\.name: "etcd-peer" is taken: it is the CN of every member's peer certificate/);
        assert.match(problems[4], /^clients\[4\]\.name: "etcdctl-etcd9" is taken: names starting with "etcdctl-" are the members' own etcdctl certificates/);
        assert.match(problems[5], /^clients\[5\]\.name: "etcd2" is taken: it is the CN of member etcd2's server certificate/);
        assert.match(problems[6], /^clients\[6\]\.name: "etcd-monitoring" is taken: it is the CN of the monitoring certificate/);
    });

    test("every problem of the clients at once, each naming the field and the fix", () => {
        const problems = problemsOf(
            base({
                auth: "yes" as unknown as boolean,
                apiserverPrefix: "/registry",
                clients: [
                    { name: "App_A", permissions: [{ prefix: "/a/", access: "readwrite" }] },
                    { name: "app-b", permissions: [] },
                    {
                        name: "app-c",
                        permissions: [
                            { prefix: "/c/", key: "/c/k", access: "read" },
                            { access: "read" },
                            { prefix: "", access: "read" },
                            { key: "/tab\there", access: "read" },
                            { prefix: "/c/", access: "write" },
                            { prefix: "/d/" } as { prefix: string; access: string },
                            { prefix: "/e/", access: "read" },
                            { prefix: "/e/", access: "readwrite" },
                        ],
                    },
                    { name: "app-d", permissions: [{ prefix: "/d/", access: "read" }] },
                    { name: "app-d", permissions: [{ prefix: "/d/", access: "read" }] },
                    "app-e" as unknown as { name: string; permissions: [] },
                ],
            }),
        );
        const expected = [
            /^apiserverPrefix: "\/registry" must be kube-apiserver's --etcd-prefix followed by "\/", e\.g\. "\/registry\/"/,
            /^auth: "yes" must be true \(etcd authentication on\) or false/,
            /^clients\[0\]\.name: "App_A" is not a valid client name .*lowercase letters, digits, '\.', '_' and '-'/,
            /^clients\[1\]\.permissions: client "app-b" has no permissions; list at least one, e\.g\. \[\{ prefix: "\/app-b\/", access: readwrite \}\], or remove the client$/,
            /^clients\[2\]\.permissions\[0\]: set exactly one of prefix .* or key .*, not both$/,
            /^clients\[2\]\.permissions\[1\]: set exactly one of prefix .* or key .*, none is set$/,
            /^clients\[2\]\.permissions\[2\]\.prefix: must be a non-empty string.*give it the admin certificate instead$/,
            /^clients\[2\]\.permissions\[3\]\.key: "\/tab\\there" contains characters other than printable ASCII/,
            /^clients\[2\]\.permissions\[4\]\.access: "write" must be "read" or "readwrite"$/,
            /^clients\[2\]\.permissions\[5\]\.access: missing; set access: read \(get and watch\) or access: readwrite/,
            /^clients\[2\]\.permissions\[7\]: prefix "\/e\/" is listed twice; keep one entry with the access it needs$/,
            /^clients\[4\]\.name: duplicate client "app-d"; each client needs its own name/,
            /^clients\[5\]: must be an object like \{ name: "app-a", permissions: /,
        ];
        for (const re of expected) assert.equal(problems.filter((p) => re.test(p)).length, 1, `${re} in:\n${problems.join("\n")}`);
        assert.equal(problems.length, expected.length, problems.join("\n"));
    });

    test("a client named like a member is refused whichever of the two comes later", () => {
        const problems = problemsOf(base({ members: [...base().members, { name: "app-a", address: "10.0.0.14" }, { name: "etcd5", address: "10.0.0.15" }], clients: [appA] }));
        assert.match(problems.join("\n"), /clients\[0\]\.name: "app-a" is taken: it is the CN of member app-a's server certificate/);
    });

    test("stack config: auth as a boolean key, clients as structured config; unknown fields get a did-you-mean", () => {
        const read = (values: Record<string, string>) =>
            argsFromStackConfig({ namespace: "etcd-pulumi", values: { "etcd-pulumi:members": JSON.stringify(base().members), "etcd-pulumi:sshPrivateKeyPath": "/k", ...values }, readFile: () => KEY });
        const args = read({ "etcd-pulumi:auth": "true", "etcd-pulumi:clients": JSON.stringify([appA]), "etcd-pulumi:apiserverPrefix": "/k8s/" });
        assert.equal(args.auth, true);
        assert.deepEqual(args.clients, [appA]);
        assert.equal(args.apiserverPrefix, "/k8s/");
        assert.throws(
            () => read({ "etcd-pulumi:auth": "on", "etcd-pulumi:clients": JSON.stringify([{ name: "app-a", permision: [], permissions: [{ prefix: "/a/", acess: "read" }] }]) }),
            (e: unknown) => {
                const p = (e as EtcdConfigError).problems;
                assert.ok(p.includes(`etcd-pulumi:auth: "on" must be true or false`), p.join("\n"));
                assert.ok(p.includes(`clients[0].permision: unknown field; did you mean "permissions"?`), p.join("\n"));
                assert.ok(p.includes(`clients[0].permissions[0].acess: unknown field; did you mean "access"?`), p.join("\n"));
                // The typo is the cause of the missing access: it is not reported a second time.
                assert.equal(p.length, 3, p.join("\n"));
                return true;
            },
        );
    });
});

describe("the users the component manages", () => {
    const s = resolveSettings(base({ auth: true, clients: [appA, appB] }));
    const users = managedUsers(s.auth, ["etcd2", "etcd1", "etcd3"]);

    test("admin and the members' own certificates are root; the apiserver gets its prefix; each client exactly its grants", () => {
        assert.deepEqual(
            users.map((u) => [u.name, u.kind, u.root, u.permissions.map((p) => `${p.access} ${p.kind} ${p.value}`)]),
            [
                ["etcd-admin", "admin", true, []],
                ["etcdctl-etcd1", "member", true, []],
                ["etcdctl-etcd2", "member", true, []],
                ["etcdctl-etcd3", "member", true, []],
                ["kube-apiserver-etcd-client", "apiserver", false, ["readwrite prefix /registry/"]],
                ["app-a", "client", false, ["readwrite prefix /app-a/"]],
                ["app-b", "client", false, ["read prefix /app-b/", "read key /shared/config"]],
            ],
        );
        assert.deepEqual(authRecord(s.auth, ["etcd1"]).users.map((u) => u.name), ["etcd-admin", "etcdctl-etcd1", "kube-apiserver-etcd-client", "app-a", "app-b"]);
    });

    test("a prefix is the range etcd's --prefix grants: [prefix, prefix with its last byte + 1)", () => {
        assert.equal(prefixRangeEnd("/app-a/").toString(), "/app-a0");
        assert.equal(prefixRangeEnd("/registry/").toString(), "/registry0");
        assert.deepEqual([...prefixRangeEnd("a\u00ff")], [0x61, 0xc3, 0xc0], "the last byte of a UTF-8 character");
        assert.equal(permLine("r", { kind: "key", value: "/k", access: "read" }), `perm r 0 ${Buffer.from("/k").toString("base64")} -`);
        assert.equal(permLine("r", { kind: "prefix", value: "/p/", access: "readwrite" }), `perm r 2 ${Buffer.from("/p/").toString("base64")} ${Buffer.from("/p0").toString("base64")}`);
    });

    test("the desired state: root, then each user with its own role etcd-pulumi.<name> (and root for the root holders)", () => {
        const lines = renderDesiredAuth(users).trim().split("\n");
        assert.equal(lines[0], "user root root");
        assert.ok(lines.includes("role etcd-pulumi.etcd-admin"));
        assert.ok(lines.includes("user etcd-admin etcd-pulumi.etcd-admin root"));
        assert.ok(lines.includes("user etcdctl-etcd2 etcd-pulumi.etcdctl-etcd2 root"));
        assert.ok(lines.includes("user kube-apiserver-etcd-client etcd-pulumi.kube-apiserver-etcd-client"));
        assert.ok(lines.includes(permLine("etcd-pulumi.kube-apiserver-etcd-client", { kind: "prefix", value: "/registry/", access: "readwrite" })));
        assert.ok(lines.includes("user app-b etcd-pulumi.app-b"));
        assert.equal(lines.filter((l) => l.startsWith("perm etcd-pulumi.app-b ")).length, 2);
        assert.equal(lines.filter((l) => /^perm etcd-pulumi\.(etcd-admin|etcdctl-)/.test(l)).length, 0, "root holders need no grants");
    });

    test("the step script carries program, settings and keys base64-encoded into a private temp dir, and runs the shipped program", () => {
        const paths = hostPaths("/var/lib/etcd");
        const v = { settings: s, runner: s.members[0], paths, step: "auth" as const, users, caBundle: "CA-PEM", adminCert: "ADMIN-CERT", adminKey: "ADMIN-PRIVATE-KEY", skipOnNewHost: true };
        const text = authStepScript(v);
        assert.doesNotMatch(text, /ADMIN-PRIVATE-KEY/, "the key only as base64 (the whole stdin is secret)");
        assert.ok(text.includes(Buffer.from("ADMIN-PRIVATE-KEY").toString("base64")));
        assert.ok(text.includes(Buffer.from(shippedAuthFiles()["etcd-auth.sh"]).toString("base64")), "the shipped program, unchanged");
        assert.match(text, /^dir=\$\(mktemp -d\); trap 'rm -rf "\$dir"' EXIT$/m);
        assert.match(text, /^bash "\$dir\/etcd-auth\.sh" "\$dir\/auth\.env" \|\| exit \$\?$/m);
        const env = renderAuthEnv(v);
        assert.match(env, /^AUTH_ENDPOINTS='https:\/\/10\.0\.0\.11:2379,https:\/\/10\.0\.0\.12:2379,https:\/\/10\.0\.0\.13:2379'$/m);
        assert.match(env, /^AUTH_ENABLED='true'$/m);
        assert.match(env, /^AUTH_SKIP_ON_NEW_HOST='true'$/m);
        assert.match(env, /^AUTH_MEMBER_CERT='\/etc\/etcd\/pki\/etcdctl\.crt'$/m);
        assert.doesNotMatch(env, /ADMIN-|PRIVATE|CA-PEM/);
    });
});

describe("the plan in words of an authentication change", () => {
    const rec = (auth: boolean, clients: object[], members = ["etcd1", "etcd2", "etcd3"], apiserverPrefix?: string): AuthRecord =>
        authRecord(resolveSettings(base({ auth, clients: clients as EtcdClusterArgs["clients"], ...(apiserverPrefix ? { apiserverPrefix } : {}) })).auth, members);

    test("a new cluster with authentication: who may do what, once it has formed", () => {
        const [line] = authWords(undefined, rec(true, [appA]), false);
        assert.equal(
            line,
            "authentication on once the cluster has formed: full access (root role): etcd-admin (the admin certificate), etcdctl-etcd1, etcdctl-etcd2, etcdctl-etcd3 (the members' host scripts); " +
                "only what is granted: kube-apiserver-etcd-client (readwrite prefix /registry/; run kube-apiserver with --etcd-compaction-interval=0: compaction is root-only), app-a (readwrite prefix /app-a/); " +
                "any other certificate is refused",
        );
        assert.deepEqual(authWords(undefined, rec(false, []), false), [], "nothing to say without auth and clients");
        assert.match(authWords(undefined, rec(false, [appA]), false)[0], /^clients app-a: certificates issued .* authentication is off \(auth: false\)/);
    });

    test("turning it on for a running cluster is loud and names who loses access, removed clients too", () => {
        const lines = authWords(rec(false, [appA, appB]), rec(true, [appA]), true);
        assert.match(lines[0], /^AUTHENTICATION ON for the running cluster: from this run on etcd checks every request/);
        assert.match(lines[0], /full access \(root role\): etcd-admin \(the admin certificate\), etcdctl-etcd1, etcdctl-etcd2, etcdctl-etcd3/);
        assert.match(lines[0], /LOSE ACCESS at once: every other certificate, e\.g\. the members' server certificates used as client certificates \(CN etcd1, etcd2, etcd3\)/);
        assert.match(lines[0], /; clients removed in this run: app-b$/);
        assert.deepEqual(lines.slice(1), ["client app-b: removed: its user and role are deleted, so its certificate is refused from now on, even unchanged; it leaves clientCertificates"]);
        assert.match(authWords(undefined, rec(true, []), true)[0], /^AUTHENTICATION ON/, "a record from before authentication existed counts as off");
    });

    test("turning it off is loud too; a client removed then keeps full access until its certificate expires", () => {
        const lines = authWords(rec(true, [appA]), rec(false, []), true);
        assert.match(lines[0], /^AUTHENTICATION OFF for the running cluster: etcd stops checking permissions, so every certificate from the cluster's CA gets full access/);
        assert.match(lines[1], /^client app-a: removed: its user, role and certificate are deleted; authentication is off, so a copy of its certificate keeps full access until it expires or the CA is rotated$/);
    });

    test("day 2 with authentication on: add, widen, narrow, remove a client; a member joins and one leaves; another apiserver prefix", () => {
        const before = rec(true, [appA, appB], ["etcd1", "etcd2", "etcd3"]);
        const wider = { name: "app-a", permissions: [{ prefix: "/app-a/", access: "readwrite" }, { key: "/shared/config", access: "read" }] };
        const narrower = { name: "app-b", permissions: [{ prefix: "/app-b/", access: "read" }] };
        const appC = { name: "app-c", permissions: [{ prefix: "/app-c/", access: "readwrite" }] };
        assert.deepEqual(authWords(before, rec(true, [wider, narrower, appC], ["etcd1", "etcd2", "etcd4"], "/k8s/"), true), [
            "etcd4: user etcdctl-etcd4 with the root role for its host scripts, created before it joins",
            "kube-apiserver-etcd-client: permissions + readwrite prefix /k8s/; - readwrite prefix /registry/: applied at once, no restart",
            "client app-a: permissions + read key /shared/config: applied at once, no restart",
            "client app-b: permissions - read key /shared/config: applied at once, no restart",
            "client app-c: new certificate (CN app-c) and user with role etcd-pulumi.app-c: readwrite prefix /app-c/",
            "etcd3: user etcdctl-etcd3 deleted, so that member's etcdctl certificate is refused from now on",
        ]);
        const rw = { name: "app-b", permissions: [{ prefix: "/app-b/", access: "readwrite" }, { key: "/shared/config", access: "read" }] };
        assert.deepEqual(authWords(before, rec(true, [appA, rw]), true), ["client app-b: permissions read -> readwrite prefix /app-b/: applied at once, no restart"]);
        assert.deepEqual(authWords(before, before, true), [], "no change, no words");
    });

    test("in the cluster's plan: auth lines come before the membership lines (the auth step runs first); a CA rotation refuses an auth change", () => {
        const ctx = { now: new Date("2026-11-22T00:00:00Z"), renewBeforeHours: 720 };
        const prev = recordedCluster(["etcd1", "etcd2", "etcd3"], { auth: rec(true, []) });
        const next = recordedCluster(["etcd1", "etcd2", "etcd3", "etcd4"], { auth: rec(true, [appA], ["etcd1", "etcd2", "etcd3", "etcd4"]) });
        const review = reviewTransition(prev, next, ctx);
        assert.deepEqual(review.refusals, []);
        assert.match(review.changes[0], /^etcd4: user etcdctl-etcd4 with the root role/);
        assert.match(review.changes[1], /^client app-a: new certificate/);
        assert.match(review.changes[2], /^etcd4 \(10\.0\.0\.14\): joins as a learner/);
        const rotating = { ca: { generation: 2, rotation: "trust-both" as const } };
        const refused = reviewTransition(prev, recordedCluster(["etcd1", "etcd2", "etcd3"], { ...rotating, auth: rec(false, []) }), ctx);
        assert.match(refused.refusals.map((r) => r.reason).join("\n"), /a CA rotation is running .* other changes wait until it is finished/);
        // A record from before authentication existed, mid-rotation, meets a config at the auth defaults: no refusal.
        const old = recordedCluster(["etcd1", "etcd2", "etcd3"], rotating);
        assert.deepEqual(reviewTransition(old, recordedCluster(["etcd1", "etcd2", "etcd3"], { ...rotating, auth: rec(false, []) }), ctx).refusals, []);
    });
});

describe("the host program", () => {
    const hostDir = path.join(__dirname, "..", "..", "components", "auth", "host");

    test("is shipped next to the compiled code (shellcheck: hostPrograms.test.ts)", () => {
        for (const f of ["etcd-auth.sh", "role-perms.awk"]) assert.ok(fs.existsSync(path.join(hostDir, f)), `${f} missing from dist (scripts/build.sh copies it)`);
    });

    test("role-perms.awk reads etcdctl's JSON of a role into TYPE KEY END lines (mawk, as on Debian, where there is one)", () => {
        const awk = spawnSync("mawk", ["-W", "version"]).error ? "awk" : "mawk";
        // What etcdctl 3.6.16 prints for a role with readwrite /app-a/, read /exact and write /w/ (etcd omits permType 0).
        const json = '{"header":{"cluster_id":324952591200643719,"member_id":3319814642761637952,"revision":1,"raft_term":2},"perm":[{"permType":2,"key":"L2FwcC1hLw==","range_end":"L2FwcC1hMA=="},{"key":"L2V4YWN0"},{"permType":1,"key":"L3cv","range_end":"L3cw"}]}';
        const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "role-perms-"));
        fs.writeFileSync(path.join(tmp, "in.json"), `${json}\n`);
        const r = spawnSync(awk, ["-f", path.join(hostDir, "role-perms.awk"), path.join(tmp, "in.json")], { encoding: "utf8" });
        assert.equal(r.stdout, "2 L2FwcC1hLw== L2FwcC1hMA==\n0 L2V4YWN0 -\n1 L3cv L3cw\n");
        fs.writeFileSync(path.join(tmp, "in.json"), '{"header":{"revision":1}}\n');
        assert.equal(spawnSync(awk, ["-f", path.join(hostDir, "role-perms.awk"), path.join(tmp, "in.json")], { encoding: "utf8" }).stdout, "", "a role without permissions");
        fs.rmSync(tmp, { recursive: true, force: true });
        // The desired state uses the same encoding, so a grant etcd holds compares equal.
        assert.equal(permLine("r", { kind: "prefix", value: "/app-a/", access: "readwrite" }), "perm r 2 L2FwcC1hLw== L2FwcC1hMA==");
    });
});

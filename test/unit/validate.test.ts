import { test } from "node:test";
import * as assert from "node:assert/strict";
import { EtcdClusterArgs } from "../../components/types";
import { EtcdConfigError, resolveSettings } from "../../components/validate";
import { argsFromStackConfig, didYouMean } from "../../components/stackConfig";

const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----\n";
const three = () => [
    { name: "etcd1", address: "10.0.0.11" },
    { name: "etcd2", address: "10.0.0.12" },
    { name: "etcd3", address: "10.0.0.13" },
];
const base = (over: Partial<EtcdClusterArgs> = {}): EtcdClusterArgs => ({
    members: three(),
    ssh: { privateKey: KEY },
    binary: { path: "/tmp/etcd.tgz", sha256: "a".repeat(64) },
    ...over,
});

/** Asserts validation fails with a message that names `field` and contains `fix`. */
function rejects(args: EtcdClusterArgs, field: string, fix: RegExp): void {
    assert.throws(
        () => resolveSettings(args),
        (e: unknown) => {
            assert.ok(e instanceof EtcdConfigError, `expected EtcdConfigError, got ${e}`);
            const hit = e.problems.find((p) => p.startsWith(field));
            assert.ok(hit, `no problem names ${field}: ${e.problems.join(" | ")}`);
            assert.match(hit!, fix);
            return true;
        },
    );
}

test("valid input resolves with secure defaults", () => {
    const s = resolveSettings(base());
    assert.equal(s.version, "3.6.16");
    assert.equal(s.clientPort, 2379);
    assert.equal(s.peerPort, 2380);
    assert.equal(s.members[0].listenAddress, "10.0.0.11");
    assert.equal(s.members[0].sshUser, "root");
    assert.equal(s.members[0].sudo, false);
    assert.equal(s.keyAlgorithm, "ECDSA");
});

test("no members", () => rejects(base({ members: [] }), "members", /at least 3/));
test("even member count is refused unless allowed", () => {
    const four = [...three(), { name: "etcd4", address: "10.0.0.14" }];
    rejects(base({ members: four }), "members", /even count.*allowEvenMembers/);
    assert.equal(resolveSettings(base({ members: four, allowEvenMembers: true })).members.length, 4);
});
test("duplicate names", () => rejects(base({ members: [...three().slice(0, 2), { name: "etcd1", address: "10.0.0.19" }] }), "members", /duplicate name "etcd1"/));
test("duplicate addresses", () => rejects(base({ members: [...three().slice(0, 2), { name: "etcd9", address: "10.0.0.11" }] }), "members", /duplicate address "10.0.0.11"/));
test("invalid member name", () => rejects(base({ members: [{ name: "Etcd_1", address: "10.0.0.11" }, ...three().slice(1)] }), "members[0].name", /lowercase letters/));
test("malformed address", () => rejects(base({ members: [{ name: "etcd1", address: "10.0.0.300" }, ...three().slice(1)] }), "members[0].address", /not a valid IP address or DNS name/));
test("malformed ssh port", () => rejects(base({ members: [{ name: "etcd1", address: "10.0.0.11", sshPort: 70000 }, ...three().slice(1)] }), "members[0].sshPort", /1-65535/));
test("malformed client port", () => rejects(base({ clientPort: 0 }), "clientPort", /1-65535/));
test("missing ssh credentials", () => rejects(base({ ssh: { privateKey: "" } }), "ssh.privateKey", /pulumi config set --secret sshPrivateKey/));
test("election timeout under 5x heartbeat", () => rejects(base({ heartbeatInterval: 200, electionTimeout: 900 }), "electionTimeout", /at least 1000/));
test("quota over 8 GiB", () => rejects(base({ quotaBackendBytes: 9 * 1024 ** 3 }), "quotaBackendBytes", /over 8 GiB/));
test("malformed version", () => rejects(base({ version: "v3.6" }), "version", /MAJOR.MINOR.PATCH/));
test("too old version", () => rejects(base({ version: "3.4.23" }), "version", /3.5.x or newer/));
test("binary source without checksum", () => rejects(base({ binary: { url: "https://mirror.example.com/etcd.tgz" } }), "binary", /needs a checksum/));
test("official source needs no explicit checksum: it uses the release's SHA256SUMS", () => {
    const s = resolveSettings(base({ binary: undefined }));
    assert.equal(s.binary.kind, "official");
    assert.equal(s.binary.location, "https://github.com/etcd-io/etcd/releases/download/v3.6.16/etcd-v3.6.16-linux-amd64.tar.gz");
    assert.equal(s.binary.sha256sums, "https://github.com/etcd-io/etcd/releases/download/v3.6.16/SHA256SUMS");
});
test("placeholders in binary path", () => {
    const s = resolveSettings(base({ version: "3.5.35", binary: { path: "/r/v{version}/etcd-v{version}-linux-{arch}.tar.gz", sha256sums: "/r/v{version}/SHA256SUMS" } }));
    assert.equal(s.binary.location, "/r/v3.5.35/etcd-v3.5.35-linux-amd64.tar.gz");
    assert.equal(s.binary.sha256sums, "/r/v3.5.35/SHA256SUMS");
});
test("non-root user gets sudo by default", () => {
    const s = resolveSettings(base({ ssh: { privateKey: KEY, user: "deploy" } }));
    assert.equal(s.members[0].sudo, true);
});
test("every problem is reported at once", () => {
    try {
        resolveSettings(base({ members: [], quotaBackendBytes: 9 * 1024 ** 3, version: "x" }));
        assert.fail("should throw");
    } catch (e) {
        assert.ok(e instanceof EtcdConfigError);
        assert.ok(e.problems.length >= 3, e.problems.join("|"));
    }
});

const ns = "etcd-pulumi";
const stack = (values: Record<string, string>, readFile: (p: string) => string = () => KEY) =>
    argsFromStackConfig({ namespace: ns, values: Object.fromEntries(Object.entries(values).map(([k, v]) => [`${ns}:${k}`, v])), secretPrivateKey: "SECRET", readFile });
const members = JSON.stringify(three());

test("stack config: unknown key gets a did-you-mean", () => {
    assert.throws(() => stack({ members, sshPrivateKeyPath: "/k", heartbeatIntreval: "100" }), /heartbeatIntreval: unknown config key; did you mean "heartbeatInterval"\?/);
});
test("stack config: unknown member field gets a did-you-mean", () => {
    assert.throws(() => stack({ members: JSON.stringify([{ name: "etcd1", adress: "10.0.0.1" }]), sshPrivateKeyPath: "/k" }), /members\[0\]\.adress: unknown field; did you mean "address"\?/);
});
test("stack config: unreadable key file", () => {
    const enoent = () => { throw Object.assign(new Error("nope"), { code: "ENOENT" }); };
    assert.throws(() => stack({ members, sshPrivateKeyPath: "/no/such/key" }, enoent), /sshPrivateKeyPath: cannot read \/no\/such\/key \(ENOENT\)/);
});
test("stack config: missing ssh credentials", () => {
    assert.throws(() => stack({ members }), /sshPrivateKey: missing SSH credentials/);
});
test("stack config: integers and booleans are parsed strictly", () => {
    assert.throws(() => stack({ members, sshPrivateKeyPath: "/k", clientPort: "23x" }), /clientPort: "23x" is not an integer/);
    assert.throws(() => stack({ members, sshPrivateKeyPath: "/k", allowEvenMembers: "yes" }), /allowEvenMembers: "yes" must be true or false/);
    const a = stack({ members, sshPrivateKeyPath: "/k", clientPort: "12379", allowEvenMembers: "true" });
    assert.equal(a.clientPort, 12379);
    assert.equal(a.allowEvenMembers, true);
    assert.equal(a.ssh.privateKey, KEY);
});
test("stack config: the secret key is passed through as given", () => {
    assert.equal(stack({ members, sshPrivateKey: "[secret]" }).ssh.privateKey, "SECRET");
});
test("didYouMean ignores unrelated words", () => {
    assert.equal(didYouMean("zzzzzzzz", ["members", "version"]), undefined);
    assert.equal(didYouMean("Members", ["members", "version"]), "members");
});

test("stack config: every non-ssh key lands on the EtcdClusterArgs field of the same name", async () => {
    const { STACK_CONFIG_KEYS, readStackConfig } = await import("../../components/stackConfig");
    const sample: Record<string, string> = { string: "x", integer: "7", boolean: "true", json: "{}" };
    const values: Record<string, string> = { members, sshPrivateKeyPath: "/k" };
    const keys = Object.entries(STACK_CONFIG_KEYS).filter(([k, kind]) => !k.startsWith("ssh") && k !== "members" && kind !== "secret");
    for (const [k, kind] of keys) values[k] = kind === "json" && k === "extraSans" ? "[]" : sample[kind];
    const read = readStackConfig({ namespace: "etcd-pulumi", values: Object.fromEntries(Object.entries(values).map(([k, v]) => [`etcd-pulumi:${k}`, v])), readFile: () => KEY });
    assert.deepEqual(read.problems, []);
    const args = read.args as unknown as Record<string, unknown>;
    for (const [k] of keys) assert.notEqual(args[k], undefined, k);
    assert.ok(!("sshPrivateKeyPath" in args) && !("sshUser" in args), "ssh keys go under args.ssh");
});

test("stack config: unknown keys, unreadable values and invalid values are reported together, each once", () => {
    let problems: string[] = [];
    try {
        stack({ members: JSON.stringify([{ name: "Bad_Name", address: "10.0.0.1" }]), heartbeatIntreval: "100", clientPort: "23x", electionTimeout: "100", logLevel: "loud" });
    } catch (e) {
        problems = (e as { problems: string[] }).problems;
    }
    const expected = [/heartbeatIntreval: unknown config key/, /clientPort: "23x" is not an integer/, /^sshPrivateKey: missing SSH credentials/, /members\[0\]\.name: "Bad_Name" is not a valid member name/, /electionTimeout: 100 ms is less than 5x/, /logLevel: "loud"/];
    for (const re of expected) assert.equal(problems.filter((p) => re.test(p)).length, 1, `${re} in:\n${problems.join("\n")}`);
    assert.equal(problems.filter((p) => /ssh/i.test(p)).length, 1, "missing SSH credentials reported once");
    assert.equal(problems.length, expected.length, problems.join("\n"));
});

test("snapshot schedule and retention: defaults hourly / 24; bad values name the key and the fix", () => {
    const s = resolveSettings(base());
    assert.deepEqual([s.snapshotSchedule, s.snapshotRetention], ["hourly", 24]);
    rejects(base({ snapshotSchedule: "hourly\nExecStart=/bin/sh" }), "snapshotSchedule", /not a systemd OnCalendar expression; use e\.g\. "hourly"/);
    rejects(base({ snapshotRetention: 0 }), "snapshotRetention", /whole number of snapshots to keep, 1-10000/);
});

/** The policy pack's rules (policy/rules, pure) and the component's policy summary they read. */
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { EtcdClusterArgs } from "../../components/types";
import { resolveSettings } from "../../components/validate";
import { policySummary } from "../../components/policySummary";
import { ClusterView, clusterRules, isProdStack, readClusterView } from "../../policy/rules";
import { authInProd } from "../../policy/rules/authInProd";
import { hostKeysPinned } from "../../policy/rules/hostKeysPinned";
import { membersOdd } from "../../policy/rules/membersOdd";
import { noPurgeInProd } from "../../policy/rules/noPurgeInProd";
import { isSupportedVersion, supportedVersion } from "../../policy/rules/supportedVersion";

const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nSECRET-KEY-MATERIAL\n-----END OPENSSH PRIVATE KEY-----\n";
const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKf6cOCdMpNdTqkqi0aCdFYtys2TR1UYWVhdBMMvVfvk";
const args = (over: Partial<EtcdClusterArgs> = {}): EtcdClusterArgs => ({
    members: [
        { name: "etcd1", address: "10.0.0.11", hostKey: HOST_KEY },
        { name: "etcd2", address: "10.0.0.12", sshHost: "jump-etcd2.internal", hostKey: HOST_KEY },
        { name: "etcd3", address: "10.0.0.13" },
    ],
    ssh: { privateKey: KEY, bastion: { host: "198.51.100.10", hostKey: HOST_KEY } },
    binary: { path: "/tmp/etcd.tgz", sha256: "a".repeat(64) },
    clusterToken: "token-not-for-policies",
    ...over,
});
const view = (over: Partial<EtcdClusterArgs> = {}): ClusterView => {
    const read = readClusterView({ ...policySummary(resolveSettings(args(over))) });
    assert.ok("cluster" in read, `summary not readable by the pack: ${JSON.stringify(read)}`);
    return read.cluster;
};
const members = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `etcd${i + 1}`, address: `10.0.0.${11 + i}`, hostKey: HOST_KEY }));

test("the policy summary holds plain facts and no secret, key or token", () => {
    const summary = policySummary(resolveSettings(args({ purgeDataOnDestroy: true, allowEvenMembers: true })));
    assert.deepEqual(summary, {
        members: [
            { name: "etcd1", address: "10.0.0.11", sshHost: "10.0.0.11", hostKeyPinned: true },
            { name: "etcd2", address: "10.0.0.12", sshHost: "jump-etcd2.internal", hostKeyPinned: true },
            { name: "etcd3", address: "10.0.0.13", sshHost: "10.0.0.13", hostKeyPinned: false },
        ],
        bastion: { host: "198.51.100.10", hostKeyPinned: true },
        version: "3.6.16",
        purgeDataOnDestroy: true,
        allowEvenMembers: true,
        allowSmallCluster: false,
        authEnabled: false,
    });
    const text = JSON.stringify(summary);
    for (const secret of ["SECRET-KEY-MATERIAL", "PRIVATE KEY", "AAAAC3Nza", "token-not-for-policies"]) assert.ok(!text.includes(secret), `summary carries ${secret}`);
    assert.equal("bastion" in policySummary(resolveSettings(args({ ssh: { privateKey: KEY } }))), false, "no bastion key when there is none");
});

test("the pack reads exactly what the component sends; a cluster without a summary is reported, not passed", () => {
    const s = policySummary(resolveSettings(args()));
    assert.deepEqual(readClusterView({ ...s }), { cluster: s });
    const old = readClusterView({});
    assert.ok("missing" in old);
    assert.deepEqual(old.missing, ["members", "version", "purgeDataOnDestroy", "allowEvenMembers", "allowSmallCluster"]);
    const bad = readClusterView({ ...s, members: [{ name: "etcd1" }], bastion: { host: "b" } });
    assert.ok("missing" in bad);
    assert.deepEqual(bad.missing, ["members[0] {name, address, sshHost, hostKeyPinned}", "bastion {host, hostKeyPinned}"]);
    // An etcd-pulumi from before authentication sends no authEnabled: the other rules still judge it (etcd-auth-in-prod reports it).
    const { authEnabled, ...older } = s;
    assert.equal(authEnabled, false);
    assert.deepEqual(readClusterView({ ...older }), { cluster: older });
    assert.deepEqual(readClusterView({ ...s, authEnabled: "yes" }), { missing: ["authEnabled"] });
});

test("etcd-auth-in-prod: authentication on, mandatory on prod* stacks; not checked elsewhere", () => {
    assert.equal(authInProd.level("prod"), "mandatory");
    assert.deepEqual(authInProd.violations(view({ auth: true }), "prod"), []);
    assert.deepEqual(authInProd.violations(view(), "dev"), []);
    assert.deepEqual(authInProd.violations(view(), "staging"), []);
    const [off] = authInProd.violations(view(), "prod-eu");
    assert.match(off, /^auth is off on prod stack "prod-eu": every certificate from the cluster's CA .* can read, write and delete every key.* Fix: set auth: true \(etcd-pulumi:auth in the stack config\)/);
    const { authEnabled: _dropped, ...older } = view();
    assert.equal(_dropped, false);
    assert.match(authInProd.violations(older, "prod")[0], /does not report whether authentication is on \(an etcd-pulumi older than this policy pack\).* Fix: upgrade etcd-pulumi and set auth: true/);
});

test("prod stacks are the ones whose name starts with prod", () => {
    for (const s of ["prod", "prod-eu", "production"]) assert.equal(isProdStack(s), true, s);
    for (const s of ["dev", "staging", "preprod", "Prod", ""]) assert.equal(isProdStack(s), false, s);
    assert.deepEqual(clusterRules.map((r) => r.name), ["etcd-members-odd", "etcd-host-keys-pinned", "etcd-no-purge-in-prod", "etcd-supported-version", "etcd-auth-in-prod"]);
});

test("etcd-members-odd: odd and at least 3, whatever allowEvenMembers or allowSmallCluster say", () => {
    assert.equal(membersOdd.level("dev"), "mandatory");
    for (const n of [3, 5, 7]) assert.deepEqual(membersOdd.violations(view({ members: members(n) }), "dev"), [], `${n}`);
    const [even] = membersOdd.violations(view({ members: members(4), allowEvenMembers: true }), "dev");
    assert.match(even, /^members: 4 members \(etcd1, etcd2, etcd3, etcd4\) is an even count.*allowEvenMembers: true does not lift this policy\. Fix: list an odd number of members, at least 3/);
    const [one] = membersOdd.violations(view({ members: members(1), allowSmallCluster: true }), "prod");
    assert.match(one, /^members: 1 member \(etcd1\) tolerates no failure; allowSmallCluster: true does not lift this policy\. Fix: list an odd number of members, at least 3/);
    assert.equal(membersOdd.violations(view({ members: members(2), allowEvenMembers: true }), "dev").length, 1);
});

test("etcd-host-keys-pinned: each unpinned member and the bastion named with the fix; mandatory on prod*, advisory elsewhere", () => {
    assert.equal(hostKeysPinned.level("prod"), "mandatory");
    assert.equal(hostKeysPinned.level("prod-eu"), "mandatory");
    assert.equal(hostKeysPinned.level("dev"), "advisory");
    assert.equal(hostKeysPinned.level("preprod"), "advisory");
    const [etcd3] = hostKeysPinned.violations(view(), "prod");
    assert.match(etcd3, /^member etcd3 \(10\.0\.0\.13\): hostKey is not pinned.* Fix: set members\[\]\.hostKey of etcd3 to .*ssh-keyscan -t ed25519 10\.0\.0\.13/);
    const unpinned = view({ members: [{ name: "a", address: "10.0.0.1" }, { name: "b", address: "10.0.0.2", sshHost: "b.ssh" }, { name: "c", address: "10.0.0.3", hostKey: HOST_KEY }], ssh: { privateKey: KEY, bastion: { host: "bastion.example.com" } } });
    const found = hostKeysPinned.violations(unpinned, "prod");
    assert.equal(found.length, 3);
    assert.match(found[1], /^member b \(b\.ssh\): .*ssh-keyscan -t ed25519 b\.ssh/);
    assert.match(found[2], /^sshBastion \(bastion\.example\.com\): hostKey is not pinned.* Fix: set sshBastion\.hostKey \(ssh\.bastion\.hostKey in EtcdClusterArgs\)/);
    assert.deepEqual(hostKeysPinned.violations(view({ members: members(3) }), "prod"), []);
});

test("etcd-no-purge-in-prod: purgeDataOnDestroy refused on prod* stacks only", () => {
    const purging = view({ purgeDataOnDestroy: true });
    assert.equal(noPurgeInProd.level("dev"), "mandatory");
    assert.deepEqual(noPurgeInProd.violations(purging, "dev"), []);
    assert.deepEqual(noPurgeInProd.violations(view(), "prod"), []);
    const [v] = noPurgeInProd.violations(purging, "prod-eu");
    assert.match(v, /^purgeDataOnDestroy: true on prod stack "prod-eu".* Fix: remove purgeDataOnDestroy \(or set it to false\)/);
});

test("etcd-supported-version: 3.5.x with x >= 32, or 3.6.x", () => {
    for (const v of ["3.5.32", "3.5.35", "3.5.100", "3.6.0", "3.6.16"]) assert.equal(isSupportedVersion(v), true, v);
    for (const v of ["3.5.31", "3.5.0", "3.4.23", "3.7.0", "4.0.0", "3.6", "v3.6.16", "3.6.16-rc.0"]) assert.equal(isSupportedVersion(v), false, v);
    assert.deepEqual(supportedVersion.violations(view(), "prod"), []);
    const [v] = supportedVersion.violations(view({ version: "3.5.20" }), "dev");
    assert.match(v, /^version: etcd 3\.5\.20 is not supported\. Fix: set version to a 3\.6\.x release .*or 3\.5\.32 or newer 3\.5\.x$/);
    assert.equal(supportedVersion.level("dev"), "mandatory");
});

import { describe, test } from "node:test";
import * as assert from "node:assert/strict";
import { planMembership } from "../../components/plan/membership";
import { PlanError } from "../../components/plan/planError";
import { checkVersionChange } from "../../components/plan/version";
import { ClusterRecord, reviewTransition } from "../../components/plan/transition";
import { decideLeafRenewal } from "../../components/plan/leafRenewal";
import { MemberSettings } from "../../components/settings";

const m = (name: string, address = `10.0.0.${name.replace(/\D/g, "")}`): MemberSettings => ({
    name, address, addressIsIp: true, listenAddress: address, sshHost: address, sshPort: 22, sshUser: "root", sudo: false,
});
const d = (x: MemberSettings) => ({ name: x.name, address: x.address });
const three = [m("e1"), m("e2"), m("e3")];

test("first deployment bootstraps everyone", () => {
    const p = planMembership(undefined, three);
    assert.equal(p.bootstrap, true);
    assert.deepEqual(p.add, []);
});

test("scale out adds one at a time, each with the exact initial-cluster it joins", () => {
    const p = planMembership(three.map(d), [...three, m("e4"), m("e5")]);
    assert.equal(p.bootstrap, false);
    assert.deepEqual(p.add.map((a) => a.member.name), ["e4", "e5"]);
    assert.deepEqual(p.add[0].initialMembers.map((x) => x.name), ["e1", "e2", "e3", "e4"]);
    assert.deepEqual(p.add[1].initialMembers.map((x) => x.name), ["e1", "e2", "e3", "e4", "e5"]);
    assert.deepEqual(p.remove, []);
});

test("scale in removes, keeping a quorum", () => {
    const five = [...three, m("e4"), m("e5")];
    const p = planMembership(five.map(d), three);
    assert.deepEqual(p.remove.map((r) => r.name), ["e4", "e5"]);
    assert.deepEqual(p.add, []);
});

test("shrinking below 3 is refused unless allowed", () => {
    assert.throws(() => planMembership(three.map(d), three.slice(0, 2)), /keep at least 3 or set allowSmallCluster/);
    assert.equal(planMembership(three.map(d), three.slice(0, 2), { allowSmallCluster: true }).remove.length, 1);
});

test("a change that keeps fewer than a quorum of current members is refused", () => {
    assert.throws(() => planMembership(three.map(d), [m("e1"), m("e7"), m("e8")]), /keeps only 1 of the 3 current members.*at least 2 must stay/);
});

test("a member with the same name on a new address is replaced: removed first, then added fresh", () => {
    const p = planMembership(three.map(d), [m("e1"), m("e2"), m("e3", "10.0.0.33")]);
    assert.deepEqual(p.remove.map((r) => `${r.name}@${r.address}`), ["e3@10.0.0.3"]);
    assert.deepEqual(p.add.map((a) => `${a.member.name}@${a.member.address}`), ["e3@10.0.0.33"]);
    assert.deepEqual(p.add[0].initialMembers.map((x) => x.name), ["e1", "e2", "e3"]);
});

test("reordering the list changes nothing", () => {
    const p = planMembership(three.map(d), [...three].reverse());
    assert.deepEqual([p.remove.length, p.add.length], [0, 0]);
});

test("version changes: patch and next minor ok; skips, downgrades and too-old patches refused", () => {
    assert.equal(checkVersionChange("3.6.15", "3.6.16"), "patch");
    assert.equal(checkVersionChange("3.6.16", "3.6.16"), "same");
    assert.equal(checkVersionChange("3.5.35", "3.6.16"), "minor");
    assert.throws(() => checkVersionChange("3.5.31", "3.6.16"), /needs 3\.5\.32 or newer first/);
    assert.throws(() => checkVersionChange("3.5.35", "3.7.1"), /skips a minor version/);
    assert.throws(() => checkVersionChange("3.6.16", "3.5.35"), /downgrade/);
    assert.throws(() => checkVersionChange("3.6.16", "4.0.0"), PlanError);
});

describe("reviewTransition: what a change to a deployed cluster does, or why it is refused", () => {
    const base = (over: Partial<ClusterRecord> = {}): ClusterRecord => ({
        version: "3.6.16",
        binarySha256: "a".repeat(64),
        keyAlgorithm: "ECDSA",
        arch: "amd64",
        clientPort: 2379,
        peerPort: 2380,
        dataDir: "/var/lib/etcd",
        walDir: "",
        unit: "[Service]\n",
        leafCertificates: { validityHours: 43800, extraSans: [] },
        members: ["etcd1", "etcd2", "etcd3"].map((name, i) => ({ name, address: `10.0.0.${11 + i}`, config: `name: ${name}\nlog-level: info\n` })),
        ...over,
    });
    const ctx = { now: new Date("2026-11-22T00:00:00Z"), renewBeforeHours: 720 };
    const withConfig = (r: ClusterRecord, f: (c: string) => string) => ({ ...r, members: r.members.map((m) => ({ ...m, config: f(m.config) })) });

    test("first deployment: bootstrap, nothing refused", () => {
        const first = reviewTransition(undefined, base(), ctx);
        assert.deepEqual(first.refusals, []);
        assert.deepEqual(first.changes, ["new cluster: etcd1, etcd2, etcd3 bootstrap together (etcd 3.6.16)"]);
        assert.deepEqual(first.leafRenewal, { generation: 1, issuedAt: "2026-11-22T00:00:00.000Z" });
        assert.equal(reviewTransition({}, base(), ctx).refusals.length, 0, "an empty record counts as never deployed");
    });

    test("no change: no plan", () => {
        const same = reviewTransition(base(), base(), { ...ctx, previousLeafRenewal: { generation: 3, issuedAt: "2026-11-01T00:00:00.000Z" } });
        assert.deepEqual([same.refusals, same.changes, same.leafRenewal], [[], [], { generation: 3, issuedAt: "2026-11-01T00:00:00.000Z" }]);
    });

    test("a config value: every member restarts, naming the key, in name order", () => {
        const r = reviewTransition(base(), withConfig(base(), (c) => c.replace("info", "warn")), ctx);
        assert.deepEqual(r.refusals, []);
        assert.deepEqual(r.changes.map((c) => c.split(":")[0]), ["etcd1", "etcd2", "etcd3"]);
        assert.match(r.changes[0], /^etcd1: restart \(config: log-level\)/);
    });

    test("leaf certificate settings: new certificates, no restart", () => {
        const r = reviewTransition(base(), base({ leafCertificates: { validityHours: 50000, extraSans: ["lb.example.com"] } }), ctx);
        assert.ok(r.changes.every((c) => /new leaf certificates \(no restart/.test(c)), r.changes.join("\n"));
    });

    test("a patch or minor upgrade: snapshot first, then every member restarts for the binary", () => {
        const r = reviewTransition(base({ version: "3.5.35" }), base({ version: "3.6.16" }), ctx);
        assert.deepEqual(r.refusals, []);
        assert.match(r.changes[0], /etcd 3\.5\.35 -> 3\.6\.16 \(minor upgrade\): verified snapshot on etcd1/);
        assert.match(r.changes[1], /etcd1: restart \(binary 3\.6\.16\)/);
    });

    test("refused, each naming the key and the fix: CA-replacing key algorithm, ports, dirs, arch, version skips, member-list changes", () => {
        const cases: [Partial<ClusterRecord>, string, RegExp][] = [
            [{ keyAlgorithm: "RSA" }, "keyAlgorithm", /keyAlgorithm: changing "ECDSA" -> "RSA" on a deployed cluster would replace the CA .* set keyAlgorithm back to "ECDSA"/],
            [{ peerPort: 2390 }, "peerPort", /peerPort: changing 2380 -> 2390 .* set peerPort back to 2380/],
            [{ clientPort: 2479 }, "clientPort", /clientPort: changing 2379 -> 2479/],
            [{ dataDir: "/data/etcd" }, "dataDir", /dataDir: .*empty data dir/],
            [{ walDir: "/wal" }, "walDir", /walDir: changing "" -> "\/wal"/],
            [{ arch: "arm64" }, "arch", /arch: /],
            [{ version: "3.8.0" }, "version", /3\.6\.16 -> 3\.8\.0 skips a minor version.*set version back to "3\.6\.16"/],
            [{ version: "3.6.10" }, "version", /downgrade/],
        ];
        for (const [over, property, reason] of cases) {
            const r = reviewTransition(base(), base(over), ctx);
            assert.deepEqual(r.refusals.map((x) => x.property), [property], JSON.stringify(over));
            assert.match(r.refusals[0].reason, reason);
            assert.deepEqual(r.changes, [], "a refused change plans nothing");
        }
        const grown = base({ members: [...base().members, { name: "etcd4", address: "10.0.0.14", config: "" }, { name: "etcd5", address: "10.0.0.15", config: "" }] });
        assert.match(reviewTransition(base(), grown, ctx).refusals[0].reason, /members: changing the member list of a deployed cluster \(add etcd4 \(10\.0\.0\.14\), then add etcd5 \(10\.0\.0\.15\)\) is not automated yet/);
        const moved = base({ members: base().members.map((m) => (m.name === "etcd2" ? { ...m, address: "10.0.0.22" } : m)) });
        assert.match(reviewTransition(base(), moved, ctx).refusals[0].reason, /remove etcd2 \(10\.0\.0\.12\), then add etcd2 \(10\.0\.0\.22\)/);
    });
});

describe("leaf certificate renewal", () => {
    const validity = 1000; // hours
    const issuedAt = "2026-01-01T00:00:00.000Z";
    const at = (hours: number) => new Date(Date.parse(issuedAt) + hours * 3600 * 1000);

    test("outside the window nothing changes; inside it the generation moves on and the plan says why, without restart", () => {
        assert.deepEqual(decideLeafRenewal({ generation: 4, issuedAt }, false, validity, 720, at(279)), { renewal: { generation: 4, issuedAt } });
        const due = decideLeafRenewal({ generation: 4, issuedAt }, false, validity, 720, at(280));
        assert.deepEqual(due, { renewal: { generation: 5, issuedAt: at(280).toISOString() }, renewingExpiry: at(1000).toISOString() });
    });

    test("certificates re-issued for another reason count as new; a first deployment starts at generation 1", () => {
        assert.deepEqual(decideLeafRenewal({ generation: 4, issuedAt }, true, validity, 720, at(900)), { renewal: { generation: 4, issuedAt: at(900).toISOString() } });
        assert.deepEqual(decideLeafRenewal(undefined, false, validity, 720, at(0)), { renewal: { generation: 1, issuedAt } });
    });

    test("the review renews in the window and names every member; a refused change renews nothing", () => {
        const record = (over: Partial<ClusterRecord> = {}): ClusterRecord => ({
            version: "3.6.16", binarySha256: "a".repeat(64), keyAlgorithm: "ECDSA", arch: "amd64", clientPort: 2379, peerPort: 2380, dataDir: "/var/lib/etcd", walDir: "", unit: "u",
            leafCertificates: { validityHours: validity, extraSans: [] },
            members: ["etcd1", "etcd2", "etcd3"].map((name, i) => ({ name, address: `10.0.0.${11 + i}`, config: `name: ${name}\n` })),
            ...over,
        });
        const ctx = { now: at(500), renewBeforeHours: 720, previousLeafRenewal: { generation: 1, issuedAt } };
        const r = reviewTransition(record(), record(), ctx);
        assert.equal(r.leafRenewal.generation, 2);
        assert.equal(r.changes.length, 3);
        assert.match(r.changes[0], /^etcd1: leaf certificates renewed, they expire 2026-02-11T16:00:00\.000Z \(within certRenewBeforeHours, 720 h\); no restart$/);
        const refused = reviewTransition(record(), record({ keyAlgorithm: "RSA" }), ctx);
        assert.deepEqual(refused.leafRenewal, ctx.previousLeafRenewal);
    });
});

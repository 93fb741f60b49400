import { describe, test } from "node:test";
import * as assert from "node:assert/strict";
import { planMembership } from "../../components/plan/membership";
import { PlanError } from "../../components/plan/planError";
import { checkVersionChange } from "../../components/plan/version";
import { ClusterRecord, reviewTransition } from "../../components/plan/transition";
import { decideLeafRenewal } from "../../components/plan/leafRenewal";
import { MemberSettings } from "../../components/settings";
import { recordedCluster } from "../support/clusterRecord";

const m = (name: string, address = `10.0.0.${name.replace(/\D/g, "")}`): MemberSettings => ({
    name, address, addressIsIp: true, listenAddress: address, sshHost: address, sshPort: 22, sshUser: "root", sudo: false, replacement: 0,
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
    const base = (over: Partial<ClusterRecord> = {}): ClusterRecord => recordedCluster(undefined, over);
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

    test("refused, each naming the key and the fix: key algorithm outside a CA rotation, ports, dirs, arch, version skips", () => {
        const cases: [Partial<ClusterRecord>, string, RegExp][] = [
            [{ keyAlgorithm: "RSA" }, "caRotation", /keyAlgorithm: a new key algorithm needs a new CA.*bump caGeneration to 2 and set caRotation: trust-both/],
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
    });

    const member = (name: string, address: string, replacement = 0) => ({ name, address, replacement, config: `name: ${name}\nlog-level: info\n` });
    const founded = reviewTransition(undefined, base(), ctx).bootstrap;

    test("a new cluster: every member founds it with the whole list", () => {
        assert.deepEqual(Object.keys(founded), ["etcd1", "etcd2", "etcd3"]);
        assert.deepEqual(founded.etcd2, { state: "new", initialCluster: base().members.map((m) => ({ name: m.name, address: m.address })), incarnation: "10.0.0.12#0" });
    });

    test("scale out 3 -> 5: joiners one at a time in name order with the exact list they join; founders keep what they were told", () => {
        const grown = base({ members: [member("etcd5", "10.0.0.15"), ...base().members, member("etcd4", "10.0.0.14")] });
        const r = reviewTransition(base(), grown, { ...ctx, previousBootstrap: founded });
        assert.deepEqual(r.refusals, []);
        assert.deepEqual(r.changes.map((c) => c.split(/[ :]/)[0]), ["etcd4", "etcd5"]);
        assert.match(r.changes[0], /^etcd4 \(10\.0\.0\.14\): joins as a learner \(initial-cluster-state existing, initial-cluster etcd1, etcd2, etcd3, etcd4\), promoted once in sync/);
        assert.deepEqual(r.bootstrap.etcd5.initialCluster.map((p) => p.name), ["etcd1", "etcd2", "etcd3", "etcd4", "etcd5"]);
        assert.equal(r.bootstrap.etcd5.state, "existing");
        assert.deepEqual(r.bootstrap.etcd1, founded.etcd1);
        const again = reviewTransition(grown, grown, { ...ctx, previousBootstrap: r.bootstrap });
        assert.deepEqual([again.changes, again.bootstrap], [[], r.bootstrap], "the next run plans nothing and keeps every decision");
    });

    test("scale in 5 -> 3: the leaving members are removed first, one at a time, then their services stop", () => {
        const five = base({ members: [...base().members, member("etcd4", "10.0.0.14"), member("etcd5", "10.0.0.15")] });
        const r = reviewTransition(five, base(), ctx);
        assert.deepEqual(r.refusals, []);
        assert.match(r.changes[0], /^etcd4 \(10\.0\.0\.14\): leaves the cluster first .*4 members, quorum 3/);
        assert.match(r.changes[1], /^etcd5 .*3 members, quorum 2/);
        assert.match(r.changes[3], /^etcd5: its etcd service is stopped and disabled/);
        assert.deepEqual(Object.keys(r.bootstrap).sort(), ["etcd1", "etcd2", "etcd3"]);
    });

    test("replacing a member (new address, or a bumped replacement counter): removed first, then joins fresh", () => {
        for (const replaced of [member("etcd2", "10.0.0.22"), member("etcd2", "10.0.0.12", 1)]) {
            const r = reviewTransition(base(), base({ members: base().members.map((m) => (m.name === "etcd2" ? replaced : m)) }), { ...ctx, previousBootstrap: founded });
            assert.deepEqual(r.refusals, []);
            assert.match(r.changes[0], /^etcd2: replaced \(10\.0\.0\.12 -> 10\.0\.0\.[12]2.*the old member is removed first, its data dir moved aside/);
            assert.deepEqual(r.bootstrap.etcd2, { state: "existing", initialCluster: [{ name: "etcd1", address: "10.0.0.11" }, { name: "etcd3", address: "10.0.0.13" }, { name: "etcd2", address: replaced.address }], incarnation: `${replaced.address}#${replaced.replacement}` });
        }
    });

    test("a stack last deployed before the host-cleanup step: a member may not leave in the first run (its old steps would delete on its host); anything else may", () => {
        const five = base({ members: [...base().members, member("etcd4", "10.0.0.14"), member("etcd5", "10.0.0.15")] });
        const now = base({ hostCleanup: "cluster" });
        const refused = reviewTransition(five, now, ctx);
        assert.equal(refused.refusals.length, 1);
        assert.equal(refused.refusals[0].property, "members");
        assert.match(refused.refusals[0].reason, /^members: etcd4, etcd5 would leave in the first run of this etcd-pulumi version .*Nothing was changed; run pulumi up once with etcd4, etcd5 still in members .*nothing restarts\), then remove them$/);
        assert.deepEqual(refused.changes, []);
        // The first run itself records the new behaviour and changes nothing else; after it, the members may leave.
        assert.deepEqual(reviewTransition(five, { ...five, hostCleanup: "cluster" }, ctx), reviewTransition(five, five, ctx));
        const later = reviewTransition({ ...five, hostCleanup: "cluster" }, now, ctx);
        assert.deepEqual(later.refusals, []);
        assert.match(later.changes.at(-1)!, /^etcd5: its etcd service is stopped and disabled, its files removed \(best-effort at the end of the run: a host that does not answer is reported and skipped\)/);
        // A replaced member's steps are updated, never deleted: allowed in the first run.
        assert.deepEqual(reviewTransition(base(), base({ hostCleanup: "cluster", members: base().members.map((m) => (m.name === "etcd3" ? member("etcd3", "10.0.0.33") : m)) }), ctx).refusals, []);
        // Nor does the marker count as a second change during a CA rotation.
        const rotating = (over: Partial<ClusterRecord>) => base({ ca: { generation: 2, rotation: "trust-both" }, ...over });
        assert.deepEqual(reviewTransition(rotating({}), rotating({ hostCleanup: "cluster" }), ctx).refusals, []);
    });

    test("membership guards: keep a quorum of the current members; shrinking below 3 needs allowSmallCluster", () => {
        const two = base({ members: base().members.slice(0, 2) });
        assert.match(reviewTransition(base(), two, ctx).refusals[0].reason, /shrinking to 2 member\(s\) leaves no fault tolerance; keep at least 3 or set allowSmallCluster: true/);
        assert.deepEqual(reviewTransition(base(), { ...two, allowSmallCluster: true }, ctx).refusals, []);
        const swapped = base({ members: [member("etcd1", "10.0.0.11"), member("etcd2", "10.0.0.22"), member("etcd3", "10.0.0.33")] });
        assert.match(reviewTransition(base(), swapped, ctx).refusals[0].reason, /keeps only 1 of the 3 current members \(etcd1\); at least 2 must stay/);
    });

    test("CA rotation: three phases, each named with the next step; skips, jumps and mixed changes refused", () => {
        const at = (generation: number, rotation: ClusterRecord["ca"]["rotation"], over: Partial<ClusterRecord> = {}) => base({ ca: { generation, rotation }, ...over });
        const start = reviewTransition(at(1, "none"), at(2, "trust-both"), ctx);
        assert.deepEqual(start.refusals, []);
        assert.match(start.changes[0], /phase 1 of 3 \(trust-both\)/);
        assert.match(start.changes[1], /^next: give clients the new caBundlePem.*caRotation: reissue/);
        assert.match(start.changes[2], /^etcd1: restart \(trusted CA bundle\)/);
        const reissue = reviewTransition(at(2, "trust-both"), at(2, "reissue"), ctx);
        assert.match(reissue.changes[0], /phase 2 of 3 \(reissue\)/);
        assert.ok(reissue.changes.slice(2).every((c) => /new leaf certificates \(from CA generation 2\) \(no restart/.test(c)), reissue.changes.join("\n"));
        const finish = reviewTransition(at(2, "reissue"), at(2, "none"), ctx);
        assert.match(finish.changes[0], /phase 3 of 3 \(finish\): members trust the new CA only/);
        assert.match(finish.changes[2], /restart \(trusted CA bundle\)/);
        assert.match(reviewTransition(at(2, "trust-both"), at(2, "trust-both"), ctx).changes[0], /is in phase 1 of 3 \(trust-both\); next: /);
        assert.deepEqual(reviewTransition(at(2, "trust-both"), at(1, "none"), ctx).refusals, [], "calling a rotation off in phase 1 is allowed");
        assert.deepEqual(reviewTransition(at(1, "none"), at(2, "trust-both", { keyAlgorithm: "RSA" }), ctx).refusals, [], "a new key algorithm starts a rotation");
        const refused: [ClusterRecord, ClusterRecord, RegExp][] = [
            [at(1, "none"), at(2, "reissue"), /starts with caRotation: trust-both/],
            [at(1, "none"), at(3, "trust-both"), /not a step of a rotation.*Next allowed: caGeneration: 2 with caRotation: trust-both/],
            [at(2, "trust-both"), at(2, "none"), /not a step.*Next allowed: caRotation: reissue/],
            [at(2, "reissue"), at(2, "reissue", { keyAlgorithm: "RSA" }), /keyAlgorithm: a new key algorithm needs a new CA/],
            [at(1, "none"), at(2, "trust-both", { version: "3.6.17" }), /a CA rotation is running .*other changes wait until it is finished/],
            [at(2, "reissue"), at(2, "reissue", { members: [...base().members, member("etcd4", "10.0.0.14")] }), /other changes wait/],
        ];
        for (const [from, to, reason] of refused) {
            const r = reviewTransition(from, to, ctx);
            assert.equal(r.refusals.length, 1, JSON.stringify([from.ca, to.ca]));
            assert.match(r.refusals[0].reason, reason);
        }
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
            ca: { generation: 1, rotation: "none" },
            allowSmallCluster: false,
            members: ["etcd1", "etcd2", "etcd3"].map((name, i) => ({ name, address: `10.0.0.${11 + i}`, replacement: 0, config: `name: ${name}\n` })),
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

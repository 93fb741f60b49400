/**
 * The preview summary (tools/preview-summary) on real engine events: each fixture in
 * test/fixtures/preview-events is the event log of a real `pulumi preview` with the policy pack, of a
 * cluster deployed to the local test hosts or of a fresh stack (recorded by capture.sh there). Plus the attribution of every kind of plan line the
 * planner writes (components/plan/transition.ts), so a change of its wording cannot go unnoticed.
 */
import { describe, test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { RestoreRequest } from "../../components/restore/plan";
import { ClusterRecord, reviewTransition } from "../../components/plan/transition";
import { parseEventLog } from "../../tools/preview-summary/engineEvents";
import { attributePlanLines } from "../../tools/preview-summary/planLines";
import { previewBlocks, renderSummary } from "../../tools/preview-summary/render";
import { PreviewSummary, summarizePreview } from "../../tools/preview-summary/summarize";
import { ROOT } from "../support/hosts";
import { recordedCluster } from "../support/clusterRecord";

const fixture = (name: string): PreviewSummary => summarizePreview(parseEventLog(fs.readFileSync(path.join(ROOT, "test", "fixtures", "preview-events", `${name}.jsonl`), "utf8")));
const plans = (s: PreviewSummary) => Object.fromEntries(s.members.map((m) => [m.name, m.plan]));
const five = ["etcd1", "etcd2", "etcd3", "etcd4", "etcd5"];
const includes = (text: string, fragment: string) => assert.ok(text.includes(fragment), `expected ${JSON.stringify(fragment)} in:\n${text}`);

describe("preview summary from recorded engine events", () => {
    test("a fresh stack: every member founds the new cluster; nothing blocks", () => {
        const s = fixture("fresh");
        assert.equal(s.outcome, "ok");
        assert.equal(s.stack, "fresh");
        assert.deepEqual(s.cluster, ["new cluster: etcd1, etcd2, etcd3 bootstrap together (etcd 3.6.16)"]);
        assert.deepEqual(plans(s), {
            etcd1: ["new cluster: a founding member, bootstraps together with etcd2, etcd3 (etcd 3.6.16)"],
            etcd2: ["new cluster: a founding member, bootstraps together with etcd1, etcd3 (etcd 3.6.16)"],
            etcd3: ["new cluster: a founding member, bootstraps together with etcd1, etcd2 (etcd 3.6.16)"],
        });
        assert.deepEqual(s.members.map((m) => m.address), ["172.30.213.11", "172.30.213.12", "172.30.213.13"]);
        assert.equal(previewBlocks(s), false);
        assert.match(renderSummary(s), /^Preview of stack fresh: 56 to create\n/);
    });

    test("no change: every member says nothing", () => {
        const s = fixture("no-change");
        assert.deepEqual(s.resourceChanges, { same: 84 });
        assert.deepEqual(s.cluster, []);
        assert.deepEqual(s.members.map((m) => [m.name, m.plan.length, m.hostSteps.length]), five.map((n) => [n, 0, 0]));
        const text = renderSummary(s);
        for (const n of five) includes(text, `\n  ${n} (172.30.213.1${n.slice(-1)}):\n    nothing\n`);
        // The dev hosts' keys are not pinned: advisories only, which do not block.
        includes(text, "\nPolicy:\n  policy pack etcd-pulumi 0.1.0: 5 violation(s)\n  [advisory] etcd-host-keys-pinned (dev): member etcd1 (172.30.213.11): hostKey is not pinned");
        assert.ok(text.endsWith("\n  passed: etcd-members-odd, etcd-no-purge-in-prod, etcd-supported-version\nResult: ok\n"), text);
        assert.equal(previewBlocks(s), false);
    });

    test("one member's listen address changes: it restarts and says why; the others say nothing", () => {
        const s = fixture("restart-one");
        assert.deepEqual(plans(s), {
            etcd1: [],
            etcd2: [],
            etcd3: [],
            etcd4: ["restart (config: listen-client-urls, listen-peer-urls), only while the cluster is healthy, then wait until healthy and caught up"],
            etcd5: [],
        });
        includes(renderSummary(s), "\n  etcd4 (172.30.213.14):\n    restart (config: listen-client-urls, listen-peer-urls), only while");
    });

    test("two members removed from the config: each leaves first, then its service is stopped", () => {
        const s = fixture("leave");
        assert.deepEqual(s.members.map((m) => [m.name, m.inConfig]), [["etcd1", true], ["etcd2", true], ["etcd3", true], ["etcd4", false], ["etcd5", false]]);
        const leaving = s.members.filter((m) => !m.inConfig);
        for (const m of leaving) {
            assert.match(m.plan[0], /^leaves the cluster first \(member remove through a member that stays/);
            assert.match(m.plan[1], /^its etcd service is stopped and disabled/);
            assert.ok(m.hostSteps.every((h) => h.op === "delete") && m.hostSteps.length === 4, JSON.stringify(m.hostSteps));
        }
        assert.match(leaving[0].plan[0], /4 members, quorum 3\)$/);
        assert.match(leaving[1].plan[0], /3 members, quorum 2\)$/);
        assert.deepEqual(s.members.filter((m) => m.inConfig).map((m) => m.plan), [[], [], []]);
        includes(renderSummary(s), "\n  etcd5 (172.30.213.15), not in the stack config:\n    leaves the cluster first");
    });

    test("two members added: each joins as a learner with the member list it joins", () => {
        const s = fixture("join");
        assert.deepEqual(plans(s).etcd6, ["joins as a learner (initial-cluster-state existing, initial-cluster etcd1, etcd2, etcd3, etcd4, etcd5, etcd6), promoted once in sync, then the next"]);
        assert.match(plans(s).etcd7[0], /^joins as a learner \(.*initial-cluster etcd1, etcd2, etcd3, etcd4, etcd5, etcd6, etcd7\)/);
        assert.deepEqual(five.map((n) => plans(s)[n]), [[], [], [], [], []]);
    });

    test("an upgrade: the cluster-wide step comes first, then each member's restart with its reason", () => {
        const s = fixture("upgrade");
        assert.deepEqual(s.cluster, ["etcd 3.5.35 -> 3.6.16 (minor upgrade): verified snapshot on etcd1, new binaries on every member, then the restarts below"]);
        for (const n of five) assert.deepEqual(plans(s)[n], ["restart (binary 3.6.16), only while the cluster is healthy, then wait until healthy and caught up"]);
        const text = renderSummary(s);
        assert.ok(text.indexOf("Cluster:\n  etcd 3.5.35 -> 3.6.16") < text.indexOf("Members:"), text);
    });

    test("an SSH setting changes: nothing restarts; the host steps that run again are named", () => {
        const s = fixture("ssh-change");
        for (const m of s.members) {
            assert.deepEqual(m.plan, []);
            assert.deepEqual(m.hostSteps.map((h) => `${h.step}:${h.op}`).sort(), ["configure:update", "ready:update", "service:update", "upload:update"]);
        }
        includes(renderSummary(s), "\n  etcd1 (172.30.213.11):\n    nothing (no restart); host steps run again and find nothing to change: ");
    });

    test("a mandatory policy violation: the plan is still there, each violation has its level, rule and finding, and it blocks", () => {
        const s = fixture("policy-violation");
        assert.equal(s.outcome, "ok", "the preview itself completed (the engine's closing 'preview failed' is the policy's)");
        assert.deepEqual(s.errors, []);
        assert.deepEqual(plans(s).etcd4, ["new cluster: a founding member, bootstraps together with etcd1, etcd2, etcd3 (etcd 3.6.16)"]);
        assert.deepEqual(s.policy?.packs, ["etcd-pulumi 0.1.0"]);
        const [odd, ...advisories] = s.policy!.violations;
        assert.deepEqual([odd.level, odd.rule, odd.resource], ["mandatory", "etcd-members-odd", "even"]);
        assert.match(odd.message, /^members: 4 members \(etcd1, etcd2, etcd3, etcd4\) is an even count.*Fix: list an odd number of members/);
        assert.match(odd.description, /odd number of members/);
        assert.deepEqual(advisories.map((v) => `${v.level} ${v.rule} ${v.message.split(":")[0]}`), ["etcd1", "etcd2", "etcd3", "etcd4"].map((n) => `advisory etcd-host-keys-pinned member ${n} (172.30.213.1${n.slice(-1)})`));
        assert.deepEqual(s.policy?.passed, ["etcd-no-purge-in-prod", "etcd-supported-version"]);
        assert.equal(previewBlocks(s), true);
        const text = renderSummary(s);
        includes(text, "\n  [mandatory] etcd-members-odd (even): members: 4 members (etcd1, etcd2, etcd3, etcd4) is an even count");
        assert.match(text, /\nResult: BLOCKED \(a mandatory policy is violated\); pulumi up would not go ahead\n$/);
    });

    test("a refused change is marked REFUSED with the reason and the fix, and blocks the deploy", () => {
        const s = fixture("refused");
        assert.equal(s.outcome, "refused");
        assert.deepEqual(s.refusals.length, 1);
        assert.match(s.refusals[0], /^peerPort: changing 2380 -> 2390 on a deployed cluster .* set peerPort back to 2380$/);
        assert.equal(previewBlocks(s), true);
        const text = renderSummary(s);
        assert.ok(text.startsWith("Preview of stack dev: REFUSED, nothing will be changed\n  REFUSED: peerPort: changing 2380 -> 2390"), text);
        includes(text, "\n  etcd3 (172.30.213.13):\n    nothing (the change is refused)\n");
        assert.match(text, /Result: BLOCKED \(the preview was refused\)/);
    });
});

describe("plan lines: each kind the planner writes goes to its member or to the cluster", () => {
    const base = (over: Partial<ClusterRecord> = {}): ClusterRecord => recordedCluster(["etcd1", "etcd10", "next"], over);
    const ctx = { now: new Date("2026-11-22T00:00:00Z"), renewBeforeHours: 720 };
    const names = (r: ClusterRecord) => r.members.map((m) => m.name);
    const attribute = (from: ClusterRecord | undefined, to: ClusterRecord, restoreRequest?: RestoreRequest) => {
        const review = reviewTransition(from, to, { ...ctx, restoreRequest });
        assert.deepEqual(review.refusals, []);
        assert.ok(review.changes.length > 0);
        const a = attributePlanLines(review.changes, [...new Set([...names(to), ...(from ? names(from) : [])])]);
        return { cluster: a.cluster, member: Object.fromEntries(a.byMember) };
    };

    test("restart, new certificates, a member named like a prefix of another", () => {
        const r = attribute(base(), base({ members: base().members.map((m) => ({ ...m, config: m.config.replace("info", "warn") })), leafCertificates: { validityHours: 50000, extraSans: [] } }));
        assert.deepEqual(r.cluster, []);
        for (const n of ["etcd1", "etcd10", "next"]) {
            assert.equal(r.member[n].length, 2, n);
            assert.match(r.member[n][0], /^restart \(config: log-level\)/);
            assert.match(r.member[n][1], /^new leaf certificates/);
        }
    });

    test("join, leave and replace, each with the member's address in the prefix", () => {
        const grown = base({ members: [...base().members, { name: "etcd2", address: "10.0.0.20", replacement: 0, config: "name: etcd2\n" }] });
        assert.match(attribute(base(), grown).member.etcd2[0], /^joins as a learner/);
        const shrunk = attribute(grown, base());
        assert.match(shrunk.member.etcd2[0], /^leaves the cluster first/);
        assert.match(shrunk.member.etcd2[1], /^its etcd service is stopped/);
        const moved = attribute(base(), base({ members: base().members.map((m) => (m.name === "etcd10" ? { ...m, address: "10.0.0.99" } : m)) }));
        assert.match(moved.member.etcd10[0], /^replaced \(10\.0\.0\.12 -> 10\.0\.0\.99\)/);
        assert.equal(moved.member.etcd1, undefined);
    });

    test("cluster-wide: a new cluster and a restore (with each member's part), an upgrade, a CA rotation and its next step", () => {
        const fresh = attribute(undefined, base());
        assert.deepEqual(fresh.cluster, ["new cluster: etcd1, etcd10, next bootstrap together (etcd 3.6.16)"]);
        assert.deepEqual(fresh.member.next, ["new cluster: a founding member, bootstraps together with etcd1, etcd10 (etcd 3.6.16)"]);
        const upgrade = attribute(base({ version: "3.5.35" }), base());
        assert.match(upgrade.cluster[0], /^etcd 3\.5\.35 -> 3\.6\.16 \(minor upgrade\)/);
        const rotation = attribute(base(), base({ ca: { generation: 2, rotation: "trust-both" } }));
        assert.match(rotation.cluster[0], /^CA rotation to generation 2, phase 1 of 3/);
        assert.match(rotation.cluster[1], /^next: give clients the new caBundlePem/, "the rotation's next step, not the member called next");
        assert.deepEqual(rotation.member.next, ["restart (trusted CA bundle), only while the cluster is healthy, then wait until healthy and caught up"]);
        const file: RestoreRequest = { kind: "file", id: "s1", file: "/backups/etcd.db", sha256: "b".repeat(64), size: 1 << 20 };
        const restore = attribute(base(), base({ restore: { id: "s1" } }), file);
        assert.match(restore.cluster[0], /^RESTORE from \/backups\/etcd\.db .*every member \(etcd1, etcd10, next\) stops at once/);
        for (const n of ["etcd1", "etcd10", "next"]) {
            assert.deepEqual(restore.member[n], ["RESTORE: stops with every other member; its data dir is moved aside and restored from /backups/etcd.db; then it starts with the others"]);
        }
        const restoredFresh = attribute(undefined, base({ restore: { id: "s1" } }), file);
        assert.deepEqual(restoredFresh.member.etcd10.slice(1), ["RESTORE: starts from /backups/etcd.db"]);
        const store: RestoreRequest = { kind: "store", id: "s2", selector: "backup:latest", store: "s3://b/p", cluster: "42", time: "2026-12-01T10:00:00Z", objects: ["a", "b"], revision: 9, totalKey: 3, size: 1 << 20 };
        const fromStore = attribute(base(), base({ restore: { id: "s2" } }), store);
        assert.match(fromStore.cluster[0], /^RESTORE from backup:latest \(the backup of cluster 42 in s3:\/\/b\/p taken 2026-12-01T10:00:00Z: revision 9, 3 keys, 1\.0 MiB in a full base \+ 1 delta;/);
        assert.deepEqual(fromStore.member.etcd1, ["RESTORE: stops with every other member; its data dir is moved aside and restored from backup:latest; then it starts with the others"]);
    });
});

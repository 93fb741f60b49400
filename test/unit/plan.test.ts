import { test } from "node:test";
import * as assert from "node:assert/strict";
import { checkVersionChange, planMembership, PlanError } from "../../components/plan";
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

/**
 * The e2e tests' health poller (test/support/healthPoller.ts) against a real 3-member etcd on loopback (plain
 * http, from the release archive setup fetched): members that answer nothing (stopped with SIGSTOP) count as
 * unhealthy together, however the others answer, and a leadership hand-over among the members that run does
 * not make a second member count while one is down. The checks of every e2e operation rest on these counts.
 */
import { after, before, test } from "node:test";
import * as assert from "node:assert/strict";
import { ChildProcess, execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseEtcdJson } from "../../tools/status/observations";
import { etcdctl, releaseArchive } from "../support/etcdctl";
import { HealthPoller } from "../support/healthPoller";

const VERSION = process.env.ETCD_VERSION_DEFAULT ?? "3.6.16";
const NAMES = ["m1", "m2", "m3"];
// etcd reads ETCD_* variables as flags: the project's own (ETCD_PULUMI_ROOT, ...) stay out of its environment.
const ETCD_FREE_ENV = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("ETCD_")));
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

let dir = "";
let bin = "";
const procs = new Map<string, ChildProcess>();
// Ports out of the way of anything else the tests run (etcd's own defaults are 2379/2380).
const base = 42000 + (process.pid % 500) * 10;
const clientURL = (i: number) => `http://127.0.0.1:${base + i}`;
const peerURL = (i: number) => `http://127.0.0.1:${base + 5 + i}`;
const endpoints = NAMES.map((_, i) => clientURL(i)).join(",");

/** etcdctl on the local cluster; fails the test with etcdctl's own words. */
function ctl(args: string[], via = endpoints): string {
    const r = etcdctl(path.join(bin, "etcdctl"), via, {}, args, 10_000);
    if (r.status !== 0) throw new Error(`etcdctl ${args.join(" ")} via ${via}: ${r.stderr.trim()}`);
    return r.stdout;
}

async function untilHealthy(): Promise<void> {
    for (let i = 0; i < 100; i++) {
        if (etcdctl(path.join(bin, "etcdctl"), endpoints, {}, ["endpoint", "health"], 10_000).status === 0) return;
        await pause(200);
    }
    throw new Error(`the local etcd cluster in ${dir} did not become healthy in 20 s`);
}

before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "health-poller-"));
    execFileSync("tar", ["-xzf", releaseArchive(VERSION).archive, "-C", dir, "--strip-components=1"]);
    bin = dir;
    const cluster = NAMES.map((n, i) => `${n}=${peerURL(i)}`).join(",");
    NAMES.forEach((n, i) => {
        const args = [`--name=${n}`, `--data-dir=${path.join(dir, n)}`, `--listen-client-urls=${clientURL(i)}`, `--advertise-client-urls=${clientURL(i)}`,
            `--listen-peer-urls=${peerURL(i)}`, `--initial-advertise-peer-urls=${peerURL(i)}`, `--initial-cluster=${cluster}`, "--initial-cluster-token=poller-test", "--log-level=error"];
        procs.set(n, spawn(path.join(bin, "etcd"), args, { stdio: ["ignore", "ignore", "inherit"], env: ETCD_FREE_ENV }));
    });
    await untilHealthy();
});

after(() => {
    for (const p of procs.values()) {
        p.kill("SIGCONT");
        p.kill("SIGKILL");
    }
    fs.rmSync(dir, { recursive: true, force: true });
});

/** Member IDs (hex) and the leader's, from endpoint status through these endpoints. */
function status(via = endpoints): { ids: Map<string, string>; leader: string } {
    const st = parseEtcdJson(ctl(["endpoint", "status", "-w", "json"], via)) as { Endpoint: string; Status: { header: { member_id: string }; leader: string } }[];
    const hex = (id: string) => BigInt(id).toString(16);
    return { ids: new Map(st.map((s) => [NAMES[endpoints.split(",").indexOf(s.Endpoint)], hex(s.Status.header.member_id)])), leader: hex(st[0].Status.leader) };
}

test("two members that answer nothing count together, with why", async () => {
    const poller = new HealthPoller(path.join(bin, "etcdctl"), endpoints, {}).start();
    await pause(1000);
    for (const n of ["m2", "m3"]) procs.get(n)!.kill("SIGSTOP");
    // Long enough for whole samples (a member that hangs costs each etcdctl call its 2 s timeout).
    await pause(9000);
    for (const n of ["m2", "m3"]) procs.get(n)!.kill("SIGCONT");
    await untilHealthy();
    await pause(1000);
    const r = await poller.stop();
    assert.ok(r.maxUnhealthy >= 2, `expected at least 2 unhealthy at once, got ${r.maxUnhealthy} (${JSON.stringify(r)})`);
    for (const n of ["m2", "m3"]) assert.ok(r.worst.includes(n), `${n} in the worst sample: ${r.worstDetail}`);
    assert.match(r.worstDetail, /^at \d+ ms: /);
    for (const n of ["m2", "m3"]) assert.match(r.worstDetail, new RegExp(`\\b${n}: context deadline exceeded`), "each named with what it answered");
});

test("one member down while leadership moves between the other two: one unhealthy at a time", async () => {
    const poller = new HealthPoller(path.join(bin, "etcdctl"), endpoints, {}).start();
    await pause(500);
    const { ids, leader } = status();
    const live = `${clientURL(1)},${clientURL(2)}`;
    // m1 goes down; first make sure it does not lead, so that what follows is a hand-over between m2 and m3.
    if (leader === ids.get("m1")) ctl(["move-leader", ids.get("m2")!]);
    procs.get("m1")!.kill("SIGSTOP");
    try {
        for (let k = 0; k < 8; k++) {
            await pause(400);
            const to = status(live).leader === ids.get("m2") ? ids.get("m3")! : ids.get("m2")!;
            ctl(["move-leader", to], live);
        }
    } finally {
        procs.get("m1")!.kill("SIGCONT");
    }
    await untilHealthy();
    await pause(600);
    const r = await poller.stop();
    assert.equal(r.maxUnhealthy, 1, `one member was down; worst: ${r.worstDetail}`);
    assert.deepEqual(r.worst, ["m1"]);
    assert.ok(r.samples >= 4, `the poller sampled (${r.samples})`);
    console.log(`poller under hand-overs: ${r.samples} samples, worst ${r.worstDetail}; hand-over answers cleared: ${r.transient} ${r.transientDetail}`);
});

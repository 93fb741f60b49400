/**
 * The test-host harness itself: up, SSH as root and as the sudo user, host-to-host traffic, a systemd
 * notify service inside, stop/start keeping disk and host key, isolate/heal, growing to 5 hosts, and a
 * down that leaves no namespace, link, mount, process or cgroup behind (scripts/hosts/selftest.sh).
 * Then two host sets at once (ETCD_PULUMI_HOST_SET): the tests' own set and another one, each on its
 * own subnet, bridge and lock, unable to reach each other; stopping or taking down one leaves the other
 * running.
 *
 * The sets: ETCD_PULUMI_HOST_SET (default 0, the set every e2e file uses and takes down) and
 * ETCD_PULUMI_TEST_OTHER_HOST_SET (default: its partner, 0<->1, 2<->3). The other set is only used when
 * it is free (hosts or a bridge there belong to someone else: the test is skipped saying so), and only
 * taken down at the end while it still holds the hosts this test booted.
 */
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { HostSetInfo, hostSet, hostSetInfo, hostsInSet, hostsInventory, hostsUp, Inventory, onHost, onHostOk, ROOT, subnetAddress } from "../support/hosts";

test("test-host harness self-test", { timeout: 10 * 60 * 1000 }, () => {
    const r = spawnSync("bash", [path.join(ROOT, "scripts", "hosts", "selftest.sh")], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    process.stderr.write(r.stderr.split("\n").filter((l) => l.startsWith("[selftest]")).join("\n") + "\n");
    assert.equal(r.status, 0, `selftest failed:\n${r.stderr.slice(-3000)}`);
});

/** The second set of the two-set test. */
function otherSet(first: number): number {
    const v = process.env.ETCD_PULUMI_TEST_OTHER_HOST_SET ?? "";
    if (v === "") return first ^ 1;
    if (!/^[0-5]$/.test(v) || Number(v) === first) throw new Error(`ETCD_PULUMI_TEST_OTHER_HOST_SET must be 0..5 and not ETCD_PULUMI_HOST_SET (${first}); got '${v}'`);
    return Number(v);
}

/** Why a set is someone else's (hosts or a bridge exist), or undefined when it is free. */
function inUse(info: HostSetInfo): string | undefined {
    const n = hostsInventory(info.hostSet).hosts.length;
    if (n > 0) return `${n} host(s) exist there`;
    if (spawnSync("ip", ["link", "show", info.bridge], { stdio: "ignore" }).status === 0) return `its bridge ${info.bridge} exists`;
    return undefined;
}

const lines = (cmd: string, args: string[]) => (spawnSync(cmd, args, { encoding: "utf8" }).stdout ?? "").split("\n").filter((l) => l !== "");

/** What of one set is still on this machine: namespaces, links, mounts, nspawn processes, cgroups. */
function leftovers(info: HostSetInfo): string[] {
    return [
        ...lines("ip", ["netns", "list"]).filter((l) => l.startsWith(info.netnsPrefix)),
        ...lines("ip", ["-o", "link", "show"]).filter((l) => l.includes(`${info.bridge}:`) || l.includes(info.vethPrefix)),
        ...fs.readFileSync("/proc/self/mounts", "utf8").split("\n").filter((l) => l.includes(`${info.runDir}/`) || l.includes(`${info.runDir} `)),
        ...lines("pgrep", ["-a", "systemd-nspawn"]).filter((l) => l.includes(`--directory=${info.runDir}/`)),
        ...lines("find", ["/sys/fs/cgroup", "-maxdepth", "2", "-name", info.cgroup]),
    ];
}

const lockHeld = (file: string) => spawnSync("flock", ["-n", file, "true"]).status !== 0;
const pidOf = (info: HostSetInfo, name: string) => fs.readFileSync(path.join(info.runDir, name, "nspawn.pid"), "utf8").trim();
const reaches = (inv: Inventory, from: string, address: string) => ({
    ping: onHost(inv, from, `ping -c1 -W2 ${address}`).status === 0,
    ssh: onHost(inv, from, `timeout 3 bash -c '</dev/tcp/${address}/22'`).status === 0,
});

test("two host sets at once: own subnets, names, locks and MACs; no traffic between them; stop and down of one leave the other running", { timeout: 10 * 60 * 1000 }, (t) => {
    const a = hostSet();
    const b = otherSet(a);
    const [infoA, infoB] = [hostSetInfo(a), hostSetInfo(b)];
    const busy = inUse(infoB);
    if (busy) {
        t.skip(`host set ${b} is in use (${busy}) and not ours to take down; pick a free one with ETCD_PULUMI_TEST_OTHER_HOST_SET`);
        return;
    }
    console.log(`host sets ${a} (${infoA.subnet}) and ${b} (${infoB.subnet})`);
    for (const k of ["subnet", "gateway", "bridge", "netnsPrefix", "vethPrefix", "machinePrefix", "cgroup", "runDir", "inventoryPath", "knownHostsPath", "lockPath"] as const) {
        assert.notEqual(infoA[k], infoB[k], `both sets have the same ${k}`);
    }
    for (const k of ["rootfs", "rootfsLockPath", "sshKeyPath"] as const) assert.equal(infoA[k], infoB[k], `the sets must share ${k}`);
    for (const i of [infoA, infoB]) assert.ok(`${i.vethPrefix}etcd7`.length <= 15 && i.bridge.length <= 15, "interface names longer than 15 characters");

    hostsInSet(a, "down"); // the tests' own set, as every e2e file does
    let bUp = false;
    let invB: Inventory | undefined;
    try {
        const invA = hostsUp(2, a);
        // While someone holds set A's lock (e.g. a long `up` there), set B's `up` goes ahead.
        const holder = spawn("bash", ["-c", 'exec 7>"$1" && flock -x 7 && exec sleep 600', "hold-lock", infoA.lockPath], { stdio: "ignore" });
        try {
            const deadline = Date.now() + 10_000;
            while (!lockHeld(infoA.lockPath)) {
                assert.ok(Date.now() < deadline, `could not take ${infoA.lockPath}`);
                spawnSync("sleep", ["0.1"]);
            }
            bUp = true;
            invB = hostsUp(2, b);
            assert.ok(lockHeld(infoA.lockPath), `set ${a}'s lock was not held during set ${b}'s up`);
        } finally {
            holder.kill("SIGKILL");
        }
        assert.ok(invB);

        // Same names, each set on its own addresses, MACs and host keys.
        for (const [inv, set] of [[invA, a], [invB, b]] as const) {
            assert.equal(inv.hostSet, set);
            assert.deepEqual(inv.hosts.map((h) => [h.name, h.address, h.running]), [["etcd1", subnetAddress(inv, 11), true], ["etcd2", subnetAddress(inv, 12), true]]);
        }
        assert.notEqual(invA.subnet, invB.subnet);
        assert.notEqual(invA.hosts[0].hostKey, invB.hosts[0].hostKey, "etcd1 of both sets has the same host key");
        const macs: string[] = [];
        for (const inv of [invA, invB]) {
            for (const h of inv.hosts) {
                const out = onHostOk(inv, h.name, "hostname; ip -4 -o addr show dev eth0; ip -o link show dev eth0; getent hosts etcd1 etcd2 etcdp-gw");
                const [hostname] = out.split("\n");
                assert.equal(hostname, h.name);
                assert.match(out, new RegExp(` inet ${h.address.replace(/\./g, "\\.")}/24 `), `${h.name} of set ${inv.hostSet} is not on ${h.address}`);
                const names = Object.fromEntries([...out.matchAll(/^(\d+\.\d+\.\d+\.\d+)\s+(\S+)$/gm)].map((m) => [m[2], m[1]]));
                assert.deepEqual(names, { etcd1: inv.hosts[0].address, etcd2: inv.hosts[1].address, "etcdp-gw": inv.gateway }, `/etc/hosts of ${h.name} in set ${inv.hostSet}`);
                macs.push(/link\/ether (\S+)/.exec(out)![1]);
            }
        }
        assert.equal(new Set(macs).size, 4, `MAC addresses not distinct: ${macs.join(" ")}`);

        // Within a set the hosts talk; across sets nothing gets through, not even to the other bridge's address.
        assert.deepEqual(reaches(invB, "etcd1", invB.hosts[1].address), { ping: true, ssh: true });
        for (const target of [invA.hosts[0].address, invA.hosts[1].address, invA.gateway]) {
            assert.deepEqual(reaches(invB, "etcd1", target), { ping: false, ssh: false }, `set ${b}'s etcd1 reaches ${target} of set ${a}`);
        }
        assert.deepEqual(reaches(invA, "etcd2", invB.hosts[0].address), { ping: false, ssh: false }, `set ${a}'s etcd2 reaches set ${b}'s etcd1`);

        // Stopping set B's etcd1 stops that one, not set A's etcd1; down of set B leaves set A as it was.
        const pidsA = invA.hosts.map((h) => pidOf(infoA, h.name));
        const stopped = JSON.parse(hostsInSet(b, "stop", "etcd1")) as Inventory;
        assert.deepEqual(stopped.hosts.map((h) => [h.name, h.running]), [["etcd1", false], ["etcd2", true]]);
        assert.deepEqual(hostsInventory(a).hosts.map((h) => [h.name, h.running]), [["etcd1", true], ["etcd2", true]]);
        hostsInSet(b, "down");
        bUp = false;
        assert.deepEqual(hostsInventory(b).hosts, []);
        assert.deepEqual(leftovers(infoB), [], `set ${b} left things behind`);
        assert.deepEqual(hostsInventory(a).hosts.map((h) => [h.name, h.running]), [["etcd1", true], ["etcd2", true]]);
        assert.deepEqual(invA.hosts.map((h) => pidOf(infoA, h.name)), pidsA, `set ${a}'s hosts were restarted`);
        for (const h of invA.hosts) assert.equal(onHostOk(invA, h.name, "hostname").trim(), h.name);
    } finally {
        // Set B is not ours: take it down only while it holds what this test booted (nobody took it over).
        const ours = new Set(invB?.hosts.map((h) => h.hostKey));
        if (bUp && (invB === undefined || hostsInventory(b).hosts.every((h) => ours.has(h.hostKey)))) hostsInSet(b, "down");
        else if (bUp) console.log(`host set ${b} has hosts this test did not boot: left as it is`);
        hostsInSet(a, "down");
    }
    assert.deepEqual(leftovers(infoA), [], `set ${a} left things behind`);
});

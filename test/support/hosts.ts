/** The local test hosts (scripts/hosts.sh) as seen from tests. */
import { execFileSync, spawnSync } from "node:child_process";
import * as path from "node:path";

export const ROOT = path.resolve(__dirname, "..", "..", "..");

export interface HostInfo {
    name: string;
    address: string;
    sshPort: number;
    hostKey: string;
    running: boolean;
}

export interface Inventory {
    /** The host set (ETCD_PULUMI_HOST_SET) these hosts belong to. */
    hostSet: number;
    /** The set's subnet, e.g. "172.30.213.0/24", and this machine's address on it (".1"). */
    subnet: string;
    gateway: string;
    sshKeyPath: string;
    sshUser: string;
    knownHostsPath: string;
    hosts: HostInfo[];
}

/** What identifies a host set on this machine (`hosts.sh info`). */
export interface HostSetInfo {
    hostSet: number;
    subnet: string;
    gateway: string;
    bridge: string;
    netnsPrefix: string;
    vethPrefix: string;
    machinePrefix: string;
    cgroup: string;
    runDir: string;
    inventoryPath: string;
    knownHostsPath: string;
    lockPath: string;
    sshKeyPath: string;
    rootfs: string;
    rootfsLockPath: string;
}

/**
 * The host set the tests use: ETCD_PULUMI_HOST_SET (0..5, default 0), which scripts/hosts.sh reads too.
 * Two test runs on one machine with different sets never touch each other's hosts.
 */
export function hostSet(): number {
    const v = process.env.ETCD_PULUMI_HOST_SET ?? "";
    if (v === "") return 0;
    if (!/^[0-5]$/.test(v)) throw new Error(`ETCD_PULUMI_HOST_SET must be 0..5 (got '${v}')`);
    return Number(v);
}

/** Run scripts/hosts.sh in a given host set; its stdout is JSON for up/inventory/ls/info. */
export function hostsInSet(set: number, ...args: string[]): string {
    return execFileSync("bash", [path.join(ROOT, "scripts", "hosts.sh"), ...args], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "inherit"],
        timeout: 20 * 60 * 1000,
        env: { ...process.env, ETCD_PULUMI_HOST_SET: String(set) },
    });
}

/** Run scripts/hosts.sh in the tests' host set (hostSet()). */
export function hosts(...args: string[]): string {
    return hostsInSet(hostSet(), ...args);
}

export function hostsUp(n: number, set = hostSet()): Inventory {
    return JSON.parse(hostsInSet(set, "up", String(n))) as Inventory;
}

/** The hosts that exist in a set (running or not), changing nothing. */
export function hostsInventory(set = hostSet()): Inventory {
    return JSON.parse(hostsInSet(set, "inventory")) as Inventory;
}

export function hostSetInfo(set = hostSet()): HostSetInfo {
    return JSON.parse(hostsInSet(set, "info")) as HostSetInfo;
}

/** A test host's address (from the inventory). */
export function hostAddress(inv: Inventory, name: string): string {
    const h = inv.hosts.find((x) => x.name === name);
    if (!h) throw new Error(`no test host ${name}`);
    return h.address;
}

/** Another address in the hosts' subnet, e.g. subnetAddress(inv, 24): one no test host has. */
export function subnetAddress(inv: Inventory, last: number): string {
    const m = /^(\d+\.\d+\.\d+)\.0\/24$/.exec(inv.subnet);
    if (!m) throw new Error(`unexpected test-host subnet '${inv.subnet}'`);
    return `${m[1]}.${last}`;
}

export interface RunResult {
    status: number;
    stdout: string;
    stderr: string;
}

/** Run a command on a test host as root over SSH (the harness key). */
export function onHost(inv: Inventory, name: string, command: string, timeoutMs = 60_000): RunResult {
    const h = inv.hosts.find((x) => x.name === name);
    if (!h) throw new Error(`no test host ${name}`);
    const r = spawnSync(
        "ssh",
        ["-i", inv.sshKeyPath, "-p", String(h.sshPort), "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=5", `root@${h.address}`, command],
        { encoding: "utf8", timeout: timeoutMs },
    );
    return { status: r.status ?? -1, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

/** Like onHost, but throws on a non-zero exit. */
export function onHostOk(inv: Inventory, name: string, command: string): string {
    const r = onHost(inv, name, command);
    if (r.status !== 0) throw new Error(`${name}: '${command}' exited ${r.status}: ${r.stderr}`);
    return r.stdout;
}

/** When etcd last started on a host (changes on every restart). `host` is a name or an address. */
export function etcdStartStamp(inv: Inventory, host: string): string {
    const h = inv.hosts.find((x) => x.name === host || x.address === host);
    if (!h) throw new Error(`no test host ${host}`);
    return onHostOk(inv, h.name, "systemctl show etcd -p ExecMainStartTimestampMonotonic --value").trim();
}

/** The `members` stack config for the named test hosts, host keys pinned. */
export function stackMembers(inv: Inventory, names: string[]): { name: string; address: string; hostKey: string }[] {
    return inv.hosts.filter((h) => names.includes(h.name)).map((h) => ({ name: h.name, address: h.address, hostKey: h.hostKey }));
}

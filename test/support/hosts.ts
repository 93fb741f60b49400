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
    sshKeyPath: string;
    sshUser: string;
    hosts: HostInfo[];
}

/** Run scripts/hosts.sh; its stdout is JSON for up/inventory/ls. */
export function hosts(...args: string[]): string {
    return execFileSync("bash", [path.join(ROOT, "scripts", "hosts.sh"), ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], timeout: 20 * 60 * 1000 });
}

export function hostsUp(n: number): Inventory {
    return JSON.parse(hosts("up", String(n))) as Inventory;
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

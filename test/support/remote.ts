/** Runs host steps over real SSH exactly as the command provider does: the script as the command, data on stdin. */
import { spawn } from "node:child_process";
import { Inventory } from "./hosts";

export interface StepResult {
    status: number;
    stdout: string;
    stderr: string;
    ms: number;
}

export function sshArgs(inv: Inventory, user: string, address: string): string[] {
    return ["-i", inv.sshKeyPath, "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=5", `${user}@${address}`];
}

export function runRemote(inv: Inventory, user: string, address: string, command: string, stdin = "", timeoutMs = 300_000): Promise<StepResult> {
    const t0 = Date.now();
    return new Promise((resolve) => {
        const child = spawn("ssh", [...sshArgs(inv, user, address), command], { timeout: timeoutMs });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => (stdout += d));
        child.stderr.on("data", (d) => (stderr += d));
        child.on("close", (code) => resolve({ status: code ?? -1, stdout, stderr, ms: Date.now() - t0 }));
        child.stdin.end(stdin);
    });
}

export function copyTo(inv: Inventory, user: string, address: string, local: string, remotePath: string): Promise<StepResult> {
    const t0 = Date.now();
    return new Promise((resolve) => {
        const args = sshArgs(inv, user, address);
        const target = args.pop()!;
        const child = spawn("scp", ["-q", ...args, local, `${target}:${remotePath}`]);
        let stderr = "";
        child.stderr.on("data", (d) => (stderr += d));
        child.on("close", (code) => resolve({ status: code ?? -1, stdout: "", stderr, ms: Date.now() - t0 }));
    });
}

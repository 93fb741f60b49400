/**
 * Runs one command on a host from the deployer with the OpenSSH client, bounded: at most `attempts`
 * dials of at most `connectTimeoutSeconds` each, the session itself at most `runTimeoutSeconds`. The
 * private key is written for the client to a private temp dir (0700, the key 0600) and removed when the
 * run ends; it never appears on a command line. The outcome says whether the host was reached at all.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { renderSshClientConfig, SshRoute, TARGET_ALIAS } from "./clientConfig";

export interface SshRunLimits {
    /** Dials before the host counts as unreachable (the stack's sshDialErrorLimit). */
    attempts: number;
    /** Bound on each dial (the stack's sshPerDialTimeout). */
    connectTimeoutSeconds: number;
    /** Bound on the whole session once connected. */
    runTimeoutSeconds: number;
}

export interface SshRunResult {
    /** ok: exit 0. failed: the command ran and exited non-zero. unreachable: no session (dial, auth, host key, no client). */
    outcome: "ok" | "failed" | "unreachable";
    exitCode: number | null;
    stdout: string;
    stderr: string;
    attempts: number;
    seconds: number;
    /** The last meaningful line of stderr (ssh's reason, or the script's failure). */
    reason: string;
}

/** ssh exits 255 for its own errors (cannot connect, authenticate or verify the host); anything else came from the command. */
const SSH_ERROR = 255;

function lastLine(text: string): string {
    return text.split("\n").map((l) => l.trim()).filter((l) => l !== "").pop() ?? "";
}

interface Attempt {
    code: number | null;
    stdout: string;
    stderr: string;
    spawnError?: string;
}

function once(configFile: string, remoteCommand: string, stdin: string, timeoutMs: number): Promise<Attempt> {
    return new Promise((resolve) => {
        const child = spawn("ssh", ["-F", configFile, "-T", TARGET_ALIAS, remoteCommand], { stdio: ["pipe", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        let settled = false;
        // Declared before use: Pulumi's closure serializer (this runs inside a dynamic provider) needs that.
        let timer: NodeJS.Timeout | undefined = undefined;
        const finish = (r: Attempt) => {
            if (settled) return;
            settled = true;
            if (timer) clearTimeout(timer);
            resolve(r);
        };
        timer = setTimeout(() => {
            child.kill("SIGKILL");
            finish({ code: SSH_ERROR, stdout, stderr: `${stderr}\nno answer within ${Math.round(timeoutMs / 1000)} s` });
        }, timeoutMs);
        child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
        child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        child.stdin.on("error", () => undefined); // a host that hangs up early closes our stdin: the exit code tells
        child.on("error", (e: NodeJS.ErrnoException) => finish({ code: null, stdout, stderr, spawnError: e.code === "ENOENT" ? "the OpenSSH client (ssh) is not installed on the deployer" : e.message }));
        child.on("close", (code) => finish({ code, stdout, stderr }));
        child.stdin.end(stdin);
    });
}

export async function runOverSsh(route: SshRoute, privateKey: string, remoteCommand: string, stdin: string, limits: SshRunLimits): Promise<SshRunResult> {
    const t0 = Date.now();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "etcd-pulumi-ssh-"));
    try {
        fs.chmodSync(dir, 0o700);
        const files = { identityFile: path.join(dir, "id"), knownHostsFile: path.join(dir, "known_hosts") };
        // OpenSSH refuses a key file without its final newline.
        fs.writeFileSync(files.identityFile, privateKey.endsWith("\n") ? privateKey : `${privateKey}\n`, { mode: 0o600 });
        const { config, knownHosts } = renderSshClientConfig(route, files, limits.connectTimeoutSeconds);
        fs.writeFileSync(files.knownHostsFile, knownHosts, { mode: 0o600 });
        const configFile = path.join(dir, "config");
        fs.writeFileSync(configFile, config, { mode: 0o600 });
        const hops = route.bastion ? 2 : 1;
        const timeoutMs = (hops * limits.connectTimeoutSeconds + limits.runTimeoutSeconds) * 1000;
        const attempts = Math.max(1, limits.attempts);
        let last: Attempt = { code: null, stdout: "", stderr: "" };
        for (let n = 1; n <= attempts; n++) {
            last = await once(configFile, remoteCommand, stdin, timeoutMs);
            const seconds = (Date.now() - t0) / 1000;
            if (last.spawnError) return { outcome: "unreachable", exitCode: null, stdout: "", stderr: last.spawnError, attempts: n, seconds, reason: last.spawnError };
            if (last.code !== SSH_ERROR) {
                return { outcome: last.code === 0 ? "ok" : "failed", exitCode: last.code, stdout: last.stdout, stderr: last.stderr, attempts: n, seconds, reason: lastLine(last.stderr) };
            }
            if (n < attempts) await new Promise((r) => setTimeout(r, 1000));
        }
        return { outcome: "unreachable", exitCode: last.code, stdout: last.stdout, stderr: last.stderr, attempts, seconds: (Date.now() - t0) / 1000, reason: lastLine(last.stderr) || "ssh failed" };
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

/**
 * Debian's Prometheus on this machine (package `prometheus`, which brings promtool): for the rule unit
 * tests and the live scrape test. npm test installs it when missing (scripts/test.sh); a run without it
 * fails with the fix, never skips.
 */
import { ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";

function binary(name: string): string {
    const found = spawnSync("bash", ["-c", `command -v ${name}`], { encoding: "utf8" }).stdout.trim();
    if (!found) throw new Error(`${name} not found: install Debian's prometheus package (apt-get install --no-install-recommends prometheus); npm test does it when it runs as root`);
    return found;
}

export const promtool = (): string => binary("promtool");

export interface PromtoolResult {
    status: number;
    output: string;
}

export function runPromtool(args: string[], cwd: string): PromtoolResult {
    const r = spawnSync(promtool(), args, { cwd, encoding: "utf8", timeout: 120_000 });
    return { status: r.status ?? -1, output: `${r.stdout ?? ""}${r.stderr ?? ""}` };
}

/** A free TCP port on 127.0.0.1 (asked from the kernel, then released). */
export async function freeLocalPort(): Promise<number> {
    return await new Promise((resolve, reject) => {
        const srv = net.createServer();
        srv.on("error", reject);
        srv.listen(0, "127.0.0.1", () => {
            const port = (srv.address() as net.AddressInfo).port;
            srv.close(() => resolve(port));
        });
    });
}

export interface RunningPrometheus {
    url: string;
    process: ChildProcess;
    logFile: string;
    stop(): Promise<void>;
}

/** Prometheus on 127.0.0.1 only, with its own storage under `dir`, reading `dir`/prometheus.yml. */
export async function startPrometheus(dir: string): Promise<RunningPrometheus> {
    const port = await freeLocalPort();
    const logFile = path.join(dir, "prometheus.log");
    const log = fs.openSync(logFile, "w");
    const child = spawn(
        binary("prometheus"),
        [
            `--config.file=${path.join(dir, "prometheus.yml")}`,
            `--storage.tsdb.path=${path.join(dir, "data")}`,
            `--web.listen-address=127.0.0.1:${port}`,
            "--storage.tsdb.retention.time=1h",
        ],
        { stdio: ["ignore", log, log] },
    );
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
        if (child.exitCode !== null) throw new Error(`prometheus exited ${child.exitCode}: ${fs.readFileSync(logFile, "utf8").slice(-2000)}`);
        try {
            if ((await fetch(`${url}/-/ready`)).status === 200) break;
        } catch {
            /* not listening yet */
        }
        await new Promise((r) => setTimeout(r, 250));
    }
    return {
        url,
        process: child,
        logFile,
        stop: async () => {
            if (child.exitCode !== null) return;
            const exited = new Promise((r) => child.once("exit", r));
            child.kill("SIGTERM");
            await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
            if (child.exitCode === null) child.kill("SIGKILL");
        },
    };
}

export interface Sample {
    metric: Record<string, string>;
    value: number;
}

/** An instant query through Prometheus' HTTP API. */
export async function query(url: string, expr: string): Promise<Sample[]> {
    const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = (await res.json()) as { status: string; error?: string; data?: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] } };
    if (body.status !== "success" || !body.data) throw new Error(`query ${expr}: ${body.error ?? res.status}`);
    return body.data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
}

/** Poll until `check` holds for the query's result, or throw with the last result. */
export async function waitForQuery(url: string, expr: string, check: (s: Sample[]) => boolean, timeoutMs: number, label: string): Promise<{ samples: Sample[]; seconds: number }> {
    const t0 = Date.now();
    let last: Sample[] = [];
    while (Date.now() - t0 < timeoutMs) {
        last = await query(url, expr);
        if (check(last)) return { samples: last, seconds: (Date.now() - t0) / 1000 };
        await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error(`${label}: not within ${timeoutMs / 1000} s; last result of ${expr}: ${JSON.stringify(last)}`);
}

/** promtool's version line, for the test report. */
export function promtoolVersion(): string {
    return execFileSync(promtool(), ["--version"], { encoding: "utf8" }).split("\n")[0];
}

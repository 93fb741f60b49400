/**
 * A bounded writer that puts sequential keys through the admin client (all endpoints, with retries)
 * while an operation runs, and reports the acknowledged writes and the longest stretch without one.
 */
import { execFile } from "node:child_process";
import { ClientCreds, etcdctl } from "./etcdctl";

export interface WriterReport {
    acknowledged: string[];
    /** When each acknowledged write was acknowledged (ms since epoch), in the same order. */
    acknowledgedAt: number[];
    /** Acknowledged keys that cannot be read back (filled by finish()). */
    lost: string[];
    attempts: number;
    longestGapMs: number;
    /** When the longest gap ended (ms since epoch). */
    longestGapEndedAt: number;
    /** The failed puts (when, and etcdctl's first error line), the last 500: what a stall was made of. */
    failures: WriteFailure[];
}

export interface WriteFailure {
    at: number;
    error: string;
}

/** The failures within the longest gap, one line each (time relative to the gap's start), for an assertion message. */
export function failuresInLongestGap(r: WriterReport): string {
    const start = r.longestGapEndedAt - r.longestGapMs;
    const within = r.failures.filter((f) => f.at >= start && f.at <= r.longestGapEndedAt);
    if (within.length === 0) return "no put failed within it (the writer itself was not scheduled)";
    return within.map((f) => `+${f.at - start} ms: ${f.error}`).join("; ");
}

export class Writer {
    private stopped = false;
    private readonly acknowledged: string[] = [];
    private readonly acknowledgedAt: number[] = [];
    private attempts = 0;
    private lastOk = Date.now();
    private longestGapMs = 0;
    private longestGapEndedAt = 0;
    private readonly failures: WriteFailure[] = [];
    private loop?: Promise<void>;

    constructor(private readonly bin: string, private readonly endpoints: string, private readonly creds: ClientCreds, private readonly prefix: string, private readonly maxWrites = 20000) {}

    start(): void {
        this.lastOk = Date.now();
        this.loop = this.run();
    }

    private put(key: string, value: string): Promise<boolean> {
        return new Promise((resolve) => {
            execFile(
                this.bin,
                [`--endpoints=${this.endpoints}`, `--cacert=${this.creds.caFile}`, `--cert=${this.creds.certFile}`, `--key=${this.creds.keyFile}`, "--dial-timeout=2s", "--command-timeout=3s", "put", key, value],
                { timeout: 8000 },
                (err, stdout, stderr) => {
                    const ok = !err && stdout.trim() === "OK";
                    if (!ok) {
                        const line = `${stderr}`.split("\n").find((l) => l.trim()) ?? (err ? err.message.split("\n")[0] : `stdout ${stdout.trim()}`);
                        this.failures.push({ at: Date.now(), error: line.trim().slice(0, 300) });
                        if (this.failures.length > 500) this.failures.shift();
                    }
                    resolve(ok);
                },
            );
        });
    }

    private async run(): Promise<void> {
        let i = 0;
        while (!this.stopped && i < this.maxWrites) {
            const key = `${this.prefix}/${String(i).padStart(6, "0")}`;
            this.attempts++;
            if (await this.put(key, `v${i}`)) {
                const now = Date.now();
                if (now - this.lastOk > this.longestGapMs) {
                    this.longestGapMs = now - this.lastOk;
                    this.longestGapEndedAt = now;
                }
                this.lastOk = now;
                this.acknowledged.push(key);
                this.acknowledgedAt.push(now);
                i++;
            } else {
                await new Promise((r) => setTimeout(r, 100));
            }
        }
    }

    /** Stop (idempotent) and report. */
    async stop(): Promise<WriterReport> {
        this.stopped = true;
        await this.loop;
        return { acknowledged: [...this.acknowledged], acknowledgedAt: [...this.acknowledgedAt], lost: [], attempts: this.attempts, longestGapMs: this.longestGapMs, longestGapEndedAt: this.longestGapEndedAt, failures: [...this.failures] };
    }

    /** Stop, then read every acknowledged key back (through `endpoints` with `creds`, default: the writer's own). */
    async finish(endpoints = this.endpoints, creds = this.creds): Promise<WriterReport> {
        const report = await this.stop();
        const keys = new Set(etcdctl(this.bin, endpoints, creds, ["get", `${this.prefix}/`, "--prefix", "--keys-only"], 60_000).stdout.split("\n").filter(Boolean));
        return { ...report, lost: report.acknowledged.filter((k) => !keys.has(k)) };
    }
}

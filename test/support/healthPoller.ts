/**
 * Polls the cluster while an operation runs: every ~500 ms, the member list (through any endpoint) and
 * the health of every started voting member. Reports the most members unhealthy at the same time
 * (learners and not-yet-started members do not count: they serve nothing yet; nor does a member removed
 * while the sample was taken: it is no longer the cluster's).
 */
import { execFile } from "node:child_process";
import { ClientCreds } from "./etcdctl";

export interface HealthReport {
    samples: number;
    /** Samples in which the member list could not be read at all. */
    unreachable: number;
    maxUnhealthy: number;
    /** The unhealthy members of the worst sample. */
    worst: string[];
    /** Why each member of the worst sample counted as unhealthy, and when (ms after the poller started). */
    worstDetail: string;
}

interface Member {
    name: string;
    clientURLs?: string[];
    isLearner?: boolean;
}

export class HealthPoller {
    private stopped = false;
    private loop?: Promise<void>;
    private readonly report: HealthReport = { samples: 0, unreachable: 0, maxUnhealthy: 0, worst: [], worstDetail: "" };
    private readonly t0 = Date.now();

    /** `nospaceServes`: a member whose only fault is a NOSPACE alarm still counts as healthy (it serves reads). */
    constructor(private readonly bin: string, private readonly endpoints: string, private readonly creds: ClientCreds, private readonly nospaceServes = false) {}

    private etcdctl(endpoints: string, args: string[]): Promise<{ ok: boolean; stdout: string }> {
        return new Promise((resolve) => {
            execFile(
                this.bin,
                [`--endpoints=${endpoints}`, `--cacert=${this.creds.caFile}`, `--cert=${this.creds.certFile}`, `--key=${this.creds.keyFile}`, "--dial-timeout=1s", "--command-timeout=2s", ...args],
                { timeout: 5000 },
                (err, stdout) => resolve({ ok: !err, stdout: String(stdout) }),
            );
        });
    }

    start(): this {
        this.loop = this.run();
        return this;
    }

    private async sample(): Promise<void> {
        const list = await this.etcdctl(this.endpoints, ["member", "list", "-w", "json"]);
        this.report.samples++;
        let members: Member[];
        try {
            members = (JSON.parse(list.stdout) as { members: Member[] }).members;
        } catch {
            this.report.unreachable++;
            return;
        }
        const voters = members.filter((m) => !m.isLearner && (m.clientURLs ?? []).length > 0);
        const at = Date.now() - this.t0;
        const health = await this.etcdctl(voters.map((m) => m.clientURLs![0]).join(","), ["endpoint", "health", "-w", "json"]);
        let healthy = new Set<string>();
        const errors = new Map<string, string>();
        try {
            const answers = JSON.parse(health.stdout) as { endpoint: string; health: boolean; error?: string }[];
            healthy = new Set(answers.filter((h) => h.health || (this.nospaceServes && /^Active Alarm\(s\): (NOSPACE )+$/.test(h.error ?? ""))).map((h) => h.endpoint));
            for (const h of answers) if (h.error) errors.set(h.endpoint, h.error);
        } catch {
            /* nothing parsed: every voter counts as unhealthy */
        }
        // A member removed between the two calls (scale in) is no longer the cluster's: ask again, count only those still listed.
        let still = new Set(voters.map((m) => m.name));
        const again = await this.etcdctl(this.endpoints, ["member", "list", "-w", "json"]);
        try {
            still = new Set((JSON.parse(again.stdout) as { members: Member[] }).members.map((m) => m.name));
        } catch {
            /* no second answer: keep the first list */
        }
        const unhealthy = voters.filter((m) => !healthy.has(m.clientURLs![0]) && still.has(m.name)).map((m) => m.name);
        if (unhealthy.length > this.report.maxUnhealthy) {
            this.report.maxUnhealthy = unhealthy.length;
            this.report.worst = unhealthy;
            const why = (m: Member) => `${m.name}: ${errors.get(m.clientURLs![0]) ?? "no answer"}`;
            this.report.worstDetail = `at ${at} ms: ${voters.filter((m) => unhealthy.includes(m.name)).map(why).join("; ")}`;
        }
    }

    private async run(): Promise<void> {
        while (!this.stopped) {
            const t0 = Date.now();
            await this.sample();
            await new Promise((r) => setTimeout(r, Math.max(0, 500 - (Date.now() - t0))));
        }
    }

    async stop(): Promise<HealthReport> {
        this.stopped = true;
        await this.loop;
        return { ...this.report, worst: [...this.report.worst] };
    }
}

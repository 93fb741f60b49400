/**
 * Polls the cluster while an operation runs: every ~500 ms, the member list (through any endpoint) and
 * the health of every started voting member. Reports the most members unhealthy at the same time
 * (learners and not-yet-started members do not count: they serve nothing yet; nor does a member removed
 * while the sample was taken: it is no longer the cluster's).
 */
import { execFile } from "node:child_process";
import { ClientCreds, tlsArgs } from "./etcdctl";

export interface HealthReport {
    samples: number;
    /** Samples in which the member list could not be read at all. */
    unreachable: number;
    maxUnhealthy: number;
    /** The unhealthy members of the worst sample. */
    worst: string[];
    /** Why each member of the worst sample counted as unhealthy, and when (ms after the poller started). */
    worstDetail: string;
    /** Samples in which a member of several unhealthy at once was healthy when asked again right away (not counted). */
    transient: number;
    /** The first of those: who, when, and what the first answer said. */
    transientDetail: string;
}

/**
 * What `endpoint health` reports for a member that serves, caught in a leadership hand-over: its quorum read went
 * through but the alarm list (a raft proposal) did not, or the leader changed under the read, or raft dropped the
 * proposal while leadership moved.
 */
const HANDOVER_ERROR = /^(Unable to fetch the alarm list|etcdserver: leader changed|.*raft proposal dropped)$/;

interface Member {
    name: string;
    clientURLs?: string[];
    isLearner?: boolean;
}

export class HealthPoller {
    private stopped = false;
    private loop?: Promise<void>;
    private readonly report: HealthReport = { samples: 0, unreachable: 0, maxUnhealthy: 0, worst: [], worstDetail: "", transient: 0, transientDetail: "" };
    private readonly t0 = Date.now();
    private lastVoters: Member[] = [];

    /** `nospaceServes`: a member whose only fault is a NOSPACE alarm still counts as healthy (it serves reads). */
    constructor(private readonly bin: string, private readonly endpoints: string, private readonly creds: ClientCreds, private readonly nospaceServes = false) {}

    private etcdctl(endpoints: string, args: string[]): Promise<{ ok: boolean; stdout: string }> {
        return new Promise((resolve) => {
            execFile(
                this.bin,
                [`--endpoints=${endpoints}`, ...tlsArgs(this.creds), "--dial-timeout=1s", "--command-timeout=2s", ...args],
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
        let voters: Member[];
        try {
            voters = (JSON.parse(list.stdout) as { members: Member[] }).members.filter((m) => !m.isLearner && (m.clientURLs ?? []).length > 0);
            this.lastVoters = voters;
        } catch {
            this.report.unreachable++;
            // No member answered the list (those that are down, or hang, took the time): the members last listed are asked all the same.
            if (this.lastVoters.length === 0) return;
            voters = this.lastVoters;
        }
        const at = Date.now() - this.t0;
        const first = await this.probe(voters);
        // A member removed between the two calls (scale in) is no longer the cluster's: ask again, count only those still listed.
        let still = new Set(voters.map((m) => m.name));
        const again = await this.etcdctl(this.endpoints, ["member", "list", "-w", "json"]);
        try {
            still = new Set((JSON.parse(again.stdout) as { members: Member[] }).members.map((m) => m.name));
        } catch {
            /* no second answer: keep the first list */
        }
        let unhealthy = voters.filter((m) => !first.healthy.has(m.clientURLs![0]) && still.has(m.name));
        const why = (m: Member) => `${m.name}: ${first.errors.get(m.clientURLs![0]) ?? "no answer"}`;
        let detail = unhealthy.map(why).join("; ");
        // More than one at once: a member that answered with what a leadership hand-over makes a serving member say (its
        // proposals, such as the health check's alarm list, dropped for a moment) is asked again at once. One that is
        // down, cut off or restarting answers nothing (a dial or deadline error) and is never asked again.
        const handover = unhealthy.length > 1 ? unhealthy.filter((m) => HANDOVER_ERROR.test(first.errors.get(m.clientURLs![0]) ?? "")) : [];
        if (handover.length > 0) {
            const second = await this.probe(handover);
            const cleared = handover.filter((m) => second.healthy.has(m.clientURLs![0]));
            if (cleared.length > 0) {
                this.report.transient++;
                if (!this.report.transientDetail) this.report.transientDetail = `at ${at} ms: ${cleared.map(why).join("; ")}, healthy when asked again`;
            }
            unhealthy = unhealthy.filter((m) => !cleared.includes(m));
            const askedAgain = (m: Member) => (handover.includes(m) ? `, asked again: ${second.errors.get(m.clientURLs![0]) ?? "no answer"}` : "");
            detail = unhealthy.map((m) => `${why(m)}${askedAgain(m)}`).join("; ");
        }
        if (unhealthy.length > this.report.maxUnhealthy) {
            this.report.maxUnhealthy = unhealthy.length;
            this.report.worst = unhealthy.map((m) => m.name);
            this.report.worstDetail = `at ${at} ms: ${detail}`;
        }
    }

    /** `endpoint health` of these members: the endpoints that answered healthy, and each error. */
    private async probe(members: Member[]): Promise<{ healthy: Set<string>; errors: Map<string, string> }> {
        const health = await this.etcdctl(members.map((m) => m.clientURLs![0]).join(","), ["endpoint", "health", "-w", "json"]);
        const healthy = new Set<string>();
        const errors = new Map<string, string>();
        try {
            for (const h of JSON.parse(health.stdout) as { endpoint: string; health: boolean; error?: string }[]) {
                if (h.health || (this.nospaceServes && /^Active Alarm\(s\): (NOSPACE )+$/.test(h.error ?? ""))) healthy.add(h.endpoint);
                if (h.error) errors.set(h.endpoint, h.error);
            }
        } catch {
            /* nothing parsed: every member asked counts as unhealthy */
        }
        return { healthy, errors };
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

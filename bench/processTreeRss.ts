/** Peak resident memory of this process's descendants (the Pulumi CLI, its language host, program and plugins), sampled from /proc. */
import * as fs from "node:fs";

function descendants(root: number): number[] {
    const parent = new Map<number, number>();
    for (const d of fs.readdirSync("/proc")) {
        if (!/^\d+$/.test(d)) continue;
        try {
            const stat = fs.readFileSync(`/proc/${d}/stat`, "utf8");
            parent.set(Number(d), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
        } catch {
            /* gone meanwhile */
        }
    }
    const out: number[] = [];
    const walk = (p: number) => {
        for (const [pid, pp] of parent) {
            if (pp === p) {
                out.push(pid);
                walk(pid);
            }
        }
    };
    walk(root);
    return out;
}

/** A process's resident memory in KiB and its command name (the kernel's, e.g. "pulumi-resource"), or undefined when it is gone. */
function rss(pid: number): { kb: number; name: string } | undefined {
    try {
        const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
        return { kb: Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0), name: /Name:\s+(\S+)/.exec(status)?.[1] ?? "?" };
    } catch {
        return undefined;
    }
}

/** The peak sum, in MiB, and the processes at that moment: "name MiB" each, largest first. */
export interface RssPeak {
    totalMb: number;
    processes: string[];
}

/** Samples every 100 ms until stopped; stop() returns the largest sum seen and what made it up. */
export function sampleDescendantRss(): { stop: () => RssPeak } {
    let peak: RssPeak = { totalMb: 0, processes: [] };
    const timer = setInterval(() => {
        const now = descendants(process.pid).map(rss).filter((r): r is { kb: number; name: string } => r !== undefined);
        const total = now.reduce((n, r) => n + r.kb, 0) / 1024;
        if (total > peak.totalMb) peak = { totalMb: total, processes: now.sort((a, b) => b.kb - a.kb).map((r) => `${r.name} ${Math.round(r.kb / 1024)}`) };
    }, 100);
    return {
        stop: () => {
            clearInterval(timer);
            return peak;
        },
    };
}

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

function rssKb(pid: number): number {
    try {
        return Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
    } catch {
        return 0;
    }
}

/** Samples every 100 ms until stopped; stop() returns the largest sum seen, in MiB. */
export function sampleDescendantRss(): { stop: () => number } {
    let peak = 0;
    const timer = setInterval(() => {
        const sum = descendants(process.pid).reduce((n, pid) => n + rssKb(pid), 0);
        peak = Math.max(peak, sum);
    }, 100);
    return {
        stop: () => {
            clearInterval(timer);
            return peak / 1024;
        },
    };
}

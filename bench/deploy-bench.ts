/**
 * `npm run bench`: the real thing, side by side with a baseline in the same run, on fresh local hosts.
 *
 * For 3, 5 and 7 members: a hand-written parallel-SSH deploy of the same secure cluster
 * (bench/baseline-deploy.sh) and a fresh `pulumi up` of the component. For 7 members also a no-op
 * `pulumi up` and a `pulumi preview`; for 5 a rolling restart through `pulumi up` (a config change)
 * under a writer: longest write gap and writes lost. Prints the figures, the ratios and the targets.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { hosts, hostsUp, Inventory, ROOT } from "../test/support/hosts";
import { localEtcdctl, releaseArchive, writeCreds } from "../test/support/etcdctl";
import { cleanup, setConfig, TestProject, testProject } from "../test/support/project";
import { pulumiUnavailable } from "../test/support/toolchain";
import { Writer } from "../test/support/writer";

const VERSION = "3.6.16";
const rows: [string, string][] = [];
/** Each figure is printed as soon as it is measured, and again in the table at the end. */
function row(figure: string, value: string): void {
    rows.push([figure, value]);
    console.log(`[bench] ${figure}: ${value}`);
}
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

async function timed<T>(fn: () => Promise<T> | T): Promise<[T, number]> {
    const t0 = Date.now();
    const r = await fn();
    return [r, Date.now() - t0];
}

function freshHosts(n: number): Inventory {
    hosts("down");
    return hostsUp(n);
}

function baseline(inv: Inventory, n: number): number {
    const members = inv.hosts.slice(0, n).map((h) => `${h.name}=${h.address}`);
    const t0 = Date.now();
    execFileSync("bash", [path.join(ROOT, "bench", "baseline-deploy.sh"), releaseArchive(VERSION).archive, inv.sshKeyPath, ...members], { stdio: ["ignore", "inherit", "inherit"], timeout: 5 * 60 * 1000 });
    return Date.now() - t0;
}

async function stackFor(inv: Inventory, n: number): Promise<TestProject> {
    const { archive, sums } = releaseArchive(VERSION);
    return testProject(`bench${n}`, {
        members: inv.hosts.slice(0, n).map((h) => ({ name: h.name, address: h.address, hostKey: h.hostKey })),
        sshUser: "root",
        sshPrivateKeyPath: inv.sshKeyPath,
        binary: { path: archive, sha256sums: sums },
        healthTimeoutSeconds: 60,
    });
}

function ratio(value: number, base: number, target: number): string {
    const r = value / base;
    return `${r.toFixed(2)}x (target <= ${target}x: ${r <= target ? "met" : "NOT met"})`;
}

async function bench(n: number): Promise<void> {
    const base = baseline(freshHosts(n), n);
    row(`baseline: parallel-SSH deploy to healthy mTLS, ${n} members`, secs(base));
    const inv = freshHosts(n);
    const p = await stackFor(inv, n);
    try {
        const [, up] = await timed(() => p.stack.up());
        const target = n === 3 ? 2.0 : n === 7 ? 1.6 : undefined;
        row(`pulumi up (fresh), ${n} members`, `${secs(up)}; vs baseline ${target ? ratio(up, base, target) : `${(up / base).toFixed(2)}x`}`);
        if (n === 7) {
            const [, noop] = await timed(() => p.stack.up());
            row(`no-op pulumi up, 7 members`, `${secs(noop)}; vs baseline(7) ${ratio(noop, base, 0.8)}`);
            const [, pv] = await timed(() => p.stack.preview());
            row(`pulumi preview (no changes), 7 members`, `${secs(pv)}; vs baseline(7) ${ratio(pv, base, 0.5)}`);
        }
        if (n === 5) {
            const out = (await p.stack.outputs()) as Record<string, { value: string }>;
            const creds = writeCreds(fs.mkdtempSync(path.join(os.tmpdir(), "bench-")), "admin", { ca: out.caCertPem.value, cert: out.adminCertPem.value, key: out.adminKeyPem.value });
            // The writer's own noise floor: the same writer for 10 s with nothing happening (one etcdctl process
            // per write on a 2-core machine that also runs every member).
            const quiet = new Writer(localEtcdctl(VERSION), out.clientEndpoints.value, creds, "/bench/quiet");
            quiet.start();
            await new Promise((r) => setTimeout(r, 10_000));
            const q = await quiet.finish();
            row(`writer alone for 10 s, 5 members, no operation`, `longest write gap ${q.longestGapMs} ms; ${q.acknowledged.length} writes, ${q.lost.length} lost`);
            const writer = new Writer(localEtcdctl(VERSION), out.clientEndpoints.value, creds, "/bench/roll");
            writer.start();
            await new Promise((r) => setTimeout(r, 1000));
            await setConfig(p, "logLevel", "warn");
            const [, roll] = await timed(() => p.stack.up());
            await new Promise((r) => setTimeout(r, 1000));
            const w = await writer.finish();
            row(
                `rolling restart of 5 members via pulumi up, under a writer`,
                `${secs(roll)}; longest write gap ${w.longestGapMs} ms (target <= 300 ms: ${w.longestGapMs <= 300 ? "met" : "NOT met"}); ${w.acknowledged.length} writes, ${w.lost.length} lost`,
            );
        }
    } finally {
        cleanup(p);
    }
}

async function main(): Promise<void> {
    const missing = pulumiUnavailable();
    if (missing) {
        console.error(`[bench] ${missing}: only the baseline can be measured`);
    }
    const sizes = (process.env.BENCH_SIZES ?? "3,5,7").split(",").map(Number);
    try {
        for (const n of sizes) {
            if (missing) row(`baseline: parallel-SSH deploy to healthy mTLS, ${n} members`, secs(baseline(freshHosts(n), n)));
            else await bench(n);
        }
    } finally {
        hosts("down");
    }
    console.log(`\nmachine: ${os.cpus().length} cores; etcd ${VERSION}\n\nfigure | value\n--- | ---`);
    for (const [k, v] of rows) console.log(`${k} | ${v}`);
}

main().catch((e) => {
    console.error(e);
    process.exit(1);
});

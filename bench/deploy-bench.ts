/**
 * `npm run bench -- deploy`: the component next to the fastest honest hand-written equivalent, in the same
 * run, on the same local hosts (booted once and left to settle; bench/reset-hosts.sh wipes them between
 * fresh deploys). Each figure is measured BENCH_REPEAT times (default 3) per side, and printed as the
 * median with the spread (min-max):
 *   - a fresh deploy of 3 and 7 members: bench/baseline-deploy.sh (per-member certificates made locally in
 *     parallel, one SSH session per member, all at once, then a poll for mTLS health) vs a fresh `pulumi up`;
 *   - for 7 members, a no-op `pulumi up` with its preview (the CLI's `pulumi up --yes`) and a `pulumi
 *     preview`, next to the fresh scripted deploy of 7;
 *   - a rolling restart of 5 members (one setting changed) through `pulumi up`, next to
 *     bench/baseline-rolling-restart.sh (sequential, health-gated) on a baseline-deployed cluster, each under
 *     a writer (test/support/gatewayWriter.ts: kept-alive puts through the JSON gateway, one every
 *     BENCH_WRITE_INTERVAL_MS, default 10) for the longest gap;
 *   - the peak resident memory of the CLI and its plugins (every descendant process) during the 7-member
 *     fresh deploy and the no-op up;
 *   - the CLI floor (bench/cliFloor.ts): a no-op up and a preview of a program with no resources, and of one
 *     with as many instant resources as the 7-member stack has: the part no component can remove.
 */
import { execFile, execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { hosts, hostsUp, Inventory, ROOT } from "../test/support/hosts";
import { localEtcdctl, releaseArchive, writeCreds } from "../test/support/etcdctl";
import { GatewayWriter } from "../test/support/gatewayWriter";
import { cleanup, setConfig, TestProject, testProject } from "../test/support/project";
import { pulumiUnavailable } from "../test/support/toolchain";
import { FloorProject, floorProject } from "./cliFloor";
import { RssPeak, sampleDescendantRss } from "./processTreeRss";

const VERSION = "3.6.16";
const REPEAT = Number(process.env.BENCH_REPEAT ?? 3);
// The writer during the rolling restarts puts one key every 10 ms (100 a second): a client load, not a
// CPU hog. Back to back (0) it takes a core of this 2-core machine from whichever side is being measured,
// and the component (engine, program, providers) needs more CPU than a shell script.
const WRITE_INTERVAL_MS = Number(process.env.BENCH_WRITE_INTERVAL_MS ?? 10);
const rows: string[][] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Spread {
    median: number;
    min: number;
    max: number;
}
function spread(samples: number[]): Spread {
    const s = [...samples].sort((a, b) => a - b);
    const mid = Math.floor(s.length / 2);
    return { median: s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2, min: s[0], max: s[s.length - 1] };
}
const fmt = (x: Spread, unit = "s") => `${x.median.toFixed(unit === "s" ? 1 : 0)} ${unit} (${x.min.toFixed(unit === "s" ? 1 : 0)}-${x.max.toFixed(unit === "s" ? 1 : 0)})`;

/** One row of the result: the figure, the component, the baseline, the ratio of medians and the target. */
function report(figure: string, value: Spread, base: Spread | undefined, target: number | undefined, unit = "s"): void {
    const ratio = base ? value.median / base.median : undefined;
    const verdict = target === undefined ? "" : (ratio ?? value.median) <= target ? "met" : "NOT met";
    const row = [figure, fmt(value, unit), base ? fmt(base, unit) : "-", ratio !== undefined ? `${ratio.toFixed(2)}x` : "-", target === undefined ? "-" : `<= ${target}${ratio !== undefined ? "x" : ` ${unit}`}`, verdict];
    rows.push(row);
    console.log(`[bench] ${row.join(" | ")}`);
}

const larger = (a: RssPeak, b: RssPeak) => (b.totalMb > a.totalMb ? b : a);

async function timed(fn: () => Promise<unknown> | unknown): Promise<number> {
    const t0 = Date.now();
    await fn();
    return (Date.now() - t0) / 1000;
}

async function resetHosts(inv: Inventory, n: number): Promise<void> {
    const script = fs.readFileSync(path.join(ROOT, "bench", "reset-hosts.sh"));
    await Promise.all(
        inv.hosts.slice(0, n).map(
            (h) =>
                new Promise<void>((resolve, reject) => {
                    const child = execFile("ssh", ["-i", inv.sshKeyPath, "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", `root@${h.address}`, "bash -s"], (e) => (e ? reject(e) : resolve()));
                    child.stdin?.end(script);
                }),
        ),
    );
}

const members = (inv: Inventory, n: number) => inv.hosts.slice(0, n).map((h) => `${h.name}=${h.address}`);

async function baselineDeploy(inv: Inventory, n: number): Promise<number> {
    await resetHosts(inv, n);
    return timed(() => execFileSync("bash", [path.join(ROOT, "bench", "baseline-deploy.sh"), releaseArchive(VERSION).archive, inv.sshKeyPath, ...members(inv, n)], { stdio: ["ignore", "inherit", "inherit"], timeout: 5 * 60 * 1000 }));
}

async function stackFor(inv: Inventory, n: number, name: string): Promise<TestProject> {
    const { archive, sums } = releaseArchive(VERSION);
    return testProject(name, {
        members: inv.hosts.slice(0, n).map((h) => ({ name: h.name, address: h.address, hostKey: h.hostKey })),
        sshUser: "root",
        sshPrivateKeyPath: inv.sshKeyPath,
        binary: { path: archive, sha256sums: sums },
        healthTimeoutSeconds: 60,
    });
}

/** The CLI itself, as a user runs it (`pulumi up --yes` previews first). */
function cli(p: TestProject | FloorProject, args: string[]): Promise<string> {
    const stackName = "stack" in p ? p.stack.name : p.stackName;
    return new Promise((resolve, reject) => {
        execFile("pulumi", [...args, "--stack", stackName, "--non-interactive"], { cwd: p.dir, env: { ...process.env, ...p.env }, maxBuffer: 64 * 1024 * 1024 }, (e, out, err) => (e ? reject(new Error(`pulumi ${args.join(" ")}: ${err}`)) : resolve(out)));
    });
}

/** Preview and no-op up of the CLI floor (bench/cliFloor.ts) with `resources` plain resources, REPEAT times each. */
async function floorFigures(resources: number, base: Spread): Promise<void> {
    const f = await floorProject(resources);
    try {
        const noop: number[] = [];
        for (let i = 0; i < REPEAT; i++) noop.push(await timed(() => cli(f, ["up", "--yes"])));
        report(`CLI floor: no-op pulumi up of a program with ${resources} plain resources`, spread(noop), base, undefined);
        const pv: number[] = [];
        for (let i = 0; i < REPEAT; i++) pv.push(await timed(() => cli(f, ["preview"])));
        report(`CLI floor: pulumi preview of a program with ${resources} plain resources`, spread(pv), base, undefined);
    } finally {
        fs.rmSync(f.dir, { recursive: true, force: true });
    }
}

async function main(): Promise<void> {
    const missing = pulumiUnavailable();
    if (missing) console.error(`[bench] ${missing}: only the baselines are measured`);
    hosts("down");
    const inv = hostsUp(7);
    await sleep(Number(process.env.BENCH_SETTLE_MS ?? 15_000)); // let the freshly booted hosts settle
    const bin = localEtcdctl(VERSION);
    const projects: TestProject[] = [];
    try {
        const base: Record<number, Spread> = {};
        for (const n of [3, 7]) {
            const samples: number[] = [];
            for (let i = 0; i < REPEAT; i++) samples.push(await baselineDeploy(inv, n));
            base[n] = spread(samples);
            report(`baseline: scripted deploy to healthy mTLS, ${n} members`, base[n], undefined, undefined);
        }
        if (!missing) {
            for (const n of [3, 7]) {
                const samples: number[] = [];
                let kept: TestProject | undefined;
                let rss: RssPeak = { totalMb: 0, processes: [] };
                for (let i = 0; i < REPEAT; i++) {
                    await resetHosts(inv, n);
                    const p = await stackFor(inv, n, `fresh${n}x${i}`);
                    projects.push(p);
                    const sampler = sampleDescendantRss();
                    samples.push(await timed(() => p.stack.up()));
                    rss = larger(rss, sampler.stop());
                    kept = p;
                }
                report(`pulumi up --skip-preview (fresh, as the Automation API runs it), ${n} members`, spread(samples), base[n], n === 3 ? 2.0 : 1.6);
                if (n === 7 && kept) {
                    const p = kept;
                    const noop: number[] = [];
                    for (let i = 0; i < REPEAT; i++) {
                        const sampler = sampleDescendantRss();
                        noop.push(await timed(() => cli(p, ["up", "--yes"])));
                        rss = larger(rss, sampler.stop());
                    }
                    report(`no-op pulumi up (with its preview), 7 members`, spread(noop), base[7], 1.0);
                    const pv: number[] = [];
                    for (let i = 0; i < REPEAT; i++) pv.push(await timed(() => cli(p, ["preview"])));
                    report(`pulumi preview (no changes), 7 members`, spread(pv), base[7], 0.5);
                    report(`peak RSS of the CLI and its plugins, 7 members (fresh up, no-op up)`, { median: rss.totalMb, min: rss.totalMb, max: rss.totalMb }, undefined, 400, "MB");
                    console.log(`[bench] at that peak (process MiB): ${rss.processes.join(", ")}`);
                    // What no component can remove: the same CLI running nothing, and running as many instant resources.
                    const count = (JSON.parse(await cli(p, ["stack", "export"])) as { deployment: { resources?: unknown[] } }).deployment.resources?.length ?? 0;
                    await floorFigures(0, base[7]);
                    await floorFigures(count, base[7]);
                }
            }
        }

        // Rolling restart of 5 members: the baseline on its own cluster first, then the component's.
        const roll = async (label: string, endpoints: string, creds: ReturnType<typeof writeCreds>, action: (i: number) => Promise<void>) => {
            const times: number[] = [];
            const gaps: number[] = [];
            for (let i = 0; i < REPEAT; i++) {
                const writer = new GatewayWriter(bin, endpoints, creds, `/bench/${label}/${i}`, WRITE_INTERVAL_MS).start();
                await sleep(1000);
                times.push(await timed(() => action(i)));
                await sleep(1000);
                const w = await writer.finish();
                if (w.lost.length > 0) throw new Error(`${label}: ${w.lost.length} acknowledged writes lost`);
                gaps.push(w.longestGapMs);
            }
            return { times: spread(times), gaps: spread(gaps) };
        };
        await resetHosts(inv, 5);
        const baseDir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-roll-"));
        const baseCa = path.join(baseDir, "work");
        execFileSync("bash", [path.join(ROOT, "bench", "baseline-deploy.sh"), releaseArchive(VERSION).archive, inv.sshKeyPath, ...members(inv, 5)], { stdio: ["ignore", "inherit", "inherit"], env: { ...process.env, BASELINE_KEEP_PKI: baseCa } });
        const baseCreds = { caFile: path.join(baseCa, "ca.crt"), certFile: path.join(baseCa, "admin.crt"), keyFile: path.join(baseCa, "admin.key") };
        const baseEndpoints = inv.hosts.slice(0, 5).map((h) => `https://${h.address}:2379`).join(",");
        // Asynchronous, so that the writer in this process keeps writing while the script runs.
        const baseRoll = await roll("baseline-roll", baseEndpoints, baseCreds, (i) =>
            new Promise<void>((resolve, reject) =>
                execFile("bash", [path.join(ROOT, "bench", "baseline-rolling-restart.sh"), inv.sshKeyPath, i % 2 ? "info" : "warn", ...members(inv, 5)], (e, _o, err) => (e ? reject(new Error(`baseline rolling restart: ${err}`)) : resolve())),
            ),
        );
        report(`baseline: sequential health-gated rolling restart, 5 members`, baseRoll.times, undefined, undefined);
        report(`baseline: longest write gap during its rolling restart`, baseRoll.gaps, undefined, undefined, "ms");
        if (!missing) {
            await resetHosts(inv, 5);
            const p = await stackFor(inv, 5, "roll5");
            projects.push(p);
            const out = (await p.stack.up()).outputs;
            const creds = writeCreds(fs.mkdtempSync(path.join(os.tmpdir(), "bench-")), "admin", { ca: out.caBundlePem.value, cert: out.adminCertPem.value, key: out.adminKeyPem.value });
            const mine = await roll("component-roll", out.clientEndpoints.value as string, creds, async (i) => {
                await setConfig(p, "logLevel", i % 2 ? "info" : "warn");
                await p.stack.up();
            });
            report(`rolling restart of 5 members via pulumi up --skip-preview (one setting changed)`, mine.times, baseRoll.times, 1.5);
            report(`longest write gap during the component's rolling restart`, mine.gaps, undefined, 300, "ms");
        }
    } finally {
        for (const p of projects) cleanup(p);
        hosts("down");
    }
    console.log(`\nmachine: ${os.cpus().length} cores; etcd ${VERSION}; each figure: median (min-max) of ${REPEAT} runs; the rolling restarts' writer puts a key every ${WRITE_INTERVAL_MS} ms\n`);
    console.log("figure | component | baseline | ratio | target | verdict\n--- | --- | --- | --- | --- | ---");
    for (const r of rows) console.log(r.join(" | "));
}

main().catch((e) => {
    console.error(e);
    process.exit(1);
});

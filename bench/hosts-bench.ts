/**
 * `npm run bench`: wall-time figures measured on the local test hosts, printed as a table.
 *
 * Host level (always): bootstrap of 3, 5 and 7 members through the component's host steps (per-member
 * work in parallel, as the component wires it), a no-op re-run of every step, and a health-gated
 * rolling restart of 3 and 5 members under write load with the longest write gap.
 * Engine-level figures (pulumi up/preview wall time, program memory) need the real Pulumi toolchain,
 * which could not be installed here; bench.sh says so when it is missing.
 */
import { hosts, hostsUp } from "../test/support/hosts";
import { localEtcdctl, writeCreds } from "../test/support/etcdctl";
import { issueMember, opensslPki } from "../test/support/opensslPki";
import { HostDriver, paths, settingsFor } from "../test/support/hostDriver";
import { Writer } from "../test/support/writer";
import * as steps from "../components/render/scripts";
import { clientUrl } from "../components/render/config";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const VERSION = "3.6.16";
const rows: [string, string][] = [];
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
    const t0 = Date.now();
    const r = await fn();
    return [r, Date.now() - t0];
}

async function bench(n: number): Promise<void> {
    hosts("down");
    const inv = hostsUp(n === 3 ? 4 : n);
    const names = inv.hosts.map((h) => h.name).slice(0, n);
    const s = settingsFor(inv, names, VERSION);
    const pki = opensslPki(s);
    const drv = new HostDriver(inv, pki);
    const [, boot] = await timed(() => drv.bootstrap(s));
    rows.push([`bootstrap ${n} members to healthy (host steps)`, secs(boot)]);
    const [, noop] = await timed(() =>
        Promise.all(
            s.members.map(async (m) => {
                await drv.stepOk(m, steps.configureScript(s, m, paths, { sha256: s.binary.sha256!, bootstrapState: "existing", bundle: drv.bundle(s, m) }));
                await drv.stepOk(m, steps.serviceScript(s, m, paths, "converge"));
            }),
        ),
    );
    rows.push([`no-op re-run of every step, ${n} members`, secs(noop)]);
    if (n <= 5) {
        const bin = localEtcdctl(VERSION);
        const admin = writeCreds(fs.mkdtempSync(path.join(os.tmpdir(), "bench-")), "admin", { ca: pki.ca, cert: pki.admin.cert, key: pki.admin.key });
        const endpoints = s.members.map((m) => clientUrl(m, s)).join(",");
        const writer = new Writer(bin, endpoints, admin, "/bench/roll");
        writer.start();
        await new Promise((r) => setTimeout(r, 1000));
        const [, roll] = await timed(() => drv.roll(settingsFor(inv, names, VERSION, { logLevel: "warn" })));
        await new Promise((r) => setTimeout(r, 1000));
        const w = await writer.finish();
        rows.push([`rolling restart of ${n} members (health-gated)`, `${secs(roll)}; longest write gap ${w.longestGapMs} ms; ${w.acknowledged.length} writes, ${w.lost.length} lost`]);
        if (n === 3) {
            const names4 = inv.hosts.map((h) => h.name).slice(0, 4);
            const four = settingsFor(inv, names4, VERSION, { logLevel: "warn", allowEvenMembers: true });
            const three = settingsFor(inv, names, VERSION, { logLevel: "warn" });
            issueMember(pki, four.members[3], four);
            for (const [label, from, to] of [["add one member (3 -> 4, learner + promote)", three, four], ["remove one member (4 -> 3)", four, three]] as const) {
                const wr = new Writer(bin, endpoints, admin, `/bench/${label.split(" ")[0]}`);
                wr.start();
                await new Promise((r) => setTimeout(r, 1000));
                const [, ms] = await timed(() => drv.changeMembership(from.members, to, to.members[0]));
                await new Promise((r) => setTimeout(r, 1000));
                const rep = await wr.finish(endpoints);
                rows.push([label, `${secs(ms)}; longest write gap ${rep.longestGapMs} ms; ${rep.acknowledged.length} writes, ${rep.lost.length} lost`]);
            }
        }
    }
}

async function main(): Promise<void> {
    const sizes = (process.env.BENCH_SIZES ?? "3,5,7").split(",").map(Number);
    try {
        for (const n of sizes) await bench(n);
    } finally {
        hosts("down");
    }
    console.log("\nfigure | value\n--- | ---");
    for (const [k, v] of rows) console.log(`${k} | ${v}`);
}

main().catch((e) => {
    console.error(e);
    process.exit(1);
});

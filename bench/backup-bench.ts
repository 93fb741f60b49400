/**
 * `npm run bench -- backup`: the off-host backup's cost and its restore, on 3 fresh local hosts and a real
 * S3-compatible store (versitygw over TLS on this machine), for keyspaces of 100 MB and 1 GB (10 KiB
 * values; BENCH_BACKUP_MB overrides the sizes, e.g. "100,1000"):
 *   - the first upload (a full base): bytes, duration, the job's CPU and peak memory on the leader;
 *   - an idle period: bytes uploaded (target < 1 MB);
 *   - a period with 1% of the keys changed: bytes uploaded next to the database size (target <= 5%),
 *     duration, CPU, memory;
 *   - a restore from the store on a member (download, authenticate, decrypt, apply the delta, snapshot,
 *     then `etcdutl snapshot restore`) next to its floor in the same run: a plain download of the same
 *     bytes over the same link plus `etcdutl snapshot restore` of a plain snapshot (target <= 2x).
 * The backup timers are stopped: every job is started by hand, one at a time, and timed on the host.
 */
import * as assert from "node:assert/strict";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as https from "node:https";
import * as os from "node:os";
import * as path from "node:path";
import { hosts, hostsUp, Inventory, onHost, onHostOk } from "../test/support/hosts";
import { ClientCreds, etcdctl, localEtcdctl, releaseArchive, writeCreds } from "../test/support/etcdctl";
import { cleanup, setConfig, testProject, TestProject } from "../test/support/project";
import { pulumiUnavailable, s3ServerUnavailable } from "../test/support/toolchain";
import { S3Server, startS3Server } from "../test/support/s3Server";
import { S3Client } from "../components/backup/s3/client";

const VERSION = "3.6.16";
const VALUE_BYTES = 10 * 1024;
const PREFIX = "bench";
const PROGRAM = "/usr/local/lib/etcd-pulumi/backup/etcd-backup";

const rows: [string, string][] = [];
function row(figure: string, value: string): void {
    rows.push([figure, value]);
    console.log(`[bench] ${figure}: ${value}`);
}
const mb = (b: number) => `${(b / 1e6).toFixed(b < 1e6 ? 3 : 1)} MB`;
const verdict = (ok: boolean) => (ok ? "met" : "NOT met");

/** One etcd-backup command on a host, timed there: wall seconds, CPU seconds of the job and its children, peak RSS (sampled every 50 ms). */
interface JobRun {
    output: string;
    seconds: number;
    cpuSeconds: number;
    peakRssKb: number;
    /** The anonymous part of that peak (without the files the job's processes map, e.g. etcdutl's bbolt mmap). */
    peakAnonKb: number;
}
const USAGE = `set -euo pipefail
t0=$(date +%s%N)
setsid "$@" > /tmp/bench-job.out 2>&1 &
pid=$!
peak=0
anon_peak=0
while kill -0 "$pid" 2>/dev/null; do
  rss=$({ ps -o rss= -g "$pid" 2>/dev/null || true; } | awk '{ s += $1 } END { print s + 0 }')
  if [ "$rss" -gt "$peak" ]; then peak=$rss; fi
  # Anonymous memory only: what the job really takes from etcd (the rest is files it maps, page cache).
  anon=$(for p in $(pgrep -g "$pid" 2>/dev/null || true); do awk '/^RssAnon:/ { print $2 }' "/proc/$p/status" 2>/dev/null || true; done | awk '{ s += $1 } END { print s + 0 }')
  if [ "$anon" -gt "$anon_peak" ]; then anon_peak=$anon; fi
  sleep 0.05
done
rc=0; wait "$pid" || rc=$?
t1=$(date +%s%N)
cat /tmp/bench-job.out
times > /tmp/bench-times
cpu=$(tail -n 1 /tmp/bench-times | awk '{ split($1, u, "m"); split($2, s, "m"); printf "%.2f", u[1] * 60 + u[2] + s[1] * 60 + s[2] }')
echo "BENCH seconds=$(( (t1 - t0) / 1000000 ))ms cpu=\${cpu} peak_kb=$peak anon_kb=$anon_peak rc=$rc"
exit "$rc"`;

function job(inv: Inventory, host: string, command: string): JobRun {
    const script = Buffer.from(USAGE).toString("base64");
    const r = onHost(inv, host, `echo ${script} | base64 -d > /tmp/bench-usage.sh && bash /tmp/bench-usage.sh ${command}`, 60 * 60 * 1000);
    const out = r.stdout;
    const m = /BENCH seconds=(\d+)ms cpu=([\d.]+) peak_kb=(\d+) anon_kb=(\d+) rc=0/.exec(out);
    if (!m) throw new Error(`${host}: ${command} failed (exit ${r.status}):\n${out}\n${r.stderr}`);
    return { output: out, seconds: Number(m[1]) / 1000, cpuSeconds: Number(m[2]), peakRssKb: Number(m[3]), peakAnonKb: Number(m[4]) };
}
const memory = (r: JobRun) => `peak RSS ${(r.peakRssKb / 1024).toFixed(0)} MiB (anonymous ${(r.peakAnonKb / 1024).toFixed(0)} MiB; the rest is mapped files)`;
const uploaded = (r: JobRun) => Number(/\((\d+) bytes/.exec(r.output)?.[1] ?? 0);

/** Puts through etcd's JSON gateway, 100 keys a transaction, 4 in flight. */
async function load(endpoint: string, creds: ClientCreds, keys: string[]): Promise<void> {
    const agent = new https.Agent({ ca: fs.readFileSync(creds.caFile!), cert: fs.readFileSync(creds.certFile!), key: fs.readFileSync(creds.keyFile!), keepAlive: true, maxSockets: 4 });
    const url = new URL("/v3/kv/txn", endpoint);
    const post = (body: string) =>
        new Promise<void>((resolve, reject) => {
            const req = https.request(url, { method: "POST", agent, headers: { "content-type": "application/json" } }, (res) => {
                let text = "";
                res.on("data", (c) => (text += c));
                res.on("end", () => (res.statusCode === 200 ? resolve() : reject(new Error(`txn: HTTP ${res.statusCode}: ${text.slice(0, 200)}`))));
            });
            req.on("error", reject);
            req.end(body);
        });
    const batches: string[][] = [];
    for (let i = 0; i < keys.length; i += 100) batches.push(keys.slice(i, i + 100));
    let next = 0;
    const worker = async () => {
        while (next < batches.length) {
            const batch = batches[next++];
            const ops = batch.map((k) => ({ request_put: { key: Buffer.from(k).toString("base64"), value: Buffer.from(crypto.randomBytes((VALUE_BYTES * 3) / 4).toString("base64")).toString("base64") } }));
            await post(JSON.stringify({ success: ops }));
        }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    agent.destroy();
}

async function main(): Promise<void> {
    const missing = pulumiUnavailable() ?? s3ServerUnavailable();
    if (missing) {
        console.error(`[bench] backup: ${missing}: not measured`);
        return;
    }
    const sizes = (process.env.BENCH_BACKUP_MB ?? "100,1000").split(",").map(Number);
    hosts("down");
    const inv = hostsUp(3);
    const s3: S3Server = await startS3Server({ listenAddress: inv.gateway });
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "bench-backup-"));
    const bin = localEtcdctl(VERSION);
    const { archive, sums } = releaseArchive(VERSION);
    let p: TestProject | undefined;
    try {
        p = await testProject("benchbackup", {
            members: inv.hosts.map((h) => ({ name: h.name, address: h.address, hostKey: h.hostKey })),
            sshUser: "root",
            sshPrivateKeyPath: inv.sshKeyPath,
            binary: { path: archive, sha256sums: sums },
            healthTimeoutSeconds: 120,
            quotaBackendBytes: 4 * 1024 ** 3,
        });
        await setConfig(p, "backup", { store: `s3://${s3.bucket}/${PREFIX}`, endpoint: s3.endpoint, region: s3.region, caBundlePath: s3.caFile, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey }, true);
        const out = (await p.stack.up()).outputs;
        const endpoints = out.clientEndpoints.value as string;
        const admin = writeCreds(work, "admin", { ca: out.caBundlePem.value, cert: out.adminCertPem.value, key: out.adminKeyPem.value });
        for (const h of inv.hosts) onHostOk(inv, h.name, "systemctl stop etcd-backup.timer etcd-backup-full.timer etcd-backup.service etcd-backup-full.service");
        const client = new S3Client({ endpoint: s3.endpoint, region: s3.region, bucket: s3.bucket, pathStyle: true, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, caBundlePem: s3.caPem });
        const status = () =>
            JSON.parse(etcdctl(bin, endpoints, admin, ["endpoint", "status", "--cluster", "-w", "json"]).stdout.replace(/"(member_id|leader)":(\d+)/g, '"$1":"$2"')) as {
                Endpoint: string;
                Status: { header: { member_id: string; revision: number }; leader: string; dbSize: number };
            }[];
        const hostOf = (endpoint: string) => inv.hosts.find((h) => endpoint.includes(h.address))!.name;

        let previous: string[] = [];
        for (const size of sizes) {
            const label = `${size} MB keyspace`;
            // A clean start: the previous size's keys gone and compacted away, every member defragmented, the store empty.
            if (previous.length) {
                etcdctl(bin, endpoints, admin, ["del", "/bench/", "--prefix"], 600_000);
                const rev = status()[0].Status.header.revision;
                etcdctl(bin, endpoints, admin, ["compact", String(rev), "--physical"], 600_000);
                for (const ep of endpoints.split(",")) etcdctl(bin, ep, admin, ["defrag", "--command-timeout=600s"], 600_000);
            }
            for (const o of await client.listObjectsV2(`${PREFIX}/`)) await client.deleteObject(o.key);
            const keys = Array.from({ length: Math.round((size * 1e6) / VALUE_BYTES) }, (_, i) => `/bench/${String(i).padStart(8, "0")}`);
            const t0 = Date.now();
            await load(endpoints.split(",")[0], admin, keys);
            const st = status();
            const lead = hostOf(st.find((x) => x.Status.header.member_id === x.Status.leader)!.Endpoint);
            const follower = inv.hosts.map((h) => h.name).find((n) => n !== lead)!;
            const dbSize = st[0].Status.dbSize;
            row(`${label}: loaded`, `${keys.length} keys of ${VALUE_BYTES / 1024} KiB in ${((Date.now() - t0) / 1000).toFixed(0)} s; database ${mb(dbSize)}`);

            const base = job(inv, lead, `${PROGRAM} delta`);
            row(`${label}: first upload (full base) from the leader`, `${mb(uploaded(base))} in ${base.seconds.toFixed(1)} s; job CPU ${base.cpuSeconds.toFixed(1)} s, ${memory(base)}`);
            const idle = job(inv, lead, `${PROGRAM} delta`);
            assert.match(idle.output, /nothing new/);
            row(`${label}: idle period`, `${mb(uploaded(idle))} uploaded in ${idle.seconds.toFixed(2)} s (target < 1 MB: ${verdict(uploaded(idle) < 1e6)})`);
            const changed = keys.filter((_, i) => i % 100 === 0);
            await load(endpoints.split(",")[0], admin, changed);
            const delta = job(inv, lead, `${PROGRAM} delta`);
            const share = uploaded(delta) / dbSize;
            row(
                `${label}: period with 1% of the keys changed (${changed.length} keys)`,
                `${mb(uploaded(delta))} uploaded = ${(share * 100).toFixed(2)}% of the database (target <= 5%: ${verdict(share <= 0.05)}) in ${delta.seconds.toFixed(1)} s; job CPU ${delta.cpuSeconds.toFixed(1)} s, ${memory(delta)}`,
            );

            // Restore on a follower: what the restore steps run, next to a plain copy of the same bytes plus etcdutl.
            const objects = (await client.listObjectsV2(`${PREFIX}/`)).filter((o) => !o.key.endsWith("/HEAD")).map((o) => o.key.slice(PREFIX.length + 1)).sort((a, b) => (a.includes("/full/") ? -1 : b.includes("/full/") ? 1 : a.localeCompare(b)));
            const last = objects[objects.length - 1];
            const [, to, , k] = /delta\/\d+-(\d+)-(\d{8}T\d{6}Z)-k(\d+)/.exec(last)!;
            const restoreCmd = `bash -c 'rm -rf /var/lib/etcd-backups/restore /var/lib/etcd-bench/rt; ${PROGRAM} fetch-restore bench ${Number(to)} ${k} ${objects.join(" ")} && f=/var/lib/etcd-backups/restore/restore-bench.db && /usr/local/bin/etcdutl snapshot restore $f --data-dir /var/lib/etcd-bench/rt $([ -f $f.raw ] && echo --skip-hash-check) >/dev/null 2>&1'`;
            onHostOk(inv, follower, `rm -rf /var/lib/etcd-bench/floor && mkdir -p /var/lib/etcd-bench/floor && /usr/local/bin/etcdctl --cacert=/etc/etcd/pki/ca.crt --cert=/etc/etcd/pki/etcdctl.crt --key=/etc/etcd/pki/etcdctl.key --endpoints=https://127.0.0.1:2379 --command-timeout=600s snapshot save /var/lib/etcd-bench/floor/plain.db >/dev/null`);
            // The floor's copy is curl alone (signed, no checksum, no decryption): the fastest honest download of the same bytes.
            const floorCmd =
                `bash -c 'set -euo pipefail; source /etc/etcd-pulumi/backup/backup.env; ` +
                objects
                    .map((o, i) => `curl -sS --fail -o /var/lib/etcd-bench/floor/o${i} --cacert "$S3_CA_FILE" -K "$S3_CREDENTIALS_FILE" --aws-sigv4 "aws:amz:$S3_REGION:s3" -H "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" "$S3_ENDPOINT/$S3_BUCKET/$S3_PREFIX/${o}"`)
                    .join("; ") +
                `; rm -rf /var/lib/etcd-bench/floor/rt; /usr/local/bin/etcdutl snapshot restore /var/lib/etcd-bench/floor/plain.db --data-dir /var/lib/etcd-bench/floor/rt >/dev/null 2>&1'`;
            // Each side three times, in turn (the disk's write-back makes single runs swing by a third); medians.
            const restores: JobRun[] = [];
            const floors: JobRun[] = [];
            for (let run = 0; run < 3; run++) {
                onHostOk(inv, follower, "rm -rf /var/lib/etcd-bench/rt /var/lib/etcd-bench/floor/rt /var/lib/etcd-bench/floor/o* && sync");
                restores.push(job(inv, follower, restoreCmd));
                onHostOk(inv, follower, "rm -rf /var/lib/etcd-bench/rt /var/lib/etcd-backups/restore && sync");
                floors.push(job(inv, follower, floorCmd));
            }
            const median = (runs: JobRun[]) => [...runs].sort((a, b) => a.seconds - b.seconds)[1];
            const spread = (runs: JobRun[]) => runs.map((r) => r.seconds.toFixed(1)).join("/");
            const restore = median(restores);
            const floor = median(floors);
            row(
                `${label}: restore from the store on a member (full base + ${objects.length - 1} delta)`,
                `${restore.seconds.toFixed(1)} s (runs ${spread(restores)}) vs floor ${floor.seconds.toFixed(1)} s (runs ${spread(floors)}; plain download of the same objects + etcdutl snapshot restore): ${(restore.seconds / floor.seconds).toFixed(2)}x (target <= 2x: ${verdict(restore.seconds <= 2 * floor.seconds)}); job CPU ${restore.cpuSeconds.toFixed(1)} s, ${memory(restore)}`,
            );
            // Where each restore's time went, as its own log line says.
            const phases = (r: JobRun) => /snapshot ready \([^;]*;([^)]*)\)/.exec(r.output)?.[1]?.trim() ?? "not logged";
            row(`${label}: restore phases (ms), run by run`, restores.map((r, i) => `run ${i + 1} (${r.seconds.toFixed(1)} s): ${phases(r)}`).join("; "));
            onHostOk(inv, follower, "rm -rf /var/lib/etcd-bench/floor /var/lib/etcd-bench/rt /var/lib/etcd-backups/restore");
            previous = keys;
        }
    } finally {
        // BENCH_KEEP=1 leaves hosts, store and stack for a look afterwards.
        if (!process.env.BENCH_KEEP) {
            if (p) cleanup(p);
            await s3.stop();
            hosts("down");
            fs.rmSync(work, { recursive: true, force: true });
        }
    }
    console.log(`\nmachine: ${os.cpus().length} cores; etcd ${VERSION}; values ${VALUE_BYTES / 1024} KiB of random base64\n\nfigure | value\n--- | ---`);
    for (const [k, v] of rows) console.log(`${k} | ${v}`);
}

main().catch((e) => {
    console.error(e);
    process.exit(1);
});

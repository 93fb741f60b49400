/**
 * Monitoring, pure parts: the setting's checks, the metrics listener in each member's config, what
 * enabling it does to a deployed cluster (the plan), the scrape config, the host metrics files and the
 * preview's warning about plain http.
 */
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import { EtcdClusterArgs } from "../../components/types";
import { EtcdConfigError, resolveSettings } from "../../components/validate";
import { argsFromStackConfig } from "../../components/stackConfig";
import { renderEtcdConfig } from "../../components/render/config";
import { hostPaths } from "../../components/render/paths";
import { desiredRecord } from "../../components/plan/desiredRecord";
import { reviewTransition } from "../../components/plan/transition";
import { renderScrapeConfig } from "../../components/monitoring/scrapeConfig";
import { monitoringClusterName, scrapeJobName } from "../../components/monitoring/settings";
import { CERTIFICATE_METRICS_FILE, certificateExpiries, hostMetricsFiles, MEMBER_METRICS_FILE } from "../../components/monitoring/hostMetrics";
import { plainHttpWarning } from "../../components/monitoring/outputs";
import { renderPrometheusRules } from "../../components/monitoring/rules";
import { promtool, runPromtool } from "../support/prometheus";

const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----\n";
const args = (over: Partial<EtcdClusterArgs> = {}): EtcdClusterArgs => ({
    members: [
        { name: "etcd1", address: "10.0.0.11" },
        { name: "etcd2", address: "etcd2.example.com" },
        { name: "etcd3", address: "fd00::13" },
    ],
    ssh: { privateKey: KEY },
    binary: { path: "/tmp/etcd.tgz", sha256: "a".repeat(64) },
    ...over,
});

function problems(a: EtcdClusterArgs): string[] {
    try {
        resolveSettings(a);
    } catch (e) {
        if (e instanceof EtcdConfigError) return e.problems;
        throw e;
    }
    return [];
}

test("monitoring: off by default; {} gives port 2382, https, a 30 s scrape interval", () => {
    assert.equal(resolveSettings(args()).monitoring, undefined);
    assert.deepEqual(resolveSettings(args({ monitoring: {} })).monitoring, { port: 2382, plainHttp: false, scrapeIntervalSeconds: 30 });
    assert.deepEqual(resolveSettings(args({ monitoring: { port: 9979, plainHttp: true, scrapeIntervalSeconds: 5, clusterName: "prod-eu1" } })).monitoring, {
        port: 9979,
        plainHttp: true,
        scrapeIntervalSeconds: 5,
        clusterName: "prod-eu1",
    });
});

test("monitoring: bad values are refused, each naming the field and the fix, all at once", () => {
    const p = problems(args({ monitoring: { port: 2379, plainHttp: "yes" as unknown as boolean, scrapeIntervalSeconds: 0, clusterName: 'a"b' } }));
    assert.ok(p.some((x) => /^monitoring\.port: 2379 is already clientPort; give the metrics listener its own port/.test(x)), p.join(" | "));
    assert.ok(p.some((x) => /^monitoring\.plainHttp: must be true or false/.test(x)), p.join(" | "));
    assert.ok(p.some((x) => /^monitoring\.scrapeIntervalSeconds: 0 must be a whole number of seconds, 1-300/.test(x)), p.join(" | "));
    assert.ok(p.some((x) => /^monitoring\.clusterName: "a\\"b" must be 1-128 letters/.test(x)), p.join(" | "));
    assert.match(problems(args({ monitoring: { port: 70000 } })).join(), /monitoring\.port: 70000 is not a port/);
    assert.match(problems(args({ monitoring: { port: 2381 } })).join(), /monitoring\.port: 2381 is already metricsPort/);
    assert.match(problems(args({ monitoring: "on" as unknown as object })).join(), /monitoring: must be an object like \{ port: 2382 \}/);
});

test("stack config: monitoring is read as structured config; an unknown field gets a did-you-mean", () => {
    const base = {
        "etcd-pulumi:members": JSON.stringify(args().members),
        "etcd-pulumi:sshPrivateKeyPath": "/k",
        "etcd-pulumi:binary": JSON.stringify(args().binary),
    };
    const read = (monitoring: unknown) => argsFromStackConfig({ namespace: "etcd-pulumi", values: { ...base, "etcd-pulumi:monitoring": JSON.stringify(monitoring) }, readFile: () => KEY });
    assert.deepEqual(read({ port: 2390 }).monitoring, { port: 2390 });
    assert.throws(() => read({ prot: 2390 }), (e: unknown) => e instanceof EtcdConfigError && e.problems.some((x) => x === 'monitoring.prot: unknown field; did you mean "port"?'));
});

const configOf = (a: EtcdClusterArgs, member = 0) => {
    const s = resolveSettings(a);
    return parse(renderEtcdConfig({ settings: s, member: s.members[member], initialMembers: s.members, clusterToken: "t", paths: hostPaths(s.dataDir) })) as Record<string, unknown>;
};

test("etcd config: monitoring adds an https metrics listener on the member's own address, loopback kept, extensive metrics", () => {
    assert.equal(configOf(args())["listen-metrics-urls"], "http://127.0.0.1:2381");
    assert.equal("metrics" in configOf(args()), false, "without monitoring the config is what it was");
    const on = configOf(args({ monitoring: {} }));
    assert.equal(on["listen-metrics-urls"], "http://127.0.0.1:2381,https://10.0.0.11:2382");
    assert.equal(on.metrics, "extensive", "grpc_server_handling_seconds (etcdGRPCRequestsSlow) needs it");
    // The https URL is served with the client listener's TLS settings: certificate auth against the cluster's CA.
    assert.deepEqual(on["client-transport-security"], configOf(args())["client-transport-security"]);
    assert.equal((on["client-transport-security"] as Record<string, unknown>)["client-cert-auth"], true);
    assert.equal(configOf(args({ monitoring: {} }), 1)["listen-metrics-urls"], "http://127.0.0.1:2381,https://0.0.0.0:2382", "a DNS-named member listens on every address");
    assert.equal(configOf(args({ monitoring: {} }), 2)["listen-metrics-urls"], "http://127.0.0.1:2381,https://[fd00::13]:2382");
    assert.equal(configOf(args({ monitoring: { plainHttp: true, port: 9979 } }))["listen-metrics-urls"], "http://127.0.0.1:2381,http://10.0.0.11:9979");
});

test("plan: enabling monitoring or changing its port is a rolling restart; the scrape interval or cluster name restart nothing", () => {
    const record = (a: EtcdClusterArgs) => {
        const s = resolveSettings(a);
        return desiredRecord(s, hostPaths(s.dataDir), "a".repeat(64));
    };
    const review = (from: EtcdClusterArgs, to: EtcdClusterArgs) => reviewTransition(record(from), record(to), { now: new Date("2026-12-01T00:00:00Z"), renewBeforeHours: 720, previousLeafRenewal: { generation: 1, issuedAt: "2026-11-30T00:00:00Z" } });
    const enable = review(args(), args({ monitoring: {} }));
    assert.deepEqual(enable.refusals, []);
    assert.deepEqual(enable.changes, ["etcd1", "etcd2", "etcd3"].map((n) => `${n}: restart (config: listen-metrics-urls, metrics), only while the cluster is healthy, then wait until healthy and caught up`));
    assert.deepEqual(review(args({ monitoring: {} }), args({ monitoring: { port: 2390 } })).changes, ["etcd1", "etcd2", "etcd3"].map((n) => `${n}: restart (config: listen-metrics-urls), only while the cluster is healthy, then wait until healthy and caught up`));
    assert.deepEqual(review(args({ monitoring: {} }), args({ monitoring: { scrapeIntervalSeconds: 10, clusterName: "x" } })).changes, []);
    assert.equal(review(args({ monitoring: {} }), args()).changes.length, 3, "turning it off restarts too");
});

test("scrape config: one https job, a target per member on its address, the three TLS files beside the config, no server_name override", () => {
    const s = resolveSettings(args({ monitoring: {} }));
    const text = renderScrapeConfig({ monitoring: s.monitoring!, members: s.members, clusterName: "dev", jobName: scrapeJobName("dev") });
    const cfg = parse(text) as { scrape_configs: Record<string, unknown>[] };
    assert.deepEqual(Object.keys(cfg), ["scrape_configs"]);
    assert.equal(cfg.scrape_configs.length, 1);
    const job = cfg.scrape_configs[0];
    assert.equal(job.job_name, "etcd-dev");
    assert.equal(job.scheme, "https");
    assert.equal(job.scrape_interval, "30s");
    assert.equal(job.scrape_timeout, "10s");
    assert.deepEqual(job.tls_config, { ca_file: "etcd-ca.crt", cert_file: "etcd-monitoring.crt", key_file: "etcd-monitoring.key", insecure_skip_verify: false });
    assert.deepEqual(job.static_configs, [
        { targets: ["10.0.0.11:2382"], labels: { etcd_cluster: "dev", member: "etcd1" } },
        { targets: ["etcd2.example.com:2382"], labels: { etcd_cluster: "dev", member: "etcd2" } },
        { targets: ["[fd00::13]:2382"], labels: { etcd_cluster: "dev", member: "etcd3" } },
    ]);
    const plain = parse(renderScrapeConfig({ monitoring: { ...s.monitoring!, plainHttp: true, scrapeIntervalSeconds: 5 }, members: s.members, clusterName: "dev", jobName: "etcd-dev" })).scrape_configs[0];
    assert.equal(plain.scheme, "http");
    assert.equal(plain.tls_config, undefined);
    assert.equal(plain.scrape_timeout, "5s", "never longer than the interval");
    // Prometheus itself accepts it (promtool check config reads the TLS files relative to the config).
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "etcd-scrape-"));
    execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", path.join(dir, "etcd-monitoring.key"), "-subj", "/CN=etcd-monitoring", "-days", "1", "-out", path.join(dir, "etcd-monitoring.crt")], { stdio: "ignore" });
    fs.copyFileSync(path.join(dir, "etcd-monitoring.crt"), path.join(dir, "etcd-ca.crt"));
    fs.writeFileSync(path.join(dir, "prometheus.yml"), text);
    const r = runPromtool(["check", "config", "prometheus.yml"], dir);
    fs.rmSync(dir, { recursive: true, force: true });
    assert.equal(r.status, 0, r.output);
});

test("cluster name: the setting, else the component's name made a safe label value", () => {
    assert.equal(monitoringClusterName(undefined, "dev"), "dev");
    assert.equal(monitoringClusterName({ port: 1, plainHttp: false, scrapeIntervalSeconds: 30, clusterName: "prod-eu1" }, "main"), "prod-eu1");
    assert.equal(monitoringClusterName(undefined, 'my "cluster"'), "my__cluster_");
    assert.equal(monitoringClusterName(undefined, "_x"), "c_x");
});

/** A certificate from openssl with a known notAfter, and that notAfter as Unix seconds (from openssl -enddate). */
function opensslCert(dir: string, name: string, days: number): { pem: string; notAfter: number } {
    execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", path.join(dir, `${name}.key`), "-subj", `/CN=${name}`, "-days", String(days), "-out", path.join(dir, `${name}.crt`)], { stdio: "ignore" });
    const end = execFileSync("openssl", ["x509", "-enddate", "-noout", "-in", path.join(dir, `${name}.crt`)], { encoding: "utf8" }).trim().replace(/^notAfter=/, "");
    return { pem: fs.readFileSync(path.join(dir, `${name}.crt`), "utf8"), notAfter: Math.floor(Date.parse(end) / 1000) };
}

test("host metrics: certificate expiry as openssl reads it (the CA that expires first of a bundle), member info, files 0644", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "etcd-certmetrics-"));
    const [server, peer, client, ca1, ca2] = [["server", 30], ["peer", 31], ["client", 32], ["ca-old", 400], ["ca-new", 1800]].map(([n, d]) => opensslCert(dir, String(n), Number(d)));
    assert.deepEqual(certificateExpiries(ca1.pem + ca2.pem, "CA"), [ca1.notAfter, ca2.notAfter]);
    const files = hostMetricsFiles("dev", "etcd2", { server: server.pem, peer: peer.pem, client: client.pem, caBundle: ca2.pem + ca1.pem });
    assert.deepEqual(
        files.map((f) => [f.path, f.mode, f.owner]),
        [
            [CERTIFICATE_METRICS_FILE, "0644", "root:root"],
            [MEMBER_METRICS_FILE, "0644", "root:root"],
        ],
    );
    assert.equal(CERTIFICATE_METRICS_FILE, "/var/lib/etcd-pulumi/metrics/etcd-certificates.prom");
    const lines = files[0].content.split("\n").filter((l) => l.startsWith("etcd_pulumi_certificate_expiry_timestamp_seconds{"));
    assert.deepEqual(lines, [
        `etcd_pulumi_certificate_expiry_timestamp_seconds{certificate="server"} ${server.notAfter}`,
        `etcd_pulumi_certificate_expiry_timestamp_seconds{certificate="peer"} ${peer.notAfter}`,
        `etcd_pulumi_certificate_expiry_timestamp_seconds{certificate="client"} ${client.notAfter}`,
        `etcd_pulumi_certificate_expiry_timestamp_seconds{certificate="ca"} ${ca1.notAfter}`,
    ]);
    assert.match(files[1].content, /^etcd_pulumi_member_info\{etcd_cluster="dev",member="etcd2"\} 1$/m);
    // Both are valid Prometheus text format (promtool check metrics lints what node_exporter would read).
    for (const f of files) {
        const lint = spawnSync(promtool(), ["check", "metrics"], { input: f.content, encoding: "utf8" });
        assert.equal(lint.status, 0, `${f.path}: ${lint.stdout}${lint.stderr}`);
    }
    assert.throws(() => hostMetricsFiles("dev", "etcd2", { server: "not a certificate", peer: peer.pem, client: client.pem, caBundle: ca1.pem }), /the server certificate is not a PEM certificate/);
    fs.rmSync(dir, { recursive: true, force: true });
});

test("plain http: a warning for every preview, naming the addresses and the fix; none over https", () => {
    assert.equal(plainHttpWarning(resolveSettings(args({ monitoring: {} }))), undefined);
    assert.equal(plainHttpWarning(resolveSettings(args())), undefined);
    const w = plainHttpWarning(resolveSettings(args({ monitoring: { plainHttp: true } })))!;
    assert.match(w, /^monitoring\.plainHttp: every member serves \/metrics and \/health over plain http on port 2382 of its address \(10\.0\.0\.11, etcd2\.example\.com, fd00::13\), with no TLS and no client certificate/);
    assert.match(w, /Unset plainHttp for https with a client certificate from the cluster's CA/);
});

test("rules: the mixin's alerts are scoped to this cluster's job; thresholds follow the settings", () => {
    const text = renderPrometheusRules({ clusterName: "dev", jobName: "etcd-dev", scrapeIntervalSeconds: 15, memberCount: 5, certRenewBeforeHours: 48, backup: { rpoSeconds: 60 } });
    const all = (parse(text) as { groups: { name: string; rules: { alert: string; expr: string; for: string; labels: { severity: string } }[] }[] }).groups;
    assert.deepEqual(all.map((g) => g.name), ["etcd-dev", "etcd-pulumi-dev"]);
    const mixin = all[0].rules;
    // Every selector of the mixin group names this cluster's job, and no other.
    for (const r of mixin) {
        const selectors = [...r.expr.matchAll(/\{([^}]*)\}/g)].map((m) => m[1]);
        assert.ok(selectors.length > 0 && selectors.every((x) => x.startsWith('job="etcd-dev"')), `${r.alert}: ${r.expr}`);
    }
    const names = new Set(mixin.map((r) => r.alert));
    for (const a of ["etcdMembersDown", "etcdInsufficientMembers", "etcdNoLeader", "etcdHighNumberOfLeaderChanges", "etcdHighNumberOfFailedGRPCRequests", "etcdGRPCRequestsSlow", "etcdMemberCommunicationSlow", "etcdHighNumberOfFailedProposals", "etcdHighFsyncDurations", "etcdHighCommitDurations", "etcdDatabaseQuotaLowSpace", "etcdExcessiveDatabaseGrowth", "etcdDatabaseHighFragmentationRatio"]) {
        assert.ok(names.has(a), `${a} missing`);
    }
    assert.match(mixin.find((r) => r.alert === "etcdMembersDown")!.expr, /\[60s\]/, "peer failure window = 4 x scrape interval");
    const own = all[1].rules;
    assert.match(own.find((r) => r.alert === "etcdPulumiBackupTooOld")!.expr, /> 180\n$/, "3 x rpoSeconds");
    assert.deepEqual(own.filter((r) => r.alert === "etcdPulumiCertificateExpiring").map((r) => [r.labels.severity, /< (\d+)\n$/.exec(r.expr)![1]]), [["warning", String(48 * 3600)], ["critical", String(24 * 3600)]]);
    assert.match(own.find((r) => r.alert === "etcdPulumiHostMetricsMissing")!.expr, /< 5\n$/);
    assert.ok(!renderPrometheusRules({ clusterName: "dev", jobName: "etcd-dev", scrapeIntervalSeconds: 15, memberCount: 5, certRenewBeforeHours: 48 }).includes("etcdPulumiBackup"), "no backup alerts without backups");
});

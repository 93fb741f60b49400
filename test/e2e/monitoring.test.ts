/**
 * Monitoring through the real engine on 3 local hosts, scraped by Debian's Prometheus on this machine:
 * turning `monitoring` on is a rolling restart under a writer (nothing lost); the outputs (CA bundle,
 * monitoring certificate and key, scrape config, rules) go beside a prometheus.yml, and Prometheus (on
 * 127.0.0.1, its own storage, a 2 s scrape interval) sees `up` 1 for every member and evaluates every
 * rule; the listener refuses a certificate from another CA, and no certificate; one member stopped: its
 * `up` goes 0 and etcdMembersDown's expression, as rendered, returns the cluster; started again, it clears.
 */
import { after, before, test } from "node:test";
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as https from "node:https";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import { hosts, hostsUp, Inventory, onHostOk, stackMembers } from "../support/hosts";
import { ClientCreds, localEtcdctl, releaseArchive, writeCreds } from "../support/etcdctl";
import { assertMetricsLoopbackOnly, assertOneHealthyCluster } from "../support/checks";
import { cleanup, recorder, setConfig, stateFiles, TestProject, testProject } from "../support/project";
import { pulumiSuite } from "../support/toolchain";
import { underLoad } from "../support/underLoad";
import { query, RunningPrometheus, runPromtool, startPrometheus, waitForQuery } from "../support/prometheus";

const VERSION = "3.6.16";
const NAMES = ["etcd1", "etcd2", "etcd3"];
const PORT = 2382;
const STACK = "monitoring";
let inv: Inventory;
let p: TestProject;
let bin: string;
let endpoints: string;
let admin: ClientCreds;
let prom: RunningPrometheus | undefined;
let outputs: { ca: string; cert: string; key: string; scrape: string; rules: string };
const work = fs.mkdtempSync(path.join(os.tmpdir(), "etcd-monitoring-"));
const promDir = path.join(work, "prometheus");
const members = () => stackMembers(inv, NAMES);
const address = (name: string) => members().find((m) => m.name === name)!.address;

async function preview(label: string): Promise<string> {
    const mark = p.output.length;
    await p.stack.preview({ onOutput: recorder(p, label) });
    return p.output.slice(mark).join("");
}

/** GET https://<member>:PORT/metrics with the given client key pair (or none); the status, or the error. */
function scrapeWith(host: string, client: { cert?: string; key?: string }): Promise<{ status?: number; body: string; error?: string }> {
    return new Promise((resolve) => {
        const req = https.get({ host, port: PORT, path: "/metrics", ca: outputs.ca, ...client, timeout: 8000 }, (r) => {
            let body = "";
            r.on("data", (c) => (body += c));
            r.on("end", () => resolve({ status: r.statusCode, body }));
        });
        req.on("error", (e) => resolve({ body: "", error: e.message }));
        req.on("timeout", () => req.destroy(new Error("timeout")));
    });
}

/** An alert's expression as the rendered rules file has it. */
function ruleExpr(alert: string): string {
    const rules = (parse(outputs.rules) as { groups: { rules: { alert: string; expr: string }[] }[] }).groups.flatMap((g) => g.rules);
    const r = rules.find((x) => x.alert === alert);
    assert.ok(r, `${alert} is in prometheusRules`);
    return r.expr;
}

pulumiSuite("monitoring: Prometheus scrapes every member over https (real Pulumi CLI, Debian's Prometheus)", { timeout: 25 * 60 * 1000 }, () => {
    before(async () => {
        hosts("down");
        inv = hostsUp(3);
        bin = localEtcdctl(VERSION);
        const { archive, sums } = releaseArchive(VERSION);
        p = await testProject(STACK, {
            members: members(),
            sshUser: "root",
            sshPrivateKeyPath: inv.sshKeyPath,
            version: VERSION,
            binary: { path: archive, sha256sums: sums },
            healthTimeoutSeconds: 60,
            sshDialErrorLimit: 2,
            sshPerDialTimeout: 5,
        });
        const t0 = Date.now();
        const up = await p.stack.up({ onOutput: recorder(p, "up-initial") });
        console.log(`first up (monitoring off): ${((Date.now() - t0) / 1000).toFixed(1)} s`);
        endpoints = up.outputs.clientEndpoints.value as string;
        admin = writeCreds(work, "admin", { ca: up.outputs.caBundlePem.value, cert: up.outputs.adminCertPem.value, key: up.outputs.adminKeyPem.value });
        assert.equal(up.outputs.prometheusScrapeConfig?.value, undefined, "no monitoring outputs while it is off");
    });

    after(async () => {
        await prom?.stop();
        if (process.env.E2E_KEEP) return;
        try {
            await p?.stack.destroy({ onOutput: recorder(p, "destroy") });
        } catch {
            /* best effort: the hosts go away next */
        }
        hosts("down");
        if (p) cleanup(p);
        fs.rmSync(work, { recursive: true, force: true });
    });

    test("turning monitoring on: the preview names a restart of each member; pulumi up rolls them under a writer, nothing lost", async () => {
        await setConfig(p, "monitoring", { port: PORT, scrapeIntervalSeconds: 2 });
        const plan = await preview("preview-enable");
        for (const n of NAMES) assert.match(plan, new RegExp(`${n}: restart \\(config: listen-metrics-urls, metrics\\), only while the cluster is healthy`), plan);
        assert.doesNotMatch(plan, /plainHttp/, "no plain-http warning over https");
        const { result: up } = await underLoad(
            { label: "enabling monitoring (rolling restart of 3 members) through pulumi up", bin, creds: admin, prefix: "/e2e/monitoring", writeVia: endpoints, maxGapMs: 5000, targetGapMs: 300, minWrites: 10 },
            () => p.stack.up({ onOutput: recorder(p, "up-enable") }),
        );
        assert.equal(up.summary.result, "succeeded");
        assertOneHealthyCluster(bin, endpoints, admin, members(), "after enabling monitoring");
        assert.equal(up.outputs.monitoringKeyPem.secret, true, "the monitoring key is a secret output");
        assert.equal(up.outputs.monitoringCertPem.secret, false);
        outputs = {
            ca: up.outputs.caBundlePem.value as string,
            cert: up.outputs.monitoringCertPem.value as string,
            key: up.outputs.monitoringKeyPem.value as string,
            scrape: up.outputs.prometheusScrapeConfig.value as string,
            rules: up.outputs.prometheusRules.value as string,
        };
        const stored = stateFiles(p).map((f) => fs.readFileSync(f, "utf8")).join("\n");
        assert.ok(!stored.includes(outputs.key.trim().split("\n")[1]), "the monitoring key is not in the state in plain text");
        await p.stack.preview({ expectNoChanges: true, onOutput: recorder(p, "preview-after-enable") });
        for (const n of NAMES) {
            assert.match(onHostOk(inv, n, "grep -E '^(listen-metrics-urls|metrics):' /etc/etcd/etcd.conf.yml"), new RegExp(`listen-metrics-urls: http://127.0.0.1:2381,https://${address(n).replace(/\./g, "\\.")}:${PORT}\nmetrics: extensive`));
            // Health and metrics stay on loopback (plain http) as before; the new listener is the only way in from outside.
            await assertMetricsLoopbackOnly(inv, n, address(n), 2381);
        }
    });

    test("host metrics: certificate expiry exactly as openssl reads the installed certificates; member info; world-readable files", () => {
        const fileOf = (n: string, f: string) => onHostOk(inv, n, `cat /var/lib/etcd-pulumi/metrics/${f}`);
        for (const n of NAMES) {
            const text = fileOf(n, "etcd-certificates.prom");
            const want = Object.entries({ server: "server.crt", peer: "peer.crt", client: "etcdctl.crt", ca: "ca.crt" }).map(([label, file]) => {
                const pem = path.join(work, `${n}-${file}`);
                fs.writeFileSync(pem, onHostOk(inv, n, `cat /etc/etcd/pki/${file}`));
                const end = execFileSync("openssl", ["x509", "-enddate", "-noout", "-in", pem], { encoding: "utf8" }).trim().replace(/^notAfter=/, "");
                return `etcd_pulumi_certificate_expiry_timestamp_seconds{certificate="${label}"} ${Math.floor(Date.parse(end) / 1000)}`;
            });
            assert.deepEqual(text.split("\n").filter((l) => l.startsWith("etcd_pulumi_certificate_expiry_timestamp_seconds{")), want, `${n}: ${text}`);
            assert.match(fileOf(n, "etcd-member.prom"), new RegExp(`^etcd_pulumi_member_info\\{etcd_cluster="${STACK}",member="${n}"\\} 1$`, "m"));
            assert.equal(onHostOk(inv, n, "stat -c '%a %U:%G' /var/lib/etcd-pulumi /var/lib/etcd-pulumi/metrics /var/lib/etcd-pulumi/metrics/etcd-certificates.prom /var/lib/etcd-pulumi/metrics/etcd-member.prom").trim(), "755 root:root\n755 root:root\n644 root:root\n644 root:root");
        }
    });

    test("Prometheus with the outputs beside its config: up is 1 for every member, every rule evaluates, extensive metrics are there", async () => {
        fs.mkdirSync(promDir, { recursive: true });
        fs.writeFileSync(path.join(promDir, "etcd-ca.crt"), outputs.ca);
        fs.writeFileSync(path.join(promDir, "etcd-monitoring.crt"), outputs.cert);
        fs.writeFileSync(path.join(promDir, "etcd-monitoring.key"), outputs.key, { mode: 0o600 });
        fs.writeFileSync(path.join(promDir, "etcd-rules.yml"), outputs.rules);
        // The fragment verbatim under a global section: its top-level scrape_configs is all Prometheus needs.
        fs.writeFileSync(path.join(promDir, "prometheus.yml"), `global:\n  scrape_interval: 2s\n  evaluation_interval: 2s\nrule_files:\n  - etcd-rules.yml\n${outputs.scrape}`);
        const check = runPromtool(["check", "config", "prometheus.yml"], promDir);
        assert.equal(check.status, 0, check.output);
        const t0 = Date.now();
        prom = await startPrometheus(promDir);
        const job = `etcd-${STACK}`;
        const { samples } = await waitForQuery(prom.url, `up{job="${job}"}`, (s) => s.length === 3 && s.every((x) => x.value === 1), 60_000, "every member scraped");
        console.log(`Prometheus up, every member scraped (up == 1): ${((Date.now() - t0) / 1000).toFixed(1)} s after start`);
        assert.deepEqual(
            samples.map((x) => `${x.metric.member} ${x.metric.instance} ${x.metric.etcd_cluster}`).sort(),
            NAMES.map((n) => `${n} ${address(n)}:${PORT} ${STACK}`),
        );
        assert.equal((await query(prom.url, `etcd_server_has_leader{job="${job}"} == 1`)).length, 3);
        assert.ok((await query(prom.url, `count by (member) (grpc_server_handling_seconds_bucket{job="${job}"})`)).length === 3, "metrics: extensive exports the gRPC latency histograms etcdGRPCRequestsSlow reads");
        // Every rule of both groups has been evaluated against the real series without an error.
        const deadline = Date.now() + 30_000;
        let bad: string[] = ["not evaluated yet"];
        while (Date.now() < deadline && bad.length > 0) {
            const body = (await (await fetch(`${prom.url}/api/v1/rules`)).json()) as { data: { groups: { name: string; rules: { name: string; health: string; lastError?: string }[] }[] } };
            const all = body.data.groups.flatMap((g) => g.rules.map((r) => ({ ...r, group: g.name })));
            assert.equal(all.length, 20, "15 mixin rules and 5 of the component's (no backup alerts without backups)");
            bad = all.filter((r) => r.health !== "ok").map((r) => `${r.group}/${r.name}: ${r.health} ${r.lastError ?? ""}`);
            if (bad.length > 0) await new Promise((r) => setTimeout(r, 1000));
        }
        assert.deepEqual(bad, []);
        assert.deepEqual(await query(prom.url, ruleExpr("etcdMembersDown")), [], "nothing down yet");
        assert.deepEqual(await query(prom.url, ruleExpr("etcdNoLeader")), []);
    });

    test("the metrics listener wants a client certificate from the cluster's CA: another CA's is refused, and none at all", async () => {
        const other = path.join(work, "other-ca");
        fs.mkdirSync(other);
        const sh = (cmd: string) => execFileSync("bash", ["-c", cmd], { cwd: other, stdio: ["ignore", "ignore", "pipe"] });
        sh(`openssl ecparam -name prime256v1 -genkey -noout -out ca.key && openssl req -x509 -new -key ca.key -subj "/CN=not the etcd CA" -days 1 -out ca.crt`);
        sh(`openssl ecparam -name prime256v1 -genkey -noout | openssl pkcs8 -topk8 -nocrypt -out client.key && openssl req -new -key client.key -subj "/CN=etcd-monitoring" -out client.csr`);
        fs.writeFileSync(path.join(other, "ext"), "extendedKeyUsage=clientAuth\n");
        sh(`openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 1 -extfile ext -out client.crt`);
        const foreign = { cert: fs.readFileSync(path.join(other, "client.crt"), "utf8"), key: fs.readFileSync(path.join(other, "client.key"), "utf8") };
        for (const n of NAMES) {
            const good = await scrapeWith(address(n), { cert: outputs.cert, key: outputs.key });
            assert.equal(good.status, 200, `${n}: ${JSON.stringify(good).slice(0, 300)}`);
            assert.match(good.body, /^etcd_server_has_leader 1$/m);
            // The TLS alert the member sends is the reason: etcd checks the client certificate against the cluster's CA.
            const alert = (r: { error?: string }) => /alert ([a-z ]+)/.exec(r.error ?? "")?.[1] ?? r.error;
            const wrongCa = await scrapeWith(address(n), foreign);
            assert.ok(wrongCa.status === undefined && /alert (unknown ca|bad certificate)/.test(wrongCa.error ?? ""), `${n}: a certificate from another CA got ${JSON.stringify(wrongCa).slice(0, 200)}`);
            const none = await scrapeWith(address(n), {});
            assert.ok(none.status === undefined && /alert (certificate required|handshake failure|bad certificate)/.test(none.error ?? ""), `${n}: no certificate got ${JSON.stringify(none).slice(0, 200)}`);
            console.log(`${n}: monitoring certificate -> HTTP ${good.status}; another CA's -> TLS alert "${alert(wrongCa)}"; none -> TLS alert "${alert(none)}"`);
        }
    });

    test("one member stopped: its up goes 0 and etcdMembersDown's expression returns the cluster; started again: up 1 and the expression empty", async () => {
        const job = `etcd-${STACK}`;
        const url = prom!.url;
        onHostOk(inv, "etcd3", "systemctl stop etcd");
        const t0 = Date.now();
        const down = await waitForQuery(url, `up{job="${job}",member="etcd3"}`, (s) => s.length === 1 && s[0].value === 0, 30_000, "etcd3's up goes 0");
        console.log(`etcd3 stopped: up 0 after ${down.seconds.toFixed(1)} s`);
        assert.deepEqual((await query(url, `up{job="${job}"} == 1`)).map((s) => s.metric.member).sort(), ["etcd1", "etcd2"]);
        const membersDown = await query(url, ruleExpr("etcdMembersDown"));
        assert.deepEqual(membersDown, [{ metric: { job, etcd_cluster: STACK }, value: 1 }], "etcdMembersDown's expression: one member of this cluster down");
        assert.deepEqual(await query(url, ruleExpr("etcdInsufficientMembers")), [], "2 of 3 up: quorum holds, no etcdInsufficientMembers");
        console.log(`etcdMembersDown expression returned ${JSON.stringify(membersDown)} ${((Date.now() - t0) / 1000).toFixed(1)} s after the stop`);

        onHostOk(inv, "etcd3", "systemctl start etcd");
        const back = await waitForQuery(url, `up{job="${job}",member="etcd3"}`, (s) => s.length === 1 && s[0].value === 1, 60_000, "etcd3's up back to 1");
        const cleared = await waitForQuery(url, ruleExpr("etcdMembersDown"), (s) => s.length === 0, 60_000, "etcdMembersDown's expression clears (the peers' send failures stop)");
        console.log(`etcd3 started again: up 1 after ${back.seconds.toFixed(1)} s, etcdMembersDown's expression empty ${cleared.seconds.toFixed(1)} s later`);
        assertOneHealthyCluster(bin, endpoints, admin, members(), "after etcd3 came back");
    });

    test("preview only: plain http warns loudly, a port change restarts each member", async () => {
        await setConfig(p, "monitoring", { port: PORT + 1, plainHttp: true, scrapeIntervalSeconds: 2 });
        const plan = await preview("preview-plain");
        assert.match(plan, /warning: monitoring\.plainHttp: every member serves \/metrics and \/health over plain http on port 2383/, plan);
        for (const n of NAMES) assert.match(plan, new RegExp(`${n}: restart \\(config: listen-metrics-urls\\), only while the cluster is healthy`));
        await setConfig(p, "monitoring", { port: PORT, scrapeIntervalSeconds: 2 });
        await p.stack.preview({ expectNoChanges: true, onOutput: recorder(p, "preview-back") });
    });
});

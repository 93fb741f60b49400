/** The resource graph the component registers, with Pulumi's mocks (no engine, no hosts). */
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { ClusterRecord, reviewTransition } from "../../components/plan/transition";
import { FIXTURE_CERT_PEM } from "../support/fixtureCertificate";

interface Registered {
    type: string;
    name: string;
    inputs: Record<string, unknown>;
}
const registered: Registered[] = [];

pulumi.runtime.setMocks(
    {
        newResource(args) {
            registered.push({ type: args.type, name: args.name, inputs: args.inputs });
            const state: Record<string, unknown> = { ...args.inputs };
            if (args.type === "tls:index/privateKey:PrivateKey") state.privateKeyPem = `PRIVATE-KEY-OF-${args.name}`;
            if (args.type === "tls:index/selfSignedCert:SelfSignedCert") state.certPem = `CA-CERT-${args.name}\n${FIXTURE_CERT_PEM}\n`;
            if (args.type === "tls:index/certRequest:CertRequest") state.certRequestPem = `CSR-${args.name}`;
            if (args.type === "tls:index/locallySignedCert:LocallySignedCert") state.certPem = `CERT-${args.name}\n${FIXTURE_CERT_PEM}\n`;
            if (args.type === "random:index/randomId:RandomId") state.hex = "0123456789abcdef01234567";
            // What the record's check adds (components/record.ts): the real review of a first deployment.
            if (args.type.endsWith(":EtcdClusterRecord")) {
                const review = reviewTransition(undefined, args.inputs.record as ClusterRecord, { now: new Date("2026-11-22T00:00:00.000Z"), renewBeforeHours: 720 });
                Object.assign(state, { leafRenewal: review.leafRenewal, bootstrap: review.bootstrap, plannedChanges: [] });
            }
            return { id: `${args.name}-id`, state };
        },
        call: (args) => args.inputs,
    },
    "etcd-pulumi",
    "test",
    false,
);

// The archive the component uploads: a local file with its checksum.
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "etcd-graph-"));
const archive = path.join(dir, "etcd.tgz");
fs.writeFileSync(archive, "not really an archive");
const sha = crypto.createHash("sha256").update("not really an archive").digest("hex");

/** Wait until no new resource has been registered for a while. */
async function settle(): Promise<void> {
    let last = -1;
    while (last !== registered.length) {
        last = registered.length;
        await new Promise((r) => setTimeout(r, 300));
    }
}

async function build(members: { name: string; address: string }[], extra: Record<string, unknown> = {}) {
    registered.length = 0;
    const { EtcdCluster } = await import("../../components");
    const cluster = new EtcdCluster("c1", {
        members,
        ssh: { privateKey: pulumi.secret("SSH-PRIVATE-KEY") },
        binary: { path: archive, sha256: sha },
        extraSans: ["etcd.example.com", "10.9.9.9"],
        ...extra,
    });
    const out = await new Promise<Record<string, unknown>>((resolve) =>
        pulumi.all([cluster.clientEndpoints, cluster.etcdctlCommand]).apply(([clientEndpoints, etcdctl]) => resolve({ clientEndpoints, etcdctl })),
    );
    // Let outstanding registrations settle.
    await settle();
    return { cluster, out };
}

const members = [
    { name: "etcd1", address: "10.0.0.11" },
    { name: "etcd2", address: "10.0.0.12" },
    { name: "etcd3", address: "10.0.0.13" },
];

test("each member gets its own steps and certificates, named after the member", async () => {
    await build(members);
    const names = registered.map((r) => r.name);
    for (const m of members) {
        for (const suffix of ["upload", "configure", "service", "ready", "server-key", "server-cert", "peer-key", "peer-cert", "etcdctl-key", "etcdctl-cert"]) {
            assert.ok(names.includes(`c1-${m.name}-${suffix}`), `missing c1-${m.name}-${suffix}`);
        }
        assert.ok(registered.some((r) => r.type === "etcd-pulumi:index:EtcdMember" && r.name === `c1-${m.name}`));
    }
    assert.ok(registered.some((r) => r.type === "etcd-pulumi:index:EtcdCluster" && r.name === "c1"));
    assert.equal(registered.filter((r) => r.type === "tls:index/selfSignedCert:SelfSignedCert").length, 1, "one CA");
    assert.equal(registered.filter((r) => r.type === "random:index/randomId:RandomId").length, 1, "one token");
    assert.equal(registered.filter((r) => r.name === "c1-record").length, 1, "one record of the deployment");
    const record = registered.find((r) => r.name === "c1-record")!.inputs.record as Record<string, unknown>;
    assert.equal(record.version, "3.6.16");
    assert.deepEqual((record.members as { name: string }[]).map((m) => m.name), ["etcd1", "etcd2", "etcd3"]);
    assert.doesNotMatch(JSON.stringify(record), /PRIVATE|initial-cluster/, "the record holds no secret and no bootstrap-only key");
});

test("reordering the member list registers the same resource names", async () => {
    await build(members);
    const a = registered.map((r) => `${r.type}::${r.name}`).sort();
    await build([...members].reverse());
    const b = registered.map((r) => `${r.type}::${r.name}`).sort();
    assert.deepEqual(b, a);
});

test("certificates: exact SANs, usages, ECDSA P-256", async () => {
    await build(members);
    const csr = (n: string) => registered.find((r) => r.name === n && r.type === "tls:index/certRequest:CertRequest")!.inputs;
    const cert = (n: string) => registered.find((r) => r.name === n && r.type === "tls:index/locallySignedCert:LocallySignedCert")!.inputs;
    assert.deepEqual(csr("c1-etcd1-server-csr").ipAddresses, ["10.0.0.11", "127.0.0.1", "10.9.9.9"]);
    assert.deepEqual(csr("c1-etcd1-server-csr").dnsNames, ["localhost", "etcd.example.com"]);
    assert.deepEqual(csr("c1-etcd2-peer-csr").ipAddresses, ["10.0.0.12"]);
    assert.deepEqual(csr("c1-etcd2-peer-csr").dnsNames, []);
    assert.equal((csr("c1-etcd2-peer-csr").subject as { commonName: string }).commonName, "etcd-peer");
    assert.deepEqual(cert("c1-etcd1-server-cert").allowedUses, ["digital_signature", "key_encipherment", "server_auth", "client_auth"]);
    assert.deepEqual(cert("c1-admin-cert").allowedUses, ["digital_signature", "key_encipherment", "client_auth"]);
    assert.deepEqual(cert("c1-apiserver-cert").allowedUses, ["digital_signature", "key_encipherment", "client_auth"]);
    const ca = registered.find((r) => r.type === "tls:index/selfSignedCert:SelfSignedCert")!.inputs;
    assert.equal(ca.isCaCertificate, true);
    assert.ok((ca.allowedUses as string[]).includes("cert_signing"));
    for (const k of registered.filter((r) => r.type === "tls:index/privateKey:PrivateKey")) {
        assert.equal(k.inputs.algorithm, "ECDSA");
        assert.equal(k.inputs.ecdsaCurve, "P256");
    }
});

test("RSA is available on request", async () => {
    await build(members, { keyAlgorithm: "RSA" });
    for (const k of registered.filter((r) => r.type === "tls:index/privateKey:PrivateKey")) {
        assert.equal(k.inputs.algorithm, "RSA");
        assert.equal(k.inputs.rsaBits, 3072);
    }
});

test("outputs: client URLs in list order; keys are secret; no private key in plain outputs", async () => {
    const { cluster, out } = await build(members);
    assert.equal(out.clientEndpoints, "https://10.0.0.11:2379,https://10.0.0.12:2379,https://10.0.0.13:2379");
    assert.match(String(out.etcdctl), /^etcdctl --endpoints=https:\/\/10\.0\.0\.11:2379,.* --cacert=ca\.crt --cert=admin\.crt --key=admin\.key$/);
    assert.equal(await pulumi.isSecret(cluster.adminKeyPem), true);
    assert.equal(await pulumi.isSecret(cluster.apiserverKeyPem), true);
    for (const o of [cluster.clientEndpoints, cluster.caCertPem, cluster.adminCertPem, cluster.etcdctlCommand]) {
        assert.equal(await pulumi.isSecret(o), false);
    }
});

test("the component's own inputs are its policy summary, with no secret in them", async () => {
    await build(members, { purgeDataOnDestroy: true });
    const component = registered.find((r) => r.type === "etcd-pulumi:index:EtcdCluster");
    assert.ok(component, "the EtcdCluster component is registered");
    assert.deepEqual(component.inputs, {
        members: members.map((m) => ({ ...m, sshHost: m.address, hostKeyPinned: false })),
        version: "3.6.16",
        purgeDataOnDestroy: true,
        allowEvenMembers: false,
        allowSmallCluster: false,
    });
    assert.doesNotMatch(JSON.stringify(component.inputs), /SSH-PRIVATE-KEY|PRIVATE-KEY-OF|1b47061264138c4ac30d75fd1eb44270/);
});

test("secrets reach hosts only on stdin; no command text carries a script or a key", async () => {
    await build(members);
    for (const r of registered.filter((x) => x.type === "command:remote:Command")) {
        for (const field of ["create", "update", "delete"]) {
            const text = String(r.inputs[field] ?? "");
            assert.doesNotMatch(text, /PRIVATE-KEY-OF|SSH-PRIVATE-KEY/, `${r.name}.${field}`);
            assert.ok(text.length < 300, `${r.name}.${field} carries more than the launcher`);
        }
        if (!r.name.endsWith("-configure")) assert.doesNotMatch(JSON.stringify(r.inputs.stdin), /PRIVATE-KEY-OF/, `${r.name}.stdin`);
    }
    const configure = registered.find((r) => r.name === "c1-etcd1-configure")!;
    // The engine receives stdin wrapped as a secret (Pulumi's secret signature), so state encrypts it.
    const wrapped = configure.inputs.stdin as Record<string, string>;
    assert.equal(wrapped["4dabf18193072939515e22adb298388d"], "1b47061264138c4ac30d75fd1eb44270");
    const line = wrapped.value.split("\n").find((l) => l.startsWith("/etc/etcd/pki/server.key "))!;
    assert.equal(Buffer.from(line.split(" ")[3], "base64").toString(), "PRIVATE-KEY-OF-c1-etcd1-server-key");
    const conn = configure.inputs.connection as Record<string, string>;
    assert.equal(conn["4dabf18193072939515e22adb298388d"], "1b47061264138c4ac30d75fd1eb44270", "connection (with the SSH key) is secret");
});

test("service steps are chained in name order so restarts roll one member at a time", async () => {
    await build(members);
    const service = registered.filter((r) => r.name.endsWith("-service")).map((r) => r.name);
    assert.deepEqual(service, ["c1-etcd1-service", "c1-etcd2-service", "c1-etcd3-service"]);
});

test("invalid args fail before any resource is registered", async () => {
    registered.length = 0;
    const { EtcdCluster } = await import("../../components");
    assert.throws(() => new EtcdCluster("bad", { members: [], ssh: { privateKey: "k" } }), /members: no members/);
    assert.equal(registered.length, 0);
});

test("the pre-install snapshot step names the version, so it runs again exactly when the version changes", async () => {
    await build(members, { version: "3.6.16" });
    const snap = registered.find((r) => r.name === "c1-snapshot-before-install");
    assert.ok(snap, "snapshot step missing");
    assert.match(String(snap.inputs.stdin), /pre-install-3\.6\.16/);
});

test("monitoring: Prometheus' client certificate (CN etcd-monitoring, client_auth only) from the leaves' issuer; outputs; host metrics always written", async () => {
    const { cluster } = await build(members, { monitoring: { port: 2382 } });
    const csr = registered.find((r) => r.name === "c1-monitoring-csr")!.inputs;
    assert.equal((csr.subject as { commonName: string }).commonName, "etcd-monitoring");
    assert.deepEqual([csr.ipAddresses, csr.dnsNames], [[], []]);
    const cert = registered.find((r) => r.name === "c1-monitoring-cert")!.inputs;
    assert.deepEqual(cert.allowedUses, ["digital_signature", "key_encipherment", "client_auth"]);
    assert.equal(cert.caCertPem, registered.find((r) => r.name === "c1-etcd1-server-cert")!.inputs.caCertPem, "issued by the CA that issues the members' certificates");
    const [certPem, keyPem, scrape, rules] = await new Promise<(string | undefined)[]>((resolve) =>
        pulumi.all([cluster.monitoringCertPem, cluster.monitoringKeyPem, cluster.prometheusScrapeConfig, cluster.prometheusRules]).apply(resolve),
    );
    assert.match(String(certPem), /^CERT-c1-monitoring-cert\n-----BEGIN CERTIFICATE-----/);
    assert.equal(keyPem, "PRIVATE-KEY-OF-c1-monitoring-key");
    assert.equal(await pulumi.isSecret(cluster.monitoringKeyPem), true);
    assert.equal(await pulumi.isSecret(cluster.monitoringCertPem), false);
    assert.match(String(scrape), /job_name: etcd-c1\n/);
    assert.match(String(scrape), /- 10\.0\.0\.13:2382\n/);
    assert.match(String(rules), /alert: etcdMembersDown\n/);
    assert.match(String(rules), /up\{job="etcd-c1"\}/);
    const stdin = (registered.find((r) => r.name === "c1-etcd2-configure")!.inputs.stdin as Record<string, string>).value;
    const file = (p: string) => Buffer.from(stdin.split("\n").find((l) => l.startsWith(`${p} 0644 root:root `))!.split(" ")[3], "base64").toString();
    assert.match(file("/var/lib/etcd-pulumi/metrics/etcd-certificates.prom"), /^etcd_pulumi_certificate_expiry_timestamp_seconds\{certificate="peer"\} \d{10}$/m);
    assert.match(file("/var/lib/etcd-pulumi/metrics/etcd-member.prom"), /^etcd_pulumi_member_info\{etcd_cluster="c1",member="etcd2"\} 1$/m);
    assert.match(stdin, /rm -f '\/var\/lib\/etcd-pulumi\/metrics\/etcd-certificates\.prom'/, "the configure step's delete removes them");
});

test("monitoring: during a CA rotation's reissue phase the monitoring certificate comes from the new CA, like every leaf", async () => {
    await build(members, { monitoring: {}, caGeneration: 2, caRotation: "reissue" });
    const issuer = (n: string) => String(registered.find((r) => r.name === n)!.inputs.caCertPem);
    assert.match(issuer("c1-monitoring-cert"), /^CA-CERT-c1-ca-g2\n/);
    assert.equal(issuer("c1-monitoring-cert"), issuer("c1-admin-cert"));
});

test("monitoring: off (or plain http) registers no monitoring certificate; outputs are undefined when off; host metrics are written anyway", async () => {
    const { cluster } = await build(members);
    assert.equal(registered.some((r) => r.name.startsWith("c1-monitoring")), false);
    const outs = await new Promise<(string | undefined)[]>((resolve) => pulumi.all([cluster.monitoringCertPem, cluster.monitoringKeyPem, cluster.prometheusScrapeConfig, cluster.prometheusRules]).apply(resolve));
    assert.deepEqual(outs, [undefined, undefined, undefined, undefined]);
    assert.match((registered.find((r) => r.name === "c1-etcd1-configure")!.inputs.stdin as Record<string, string>).value, /^\/var\/lib\/etcd-pulumi\/metrics\/etcd-certificates\.prom 0644 root:root /m);
    const plain = await build(members, { monitoring: { plainHttp: true } });
    assert.equal(registered.some((r) => r.name.startsWith("c1-monitoring")), false);
    assert.match(String(await new Promise((resolve) => plain.cluster.prometheusScrapeConfig.apply(resolve))), /scheme: http\n/);
});

test("no host step ever deletes on its host (each is kept on delete); the host-cleanup resource comes last, holds every member's host, its SSH key secret", async () => {
    // A parent's transformation runs after the cluster's own, so it sees the options the engine gets.
    const seen: { type: string; name: string; opts: pulumi.CustomResourceOptions }[] = [];
    const holder = new pulumi.ComponentResource("test:index:Holder", "holder", {}, {
        transformations: [(a) => { seen.push({ type: a.type, name: a.name, opts: a.opts }); return undefined; }],
    });
    registered.length = 0;
    const { EtcdCluster } = await import("../../components");
    new EtcdCluster("c1", { members, ssh: { privateKey: pulumi.secret("SSH-PRIVATE-KEY") }, binary: { path: archive, sha256: sha } }, { parent: holder });
    await settle();
    const remote = seen.filter((r) => r.type.startsWith("command:remote:"));
    assert.ok(remote.length >= 3 * 4 + 2, `expected every member's upload, configure, service and ready, got ${remote.map((r) => r.name).join(", ")}`);
    for (const r of remote) assert.equal(r.opts.retainOnDelete, true, `${r.name} would run its delete on its host`);
    for (const r of seen.filter((x) => !x.type.startsWith("command:remote:"))) assert.notEqual(r.opts.retainOnDelete, true, `${r.name} must not be kept on delete`);

    const cleanup = registered.find((r) => r.name === "c1-host-cleanup");
    assert.ok(cleanup, "the host-cleanup resource is registered");
    const hosts = cleanup.inputs.hosts as { member: string; target: string }[];
    assert.deepEqual(hosts.map((h) => `${h.member}@${h.target}`), ["etcd1@10.0.0.11:22", "etcd2@10.0.0.12:22", "etcd3@10.0.0.13:22"]);
    assert.doesNotMatch(JSON.stringify(hosts), /SSH-PRIVATE-KEY/);
    const key = cleanup.inputs.privateKey as Record<string, string>;
    assert.equal(key["4dabf18193072939515e22adb298388d"], "1b47061264138c4ac30d75fd1eb44270", "the SSH key is a secret input");
    const deps = seen.find((r) => r.name === "c1-host-cleanup")!.opts.dependsOn as pulumi.Resource[];
    const depNames = await Promise.all(deps.map((d) => new Promise<string>((resolve) => (d as pulumi.CustomResource).urn.apply((u) => resolve(u.split("::").pop()!)))));
    assert.deepEqual(depNames.sort(), ["c1-etcd1-ready", "c1-etcd2-ready", "c1-etcd3-ready", "c1-remove-members"]);
});

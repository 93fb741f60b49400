/** The resource graph the component registers, with Pulumi's mocks (no engine, no hosts). */
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";

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
            if (args.type === "tls:index/selfSignedCert:SelfSignedCert") state.certPem = `CA-CERT-${args.name}`;
            if (args.type === "tls:index/certRequest:CertRequest") state.certRequestPem = `CSR-${args.name}`;
            if (args.type === "tls:index/locallySignedCert:LocallySignedCert") state.certPem = `CERT-${args.name}`;
            if (args.type === "random:index/randomId:RandomId") state.hex = "0123456789abcdef01234567";
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
        for (const suffix of ["prepare", "upload", "install", "files", "service", "ready", "server-key", "server-cert", "peer-key", "peer-cert", "etcdctl-key", "etcdctl-cert"]) {
            assert.ok(names.includes(`c1-${m.name}-${suffix}`), `missing c1-${m.name}-${suffix}`);
        }
        assert.ok(registered.some((r) => r.type === "etcd-pulumi:index:EtcdMember" && r.name === `c1-${m.name}`));
    }
    assert.ok(registered.some((r) => r.type === "etcd-pulumi:index:EtcdCluster" && r.name === "c1"));
    assert.equal(registered.filter((r) => r.type === "tls:index/selfSignedCert:SelfSignedCert").length, 1, "one CA");
    assert.equal(registered.filter((r) => r.type === "random:index/randomId:RandomId").length, 1, "one token");
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

test("secrets reach hosts only on stdin; no script text carries a key", async () => {
    await build(members);
    for (const r of registered.filter((x) => x.type === "command:remote:Command")) {
        for (const field of ["create", "update", "delete"]) {
            const text = String(r.inputs[field] ?? "");
            assert.doesNotMatch(text, /PRIVATE-KEY-OF|SSH-PRIVATE-KEY/, `${r.name}.${field}`);
        }
    }
    const files = registered.find((r) => r.name === "c1-etcd1-files")!;
    // The engine receives stdin wrapped as a secret (Pulumi's secret signature), so state encrypts it.
    const wrapped = files.inputs.stdin as Record<string, string>;
    assert.equal(wrapped["4dabf18193072939515e22adb298388d"], "1b47061264138c4ac30d75fd1eb44270");
    const line = wrapped.value.split("\n").find((l) => l.startsWith("/etc/etcd/pki/server.key "))!;
    assert.equal(Buffer.from(line.split(" ")[3], "base64").toString(), "PRIVATE-KEY-OF-c1-etcd1-server-key");
    const conn = registered.find((r) => r.name === "c1-etcd1-prepare")!.inputs.connection as Record<string, string>;
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

test("changes to a deployed cluster that cannot be done safely are refused before anything is registered", async () => {
    const { EtcdCluster } = await import("../../components");
    const deployed = { members: members.map((m) => ({ name: m.name, address: m.address })), version: "3.5.35" };
    const attempt = (extra: Record<string, unknown>) => () =>
        new EtcdCluster("c2", { members, ssh: { privateKey: "k" }, binary: { path: archive, sha256: sha }, deployed, ...extra });
    registered.length = 0;
    assert.throws(attempt({ version: "3.7.1" }), /version: 3\.5\.35 -> 3\.7\.1 skips a minor version/);
    assert.throws(attempt({ version: "3.5.30" }), /downgrade/);
    assert.throws(
        attempt({ version: "3.6.16", members: [...members, { name: "etcd4", address: "10.0.0.14" }, { name: "etcd5", address: "10.0.0.15" }] }),
        /members: changing the member list of a deployed cluster \(add etcd4 \(10\.0\.0\.14\), then add etcd5 \(10\.0\.0\.15\)\) is not automated yet/,
    );
    assert.throws(attempt({ version: "3.6.16", members: members.slice(0, 2), allowEvenMembers: true }), /shrinking to 2 member\(s\)/);
    assert.equal(registered.length, 0);
});

test("an allowed upgrade of a deployed cluster builds, with the pre-install snapshot step", async () => {
    await build(members, { version: "3.6.16", deployed: { members: members.map((m) => ({ name: m.name, address: m.address })), version: "3.5.35" } });
    const snap = registered.find((r) => r.name === "c1-snapshot-before-install");
    assert.ok(snap, "snapshot step missing");
    assert.match(String(snap.inputs.create), /pre-install-3\.6\.16/);
});

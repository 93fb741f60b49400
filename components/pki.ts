/**
 * The cluster's PKI, all inside Pulumi state: a CA whose key never leaves the deployer, and per member
 * its own server, peer and etcdctl client key pairs; plus admin and kube-apiserver client certificates.
 */
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { isIP } from "node:net";
import { caLayout } from "./plan/caRotation";
import { PEER_CN } from "./render/config";
import { MONITORING_CN } from "./monitoring/listener";
import { ClusterSettings, MemberSettings } from "./settings";

export interface KeyPair {
    certPem: pulumi.Output<string>;
    /** Secret. */
    keyPem: pulumi.Output<string>;
}

export interface MemberPki {
    server: KeyPair;
    peer: KeyPair;
    client: KeyPair;
}

export interface ClusterPki {
    /** The CAs every member and client trusts (PEM, oldest first): two during a CA rotation, else one. */
    caBundlePem: pulumi.Output<string>;
    members: Map<string, MemberPki>;
    admin: KeyPair;
    apiserver: KeyPair;
    /** Prometheus' client certificate for the members' https metrics listeners, when monitoring is on over https. */
    monitoring?: KeyPair;
}

type Usage = "server_auth" | "client_auth";

export interface CertSpec {
    commonName: string;
    ipAddresses: string[];
    dnsNames: string[];
    usages: Usage[];
}

/** Split SANs into IPs and DNS names, without duplicates. */
export function sans(values: string[]): { ipAddresses: string[]; dnsNames: string[] } {
    const uniq = [...new Set(values)];
    return { ipAddresses: uniq.filter((v) => isIP(v) !== 0), dnsNames: uniq.filter((v) => isIP(v) === 0) };
}

/** The certificates a member gets, with exact SANs. */
export function memberCertSpecs(m: MemberSettings, s: ClusterSettings): { server: CertSpec; peer: CertSpec; client: CertSpec } {
    return {
        server: { commonName: m.name, ...sans([m.address, "127.0.0.1", "localhost", ...s.extraSans]), usages: ["server_auth", "client_auth"] },
        peer: { commonName: PEER_CN, ...sans([m.address]), usages: ["server_auth", "client_auth"] },
        client: { commonName: `etcdctl-${m.name}`, ipAddresses: [], dnsNames: [], usages: ["client_auth"] },
    };
}

export const ADMIN_CN = "etcd-admin";
export const APISERVER_CN = "kube-apiserver-etcd-client";

function privateKey(name: string, s: ClusterSettings, opts: pulumi.CustomResourceOptions): tls.PrivateKey {
    return s.keyAlgorithm === "RSA"
        ? new tls.PrivateKey(name, { algorithm: "RSA", rsaBits: 3072 }, opts)
        : new tls.PrivateKey(name, { algorithm: "ECDSA", ecdsaCurve: "P256" }, opts);
}

export function createPki(prefix: string, s: ClusterSettings, parent: pulumi.Resource, after: pulumi.Resource[] = [], leafGeneration?: pulumi.Input<number>): ClusterPki {
    const opts: pulumi.CustomResourceOptions = { parent, dependsOn: after };
    // One CA per generation; during a rotation the old and the new one exist (plan/caRotation.ts).
    const layout = caLayout({ generation: s.caGeneration, rotation: s.caRotation ?? "none" });
    const cas = new Map<number, { key: tls.PrivateKey; cert: tls.SelfSignedCert }>();
    for (const g of layout.generations) {
        const base = g === 1 ? `${prefix}-ca` : `${prefix}-ca-g${g}`;
        // A CA keeps the key it was made with: a new keyAlgorithm applies to the next generation only
        // (the record refuses it outside a rotation), so the old CA never changes under running members.
        const key = privateKey(`${base}-key`, s, { ...opts, ignoreChanges: ["algorithm", "ecdsaCurve", "rsaBits"] });
        const cert = new tls.SelfSignedCert(
            base,
            {
                privateKeyPem: key.privateKeyPem,
                isCaCertificate: true,
                validityPeriodHours: s.certValidityHours,
                allowedUses: ["cert_signing", "crl_signing", "digital_signature", "key_encipherment"],
                subject: { commonName: g === 1 ? `${prefix} etcd CA` : `${prefix} etcd CA generation ${g}`, organization: "etcd-pulumi" },
            },
            // certValidityHours re-issues the leaf certificates only: a new CA would cut members off from
            // each other (etcd reads its trusted CA only at start), so the CA keeps the validity it got.
            { ...opts, ignoreChanges: ["validityPeriodHours"] },
        );
        cas.set(g, { key, cert });
    }
    const issuer = cas.get(layout.leafIssuer)!;
    const caBundlePem = pulumi.all(layout.trusted.map((g) => cas.get(g)!.cert.certPem)).apply((pems) => pems.map((p) => p.trimEnd() + "\n").join(""));
    const issue = (name: string, spec: CertSpec): KeyPair => {
        const key = privateKey(`${name}-key`, s, opts);
        const csr = new tls.CertRequest(
            `${name}-csr`,
            {
                privateKeyPem: key.privateKeyPem,
                subject: { commonName: spec.commonName, organization: "etcd-pulumi" },
                ipAddresses: spec.ipAddresses,
                dnsNames: spec.dnsNames,
            },
            opts,
        );
        const cert = new tls.LocallySignedCert(
            `${name}-cert`,
            {
                certRequestPem: csr.certRequestPem,
                caPrivateKeyPem: issuer.key.privateKeyPem,
                caCertPem: issuer.cert.certPem,
                validityPeriodHours: s.certValidityHours,
                allowedUses: ["digital_signature", "key_encipherment", ...spec.usages],
            },
            leafGeneration === undefined ? opts : { ...opts, replacementTrigger: leafGeneration },
        );
        return { certPem: cert.certPem, keyPem: pulumi.secret(key.privateKeyPem) };
    };
    const members = new Map<string, MemberPki>();
    for (const m of s.members) {
        const specs = memberCertSpecs(m, s);
        members.set(m.name, {
            server: issue(`${prefix}-${m.name}-server`, specs.server),
            peer: issue(`${prefix}-${m.name}-peer`, specs.peer),
            client: issue(`${prefix}-${m.name}-etcdctl`, specs.client),
        });
    }
    const clientSpec = (cn: string): CertSpec => ({ commonName: cn, ipAddresses: [], dnsNames: [], usages: ["client_auth"] });
    return {
        caBundlePem,
        members,
        admin: issue(`${prefix}-admin`, clientSpec(ADMIN_CN)),
        apiserver: issue(`${prefix}-apiserver`, clientSpec(APISERVER_CN)),
        // Only when something needs it: a plain-http listener takes no certificate, and no key exists that nobody uses.
        ...(s.monitoring && !s.monitoring.plainHttp ? { monitoring: issue(`${prefix}-monitoring`, clientSpec(MONITORING_CN)) } : {}),
    };
}

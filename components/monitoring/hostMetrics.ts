/**
 * What the configure step writes for monitoring agents on every member, whether or not `monitoring` is
 * set: Prometheus text files in /var/lib/etcd-pulumi/metrics (node_exporter's textfile collector reads
 * them). The certificates' expiry times are read here, on the deployer, from the exact PEMs the step
 * installs: no openssl needed on the hosts, and the file changes exactly when the certificates do.
 */
import * as crypto from "node:crypto";
import { HostFile } from "../render/files";
import { MEMBER_INFO_METRIC } from "./componentAlerts";
import { CLUSTER_LABEL, MEMBER_LABEL } from "./scrapeConfig";

export const HOST_METRICS_DIR = "/var/lib/etcd-pulumi/metrics";
export const CERTIFICATE_METRICS_FILE = `${HOST_METRICS_DIR}/etcd-certificates.prom`;
export const MEMBER_METRICS_FILE = `${HOST_METRICS_DIR}/etcd-member.prom`;
/** Every file of this module on a host (for the configure step's delete). */
export const HOST_METRICS_FILES = [CERTIFICATE_METRICS_FILE, MEMBER_METRICS_FILE];

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** notAfter of each certificate in a PEM bundle, as Unix seconds (oldest-first order kept). */
export function certificateExpiries(pem: string, what: string): number[] {
    const blocks = pem.match(PEM_BLOCK) ?? [];
    if (blocks.length === 0) throw new Error(`monitoring: the ${what} certificate is not a PEM certificate`);
    return blocks.map((b) => Math.floor(Date.parse(new crypto.X509Certificate(b).validTo) / 1000));
}

export interface MemberCertificates {
    server: string;
    peer: string;
    /** The member's etcdctl client certificate. */
    client: string;
    /** The CAs the member trusts (two during a CA rotation). */
    caBundle: string;
}

/** etcd_pulumi_certificate_expiry_timestamp_seconds per certificate; for the CA bundle, the CA that expires first. */
export function renderCertificateMetrics(c: MemberCertificates): string {
    const rows: [string, number][] = [
        ["server", certificateExpiries(c.server, "server")[0]],
        ["peer", certificateExpiries(c.peer, "peer")[0]],
        ["client", certificateExpiries(c.client, "client")[0]],
        ["ca", Math.min(...certificateExpiries(c.caBundle, "CA"))],
    ];
    return [
        "# HELP etcd_pulumi_certificate_expiry_timestamp_seconds When the certificate expires (notAfter, Unix time); written by pulumi up.",
        "# TYPE etcd_pulumi_certificate_expiry_timestamp_seconds gauge",
        ...rows.map(([name, t]) => `etcd_pulumi_certificate_expiry_timestamp_seconds{certificate="${name}"} ${t}`),
        "",
    ].join("\n");
}

/** Which cluster and member this host runs: the alerts on host metrics join it (componentAlerts.ts). */
export function renderMemberInfo(clusterName: string, member: string): string {
    return [
        `# HELP ${MEMBER_INFO_METRIC} The etcd cluster and member this host runs; written by pulumi up.`,
        `# TYPE ${MEMBER_INFO_METRIC} gauge`,
        `${MEMBER_INFO_METRIC}{${CLUSTER_LABEL}="${clusterName}",${MEMBER_LABEL}="${member}"} 1`,
        "",
    ].join("\n");
}

/** The files, world-readable (0644) so node_exporter's user reads them; the configure step writes each atomically. */
export function hostMetricsFiles(clusterName: string, member: string, certs: MemberCertificates): HostFile[] {
    return [
        { path: CERTIFICATE_METRICS_FILE, mode: "0644", owner: "root:root", content: renderCertificateMetrics(certs) },
        { path: MEMBER_METRICS_FILE, mode: "0644", owner: "root:root", content: renderMemberInfo(clusterName, member) },
    ];
}

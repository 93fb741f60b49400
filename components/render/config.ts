/** The etcd `--config-file` YAML for one member. */
import { stringify } from "yaml";
import { ClusterSettings, MemberSettings } from "../settings";
import { HostPaths } from "./paths";
import { metricsConfig } from "../monitoring/listener";

/** CN every peer certificate carries; etcd rejects peers presenting any other CN. */
export const PEER_CN = "etcd-peer";

/** TLS 1.2 suites etcd accepts that are forward-secret AEADs (ECDHE with GCM or ChaCha20-Poly1305). */
export const CIPHER_SUITES = [
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
];

function host(address: string): string {
    return address.includes(":") ? `[${address}]` : address;
}

/** Only the address matters for a URL; members recorded as peers (plan/bootstrap.ts) carry no more. */
type Addressed = Pick<MemberSettings, "address">;

export function peerUrl(m: Addressed, s: ClusterSettings): string {
    return `https://${host(m.address)}:${s.peerPort}`;
}

export function clientUrl(m: Addressed, s: ClusterSettings): string {
    return `https://${host(m.address)}:${s.clientPort}`;
}

/** `name=peerURL,...` for the given members, in the order given. */
export function initialCluster(members: (Addressed & { name: string })[], s: ClusterSettings): string {
    return members.map((m) => `${m.name}=${peerUrl(m, s)}`).join(",");
}

export interface ConfigInputs {
    settings: ClusterSettings;
    member: MemberSettings;
    /** The members the cluster has (or will have) when this member first starts. */
    initialMembers: (Addressed & { name: string })[];
    clusterToken: string;
    paths: HostPaths;
}

/**
 * The member's config. `initial-cluster-state` is always `existing` here: the bootstrap step switches a
 * brand-new member's copy to `new` only while its data dir is empty (see scripts.ts), so a member that
 * later loses its data dir can never found a second cluster.
 */
export function renderEtcdConfig(c: ConfigInputs): string {
    const { settings: s, member: m, paths } = c;
    const listen = host(m.listenAddress);
    const listenClient = [`https://${listen}:${s.clientPort}`];
    if (m.listenAddress !== "127.0.0.1" && m.listenAddress !== "0.0.0.0") listenClient.push(`https://127.0.0.1:${s.clientPort}`);
    const config: Record<string, unknown> = {
        name: m.name,
        "data-dir": s.dataDir,
        ...(s.walDir ? { "wal-dir": s.walDir } : {}),
        "listen-peer-urls": `https://${listen}:${s.peerPort}`,
        "listen-client-urls": listenClient.join(","),
        ...metricsConfig(s, m),
        "initial-advertise-peer-urls": peerUrl(m, s),
        "advertise-client-urls": clientUrl(m, s),
        "initial-cluster": initialCluster(c.initialMembers, s),
        "initial-cluster-token": c.clusterToken,
        "initial-cluster-state": "existing",
        "strict-reconfig-check": true,
        "pre-vote": true,
        "heartbeat-interval": s.heartbeatInterval,
        "election-timeout": s.electionTimeout,
        "quota-backend-bytes": s.quotaBackendBytes,
        "auto-compaction-mode": s.autoCompactionMode,
        "auto-compaction-retention": s.autoCompactionRetention,
        "max-request-bytes": s.maxRequestBytes,
        logger: "zap",
        "log-level": s.logLevel,
        "log-outputs": ["stderr"],
        "tls-min-version": "TLS1.2",
        "cipher-suites": CIPHER_SUITES,
        "client-transport-security": {
            "cert-file": paths.serverCert,
            "key-file": paths.serverKey,
            "client-cert-auth": true,
            "trusted-ca-file": paths.caCert,
            "auto-tls": false,
        },
        "peer-transport-security": {
            "cert-file": paths.peerCert,
            "key-file": paths.peerKey,
            "client-cert-auth": true,
            "trusted-ca-file": paths.caCert,
            "auto-tls": false,
            "allowed-cn": [PEER_CN],
        },
    };
    return `# Managed by etcd-pulumi: changes here are overwritten on the next pulumi up.\n${stringify(config)}`;
}

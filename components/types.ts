import * as pulumi from "@pulumi/pulumi";
import { EtcdClientArgs } from "./auth/types";

export { EtcdClientArgs, EtcdClientCertificate, EtcdClientPermissionArgs } from "./auth/types";
import { EtcdBackupArgs } from "./backup/args";

export { EtcdBackupArgs, EtcdBackupRetentionArgs } from "./backup/args";
import { EtcdMonitoringArgs } from "./monitoring/args";

export { EtcdMonitoringArgs } from "./monitoring/args";
import { EtcdMaintenanceArgs } from "./maintenance/args";

export { EtcdMaintenanceArgs } from "./maintenance/args";

/** One etcd member: where it runs and how to reach it. */
export interface EtcdMemberArgs {
    /** Member name (etcd `--name`), also the name of its Pulumi resources. */
    name: string;
    /** IP address or DNS name used in the member's peer/client URLs and certificate SANs. */
    address: string;
    /** IP address etcd binds to; defaults to `address` when that is an IP, else 0.0.0.0. */
    listenAddress?: string;
    /** SSH host; defaults to `address`. */
    sshHost?: string;
    /** SSH port; defaults to 22. */
    sshPort?: number;
    /** SSH user for this member; defaults to the cluster's `ssh.user`. */
    sshUser?: string;
    /** Pin the host's SSH key (authorized_keys format line, e.g. `ssh-ed25519 AAAA...`). */
    hostKey?: string;
    /**
     * Bump (0 -> 1 -> 2 ...) to replace this member on its host, e.g. after it lost its disk: the next
     * `pulumi up` removes it from the cluster, moves its old data dir aside and joins it fresh. Default 0.
     */
    replacement?: number;
}

/** A jump host the deployer tunnels through. */
export interface EtcdBastionArgs {
    /** The jump host's IP address or DNS name. */
    host: string;
    /** Its SSH port; defaults to 22. */
    port?: number;
    /** Its login user; defaults to the cluster's `ssh.user`. */
    user?: string;
    /** Pin its SSH key (authorized_keys format line). */
    hostKey?: string;
}

/** How the deployer reaches the hosts. */
export interface EtcdSshArgs {
    /** Login user; defaults to root. */
    user?: string;
    /**
     * Private key (PEM/OpenSSH). Pass it as a Pulumi secret.
     * @secret
     */
    privateKey: pulumi.Input<string>;
    /** Run host scripts through `sudo -n` (for non-root users). Defaults to true when user is not root. */
    sudo?: boolean;
    /** Optional jump host; it uses the same private key. */
    bastion?: EtcdBastionArgs;
    /** Dial attempts before a host counts as unreachable (default 4). */
    dialErrorLimit?: number;
    /** Seconds per dial attempt (default 10). */
    perDialTimeout?: number;
}

/** Where the etcd release archive comes from. All fields optional: the default is the official release. */
export interface EtcdBinarySourceArgs {
    /** Local archive path (`{version}` and `{arch}` are substituted, a leading `~/` is expanded). */
    path?: string;
    /** Mirror URL of the archive (`{version}`, `{arch}` substituted). */
    url?: string;
    /** Expected SHA-256 of the archive (hex). */
    sha256?: string;
    /** Path or URL of a SHA256SUMS file listing the archive (`{version}`, `{arch}` substituted). */
    sha256sums?: string;
}

/** Everything `EtcdCluster` needs. Only `members` and `ssh` are required. */
export interface EtcdClusterArgs {
    /** The members: an odd number (3, 5, 7) unless allowEvenMembers; each name and address unique. */
    members: EtcdMemberArgs[];
    /** How the deployer reaches the hosts over SSH. */
    ssh: EtcdSshArgs;
    /** etcd version, e.g. "3.6.16". */
    version?: string;
    /** CPU architecture of the hosts' release archive (amd64, arm64, ppc64le, s390x). */
    arch?: string;
    /** Where the release archive comes from; default: the official release, checksum-verified. */
    binary?: EtcdBinarySourceArgs;
    /** Client (TLS) port; default 2379. */
    clientPort?: number;
    /** Peer (TLS) port; default 2380. */
    peerPort?: number;
    /** Plain-http metrics/health listener, bound to 127.0.0.1 only. */
    metricsPort?: number;
    /** etcd's data dir on the hosts; default /var/lib/etcd. */
    dataDir?: string;
    /** A separate WAL dir on the hosts (e.g. on a faster disk); default none. */
    walDir?: string;
    /** Milliseconds; about the peer round-trip time. */
    heartbeatInterval?: number;
    /** Milliseconds; at least 5x heartbeatInterval. */
    electionTimeout?: number;
    /** Backend size quota in bytes; default 2 GiB, at most 8 GiB. */
    quotaBackendBytes?: number;
    /** "periodic" or "revision". */
    autoCompactionMode?: string;
    /** Auto-compaction retention, e.g. "1h" (periodic) or "1000" (revision); default "1h". */
    autoCompactionRetention?: string;
    /** Largest request etcd accepts, in bytes; default 1.5 MiB. */
    maxRequestBytes?: number;
    /** "debug", "info", "warn" or "error". */
    logLevel?: string;
    /** Extra SANs (IPs or DNS names) for every member's server certificate, e.g. a load balancer name. */
    extraSans?: string[];
    /** Validity of every certificate, in hours. */
    certValidityHours?: number;
    /**
     * Leaf certificates (members', admin's, apiserver's) are re-issued on the next `pulumi up` once they
     * are within this many hours of expiry; no restart. Default 720 (30 days). Less than certValidityHours.
     */
    certRenewBeforeHours?: number;
    /** "ECDSA" (P-256, default) or "RSA" (3072 bits). */
    keyAlgorithm?: string;
    /**
     * The CA generation (default 1). To rotate the CA: bump it together with `caRotation: "trust-both"`,
     * then set `caRotation: "reissue"`, then remove `caRotation`; one `pulumi up` each (README "Day 2").
     */
    caGeneration?: number;
    /** Phase of a running CA rotation: "trust-both" or "reissue"; unset when none runs. */
    caRotation?: string;
    /** Allow shrinking the member list below 3 members (no fault tolerance left). */
    allowSmallCluster?: boolean;
    /** Fixed initial-cluster-token; default: a random one, generated once. */
    clusterToken?: string;
    /** Allow an even number of members (not recommended: no extra fault tolerance). */
    allowEvenMembers?: boolean;
    /** Delete the data/WAL dirs and the etcd user on destroy. Default false: data is kept. */
    purgeDataOnDestroy?: boolean;
    /** When each member takes a verified snapshot: a systemd OnCalendar expression (default "hourly"). */
    snapshotSchedule?: string;
    /** How many scheduled snapshots each member keeps (default 24). */
    snapshotRetention?: number;
    /**
     * Restore the whole cluster: a snapshot file on the deployer (written by `etcdctl snapshot save`, e.g.
     * a scheduled one), or backups in the store: `backup:latest`, `backup:<ISO 8601 time>` or
     * `backup:revision:<n>` (the nearest earlier backup). The next `pulumi up` stops every member and
     * restores each from it; later runs with the same value change nothing; another value restores again
     * (README "Restore").
     */
    restoreFrom?: string;
    /** Off-host, encrypted backups to an S3-compatible store (README "Off-host backups"). */
    backup?: EtcdBackupArgs;
    /** Scheduled defragmentation and NOSPACE recovery (README "Monitoring and maintenance"); default: daily, etcd's fragmentation threshold. */
    maintenance?: EtcdMaintenanceArgs;
    /** Seconds to wait for a member to report healthy after a start or restart. */
    healthTimeoutSeconds?: number;
    /** Cache directory for downloaded release archives on the deployer. */
    cacheDir?: string;
    /** A metrics listener Prometheus can scrape from another host, securely; scrape config and alert outputs (README "Monitoring"). */
    monitoring?: EtcdMonitoringArgs;
    /**
     * etcd authentication (default false): every request is checked against the etcd user its client
     * certificate's CN names; the admin and the members' own certificates have the root role, the
     * kube-apiserver's and each client's only what they are granted (README "Authentication and clients").
     */
    auth?: boolean;
    /** Clients of the cluster: each gets a certificate (output clientCertificates), an etcd user and a role with its permissions. */
    clients?: EtcdClientArgs[];
    /** Keys the kube-apiserver certificate may read and write: its --etcd-prefix plus "/" (default "/registry/"). */
    apiserverPrefix?: string;
}

/** A member as deployed (output `deployedMembers`). */
export interface EtcdDeployedMember {
    /** Member name (etcd `--name`). */
    name: string;
    /** The address in its peer and client URLs. */
    address: string;
}

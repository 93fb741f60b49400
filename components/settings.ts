/** The validated, defaulted form of EtcdClusterArgs that every renderer works from. */
import { AuthSettings } from "./auth/settings";
import { BackupSettings } from "./backup/settings";
import { BackupSelector } from "./backup/catalog";
import { MonitoringSettings } from "./monitoring/settings";
import { MaintenanceSettings } from "./maintenance/settings";

export const DEFAULT_ETCD_VERSION = "3.6.16";

export interface MemberSettings {
    name: string;
    address: string;
    addressIsIp: boolean;
    listenAddress: string;
    sshHost: string;
    sshPort: number;
    sshUser: string;
    /** Run host scripts through sudo (non-root SSH user). */
    sudo: boolean;
    hostKey?: string;
    /** Bumped to replace the member on its host: removed from the cluster, then joins fresh (old data moved aside). */
    replacement: number;
}

/** A CA rotation in progress: which phase the config asks for (see plan/caRotation.ts). */
export type CaRotationPhase = "trust-both" | "reissue";

export interface BinarySourceSettings {
    kind: "official" | "mirror" | "local";
    /** URL or local path of the archive, placeholders substituted. */
    location: string;
    /** Expected SHA-256, when given directly. */
    sha256?: string;
    /** Path or URL of a SHA256SUMS file, when the checksum comes from one. */
    sha256sums?: string;
}

export interface ClusterSettings {
    members: MemberSettings[];
    version: string;
    arch: string;
    binary: BinarySourceSettings;
    clientPort: number;
    peerPort: number;
    metricsPort: number;
    dataDir: string;
    walDir?: string;
    heartbeatInterval: number;
    electionTimeout: number;
    quotaBackendBytes: number;
    autoCompactionMode: "periodic" | "revision";
    autoCompactionRetention: string;
    maxRequestBytes: number;
    logLevel: "debug" | "info" | "warn" | "error";
    extraSans: string[];
    certValidityHours: number;
    certRenewBeforeHours: number;
    keyAlgorithm: "ECDSA" | "RSA";
    /** Which CA signs the leaves once no rotation runs; bumped (with caRotation: trust-both) to rotate the CA. */
    caGeneration: number;
    /** The phase of a running CA rotation; undefined when none runs (or to finish one). */
    caRotation?: CaRotationPhase;
    /** Allow shrinking the member list below 3. */
    allowSmallCluster: boolean;
    /** Allow an even member count. */
    allowEvenMembers: boolean;
    clusterToken?: string;
    sshUser: string;
    dialErrorLimit: number;
    perDialTimeout: number;
    bastion?: { host: string; port: number; user: string; hostKey?: string };
    purgeDataOnDestroy: boolean;
    /** systemd OnCalendar expression of the scheduled snapshot. */
    snapshotSchedule: string;
    /** How many scheduled snapshots each member keeps. */
    snapshotRetention: number;
    /** Absolute path on the deployer of the snapshot to restore the cluster from (see restore/plan.ts). */
    restoreFrom?: string;
    /** restoreFrom names backups in the store (`backup:...`): which one, and the text as written. */
    restoreFromBackup?: { selector: BackupSelector; text: string };
    /** Off-host encrypted backups (backup/), when set. */
    backup?: BackupSettings;
    /** Scheduled defragmentation and NOSPACE recovery (maintenance/). */
    maintenance: MaintenanceSettings;
    healthTimeoutSeconds: number;
    cacheDir: string;
    /** The metrics listener on each member's address, scrape config and alerts (monitoring/), when set. */
    monitoring?: MonitoringSettings;
    /** etcd authentication and the declared clients (auth/settings.ts). */
    auth: AuthSettings;
}

/** The archive file name of a release, as upstream names it. */
export function releaseArchiveName(version: string, arch: string): string {
    return `etcd-v${version}-linux-${arch}.tar.gz`;
}

/** The top-level directory inside a release archive. */
export function releaseDirName(version: string, arch: string): string {
    return `etcd-v${version}-linux-${arch}`;
}

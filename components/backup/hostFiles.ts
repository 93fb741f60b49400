/**
 * Everything the backup puts on a member host: the shipped programs (host/), the env file they read,
 * the store's credentials and the backup keys (root-only files: secrets never reach a command line),
 * and the systemd units that run them. Pure, except for reading the shipped files once.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { HostFile } from "../render/files";
import { HostPaths } from "../render/paths";
import { ClusterSettings, MemberSettings } from "../settings";
import { BackupSettings } from "./settings";
import { envLine } from "../render/shell";

/** The secrets a member's backup files hold (keys.ts derives the first two from the stack's backup key). */
export interface BackupHostSecrets {
    encryptionPass: string;
    /** The mac.pads file (keys.ts macPads). */
    macPads: string;
    secretAccessKey: string;
}

/** Where the backup lives on a host. */
export const BACKUP_PATHS = {
    /** Keys, credentials and the env file: root only. */
    configDir: "/etc/etcd-pulumi/backup",
    envFile: "/etc/etcd-pulumi/backup/backup.env",
    credentialsFile: "/etc/etcd-pulumi/backup/s3-credentials",
    caFile: "/etc/etcd-pulumi/backup/s3-ca.pem",
    encryptionPassFile: "/etc/etcd-pulumi/backup/enc.pass",
    macPadsFile: "/etc/etcd-pulumi/backup/mac.pads",
    libDir: "/usr/local/lib/etcd-pulumi/backup",
    program: "/usr/local/lib/etcd-pulumi/backup/etcd-backup",
    /** Temporary files of a run (a snapshot and its ciphertext), next to the local snapshots. */
    workDir: "/var/lib/etcd-backups/offhost",
    /** Where a restore from the store leaves its verified snapshot. */
    restoreDir: "/var/lib/etcd-backups/restore",
    /** The last success, for monitoring (world-readable). */
    stateFile: "/var/lib/etcd-pulumi/last-backup.json",
    /** The same in Prometheus text format (node_exporter's textfile collector can read this directory). */
    metricsFile: "/var/lib/etcd-pulumi/metrics/etcd-backup.prom",
    deltaService: "/etc/systemd/system/etcd-backup.service",
    deltaTimer: "/etc/systemd/system/etcd-backup.timer",
    fullService: "/etc/systemd/system/etcd-backup-full.service",
    fullTimer: "/etc/systemd/system/etcd-backup-full.timer",
} as const;

export const BACKUP_TIMERS = ["etcd-backup.timer", "etcd-backup-full.timer"];

/** The files shipped in host/, read from the package (dist copies them next to the compiled code). */
const SHIPPED = ["etcd-backup.sh", "s3.sh", "crypto.sh", "condense.awk", "retention.awk"] as const;
let shipped: Record<(typeof SHIPPED)[number], string> | undefined;
export function shippedBackupFiles(): Record<(typeof SHIPPED)[number], string> {
    shipped ??= Object.fromEntries(SHIPPED.map((f) => [f, fs.readFileSync(path.join(__dirname, "host", f), "utf8")])) as Record<(typeof SHIPPED)[number], string>;
    return shipped;
}

/** The env file the programs and units read. No secret in it. */
export function renderBackupEnv(s: ClusterSettings, m: MemberSettings, paths: HostPaths, b: BackupSettings): string {
    return [
        "# Managed by etcd-pulumi: settings of etcd-backup (no secrets; those are in the root-only files it names).",
        envLine("BACKUP_MEMBER", m.name),
        envLine("BACKUP_LIB_DIR", BACKUP_PATHS.libDir),
        envLine("BACKUP_KEY_DIR", BACKUP_PATHS.configDir),
        envLine("BACKUP_WORK_DIR", BACKUP_PATHS.workDir),
        envLine("BACKUP_RESTORE_DIR", BACKUP_PATHS.restoreDir),
        envLine("BACKUP_STATE_FILE", BACKUP_PATHS.stateFile),
        envLine("BACKUP_METRICS_FILE", BACKUP_PATHS.metricsFile),
        envLine("ETCDCTL", `${paths.binDir}/etcdctl`),
        envLine("ETCDUTL", `${paths.binDir}/etcdutl`),
        envLine("ETCD", `${paths.binDir}/etcd`),
        envLine("ETCD_ENDPOINT", `https://127.0.0.1:${s.clientPort}`),
        envLine("ETCD_CA_FILE", paths.caCert),
        envLine("ETCD_CERT_FILE", paths.clientCert),
        envLine("ETCD_KEY_FILE", paths.clientKey),
        envLine("ETCD_SERVER_CERT_FILE", paths.serverCert),
        envLine("ETCD_SERVER_KEY_FILE", paths.serverKey),
        envLine("ETCD_PEER_CERT_FILE", paths.peerCert),
        envLine("ETCD_PEER_KEY_FILE", paths.peerKey),
        // The throwaway etcd a restore from the store assembles its snapshot in (loopback only).
        envLine("ASSEMBLY_PORT_BASE", s.clientPort + 20000),
        envLine("S3_STORE", b.store.url),
        envLine("S3_ENDPOINT", b.endpoint),
        envLine("S3_REGION", b.region),
        envLine("S3_BUCKET", b.store.bucket),
        envLine("S3_PREFIX", b.store.prefix),
        envLine("S3_PATH_STYLE", b.pathStyle ? "true" : "false"),
        envLine("S3_CA_FILE", b.caBundle ? BACKUP_PATHS.caFile : ""),
        envLine("S3_CREDENTIALS_FILE", BACKUP_PATHS.credentialsFile),
        envLine("RETENTION_ALL_WITHIN_SECONDS", b.retention.allWithinSeconds),
        envLine("RETENTION_HOURLY", b.retention.hourly),
        envLine("RETENTION_DAILY", b.retention.daily),
        envLine("RETENTION_WEEKLY", b.retention.weekly),
        "",
    ].join("\n");
}

/** curl's config file format: `user = "ID:SECRET"`, with `\` and `"` escaped. */
export function renderCredentials(accessKeyId: string, secretAccessKey: string): string {
    const q = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"');
    return `# Managed by etcd-pulumi: the store's credentials (curl config format).\nuser = "${q(accessKeyId)}:${q(secretAccessKey)}"\n`;
}

const unitHeader = `# Managed by etcd-pulumi.\n`;

/** A oneshot unit that runs one etcd-backup command at low priority: it must never starve etcd. */
function renderService(description: string, command: string, timeout: string): string {
    return `${unitHeader}[Unit]
Description=${description} (etcd-pulumi)
After=etcd.service network-online.target
Wants=network-online.target

[Service]
Type=oneshot
ExecStart=${BACKUP_PATHS.program} ${command}
TimeoutStartSec=${timeout}
Nice=10
IOSchedulingClass=idle
CPUWeight=20
`;
}

export function renderDeltaTimer(b: BackupSettings): string {
    return `${unitHeader}[Unit]
Description=Off-host etcd backup every ${b.periodSeconds} s (etcd-pulumi)

[Timer]
OnActiveSec=${b.periodSeconds}s
OnUnitActiveSec=${b.periodSeconds}s
AccuracySec=1s

[Install]
WantedBy=timers.target
`;
}

export function renderFullTimer(b: BackupSettings): string {
    return `${unitHeader}[Unit]
Description=Off-host etcd full base (etcd-pulumi)

[Timer]
OnCalendar=${b.fullSchedule}
Persistent=true
RandomizedDelaySec=30

[Install]
WantedBy=timers.target
`;
}

/** Every file of the backup on one member; `secrets` are secrets (the bundle travels on secret stdin). */
export function backupFiles(s: ClusterSettings, m: MemberSettings, paths: HostPaths, b: BackupSettings, secrets: BackupHostSecrets): HostFile[] {
    const ship = shippedBackupFiles();
    const root = (p: string, mode: string, content: string): HostFile => ({ path: p, mode, owner: "root:root", content });
    return [
        root(BACKUP_PATHS.program, "0755", ship["etcd-backup.sh"]),
        root(`${BACKUP_PATHS.libDir}/s3.sh`, "0644", ship["s3.sh"]),
        root(`${BACKUP_PATHS.libDir}/crypto.sh`, "0644", ship["crypto.sh"]),
        root(`${BACKUP_PATHS.libDir}/condense.awk`, "0644", ship["condense.awk"]),
        root(`${BACKUP_PATHS.libDir}/retention.awk`, "0644", ship["retention.awk"]),
        root(BACKUP_PATHS.envFile, "0600", renderBackupEnv(s, m, paths, b)),
        root(BACKUP_PATHS.credentialsFile, "0600", renderCredentials(b.accessKeyId, secrets.secretAccessKey)),
        root(BACKUP_PATHS.encryptionPassFile, "0600", `${secrets.encryptionPass}\n`),
        root(BACKUP_PATHS.macPadsFile, "0600", secrets.macPads),
        ...(b.caBundle ? [root(BACKUP_PATHS.caFile, "0644", b.caBundle)] : []),
        root(BACKUP_PATHS.deltaService, "0644", renderService("Off-host etcd backup: the events since the last upload", "delta", "10min")),
        root(BACKUP_PATHS.deltaTimer, "0644", renderDeltaTimer(b)),
        root(BACKUP_PATHS.fullService, "0644", renderService("Off-host etcd backup: a full base", "full", "2h")),
        root(BACKUP_PATHS.fullTimer, "0644", renderFullTimer(b)),
    ];
}

/** Every path backupFiles may write (removed when backups are turned off, and on destroy). */
export function backupFilePaths(): string[] {
    return [
        BACKUP_PATHS.program,
        `${BACKUP_PATHS.libDir}/s3.sh`,
        `${BACKUP_PATHS.libDir}/crypto.sh`,
        `${BACKUP_PATHS.libDir}/condense.awk`,
        `${BACKUP_PATHS.libDir}/retention.awk`,
        BACKUP_PATHS.envFile,
        BACKUP_PATHS.credentialsFile,
        BACKUP_PATHS.encryptionPassFile,
        BACKUP_PATHS.macPadsFile,
        BACKUP_PATHS.caFile,
        BACKUP_PATHS.deltaService,
        BACKUP_PATHS.deltaTimer,
        BACKUP_PATHS.fullService,
        BACKUP_PATHS.fullTimer,
    ];
}

/**
 * Everything the maintenance job puts on a member host: the shipped programs (host/), the env file they
 * read, and the systemd units that run them. Pure, except for reading the shipped files once.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { HostFile } from "../render/files";
import { HostPaths } from "../render/paths";
import { ClusterSettings, MemberSettings } from "../settings";
import { MaintenanceSettings } from "./settings";
import { envLine } from "../render/shell";

/** Where the maintenance job lives on a host. */
export const MAINTENANCE_PATHS = {
    program: "/usr/local/lib/etcd-pulumi/etcd-defrag",
    libDir: "/usr/local/lib/etcd-pulumi/maintenance",
    configDir: "/etc/etcd-pulumi/maintenance",
    envFile: "/etc/etcd-pulumi/maintenance/defrag.env",
    /** What the last pass run on this host did (world-readable, for monitoring). */
    recordFile: "/var/lib/etcd-pulumi/last-defrag.json",
    /** The same in Prometheus text format (node_exporter's textfile collector can read this directory). */
    metricsFile: "/var/lib/etcd-pulumi/metrics/etcd-defrag.prom",
    /** When defragSchedule is next due on this host (the check keeps it). */
    scheduleFile: "/var/lib/etcd-pulumi/defrag-schedule",
    /** The revision at which a NOSPACE recovery found that the data outgrew the quota (until a write or delete, no defragmentation would change that). */
    outgrownFile: "/var/lib/etcd-pulumi/defrag-outgrown",
    /** Why the check started a pass (read and removed by the pass; absent: started by hand). */
    requestFile: "/run/etcd-pulumi/defrag-request",
    passService: "/etc/systemd/system/etcd-defrag.service",
    checkService: "/etc/systemd/system/etcd-defrag-check.service",
    timer: "/etc/systemd/system/etcd-defrag.timer",
} as const;

export const DEFRAG_TIMER = "etcd-defrag.timer";
export const DEFRAG_UNITS = [DEFRAG_TIMER, "etcd-defrag-check.service", "etcd-defrag.service"];

/** Keys the job keeps in etcd: its lock (lock.sh) and the last pass (for the schedule across members). */
export const MAINTENANCE_KEY_PREFIX = "/etcd-pulumi/maintenance/";

/** A NOSPACE alarm is disarmed only when every member's database is below this share of quotaBackendBytes; above it the data outgrew the quota. */
export const NOSPACE_DISARM_BELOW_PERCENT = 90;

/** The files shipped in host/, read from the package (the build copies them next to the compiled code). */
const SHIPPED = ["etcd-defrag.sh", "lock.sh", "rules.sh", "record.sh"] as const;
type Shipped = (typeof SHIPPED)[number];
let shipped: Record<Shipped, string> | undefined;
export function shippedMaintenanceFiles(): Record<Shipped, string> {
    shipped ??= Object.fromEntries(SHIPPED.map((f) => [f, fs.readFileSync(path.join(__dirname, "host", f), "utf8")])) as Record<Shipped, string>;
    return shipped;
}

/** Seconds one member may take: its defragmentation, then the waits until it serves and caught up (and the one before). */
function perMemberSeconds(s: ClusterSettings, m: MaintenanceSettings): number {
    return m.defragTimeoutSeconds + 2 * s.healthTimeoutSeconds + 30;
}

/** How long a pass started by hand waits for another member's pass to finish before it gives up. */
export function lockWaitSeconds(s: ClusterSettings, m: MaintenanceSettings): number {
    return s.members.length * perMemberSeconds(s, m) + 60;
}

/** The bound on etcd-defrag.service: waiting for the lock, the health gate, a compaction, every member, the disarm. */
export function passBoundSeconds(s: ClusterSettings, m: MaintenanceSettings): number {
    return lockWaitSeconds(s, m) + s.healthTimeoutSeconds + m.defragTimeoutSeconds + s.members.length * perMemberSeconds(s, m) + 120;
}

/** The env file the programs read. No secret in it. */
export function renderMaintenanceEnv(s: ClusterSettings, m: MemberSettings, paths: HostPaths, mt: MaintenanceSettings): string {
    return [
        "# Managed by etcd-pulumi: settings of etcd-defrag (components/maintenance).",
        envLine("DEFRAG_MEMBER", m.name),
        envLine("DEFRAG_LIB_DIR", MAINTENANCE_PATHS.libDir),
        envLine("DEFRAG_SCHEDULE", mt.defragSchedule),
        envLine("DEFRAG_MAX_IN_USE_RATIO", mt.defragMaxInUseRatio),
        envLine("DEFRAG_MIN_RECLAIMABLE_BYTES", mt.defragMinReclaimableBytes),
        envLine("DEFRAG_TIMEOUT_SECONDS", mt.defragTimeoutSeconds),
        envLine("HEALTH_TIMEOUT_SECONDS", s.healthTimeoutSeconds),
        envLine("LOCK_WAIT_SECONDS", lockWaitSeconds(s, mt)),
        envLine("QUOTA_BACKEND_BYTES", s.quotaBackendBytes),
        envLine("NOSPACE_DISARM_BELOW_PERCENT", NOSPACE_DISARM_BELOW_PERCENT),
        envLine("DEFRAG_KEY_PREFIX", MAINTENANCE_KEY_PREFIX),
        envLine("DEFRAG_RECORD_FILE", MAINTENANCE_PATHS.recordFile),
        envLine("DEFRAG_METRICS_FILE", MAINTENANCE_PATHS.metricsFile),
        envLine("DEFRAG_SCHEDULE_FILE", MAINTENANCE_PATHS.scheduleFile),
        envLine("DEFRAG_REQUEST_FILE", MAINTENANCE_PATHS.requestFile),
        envLine("DEFRAG_OUTGROWN_FILE", MAINTENANCE_PATHS.outgrownFile),
        envLine("ETCDCTL", `${paths.binDir}/etcdctl`),
        envLine("ETCD_ENDPOINT", `https://127.0.0.1:${s.clientPort}`),
        envLine("ETCD_CA_FILE", paths.caCert),
        envLine("ETCD_CERT_FILE", paths.clientCert),
        envLine("ETCD_KEY_FILE", paths.clientKey),
        "",
    ].join("\n");
}

const unitHeader = `# Managed by etcd-pulumi (components/maintenance).\n`;

export function renderPassService(s: ClusterSettings, mt: MaintenanceSettings): string {
    return `${unitHeader}[Unit]
Description=Defragment every etcd member one at a time, recover from NOSPACE (etcd-pulumi)
After=etcd.service

[Service]
Type=oneshot
ExecStart=${MAINTENANCE_PATHS.program} pass
# Waiting for another member's pass, then every member in turn, each bounded (defragTimeoutSeconds, healthTimeoutSeconds).
TimeoutStartSec=${passBoundSeconds(s, mt)}
Nice=10
`;
}

export function renderCheckService(): string {
    return `${unitHeader}[Unit]
Description=etcd maintenance check: NOSPACE alarm, fragmentation, defragSchedule (etcd-pulumi)
After=etcd.service

[Service]
Type=oneshot
ExecStart=${MAINTENANCE_PATHS.program} check
TimeoutStartSec=120
Nice=10
`;
}

export function renderTimer(mt: MaintenanceSettings): string {
    return `${unitHeader}[Unit]
Description=etcd maintenance check every ${mt.checkIntervalSeconds} s (etcd-pulumi)

[Timer]
OnActiveSec=${mt.checkIntervalSeconds}s
OnUnitActiveSec=${mt.checkIntervalSeconds}s
AccuracySec=1s
Unit=etcd-defrag-check.service

[Install]
WantedBy=timers.target
`;
}

/** Every file of the maintenance job on one member. */
export function maintenanceFiles(s: ClusterSettings, m: MemberSettings, paths: HostPaths, mt: MaintenanceSettings): HostFile[] {
    const ship = shippedMaintenanceFiles();
    const root = (p: string, mode: string, content: string): HostFile => ({ path: p, mode, owner: "root:root", content });
    return [
        root(MAINTENANCE_PATHS.program, "0755", ship["etcd-defrag.sh"]),
        root(`${MAINTENANCE_PATHS.libDir}/lock.sh`, "0644", ship["lock.sh"]),
        root(`${MAINTENANCE_PATHS.libDir}/rules.sh`, "0644", ship["rules.sh"]),
        root(`${MAINTENANCE_PATHS.libDir}/record.sh`, "0644", ship["record.sh"]),
        root(MAINTENANCE_PATHS.envFile, "0644", renderMaintenanceEnv(s, m, paths, mt)),
        root(MAINTENANCE_PATHS.passService, "0644", renderPassService(s, mt)),
        root(MAINTENANCE_PATHS.checkService, "0644", renderCheckService()),
        root(MAINTENANCE_PATHS.timer, "0644", renderTimer(mt)),
    ];
}

/** Every path maintenanceFiles writes (removed with the member, and on destroy). */
export function maintenanceFilePaths(): string[] {
    return [
        MAINTENANCE_PATHS.program,
        ...SHIPPED.filter((f) => f !== "etcd-defrag.sh").map((f) => `${MAINTENANCE_PATHS.libDir}/${f}`),
        MAINTENANCE_PATHS.envFile,
        MAINTENANCE_PATHS.passService,
        MAINTENANCE_PATHS.checkService,
        MAINTENANCE_PATHS.timer,
    ];
}

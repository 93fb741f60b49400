/** The lines the member's own steps run for the maintenance job: its timer with etcd, and its removal. */
import { shq } from "../render/shell";
import { DEFRAG_TIMER, DEFRAG_UNITS, MAINTENANCE_PATHS, maintenanceFilePaths } from "./hostFiles";

/** In the service step, next to etcd: the check runs wherever etcd runs. The same text for every setting, so a settings change never re-runs this step. */
export function maintenanceServiceLines(): string[] {
    return [`systemctl is-enabled --quiet ${DEFRAG_TIMER} && systemctl is-active --quiet ${DEFRAG_TIMER} || systemctl enable --now ${DEFRAG_TIMER} >/dev/null 2>&1`];
}

/** The member removed, or destroy: timer and a running pass stopped, programs and units gone (its records in /var/lib/etcd-pulumi stay, like the snapshots'). */
export function maintenanceRemoveLines(): string[] {
    return [
        `if [ -e ${shq(MAINTENANCE_PATHS.timer)} ]; then systemctl disable --now ${DEFRAG_UNITS.join(" ")} >/dev/null 2>&1 || true; fi`,
        `rm -f ${maintenanceFilePaths().map(shq).join(" ")}`,
        `rmdir ${shq(MAINTENANCE_PATHS.configDir)} /etc/etcd-pulumi ${shq(MAINTENANCE_PATHS.libDir)} 2>/dev/null || true`,
    ];
}

/** The lines the member's own steps run for the backup: directories before its files, timers with etcd, clean-up when it is turned off. */
import { shq } from "../render/shell";
import { BACKUP_PATHS, BACKUP_TIMERS, backupFilePaths } from "./hostFiles";
import { BackupSettings } from "./settings";

const units = BACKUP_TIMERS.map((t) => [t, t.replace(/\.timer$/, ".service")]).flat();

/** In the configure step, before the files are written: the root-only directories; or, with backups off, nothing left of them. */
export function backupPrepareLines(b: BackupSettings | undefined): string[] {
    if (b) return [`install -d -m 0700 -o root -g root ${shq(BACKUP_PATHS.configDir)} ${shq(BACKUP_PATHS.workDir)} && chmod 0700 ${shq(BACKUP_PATHS.configDir)}`];
    return backupRemoveLines();
}

/** Off-host backups turned off, or the member removed: timers stopped, programs, keys and credentials gone (what was uploaded stays in the store). */
export function backupRemoveLines(): string[] {
    return [
        `if [ -e ${shq(BACKUP_PATHS.deltaTimer)} ]; then systemctl disable --now ${units.join(" ")} >/dev/null 2>&1 || true; fi`,
        `rm -f ${backupFilePaths().map(shq).join(" ")}`,
        `rmdir ${shq(BACKUP_PATHS.configDir)} ${shq(BACKUP_PATHS.libDir)} 2>/dev/null || true`,
    ];
}

/** In the service step, next to etcd: the timers run wherever etcd runs (only the leader uploads). */
export function backupServiceLines(b: BackupSettings | undefined): string[] {
    if (!b) return [];
    return BACKUP_TIMERS.map((t) => `systemctl is-enabled --quiet ${t} && systemctl is-active --quiet ${t} || systemctl enable --now ${t} >/dev/null 2>&1`);
}

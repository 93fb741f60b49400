/**
 * The `maintenance` setting, checked and defaulted before anything is registered. Every problem names
 * its field and the fix.
 */
import { EtcdMaintenanceArgs } from "./args";

/** The validated, defaulted `maintenance` setting. */
export interface MaintenanceSettings {
    /** A systemd OnCalendar expression, or "off" (no scheduled passes; the threshold and NOSPACE checks still run). */
    defragSchedule: string;
    /** A pass runs when a member has less than this share of its file in use (0: never) ... */
    defragMaxInUseRatio: number;
    /** ... and more than this many bytes reclaimable. */
    defragMinReclaimableBytes: number;
    defragTimeoutSeconds: number;
    checkIntervalSeconds: number;
}

/** Fields of `maintenance` as written in stack config and EtcdClusterArgs. */
export const MAINTENANCE_FIELDS = ["defragSchedule", "defragMaxInUseRatio", "defragMinReclaimableBytes", "defragTimeoutSeconds", "checkIntervalSeconds"];

export const DEFAULT_MAINTENANCE: MaintenanceSettings = {
    defragSchedule: "daily",
    // etcd's mixin (etcdDatabaseHighFragmentationRatio): in use below 50% of the file and more than 100 MiB to win back.
    defragMaxInUseRatio: 0.5,
    defragMinReclaimableBytes: 100 * 1024 * 1024,
    defragTimeoutSeconds: 300,
    checkIntervalSeconds: 300,
};

const ON_CALENDAR = /^[A-Za-z0-9*:,./~ -]{1,100}$/;
/** systemd's shorthand words (systemd.time(7)); any other bare word is a typo systemd would reject on the host. */
const CALENDAR_WORDS = ["minutely", "hourly", "daily", "weekly", "monthly", "yearly", "annually", "quarterly", "semiannually"];

/** One letter changed, added, dropped or two swapped: "dayly" for "daily", "weekyl" for "weekly". */
function typoOf(word: string, known: string): boolean {
    if (Math.abs(word.length - known.length) > 1) return false;
    let i = 0;
    while (i < word.length && word[i] === known[i]) i++;
    const rest = (a: number, b: number) => word.slice(a) === known.slice(b);
    return rest(i + 1, i + 1) || rest(i + 1, i) || rest(i, i + 1) || (word[i] === known[i + 1] && word[i + 1] === known[i] && rest(i + 2, i + 2));
}

function scheduleProblem(v: unknown): string | undefined {
    const fix = `use "off" or a systemd OnCalendar expression such as "daily", "weekly" or "Sun *-*-* 03:00:00"`;
    if (typeof v !== "string" || !ON_CALENDAR.test(v)) return `maintenance.defragSchedule: ${JSON.stringify(v)} is not a systemd OnCalendar expression; ${fix}`;
    if (/^[a-z]+$/i.test(v) && v !== "off" && !CALENDAR_WORDS.includes(v.toLowerCase())) {
        const near = CALENDAR_WORDS.find((w) => typoOf(v.toLowerCase(), w));
        return `maintenance.defragSchedule: ${JSON.stringify(v)} is not a systemd calendar word${near ? `; did you mean "${near}"?` : ""} (${fix})`;
    }
    return undefined;
}

/** Checks `args.maintenance` (absent: the defaults); problems go into `problems`. */
export function resolveMaintenanceSettings(m: EtcdMaintenanceArgs | undefined, problems: string[]): MaintenanceSettings {
    if (m === undefined || m === null) return { ...DEFAULT_MAINTENANCE };
    if (typeof m !== "object" || Array.isArray(m)) {
        problems.push(`maintenance: must be an object like { defragSchedule: "daily" }, or unset for the defaults`);
        return { ...DEFAULT_MAINTENANCE };
    }
    const given = Object.fromEntries(Object.entries(m).filter(([k, v]) => MAINTENANCE_FIELDS.includes(k) && v !== undefined));
    const r = { ...DEFAULT_MAINTENANCE, ...given } as MaintenanceSettings;
    const schedule = scheduleProblem(r.defragSchedule);
    if (schedule) problems.push(schedule);
    const ratio = r.defragMaxInUseRatio;
    if (typeof ratio !== "number" || !Number.isFinite(ratio) || ratio < 0 || ratio > 1) {
        problems.push(`maintenance.defragMaxInUseRatio: ${JSON.stringify(ratio)} must be a share of the database file between 0 and 1 (default 0.5; 0 turns the fragmentation trigger off)`);
    }
    const whole = (field: keyof MaintenanceSettings, min: number, max: number, what: string) => {
        const v = r[field];
        if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
            problems.push(`maintenance.${field}: ${JSON.stringify(v)} must be a whole number of ${what}, ${min}-${max} (default ${DEFAULT_MAINTENANCE[field]})`);
        }
    };
    whole("defragMinReclaimableBytes", 0, 8 * 1024 * 1024 * 1024, "bytes");
    whole("defragTimeoutSeconds", 10, 3600, "seconds");
    whole("checkIntervalSeconds", 10, 300, "seconds (a NOSPACE alarm must be seen within 5 minutes)");
    return r;
}

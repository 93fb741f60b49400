/** The etcd version gate, pure: which version changes etcd can roll. */
import { PlanError } from "./planError";

export interface Version {
    major: number;
    minor: number;
    patch: number;
}

export function parseVersion(v: string): Version {
    const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(v);
    if (!m) throw new PlanError(`version: ${JSON.stringify(v)} is not MAJOR.MINOR.PATCH`);
    return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) };
}

/** Oldest patch of each minor line that may be upgraded to the next minor. */
export const MIN_PATCH_FOR_NEXT_MINOR: Record<string, number> = { "3.5": 32 };

/** Refuse an etcd version change that etcd does not support as a rolling upgrade. */
export function checkVersionChange(from: string, to: string): "same" | "patch" | "minor" {
    const a = parseVersion(from);
    const b = parseVersion(to);
    if (a.major !== b.major) throw new PlanError(`version: ${from} -> ${to} changes the major version; etcd supports no such rolling upgrade`);
    if (b.minor < a.minor || (b.minor === a.minor && b.patch < a.patch)) {
        throw new PlanError(`version: ${from} -> ${to} is a downgrade; rolling downgrades are not supported here (restore a snapshot instead)`);
    }
    if (b.minor === a.minor) return b.patch === a.patch ? "same" : "patch";
    if (b.minor > a.minor + 1) {
        throw new PlanError(`version: ${from} -> ${to} skips a minor version; upgrade one minor at a time (first to the latest ${a.major}.${a.minor + 1}.x)`);
    }
    const min = MIN_PATCH_FOR_NEXT_MINOR[`${a.major}.${a.minor}`];
    if (min !== undefined && a.patch < min) {
        throw new PlanError(`version: ${from} -> ${to} needs ${a.major}.${a.minor}.${min} or newer first; upgrade to the latest ${a.major}.${a.minor}.x, then to ${to}`);
    }
    return "minor";
}

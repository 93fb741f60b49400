/** The etcd version gate, pure: which version changes etcd can roll. */
import { PlanError } from "./planError";

export interface Version {
    major: number;
    minor: number;
    patch: number;
}

export function parseVersion(v: string): Version | undefined {
    const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(v);
    return m ? { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) } : undefined;
}

/** Oldest patch of each minor line that may be upgraded to the next minor. */
export const MIN_PATCH_FOR_NEXT_MINOR: Record<string, number> = { "3.5": 32 };

/**
 * What kind of version change this is, or why etcd cannot roll it. Returns instead of throwing: the
 * record's provider runs it as serialized code, where only plain values travel well.
 */
export function versionChange(from: string, to: string): { kind: "same" | "patch" | "minor" } | { problem: string } {
    const a = parseVersion(from);
    const b = parseVersion(to);
    if (!a || !b) return { problem: `version: ${JSON.stringify(a ? to : from)} is not MAJOR.MINOR.PATCH` };
    if (a.major !== b.major) return { problem: `version: ${from} -> ${to} changes the major version; etcd supports no such rolling upgrade` };
    if (b.minor < a.minor || (b.minor === a.minor && b.patch < a.patch)) {
        return { problem: `version: ${from} -> ${to} is a downgrade; rolling downgrades are not supported here (restore a snapshot instead)` };
    }
    if (b.minor === a.minor) return { kind: b.patch === a.patch ? "same" : "patch" };
    if (b.minor > a.minor + 1) {
        return { problem: `version: ${from} -> ${to} skips a minor version; upgrade one minor at a time (first to the latest ${a.major}.${a.minor + 1}.x)` };
    }
    const min = MIN_PATCH_FOR_NEXT_MINOR[`${a.major}.${a.minor}`];
    if (min !== undefined && a.patch < min) {
        return { problem: `version: ${from} -> ${to} needs ${a.major}.${a.minor}.${min} or newer first; upgrade to the latest ${a.major}.${a.minor}.x, then to ${to}` };
    }
    return { kind: "minor" };
}

/** Refuse (PlanError) an etcd version change that etcd does not support as a rolling upgrade. */
export function checkVersionChange(from: string, to: string): "same" | "patch" | "minor" {
    const r = versionChange(from, to);
    if ("problem" in r) throw new PlanError(r.problem);
    return r.kind;
}

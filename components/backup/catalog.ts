/**
 * Which backups a restore uses: from the store's listing and the selector in restoreFrom (`backup:latest`,
 * `backup:<ISO time>`, `backup:revision:<n>`), the newest restore point at or before it that the store
 * can rebuild: a full base, or a delta together with the newest full base of its cluster at or before
 * it and deltas that cover every revision in between. Pure.
 */
import { BackupObject } from "./objectNames";

export type BackupSelector = { kind: "latest" } | { kind: "time"; time: string } | { kind: "revision"; revision: number };

/** `backup:latest` | `backup:<ISO 8601 time>` | `backup:revision:<n>`; a problem text for anything else. */
export function parseBackupSelector(value: string): BackupSelector | { problem: string } {
    const v = value.slice("backup:".length);
    if (v === "latest") return { kind: "latest" };
    const rev = /^revision:(\d{1,18})$/.exec(v);
    if (rev) return { kind: "revision", revision: Number(rev[1]) };
    if (/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/.test(v) && !Number.isNaN(Date.parse(v))) {
        return { kind: "time", time: new Date(Date.parse(v.includes("T") ? v : `${v}T00:00:00Z`)).toISOString().replace(/\.\d{3}Z$/, "Z") };
    }
    return { problem: `"${value}" is not a backup to restore; use backup:latest, backup:<ISO 8601 time> (e.g. backup:2026-12-01T09:30:00Z) or backup:revision:<n>` };
}

/** One restore point and the objects that rebuild it, in the order they are applied. */
export interface RestoreChain {
    cluster: string;
    /** The point restored: revision, time and key count of the last object. */
    revision: number;
    time: string;
    keys: number;
    /** The full base first, then the deltas in revision order. */
    objects: BackupObject[];
    /** Bytes to download. */
    size: number;
}

/** The chain that rebuilds `point` (a full or a delta), or undefined when a revision in between is missing. */
export function chainFor(point: BackupObject, all: BackupObject[]): RestoreChain | undefined {
    const mine = all.filter((o) => o.cluster === point.cluster);
    const base = mine
        .filter((o) => o.kind === "full" && o.toRevision <= point.toRevision)
        .sort((a, b) => b.toRevision - a.toRevision || b.time.localeCompare(a.time))[0];
    if (!base) return undefined;
    const objects: BackupObject[] = [base];
    let covered = base.toRevision;
    const deltas = mine.filter((o) => o.kind === "delta" && o.toRevision > base.toRevision && o.toRevision <= point.toRevision);
    while (covered < point.toRevision) {
        // The delta that starts at or before what is covered and reaches furthest (deltas may overlap).
        const next = deltas.filter((d) => d.fromRevision <= covered && d.toRevision > covered).sort((a, b) => b.toRevision - a.toRevision)[0];
        if (!next) return undefined;
        objects.push(next);
        covered = next.toRevision;
    }
    return { cluster: point.cluster, revision: point.toRevision, time: point.time, keys: point.keys, objects, size: objects.reduce((n, o) => n + o.size, 0) };
}

/** The restore point the selector names, or a problem text saying what the store holds. */
export function chooseRestore(all: BackupObject[], selector: BackupSelector, store: string): RestoreChain | { problem: string } {
    if (all.length === 0) return { problem: `${store} holds no backups of any cluster` };
    const candidates = all
        .filter((o) => (selector.kind === "time" ? o.time <= selector.time : selector.kind === "revision" ? o.toRevision <= selector.revision : true))
        .sort((a, b) => b.time.localeCompare(a.time) || b.toRevision - a.toRevision);
    for (const point of candidates) {
        const chain = chainFor(point, all);
        if (chain) return chain;
    }
    const times = all.map((o) => o.time).sort();
    return {
        problem:
            `${store} holds no restorable backup ${selector.kind === "time" ? `at or before ${selector.time}` : selector.kind === "revision" ? `at or before revision ${selector.revision}` : ""}` +
            ` (it holds ${all.length} objects from ${times[0]} to ${times[times.length - 1]})`,
    };
}

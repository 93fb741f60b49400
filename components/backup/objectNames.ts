/**
 * The names of backup objects in the store, as host/etcd-backup.sh writes them. A name carries what a
 * restore needs to choose (cluster, kind, revisions, time, key count); it is authenticated with the
 * object, so a renamed object fails its check.
 *   <prefix>/cluster-<id>/full/<revision>-<UTC time>-k<keys>.db.enc
 *   <prefix>/cluster-<id>/delta/<from>-<to>-<UTC time>-k<keys>.events.gz.enc   (events in (from, to])
 * Names are relative to the prefix, so a prefix copied elsewhere still restores.
 */

export interface BackupObject {
    /** The name relative to the store's prefix (what the object is authenticated with, and what the hosts fetch). */
    name: string;
    /** The etcd cluster ID (decimal) the object belongs to. */
    cluster: string;
    kind: "full" | "delta";
    /** A full base: its revision. A delta: the revision its events start after. */
    fromRevision: number;
    /** The revision the cluster is restored to from this object (with its base and the deltas before it). */
    toRevision: number;
    /** When it was taken (ISO 8601, UTC). */
    time: string;
    /** How many keys the cluster held at toRevision. */
    keys: number;
    /** Bytes in the store (from the listing). */
    size: number;
}

const FULL = /^cluster-(\d+)\/full\/(\d{20})-(\d{8}T\d{6}Z)-k(\d+)\.db\.enc$/;
const DELTA = /^cluster-(\d+)\/delta\/(\d{20})-(\d{20})-(\d{8}T\d{6}Z)-k(\d+)\.events\.gz\.enc$/;

/** 20260102T030405Z -> 2026-01-02T03:04:05Z */
export function isoTime(stamp: string): string {
    return `${stamp.slice(0, 4)}-${stamp.slice(4, 6)}-${stamp.slice(6, 8)}T${stamp.slice(9, 11)}:${stamp.slice(11, 13)}:${stamp.slice(13, 15)}Z`;
}

/** The object a key names (relative to the store's prefix), or undefined for anything else (HEAD, foreign files). */
export function parseObjectKey(key: string, prefix: string, size: number): BackupObject | undefined {
    const rel = prefix === "" ? key : key.startsWith(`${prefix}/`) ? key.slice(prefix.length + 1) : undefined;
    if (rel === undefined) return undefined;
    const f = FULL.exec(rel);
    if (f) return { name: rel, cluster: f[1], kind: "full", fromRevision: Number(f[2]), toRevision: Number(f[2]), time: isoTime(f[3]), keys: Number(f[4]), size };
    const d = DELTA.exec(rel);
    if (d) return { name: rel, cluster: d[1], kind: "delta", fromRevision: Number(d[2]), toRevision: Number(d[3]), time: isoTime(d[4]), keys: Number(d[5]), size };
    return undefined;
}

/** A cluster's HEAD, relative to the prefix. */
export function headName(cluster: string): string {
    return `cluster-${cluster}/HEAD`;
}

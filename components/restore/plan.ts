/**
 * Restore after losing the cluster: the record's check decides whether this run restores (restoreFrom
 * names something other than what was restored last) and keeps what it decided, like bootstrap.ts: the
 * members that take part, the new cluster token and where the data comes from (a snapshot file on the
 * deployer, or backups in the store). Later runs with the same restoreFrom change nothing. Plain values
 * only (runs inside the record's provider).
 */
import { ClusterPeer, incarnationOf } from "../plan/bootstrap";

interface RestoreCommon {
    /** Identity of the restore: another one restores again, the same one never does. */
    id: string;
    /** Bytes the hosts restore from (the file, or the objects downloaded from the store). */
    size: number;
    /** The revision restored (from `etcdutl snapshot status` of a file, when the deployer could run it). */
    revision?: number;
    /** A file: what `etcdutl snapshot status` counts. The store: the keys the cluster held at that revision. */
    totalKey?: number;
}

/** A snapshot file on the deployer (snapshotFile.ts): identity is its path and content. */
export interface FileRestoreRequest extends RestoreCommon {
    /** Absent in records written before restores from the store existed. */
    kind?: "file";
    /** Absolute path on the deployer. */
    file: string;
    sha256: string;
}

/** Backups in the store (backup/storeRestore.ts): identity is the store and what restoreFrom says, so a later backup never restores again by itself. */
export interface StoreRestoreRequest extends RestoreCommon {
    kind: "store";
    /** What restoreFrom says, e.g. `backup:latest`. */
    selector: string;
    /** `s3://bucket/prefix`. */
    store: string;
    /** The etcd cluster whose backups are restored. */
    cluster: string;
    /** When the restored backup was taken. */
    time: string;
    /** Object keys: the full base, then the deltas in order. */
    objects: string[];
    revision: number;
    totalKey: number;
}

export type RestoreRequest = FileRestoreRequest | StoreRestoreRequest;

export function isStoreRestore(r: RestoreRequest): r is StoreRestoreRequest {
    return r.kind === "store";
}

/** A restore as decided: kept in the record's state until another one is asked for. */
export type RestorePlan = RestoreRequest & {
    /** The members restored (the config's, at that run), with their incarnation. */
    members: (ClusterPeer & { incarnation: string })[];
    /** initial-cluster-token of the restored cluster: new, so it is a new cluster with new member IDs. */
    clusterToken: string;
};

/** How far the restored revision jumps ahead, so watchers and caches never see revisions repeat (etcd's advice for restores). */
export const RESTORE_BUMP_REVISION = 1_000_000_000;

/** Whether this run restores: a request whose identity differs from the last restore kept. */
export function decideRestore(
    requested: RestoreRequest | undefined,
    previous: RestorePlan | null | undefined,
    members: (ClusterPeer & { replacement?: number })[],
): RestorePlan | undefined {
    if (!requested || previous?.id === requested.id) return undefined;
    const sorted = [...members].sort((a, b) => a.name.localeCompare(b.name));
    return {
        ...requested,
        members: sorted.map((m) => ({ name: m.name, address: m.address, incarnation: incarnationOf(m) })),
        clusterToken: `etcd-pulumi-restore-${requested.id}`,
    };
}

const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;

/** What the restore starts from, for the plan line. */
function sourceWords(plan: RestorePlan): string {
    if (isStoreRestore(plan)) {
        const deltas = plan.objects.length - 1;
        return (
            `${plan.selector} (the backup of cluster ${plan.cluster} in ${plan.store} taken ${plan.time}: revision ${plan.revision}, ${plan.totalKey} keys, ` +
            `${mib(plan.size)} in a full base${deltas > 0 ? ` + ${deltas} delta${deltas > 1 ? "s" : ""}` : ""}; each member downloads, authenticates, decrypts and checks it before anything stops)`
        );
    }
    const content = plan.revision !== undefined ? `revision ${plan.revision}, ${plan.totalKey} keys, ${mib(plan.size)}` : `${mib(plan.size)}; etcdutl checks it on each host before anything stops`;
    return `${plan.file} (${content}, sha256 ${plan.sha256.slice(0, 12)})`;
}

/** The plan in words: loud, because it replaces what the cluster holds now. */
export function restoreWords(plan: RestorePlan, dataDir: string, deployed: boolean): string[] {
    const names = plan.members.map((m) => m.name).join(", ");
    return [
        `RESTORE from ${sourceWords(plan)}:` +
            (deployed ? ` every member (${names}) stops at once and the cluster is unavailable until they are back;` : ` the new cluster ${names} starts from it;`) +
            ` each member's data dir is moved aside to ${dataDir}.before-restore-<UTC time> (never deleted) and restored from the snapshot` +
            ` as a new cluster (new member IDs; revision +${RESTORE_BUMP_REVISION}, marked compacted, so watchers see no revision twice);` +
            ` then all start together and the run waits until the cluster is healthy.` +
            (deployed ? ` Writes made after ${isStoreRestore(plan) ? "that backup" : "the snapshot"} are NOT in the restored cluster.` : ""),
    ];
}

/**
 * Restore after losing the cluster: the record's check decides whether this run restores (restoreFrom
 * names a snapshot other than the one restored last) and keeps what it decided, like bootstrap.ts: the
 * members that take part, the new cluster token and the snapshot's identity. Later runs with the same
 * restoreFrom change nothing. Plain values only (runs inside the record's provider).
 */
import { ClusterPeer, incarnationOf } from "./bootstrap";

/** What the config asks to restore from (restoreSource.ts, on the deployer). */
export interface RestoreRequest {
    /** Identity of the restore: path and content; another file (or new content) is another restore. */
    id: string;
    /** Absolute path on the deployer. */
    file: string;
    sha256: string;
    size: number;
    /** From `etcdutl snapshot status` when the deployer could run it. */
    revision?: number;
    totalKey?: number;
}

/** A restore as decided: kept in the record's state until another one is asked for. */
export interface RestorePlan extends RestoreRequest {
    /** The members restored from the snapshot (the config's, at that run), with their incarnation. */
    members: (ClusterPeer & { incarnation: string })[];
    /** initial-cluster-token of the restored cluster: new, so it is a new cluster with new member IDs. */
    clusterToken: string;
}

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

/** The plan in words: loud, because it replaces what the cluster holds now. */
export function restoreWords(plan: RestorePlan, dataDir: string, deployed: boolean): string[] {
    const names = plan.members.map((m) => m.name).join(", ");
    const content = plan.revision !== undefined ? `revision ${plan.revision}, ${plan.totalKey} keys, ${mib(plan.size)}` : `${mib(plan.size)}; etcdutl checks it on each host before anything stops`;
    return [
        `RESTORE from ${plan.file} (${content}, sha256 ${plan.sha256.slice(0, 12)}):` +
            (deployed ? ` every member (${names}) stops at once and the cluster is unavailable until they are back;` : ` the new cluster ${names} starts from it;`) +
            ` each member's data dir is moved aside to ${dataDir}.before-restore-<UTC time> (never deleted) and restored from the snapshot` +
            ` as a new cluster (new member IDs; revision +${RESTORE_BUMP_REVISION}, marked compacted, so watchers see no revision twice);` +
            ` then all start together and the run waits until the cluster is healthy.` +
            (deployed ? ` Writes made after the snapshot are NOT in the restored cluster.` : ""),
    ];
}

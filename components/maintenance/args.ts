/** The `maintenance` argument of EtcdCluster: scheduled defragmentation and recovery from a full database (NOSPACE). */

/**
 * How the cluster keeps its databases compact. Every member runs the same job (etcd-defrag.timer); a
 * lock held in etcd lets one member at a time defragment the whole cluster, one member after the other,
 * followers first and the leader last. All fields are optional.
 */
export interface EtcdMaintenanceArgs {
    /** When the whole cluster is defragmented: a systemd OnCalendar expression ("daily", "weekly", "Sun 03:00"), or "off". Default "daily". */
    defragSchedule?: string;
    /**
     * Between scheduled passes, a pass also runs as soon as a member's database is fragmented: less than
     * this share of its file in use (and more than defragMinReclaimableBytes reclaimable). Default 0.5,
     * as etcd's fragmentation alert; 0 turns this trigger off.
     */
    defragMaxInUseRatio?: number;
    /** See defragMaxInUseRatio: bytes a defragmentation must win back at least. Default 104857600 (100 MiB). */
    defragMinReclaimableBytes?: number;
    /** Bound on one member's defragmentation, in seconds (10-3600). Default 300. */
    defragTimeoutSeconds?: number;
    /**
     * How often each member checks, cheaply, for a NOSPACE alarm, a fragmented database and a due
     * defragSchedule, in seconds (10-300). Default 300: a NOSPACE alarm is recovered within 5 minutes.
     */
    checkIntervalSeconds?: number;
}

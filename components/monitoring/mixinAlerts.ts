/**
 * The alerts of etcd's monitoring mixin (etcd-io/etcd contrib/mixin/alerts/alerts.libsonnet), with the
 * upstream expressions, `for` durations, severities, thresholds and annotations. Only the mixin's own
 * configuration knobs (contrib/mixin/config.libsonnet) are set: which series are this cluster's
 * (etcd_selector), which labels tell its members apart (etcd_instance_labels), which label names the
 * cluster (clusterLabel) and the scrape interval the peer-failure rate window is derived from.
 */

/** One Prometheus alerting rule. */
export interface AlertRule {
    alert: string;
    expr: string;
    for: string;
    labels: { severity: "warning" | "critical" };
    annotations: Record<string, string>;
}

/** The mixin's `_config` fields the alerts read. */
export interface MixinConfig {
    /** etcd_selector, upstream `job=~".*etcd.*"`. */
    selector: string;
    /** etcd_instance_labels, upstream `instance`. */
    instanceLabels: string;
    /** clusterLabel, upstream `job`. */
    clusterLabel: string;
    /** scrape_interval_seconds, upstream 30. */
    scrapeIntervalSeconds: number;
}

/** The upstream defaults (what `jsonnet -e '(import "mixin.libsonnet").prometheusAlerts'` renders). */
export const UPSTREAM_MIXIN_CONFIG: MixinConfig = { selector: 'job=~".*etcd.*"', instanceLabels: "instance", clusterLabel: "job", scrapeIntervalSeconds: 30 };

const FAILED_GRPC_CODES = "Unknown|FailedPrecondition|ResourceExhausted|Internal|Unavailable|DataLoss|DeadlineExceeded";

export function mixinAlerts(c: MixinConfig): AlertRule[] {
    const sel = c.selector;
    const inst = c.instanceLabels;
    const cluster = `etcd cluster "{{ $labels.${c.clusterLabel} }}"`;
    const failedGrpc = (threshold: number) =>
        `100 * sum(rate(grpc_server_handled_total{${sel}, grpc_code=~"${FAILED_GRPC_CODES}"}[5m])) without (grpc_type, grpc_code)\n` +
        `  /\n` +
        `sum(rate(grpc_server_handled_total{${sel}}[5m])) without (grpc_type, grpc_code)\n` +
        `  > ${threshold}\n`;
    const fsync = (threshold: number) => `histogram_quantile(0.99, rate(etcd_disk_wal_fsync_duration_seconds_bucket{${sel}}[5m]))\n> ${threshold}\n`;
    const rule = (alert: string, expr: string, forDuration: string, severity: "warning" | "critical", description: string, summary: string, extra: Record<string, string> = {}): AlertRule => ({
        alert,
        expr,
        for: forDuration,
        labels: { severity },
        annotations: { description, summary, ...extra },
    });
    return [
        rule(
            "etcdMembersDown",
            `max without (endpoint) (\n` +
                `  sum without (${inst}) (up{${sel}} == bool 0)\n` +
                `or\n` +
                `  count without (To) (\n` +
                `    sum without (${inst}) (rate(etcd_network_peer_sent_failures_total{${sel}}[${c.scrapeIntervalSeconds * 4}s])) > 0.01\n` +
                `  )\n` +
                `)\n` +
                `> 0\n`,
            "20m",
            "warning",
            `${cluster}: members are down ({{ $value }}).`,
            "etcd cluster members are down.",
        ),
        rule(
            "etcdInsufficientMembers",
            `sum(up{${sel}} == bool 1) without (${inst}) < ((count(up{${sel}}) without (${inst}) + 1) / 2)\n`,
            "3m",
            "critical",
            `${cluster}: insufficient members ({{ $value }}).`,
            "etcd cluster has insufficient number of members.",
        ),
        rule("etcdNoLeader", `etcd_server_has_leader{${sel}} == 0\n`, "1m", "critical", `${cluster}: member {{ $labels.instance }} has no leader.`, "etcd cluster has no leader."),
        rule(
            "etcdHighNumberOfLeaderChanges",
            `increase((max without (${inst}) (etcd_server_leader_changes_seen_total{${sel}}) or 0*absent(etcd_server_leader_changes_seen_total{${sel}}))[15m:1m]) >= 4\n`,
            "5m",
            "warning",
            `${cluster}: {{ $value }} leader changes within the last 15 minutes. Frequent elections may be a sign of insufficient resources, high network latency, or disruptions by other components and should be investigated.`,
            "etcd cluster has high number of leader changes.",
        ),
        rule(
            "etcdHighNumberOfFailedGRPCRequests",
            failedGrpc(1),
            "10m",
            "warning",
            `${cluster}: {{ $value }}% of requests for {{ $labels.grpc_method }} failed on etcd instance {{ $labels.instance }}.`,
            "etcd cluster has high number of failed grpc requests.",
        ),
        rule(
            "etcdHighNumberOfFailedGRPCRequests",
            failedGrpc(5),
            "5m",
            "critical",
            `${cluster}: {{ $value }}% of requests for {{ $labels.grpc_method }} failed on etcd instance {{ $labels.instance }}.`,
            "etcd cluster has high number of failed grpc requests.",
        ),
        rule(
            "etcdGRPCRequestsSlow",
            `histogram_quantile(0.99, sum(rate(grpc_server_handling_seconds_bucket{${sel}, grpc_method!="Defragment", grpc_type="unary"}[5m])) without(grpc_type))\n> 0.15\n`,
            "10m",
            "critical",
            `${cluster}: 99th percentile of gRPC requests is {{ $value }}s on etcd instance {{ $labels.instance }} for {{ $labels.grpc_method }} method.`,
            "etcd grpc requests are slow",
        ),
        rule(
            "etcdMemberCommunicationSlow",
            `histogram_quantile(0.99, rate(etcd_network_peer_round_trip_time_seconds_bucket{${sel}}[5m]))\n> 0.15\n`,
            "10m",
            "warning",
            `${cluster}: member communication with {{ $labels.To }} is taking {{ $value }}s on etcd instance {{ $labels.instance }}.`,
            "etcd cluster member communication is slow.",
        ),
        rule(
            "etcdHighNumberOfFailedProposals",
            `rate(etcd_server_proposals_failed_total{${sel}}[15m]) > 5\n`,
            "15m",
            "warning",
            `${cluster}: {{ $value }} proposal failures within the last 30 minutes on etcd instance {{ $labels.instance }}.`,
            "etcd cluster has high number of proposal failures.",
        ),
        rule("etcdHighFsyncDurations", fsync(0.5), "10m", "warning", `${cluster}: 99th percentile fsync durations are {{ $value }}s on etcd instance {{ $labels.instance }}.`, "etcd cluster 99th percentile fsync durations are too high."),
        rule("etcdHighFsyncDurations", fsync(1), "10m", "critical", `${cluster}: 99th percentile fsync durations are {{ $value }}s on etcd instance {{ $labels.instance }}.`, "etcd cluster 99th percentile fsync durations are too high."),
        rule(
            "etcdHighCommitDurations",
            `histogram_quantile(0.99, rate(etcd_disk_backend_commit_duration_seconds_bucket{${sel}}[5m]))\n> 0.25\n`,
            "10m",
            "warning",
            `${cluster}: 99th percentile commit durations {{ $value }}s on etcd instance {{ $labels.instance }}.`,
            "etcd cluster 99th percentile commit durations are too high.",
        ),
        rule(
            "etcdDatabaseQuotaLowSpace",
            `(last_over_time(etcd_mvcc_db_total_size_in_bytes{${sel}}[5m]) / last_over_time(etcd_server_quota_backend_bytes{${sel}}[5m]))*100 > 95\n`,
            "10m",
            "critical",
            `${cluster}: database size exceeds the defined quota on etcd instance {{ $labels.instance }}, please defrag or increase the quota as the writes to etcd will be disabled when it is full.`,
            "etcd cluster database is running full.",
        ),
        rule(
            "etcdExcessiveDatabaseGrowth",
            `predict_linear(etcd_mvcc_db_total_size_in_bytes{${sel}}[4h], 4*60*60) > etcd_server_quota_backend_bytes{${sel}}\n`,
            "10m",
            "warning",
            `${cluster}: Predicting running out of disk space in the next four hours, based on write observations within the past four hours on etcd instance {{ $labels.instance }}, please check as it might be disruptive.`,
            "etcd cluster database growing very fast.",
        ),
        rule(
            "etcdDatabaseHighFragmentationRatio",
            `(last_over_time(etcd_mvcc_db_total_size_in_use_in_bytes{${sel}}[5m]) / last_over_time(etcd_mvcc_db_total_size_in_bytes{${sel}}[5m])) < 0.5 and etcd_mvcc_db_total_size_in_use_in_bytes{${sel}} > 104857600\n`,
            "10m",
            "warning",
            `${cluster}: database size in use on instance {{ $labels.instance }} is {{ $value | humanizePercentage }} of the actual allocated disk space, please run defragmentation (e.g. etcdctl defrag) to retrieve the unused fragmented disk space.`,
            "etcd database size in use is less than 50% of the actual allocated storage.",
            { runbook_url: "https://etcd.io/docs/v3.5/op-guide/maintenance/#defragmentation" },
        ),
    ];
}

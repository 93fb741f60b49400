/**
 * Alerts on what this component's own jobs record on the hosts (Prometheus text files in
 * /var/lib/etcd-pulumi/metrics, read by node_exporter's textfile collector): off-host backups,
 * defragmentation, NOSPACE recoveries and certificate expiry. node_exporter's series carry its own job
 * and instance labels, so each host's etcd_pulumi_member_info (written by pulumi up) says which cluster
 * and member the host is: the alerts join it on (job, instance) and only see this cluster's hosts.
 */
import { AlertRule } from "./mixinAlerts";
import { CLUSTER_LABEL, MEMBER_LABEL } from "./scrapeConfig";

export const MEMBER_INFO_METRIC = "etcd_pulumi_member_info";

export interface ComponentAlertInputs {
    clusterName: string;
    memberCount: number;
    /** Leaf certificates are renewed by pulumi up inside this window (certRenewBeforeHours). */
    certRenewBeforeHours: number;
    /** The off-host backup's RPO, when backups are on (the backup alerts are rendered only then). */
    backup?: { rpoSeconds: number };
}

/** No confirmed backup for this many RPOs: at least five delta runs (every RPO/2) in a row missed or failed. */
export const BACKUP_MAX_AGE_RPOS = 3;

export function componentAlerts(c: ComponentAlertInputs): AlertRule[] {
    const info = `${MEMBER_INFO_METRIC}{${CLUSTER_LABEL}="${c.clusterName}"}`;
    // A host series with this cluster's etcd_cluster and member labels; hosts of other clusters drop out.
    const onCluster = (series: string) => `${series} * on (job, instance) group_left (${CLUSTER_LABEL}, ${MEMBER_LABEL}) ${info}`;
    const cluster = `etcd cluster "{{ $labels.${CLUSTER_LABEL} }}"`;
    const rules: AlertRule[] = [];
    if (c.backup) {
        const maxAge = BACKUP_MAX_AGE_RPOS * c.backup.rpoSeconds;
        rules.push(
            {
                alert: "etcdPulumiBackupTooOld",
                // max over the members: only the leader uploads, the others keep their last success from when they led.
                expr: `time() - max by (${CLUSTER_LABEL}) (${onCluster("etcd_pulumi_backup_last_success_timestamp_seconds")}) > ${maxAge}\n`,
                for: "1m",
                labels: { severity: "critical" },
                annotations: {
                    description: `${cluster}: no member has confirmed an off-host backup for {{ $value | humanizeDuration }} (more than ${BACKUP_MAX_AGE_RPOS} x rpoSeconds = ${maxAge}s): a total loss now would cost more than the RPO. See journalctl -u etcd-backup.service on the leader.`,
                    summary: "etcd off-host backups are too old.",
                },
            },
            {
                alert: "etcdPulumiBackupFailing",
                // Two ways to keep failing: runs in a row on the member that uploads (a follower keeps the count from
                // when it last led, so only the uploader counts), or failures between successes (e.g. every full base
                // fails while the deltas go through). One label set per member, so the two never collide.
                expr:
                    `max by (${CLUSTER_LABEL}, ${MEMBER_LABEL}) (${onCluster("(etcd_pulumi_backup_consecutive_failures and on (job, instance) etcd_pulumi_backup_uploader == 1)")}) >= 2\n` +
                    `or\n` +
                    `sum by (${CLUSTER_LABEL}, ${MEMBER_LABEL}) (${onCluster("increase(etcd_pulumi_backup_failures_total[3h])")}) >= 3\n`,
                for: "1m",
                labels: { severity: "warning" },
                annotations: {
                    description: `${cluster}: off-host backup runs keep failing on {{ $labels.${MEMBER_LABEL} }} ({{ $value }} failed runs in a row, or within the last 3 hours). See journalctl -u etcd-backup.service there.`,
                    summary: "etcd off-host backups are failing.",
                },
            },
        );
    }
    const lastRun = onCluster("(etcd_pulumi_defrag_last_run_timestamp_seconds and on (job, instance) etcd_pulumi_defrag_last_run_success == 0)");
    const lastSuccess = onCluster("etcd_pulumi_defrag_last_success_timestamp_seconds");
    rules.push(
        {
            alert: "etcdPulumiDefragmentationFailed",
            // The cluster's newest pass failed: a failure newer than every member's last success (0 when none ever succeeded).
            expr: `max by (${CLUSTER_LABEL}) (${lastRun})\n> on (${CLUSTER_LABEL})\n(max by (${CLUSTER_LABEL}) (${lastSuccess}) or 0 * max by (${CLUSTER_LABEL}) (${info}))\n`,
            for: "0m",
            labels: { severity: "warning" },
            annotations: {
                description: `${cluster}: the last defragmentation pass failed. See journalctl -u etcd-defrag.service on the members; run systemctl start etcd-defrag.service once the cause is fixed.`,
                summary: "etcd defragmentation failed.",
            },
        },
        {
            alert: "etcdPulumiNoSpaceRecovered",
            expr: `sum by (${CLUSTER_LABEL}) (${onCluster("increase(etcd_pulumi_nospace_recoveries_total[24h])")}) > 0\n`,
            for: "0m",
            labels: { severity: "warning" },
            annotations: {
                description: `${cluster}: the database reached its quota (NOSPACE alarm, writes refused) and was recovered by the maintenance job within the last 24 hours. Raise quotaBackendBytes or find out what writes so much.`,
                summary: "etcd ran out of database space and was recovered.",
            },
        },
    );
    const certificate = (severity: "warning" | "critical", hours: number, what: string): AlertRule => ({
        alert: "etcdPulumiCertificateExpiring",
        expr: `${onCluster("etcd_pulumi_certificate_expiry_timestamp_seconds")} - time() < ${hours * 3600}\n`,
        for: "10m",
        labels: { severity },
        annotations: {
            description: `${cluster}: the ${"{{ $labels.certificate }}"} certificate of member {{ $labels.${MEMBER_LABEL} }} expires in {{ $value | humanizeDuration }} (${what}). Leaf certificates (server, peer, client): run pulumi up, which renews them without a restart. The CA: rotate it (caGeneration, caRotation; README "Day 2").`,
            summary: "etcd certificates expire soon.",
        },
    });
    rules.push(
        certificate("warning", c.certRenewBeforeHours, `inside certRenewBeforeHours, ${c.certRenewBeforeHours} h`),
        certificate("critical", Math.max(1, Math.min(168, Math.floor(c.certRenewBeforeHours / 2))), `in less than ${Math.max(1, Math.min(168, Math.floor(c.certRenewBeforeHours / 2)))} h`),
        {
            alert: "etcdPulumiHostMetricsMissing",
            // Without node_exporter reading /var/lib/etcd-pulumi/metrics on every member the alerts above cannot fire.
            expr: `(count(${info}) or vector(0)) < ${c.memberCount}\n`,
            for: "15m",
            labels: { severity: "warning" },
            annotations: {
                description: `etcd cluster "${c.clusterName}": {{ $value }} of ${c.memberCount} members' host metrics (/var/lib/etcd-pulumi/metrics) are scraped; run node_exporter with --collector.textfile.directory=/var/lib/etcd-pulumi/metrics on every member and scrape it, or the backup, defragmentation and certificate alerts cannot fire.`,
                summary: "etcd-pulumi host metrics are missing.",
            },
        },
    );
    return rules;
}

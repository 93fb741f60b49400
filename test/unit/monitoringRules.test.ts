/**
 * The rendered prometheusRules with Debian's promtool: `promtool check rules` passes, and `promtool test
 * rules` unit tests (input series -> alerts at given times) prove the important alerts fire on the right
 * series, with the right labels and text, and stay quiet otherwise (other clusters' series included).
 */
import { after, before, test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse, stringify } from "yaml";
import { renderPrometheusRules, RulesInputs } from "../../components/monitoring/rules";
import { promtoolVersion, runPromtool } from "../support/prometheus";

const INPUTS: RulesInputs = { clusterName: "dev", jobName: "etcd-dev", scrapeIntervalSeconds: 30, memberCount: 3, certRenewBeforeHours: 720, backup: { rpoSeconds: 30 } };
const MEMBERS = ["etcd1", "etcd2", "etcd3"];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "etcd-rules-"));

/** Labels of a member's etcd series, as the rendered scrape config gives them. */
const etcd = (i: number, extra = "") => `{job="etcd-dev",instance="10.0.0.1${i}:2382",etcd_cluster="dev",member="etcd${i}"${extra}}`;
/** Labels of a member host's node_exporter series (any job name works: the alerts join on job and instance). */
const node = (i: number, extra = "", cluster = "dev") => `{job="node",instance="${cluster}-host${i}:9100"${extra}}`;
const info = (i: number, cluster = "dev") => ({ series: `etcd_pulumi_member_info${node(i, `,etcd_cluster="${cluster}",member="etcd${i}"`, cluster)}`, values: "1x60" });
const allInfo = () => [1, 2, 3].map((i) => info(i));

interface AlertCase {
    eval_time: string;
    alertname: string;
    exp_alerts: { exp_labels: Record<string, string>; exp_annotations: Record<string, string> }[];
}
interface TestGroup {
    name: string;
    interval: string;
    input_series: { series: string; values: string }[];
    alert_rule_test: AlertCase[];
}

const quiet = (eval_time: string, alertname: string): AlertCase => ({ eval_time, alertname, exp_alerts: [] });
const rules = parse(renderPrometheusRules(INPUTS)) as { groups: { rules: { alert: string; labels: { severity: string }; annotations: Record<string, string> }[] }[] };
const summary = (alert: string) => rules.groups.flatMap((g) => g.rules).find((r) => r.alert === alert)!.annotations.summary;

const GROUPS: TestGroup[] = [
    {
        name: "etcdMembersDown: one member's scrape fails for 20 minutes",
        interval: "1m",
        input_series: [
            { series: `up${etcd(1)}`, values: "1x40" },
            { series: `up${etcd(2)}`, values: "1x40" },
            { series: `up${etcd(3)}`, values: "1 1 1 1 1 0x35" },
            // Another cluster's member down the whole time: not this cluster's alert.
            { series: `up{job="etcd-other",instance="10.9.0.1:2382",etcd_cluster="other",member="etcd1"}`, values: "0x40" },
        ],
        alert_rule_test: [
            quiet("4m", "etcdMembersDown"),
            quiet("20m", "etcdMembersDown"), // pending: for 20m
            {
                eval_time: "26m",
                alertname: "etcdMembersDown",
                exp_alerts: [{ exp_labels: { severity: "warning", job: "etcd-dev", etcd_cluster: "dev" }, exp_annotations: { description: 'etcd cluster "dev": members are down (1).', summary: summary("etcdMembersDown") } }],
            },
            quiet("26m", "etcdInsufficientMembers"), // 2 of 3 still up: quorum holds
        ],
    },
    {
        name: "etcdInsufficientMembers: two of three down",
        interval: "1m",
        input_series: [
            { series: `up${etcd(1)}`, values: "1x20" },
            { series: `up${etcd(2)}`, values: "1 1 0x18" },
            { series: `up${etcd(3)}`, values: "1 1 0x18" },
        ],
        alert_rule_test: [
            quiet("1m", "etcdInsufficientMembers"),
            quiet("4m", "etcdInsufficientMembers"), // pending: for 3m
            {
                eval_time: "6m",
                alertname: "etcdInsufficientMembers",
                exp_alerts: [{ exp_labels: { severity: "critical", job: "etcd-dev", etcd_cluster: "dev" }, exp_annotations: { description: 'etcd cluster "dev": insufficient members (1).', summary: summary("etcdInsufficientMembers") } }],
            },
        ],
    },
    {
        name: "etcdNoLeader: the member that lost its leader, only",
        interval: "1m",
        input_series: [
            { series: `etcd_server_has_leader${etcd(1)}`, values: "1x10" },
            { series: `etcd_server_has_leader${etcd(2)}`, values: "1 1 0x8" },
            { series: `etcd_server_has_leader${etcd(3)}`, values: "1x10" },
        ],
        alert_rule_test: [
            quiet("2m", "etcdNoLeader"), // pending: for 1m
            {
                eval_time: "4m",
                alertname: "etcdNoLeader",
                exp_alerts: [
                    {
                        exp_labels: { severity: "critical", job: "etcd-dev", instance: "10.0.0.12:2382", etcd_cluster: "dev", member: "etcd2" },
                        exp_annotations: { description: 'etcd cluster "dev": member 10.0.0.12:2382 has no leader.', summary: summary("etcdNoLeader") },
                    },
                ],
            },
        ],
    },
    {
        name: "etcdDatabaseQuotaLowSpace: 97% of the quota fires, 90% does not",
        interval: "1m",
        input_series: [
            { series: `etcd_mvcc_db_total_size_in_bytes${etcd(1)}`, values: "970000000x20" },
            { series: `etcd_server_quota_backend_bytes${etcd(1)}`, values: "1000000000x20" },
            { series: `etcd_mvcc_db_total_size_in_bytes${etcd(2)}`, values: "900000000x20" },
            { series: `etcd_server_quota_backend_bytes${etcd(2)}`, values: "1000000000x20" },
        ],
        alert_rule_test: [
            quiet("5m", "etcdDatabaseQuotaLowSpace"), // pending: for 10m
            {
                eval_time: "12m",
                alertname: "etcdDatabaseQuotaLowSpace",
                exp_alerts: [
                    {
                        exp_labels: { severity: "critical", job: "etcd-dev", instance: "10.0.0.11:2382", etcd_cluster: "dev", member: "etcd1" },
                        exp_annotations: {
                            description: 'etcd cluster "dev": database size exceeds the defined quota on etcd instance 10.0.0.11:2382, please defrag or increase the quota as the writes to etcd will be disabled when it is full.',
                            summary: summary("etcdDatabaseQuotaLowSpace"),
                        },
                    },
                ],
            },
        ],
    },
    {
        // p99 in the +Inf bucket is the next bucket's upper bound: exact values (0.512 s, 1.024 s).
        name: "etcdHighFsyncDurations: warning above 0.5 s, critical above 1 s, a fast member quiet",
        interval: "1m",
        input_series: [
            { series: `etcd_disk_wal_fsync_duration_seconds_bucket${etcd(1, ',le="0.512"')}`, values: "0x30" },
            { series: `etcd_disk_wal_fsync_duration_seconds_bucket${etcd(1, ',le="+Inf"')}`, values: "0+10x30" },
            { series: `etcd_disk_wal_fsync_duration_seconds_bucket${etcd(2, ',le="0.008"')}`, values: "0+10x30" },
            { series: `etcd_disk_wal_fsync_duration_seconds_bucket${etcd(2, ',le="+Inf"')}`, values: "0+10x30" },
            { series: `etcd_disk_wal_fsync_duration_seconds_bucket${etcd(3, ',le="1.024"')}`, values: "0x30" },
            { series: `etcd_disk_wal_fsync_duration_seconds_bucket${etcd(3, ',le="+Inf"')}`, values: "0+10x30" },
        ],
        alert_rule_test: [
            quiet("8m", "etcdHighFsyncDurations"), // pending: for 10m
            {
                eval_time: "15m",
                alertname: "etcdHighFsyncDurations",
                exp_alerts: [
                    {
                        exp_labels: { severity: "warning", job: "etcd-dev", instance: "10.0.0.11:2382", etcd_cluster: "dev", member: "etcd1" },
                        exp_annotations: { description: 'etcd cluster "dev": 99th percentile fsync durations are 0.512s on etcd instance 10.0.0.11:2382.', summary: summary("etcdHighFsyncDurations") },
                    },
                    {
                        exp_labels: { severity: "warning", job: "etcd-dev", instance: "10.0.0.13:2382", etcd_cluster: "dev", member: "etcd3" },
                        exp_annotations: { description: 'etcd cluster "dev": 99th percentile fsync durations are 1.024s on etcd instance 10.0.0.13:2382.', summary: summary("etcdHighFsyncDurations") },
                    },
                    {
                        exp_labels: { severity: "critical", job: "etcd-dev", instance: "10.0.0.13:2382", etcd_cluster: "dev", member: "etcd3" },
                        exp_annotations: { description: 'etcd cluster "dev": 99th percentile fsync durations are 1.024s on etcd instance 10.0.0.13:2382.', summary: summary("etcdHighFsyncDurations") },
                    },
                ],
            },
        ],
    },
    {
        name: "etcdDatabaseHighFragmentationRatio: 30% in use of 1 GB fires, 70% does not",
        interval: "1m",
        input_series: [
            { series: `etcd_mvcc_db_total_size_in_use_in_bytes${etcd(1)}`, values: "300000000x20" },
            { series: `etcd_mvcc_db_total_size_in_bytes${etcd(1)}`, values: "1000000000x20" },
            { series: `etcd_mvcc_db_total_size_in_use_in_bytes${etcd(2)}`, values: "700000000x20" },
            { series: `etcd_mvcc_db_total_size_in_bytes${etcd(2)}`, values: "1000000000x20" },
        ],
        alert_rule_test: [
            {
                eval_time: "11m",
                alertname: "etcdDatabaseHighFragmentationRatio",
                exp_alerts: [
                    {
                        exp_labels: { severity: "warning", job: "etcd-dev", instance: "10.0.0.11:2382", etcd_cluster: "dev", member: "etcd1" },
                        exp_annotations: {
                            description: 'etcd cluster "dev": database size in use on instance 10.0.0.11:2382 is 30% of the actual allocated disk space, please run defragmentation (e.g. etcdctl defrag) to retrieve the unused fragmented disk space.',
                            summary: summary("etcdDatabaseHighFragmentationRatio"),
                            runbook_url: "https://etcd.io/docs/v3.5/op-guide/maintenance/#defragmentation",
                        },
                    },
                ],
            },
        ],
    },
    {
        // Only the leader uploads: the freshest success across the members counts (t = 600 s for all of them here).
        name: "etcdPulumiBackupTooOld: no member confirmed a backup for more than 3 x RPO",
        interval: "1m",
        input_series: [
            ...allInfo(),
            { series: `etcd_pulumi_backup_last_success_timestamp_seconds${node(1)}`, values: "0 60 120 180 240 300 360 420 480 540 600x20" },
            { series: `etcd_pulumi_backup_last_success_timestamp_seconds${node(2)}`, values: "0x30" },
            { series: `etcd_pulumi_backup_last_success_timestamp_seconds${node(3)}`, values: "0x30" },
        ],
        alert_rule_test: [
            quiet("10m", "etcdPulumiBackupTooOld"), // etcd1 uploaded a minute ago; etcd2 and etcd3 never led
            quiet("11m30s", "etcdPulumiBackupTooOld"), // 90 s old: not more than 3 x 30 s
            quiet("12m", "etcdPulumiBackupTooOld"), // older than 90 s, pending: for 1m
            {
                eval_time: "20m",
                alertname: "etcdPulumiBackupTooOld",
                exp_alerts: [
                    {
                        exp_labels: { severity: "critical", etcd_cluster: "dev" },
                        exp_annotations: {
                            description:
                                'etcd cluster "dev": no member has confirmed an off-host backup for 10m 0s (more than 3 x rpoSeconds = 90s): a total loss now would cost more than the RPO. See journalctl -u etcd-backup.service on the leader.',
                            summary: summary("etcdPulumiBackupTooOld"),
                        },
                    },
                ],
            },
        ],
    },
    {
        name: "etcdPulumiBackupTooOld: leadership moved, the new leader uploads: quiet; another cluster's stale hosts: quiet",
        interval: "1m",
        input_series: [
            ...allInfo(),
            info(1, "other"),
            // etcd1 led until minute 10, then etcd2 took over: the max across the members stays fresh.
            { series: `etcd_pulumi_backup_last_success_timestamp_seconds${node(1)}`, values: "0 60 120 180 240 300 360 420 480 540 600x20" },
            { series: `etcd_pulumi_backup_last_success_timestamp_seconds${node(2)}`, values: "0x10 660+60x20" },
            { series: `etcd_pulumi_backup_last_success_timestamp_seconds${node(1, "", "other")}`, values: "0x30" },
        ],
        alert_rule_test: [quiet("20m", "etcdPulumiBackupTooOld"), quiet("30m", "etcdPulumiBackupTooOld")],
    },
    {
        name: "etcdPulumiBackupFailing: the uploader failed twice in a row; a follower's old count does not matter",
        interval: "1m",
        input_series: [
            ...allInfo(),
            { series: `etcd_pulumi_backup_uploader${node(1)}`, values: "1x20" },
            { series: `etcd_pulumi_backup_consecutive_failures${node(1)}`, values: "0x5 1 2 3x13" },
            { series: `etcd_pulumi_backup_failures_total${node(1)}`, values: "0x5 1 2 3x13" },
            // etcd2 failed 5 times while it led, long ago: it no longer uploads.
            { series: `etcd_pulumi_backup_uploader${node(2)}`, values: "0x20" },
            { series: `etcd_pulumi_backup_consecutive_failures${node(2)}`, values: "5x20" },
        ],
        alert_rule_test: [
            quiet("5m", "etcdPulumiBackupFailing"),
            quiet("7m", "etcdPulumiBackupFailing"), // 2 in a row, pending: for 1m
            {
                eval_time: "9m",
                alertname: "etcdPulumiBackupFailing",
                exp_alerts: [
                    {
                        exp_labels: { severity: "warning", etcd_cluster: "dev", member: "etcd1" },
                        exp_annotations: {
                            description: 'etcd cluster "dev": off-host backup runs keep failing on etcd1 (3 failed runs in a row, or within the last 3 hours). See journalctl -u etcd-backup.service there.',
                            summary: summary("etcdPulumiBackupFailing"),
                        },
                    },
                ],
            },
        ],
    },
    {
        name: "etcdPulumiDefragmentationFailed: the newest pass failed; a later success clears it",
        interval: "1m",
        input_series: [
            ...allInfo(),
            // etcd1 ran a pass at t=300 s that failed; the last success anywhere was at t=100 s, until etcd2's pass at t=900 s.
            { series: `etcd_pulumi_defrag_last_run_timestamp_seconds${node(1)}`, values: "100x4 300x20" },
            { series: `etcd_pulumi_defrag_last_run_success${node(1)}`, values: "1x4 0x20" },
            { series: `etcd_pulumi_defrag_last_success_timestamp_seconds${node(1)}`, values: "100x24" },
            { series: `etcd_pulumi_defrag_last_run_timestamp_seconds${node(2)}`, values: "100x14 900x10" },
            { series: `etcd_pulumi_defrag_last_run_success${node(2)}`, values: "1x24" },
            { series: `etcd_pulumi_defrag_last_success_timestamp_seconds${node(2)}`, values: "100x14 900x10" },
        ],
        alert_rule_test: [
            quiet("3m", "etcdPulumiDefragmentationFailed"),
            {
                eval_time: "6m",
                alertname: "etcdPulumiDefragmentationFailed",
                exp_alerts: [
                    {
                        exp_labels: { severity: "warning", etcd_cluster: "dev" },
                        exp_annotations: {
                            description: 'etcd cluster "dev": the last defragmentation pass failed. See journalctl -u etcd-defrag.service on the members; run systemctl start etcd-defrag.service once the cause is fixed.',
                            summary: summary("etcdPulumiDefragmentationFailed"),
                        },
                    },
                ],
            },
            quiet("16m", "etcdPulumiDefragmentationFailed"),
        ],
    },
    {
        // time() is the evaluation time: at 20m (1200 s) etcd1's server certificate has 20 days left, etcd2's peer 3 days.
        name: "etcdPulumiCertificateExpiring: warning inside certRenewBeforeHours (720 h), critical inside 168 h; far ones and other clusters quiet",
        interval: "1m",
        input_series: [
            ...allInfo(),
            info(3, "other"),
            { series: `etcd_pulumi_certificate_expiry_timestamp_seconds${node(1, ',certificate="server"')}`, values: `${1200 + 20 * 86400}x30` },
            { series: `etcd_pulumi_certificate_expiry_timestamp_seconds${node(1, ',certificate="ca"')}`, values: `${1200 + 900 * 86400}x30` },
            { series: `etcd_pulumi_certificate_expiry_timestamp_seconds${node(2, ',certificate="peer"')}`, values: `${1200 + 3 * 86400}x30` },
            { series: `etcd_pulumi_certificate_expiry_timestamp_seconds${node(3, ',certificate="client"')}`, values: `${1200 + 60 * 86400}x30` },
            { series: `etcd_pulumi_certificate_expiry_timestamp_seconds${node(3, ',certificate="server"', "other")}`, values: `${1200 + 1 * 86400}x30` },
        ],
        alert_rule_test: [
            quiet("5m", "etcdPulumiCertificateExpiring"), // pending: for 10m
            {
                eval_time: "20m",
                alertname: "etcdPulumiCertificateExpiring",
                exp_alerts: [
                    {
                        exp_labels: { severity: "warning", job: "node", instance: "dev-host1:9100", certificate: "server", etcd_cluster: "dev", member: "etcd1" },
                        exp_annotations: { description: certDescription("server", "etcd1", "20d 0h 0m 0s", "inside certRenewBeforeHours, 720 h"), summary: summary("etcdPulumiCertificateExpiring") },
                    },
                    {
                        exp_labels: { severity: "warning", job: "node", instance: "dev-host2:9100", certificate: "peer", etcd_cluster: "dev", member: "etcd2" },
                        exp_annotations: { description: certDescription("peer", "etcd2", "3d 0h 0m 0s", "inside certRenewBeforeHours, 720 h"), summary: summary("etcdPulumiCertificateExpiring") },
                    },
                    {
                        exp_labels: { severity: "critical", job: "node", instance: "dev-host2:9100", certificate: "peer", etcd_cluster: "dev", member: "etcd2" },
                        exp_annotations: { description: certDescription("peer", "etcd2", "3d 0h 0m 0s", "in less than 168 h"), summary: summary("etcdPulumiCertificateExpiring") },
                    },
                ],
            },
        ],
    },
    {
        name: "etcdPulumiHostMetricsMissing: one member's textfile metrics are not scraped",
        interval: "1m",
        input_series: [info(1), info(2)],
        alert_rule_test: [
            quiet("10m", "etcdPulumiHostMetricsMissing"), // pending: for 15m
            {
                eval_time: "20m",
                alertname: "etcdPulumiHostMetricsMissing",
                exp_alerts: [
                    {
                        exp_labels: { severity: "warning" },
                        exp_annotations: {
                            description:
                                "etcd cluster \"dev\": 2 of 3 members' host metrics (/var/lib/etcd-pulumi/metrics) are scraped; run node_exporter with --collector.textfile.directory=/var/lib/etcd-pulumi/metrics on every member and scrape it, or the backup, defragmentation and certificate alerts cannot fire.",
                            summary: summary("etcdPulumiHostMetricsMissing"),
                        },
                    },
                ],
            },
        ],
    },
    {
        name: "a healthy cluster: none of the important alerts fires",
        interval: "1m",
        input_series: [
            ...allInfo(),
            ...MEMBERS.flatMap((_, k) => [
                { series: `up${etcd(k + 1)}`, values: "1x40" },
                { series: `etcd_server_has_leader${etcd(k + 1)}`, values: "1x40" },
                { series: `etcd_mvcc_db_total_size_in_bytes${etcd(k + 1)}`, values: "50000000x40" },
                { series: `etcd_mvcc_db_total_size_in_use_in_bytes${etcd(k + 1)}`, values: "40000000x40" },
                { series: `etcd_server_quota_backend_bytes${etcd(k + 1)}`, values: "2147483648x40" },
                { series: `etcd_network_peer_sent_failures_total${etcd(k + 1, ',To="x"')}`, values: "0x40" },
                { series: `etcd_disk_wal_fsync_duration_seconds_bucket${etcd(k + 1, ',le="0.008"')}`, values: "0+10x40" },
                { series: `etcd_disk_wal_fsync_duration_seconds_bucket${etcd(k + 1, ',le="+Inf"')}`, values: "0+10x40" },
                { series: `etcd_pulumi_certificate_expiry_timestamp_seconds${node(k + 1, ',certificate="server"')}`, values: `${400 * 86400}x40` },
                { series: `etcd_pulumi_backup_last_success_timestamp_seconds${node(k + 1)}`, values: k === 0 ? "0+60x40" : "0x40" },
                { series: `etcd_pulumi_backup_uploader${node(k + 1)}`, values: k === 0 ? "1x40" : "0x40" },
                { series: `etcd_pulumi_backup_consecutive_failures${node(k + 1)}`, values: "0x40" },
            ]),
        ],
        alert_rule_test: [
            "etcdMembersDown",
            "etcdInsufficientMembers",
            "etcdNoLeader",
            "etcdDatabaseQuotaLowSpace",
            "etcdDatabaseHighFragmentationRatio",
            "etcdHighFsyncDurations",
            "etcdPulumiBackupTooOld",
            "etcdPulumiBackupFailing",
            "etcdPulumiDefragmentationFailed",
            "etcdPulumiCertificateExpiring",
            "etcdPulumiHostMetricsMissing",
        ].map((a) => quiet("35m", a)),
    },
];

function certDescription(certificate: string, member: string, left: string, what: string): string {
    return `etcd cluster "dev": the ${certificate} certificate of member ${member} expires in ${left} (${what}). Leaf certificates (server, peer, client): run pulumi up, which renews them without a restart. The CA: rotate it (caGeneration, caRotation; README "Day 2").`;
}

function writeTests(rulesText: string, groups: TestGroup[], name: string): string {
    fs.writeFileSync(path.join(dir, `${name}-rules.yml`), rulesText);
    const file = path.join(dir, `${name}-tests.yml`);
    fs.writeFileSync(file, stringify({ rule_files: [`${name}-rules.yml`], evaluation_interval: "1m", tests: groups }, { lineWidth: 0 }));
    return path.basename(file);
}

before(() => console.log(`using ${promtoolVersion()}`));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

test("promtool check rules passes on the rendered rules (with and without backups, other settings)", () => {
    const variants: [string, RulesInputs][] = [
        ["default", INPUTS],
        ["no-backup", { ...INPUTS, backup: undefined }],
        ["other", { ...INPUTS, clusterName: "prod-eu1", jobName: "etcd-prod-eu1", scrapeIntervalSeconds: 15, memberCount: 5, certRenewBeforeHours: 48 }],
    ];
    for (const [name, inputs] of variants) {
        fs.writeFileSync(path.join(dir, `${name}.yml`), renderPrometheusRules(inputs));
        const r = runPromtool(["check", "rules", `${name}.yml`], dir);
        assert.equal(r.status, 0, `${name}: ${r.output}`);
        assert.match(r.output, new RegExp(`SUCCESS: ${inputs.backup ? 22 : 20} rules found`), r.output);
    }
});

test("promtool test rules: the important alerts fire on the right series with the right text, and stay quiet otherwise", () => {
    const r = runPromtool(["test", "rules", writeTests(renderPrometheusRules(INPUTS), GROUPS, "all")], dir);
    assert.equal(r.status, 0, r.output);
    assert.match(r.output, /SUCCESS/);
});

test("the same tests fail on rules that differ from the rendered ones (they can fail)", () => {
    const broken = [
        // A longer `for` on etcdNoLeader: not firing at 4m.
        renderPrometheusRules(INPUTS).replace(/(alert: etcdNoLeader\n\s+expr: \|\n.*\n\s+for: )1m/, "$15m"),
        // The quota threshold moved from 95% to 98%: 97% no longer fires.
        renderPrometheusRules(INPUTS).replace("*100 > 95", "*100 > 98"),
        // The join on the member info dropped: the other cluster's expiring certificate fires too.
        renderPrometheusRules(INPUTS).replace(/etcd_pulumi_certificate_expiry_timestamp_seconds \* on \(job, instance\) group_left \(etcd_cluster, member\) etcd_pulumi_member_info\{etcd_cluster="dev"\}/g, "etcd_pulumi_certificate_expiry_timestamp_seconds"),
    ];
    broken.forEach((text, k) => {
        assert.notEqual(text, renderPrometheusRules(INPUTS), `mutation ${k} applied`);
        const r = runPromtool(["test", "rules", writeTests(text, GROUPS, `broken${k}`)], dir);
        assert.notEqual(r.status, 0, `mutation ${k} went unnoticed: ${r.output}`);
    });
});

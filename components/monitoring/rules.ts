/**
 * The `prometheusRules` output: a Prometheus rules file with two groups, etcd's monitoring mixin scoped to
 * this cluster's scrape job, and the alerts on this component's own jobs. Pure, from settings.
 */
import { stringify } from "yaml";
import { ComponentAlertInputs, componentAlerts } from "./componentAlerts";
import { AlertRule, MixinConfig, mixinAlerts } from "./mixinAlerts";
import { CLUSTER_LABEL, MEMBER_LABEL } from "./scrapeConfig";

export interface RulesInputs extends ComponentAlertInputs {
    jobName: string;
    scrapeIntervalSeconds: number;
}

/** The mixin's knobs for this cluster: its own job, members told apart by instance and member, the cluster by etcd_cluster. */
export function mixinConfigFor(r: Pick<RulesInputs, "jobName" | "scrapeIntervalSeconds">): MixinConfig {
    return { selector: `job="${r.jobName}"`, instanceLabels: `instance, ${MEMBER_LABEL}`, clusterLabel: CLUSTER_LABEL, scrapeIntervalSeconds: r.scrapeIntervalSeconds };
}

export function renderRulesFile(groups: { name: string; rules: AlertRule[] }[], header: string[]): string {
    return `${header.map((l) => `# ${l}`).join("\n")}\n${stringify({ groups }, { lineWidth: 0 })}`;
}

export function renderPrometheusRules(r: RulesInputs): string {
    return renderRulesFile(
        [
            { name: `etcd-${r.clusterName}`, rules: mixinAlerts(mixinConfigFor(r)) },
            { name: `etcd-pulumi-${r.clusterName}`, rules: componentAlerts(r) },
        ],
        [
            `etcd cluster "${r.clusterName}": Prometheus alerting rules (etcd-pulumi output prometheusRules).`,
            `Group etcd-${r.clusterName}: the alerts of etcd's monitoring mixin (contrib/mixin), on the scrape job ${r.jobName}.`,
            `Group etcd-pulumi-${r.clusterName}: backups, defragmentation and certificates, from node_exporter's textfile collector on the members.`,
            `Load it with rule_files: in prometheus.yml; check it with promtool check rules.`,
        ],
    );
}

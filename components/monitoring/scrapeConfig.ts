/**
 * The `prometheusScrapeConfig` output: a Prometheus configuration fragment (top-level `scrape_configs:`)
 * with one job for the members' metrics listeners. Its TLS file names are relative, so Prometheus reads
 * them beside its configuration file: etcd-ca.crt (caBundlePem), etcd-monitoring.crt and
 * etcd-monitoring.key (monitoringCertPem, monitoringKeyPem).
 */
import { stringify } from "yaml";
import { MemberSettings } from "../settings";
import { scrapeTarget } from "./listener";
import { MonitoringSettings } from "./settings";

export const CA_FILE = "etcd-ca.crt";
export const CERT_FILE = "etcd-monitoring.crt";
export const KEY_FILE = "etcd-monitoring.key";
/** The label that names the cluster on every series and alert. */
export const CLUSTER_LABEL = "etcd_cluster";
/** The label that names the member on the scraped series and the host metrics. */
export const MEMBER_LABEL = "member";

export interface ScrapeConfigInputs {
    monitoring: MonitoringSettings;
    members: Pick<MemberSettings, "name" | "address">[];
    clusterName: string;
    jobName: string;
}

export function renderScrapeConfig(c: ScrapeConfigInputs): string {
    const { monitoring: mon } = c;
    const job: Record<string, unknown> = {
        job_name: c.jobName,
        scheme: mon.plainHttp ? "http" : "https",
        metrics_path: "/metrics",
        scrape_interval: `${mon.scrapeIntervalSeconds}s`,
        // Prometheus refuses a timeout longer than the interval.
        scrape_timeout: `${Math.min(10, mon.scrapeIntervalSeconds)}s`,
        ...(mon.plainHttp
            ? {}
            : {
                  // No server_name: each target is its member's address, which is in that member's server
                  // certificate (pki.ts memberCertSpecs), so the name Prometheus checks is the one it dials.
                  tls_config: { ca_file: CA_FILE, cert_file: CERT_FILE, key_file: KEY_FILE, insecure_skip_verify: false },
              }),
        // One target per member, so each keeps its own `member` label; `instance` stays address:port.
        static_configs: [...c.members]
            .sort((a, b) => a.name.localeCompare(b.name))
            .map((m) => ({ targets: [scrapeTarget(m, mon.port)], labels: { [CLUSTER_LABEL]: c.clusterName, [MEMBER_LABEL]: m.name } })),
    };
    const header = [
        `# etcd cluster "${c.clusterName}": Prometheus scrape configuration (etcd-pulumi output prometheusScrapeConfig).`,
        mon.plainHttp
            ? `# plain http (monitoring.plainHttp): no TLS, no client certificate.`
            : `# Beside this file: ${CA_FILE} (output caBundlePem), ${CERT_FILE} (monitoringCertPem), ${KEY_FILE} (monitoringKeyPem, secret; mode 0600).`,
        `# Merge the job into the scrape_configs of your prometheus.yml; load the output prometheusRules as a rule file.`,
    ];
    return `${header.join("\n")}\n${stringify({ scrape_configs: [job] }, { lineWidth: 0 })}`;
}

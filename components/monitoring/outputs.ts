/** The component's monitoring outputs, and the preview's warning about plain http. Wiring only: the renderers are pure. */
import * as pulumi from "@pulumi/pulumi";
import { KeyPair } from "../pki";
import { ClusterSettings } from "../settings";
import { renderPrometheusRules } from "./rules";
import { renderScrapeConfig } from "./scrapeConfig";
import { monitoringClusterName, scrapeJobName } from "./settings";

export interface MonitoringOutputs {
    certPem: pulumi.Output<string | undefined>;
    /** Secret. */
    keyPem: pulumi.Output<string | undefined>;
    scrapeConfig: pulumi.Output<string | undefined>;
    rules: pulumi.Output<string | undefined>;
}

/** The warning every preview and up prints while monitoring.plainHttp is on. */
export function plainHttpWarning(s: ClusterSettings): string | undefined {
    const mon = s.monitoring;
    if (!mon?.plainHttp) return undefined;
    return (
        `monitoring.plainHttp: every member serves /metrics and /health over plain http on port ${mon.port} of its address ` +
        `(${s.members.map((m) => m.address).join(", ")}), with no TLS and no client certificate: anyone who reaches the port reads them. ` +
        `Unset plainHttp for https with a client certificate from the cluster's CA (output monitoringCertPem).`
    );
}

export function monitoringOutputs(name: string, s: ClusterSettings, cert: KeyPair | undefined, parent: pulumi.Resource): MonitoringOutputs {
    const mon = s.monitoring;
    const warning = plainHttpWarning(s);
    if (warning) pulumi.log.warn(warning, parent);
    if (!mon) {
        const none = pulumi.output<string | undefined>(undefined);
        return { certPem: none, keyPem: none, scrapeConfig: none, rules: none };
    }
    const clusterName = monitoringClusterName(mon, name);
    const jobName = scrapeJobName(clusterName);
    return {
        certPem: cert ? cert.certPem : pulumi.output<string | undefined>(undefined),
        keyPem: cert ? pulumi.secret(cert.keyPem) : pulumi.output<string | undefined>(undefined),
        scrapeConfig: pulumi.output(renderScrapeConfig({ monitoring: mon, members: s.members, clusterName, jobName })),
        rules: pulumi.output(
            renderPrometheusRules({
                clusterName,
                jobName,
                scrapeIntervalSeconds: mon.scrapeIntervalSeconds,
                memberCount: s.members.length,
                certRenewBeforeHours: s.certRenewBeforeHours,
                // With backups on, the alerts on their metrics (too old: 3 x rpoSeconds).
                backup: s.backup && { rpoSeconds: s.backup.rpoSeconds },
            }),
        ),
    };
}

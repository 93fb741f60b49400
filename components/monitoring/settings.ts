/**
 * The `monitoring` setting, checked and defaulted before anything is registered; every problem names the
 * field and the fix.
 */
import { EtcdMonitoringArgs } from "./args";

/** The validated, defaulted `monitoring` setting. */
export interface MonitoringSettings {
    port: number;
    plainHttp: boolean;
    scrapeIntervalSeconds: number;
    /** Unset: the component's name (see monitoringClusterName). */
    clusterName?: string;
}

/** Fields of `monitoring` as written in stack config. */
export const MONITORING_FIELDS = ["port", "plainHttp", "scrapeIntervalSeconds", "clusterName"];

export const DEFAULT_MONITORING_PORT = 2382;

/** Label values must not break the rendered PromQL and YAML: no quotes, backslashes, braces or spaces. */
const CLUSTER_NAME = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/;

/** The other ports of a member; the metrics listener must not take one of them. */
export interface OtherPorts {
    clientPort: number;
    peerPort: number;
    metricsPort: number;
}

/** Checks `args.monitoring`; problems go into `problems`. Undefined when monitoring is off. */
export function resolveMonitoringSettings(m: EtcdMonitoringArgs | undefined, ports: OtherPorts, problems: string[]): MonitoringSettings | undefined {
    if (m === undefined || m === null) return undefined;
    if (typeof m !== "object" || Array.isArray(m)) {
        problems.push(`monitoring: must be an object like { port: ${DEFAULT_MONITORING_PORT} } (or {} for the defaults); unset it to turn monitoring off`);
        return undefined;
    }
    const port = m.port ?? DEFAULT_MONITORING_PORT;
    if (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65535) {
        problems.push(`monitoring.port: ${JSON.stringify(port)} is not a port; use an integer 1-65535 (default ${DEFAULT_MONITORING_PORT})`);
    } else {
        const taken = (Object.entries(ports) as [string, number][]).find(([, v]) => v === port);
        if (taken) problems.push(`monitoring.port: ${port} is already ${taken[0]}; give the metrics listener its own port, e.g. ${DEFAULT_MONITORING_PORT}`);
    }
    const plainHttp = m.plainHttp ?? false;
    if (typeof plainHttp !== "boolean") problems.push(`monitoring.plainHttp: must be true or false (default false: https with a client certificate)`);
    const scrapeIntervalSeconds = m.scrapeIntervalSeconds ?? 30;
    if (typeof scrapeIntervalSeconds !== "number" || !Number.isInteger(scrapeIntervalSeconds) || scrapeIntervalSeconds < 1 || scrapeIntervalSeconds > 300) {
        problems.push(`monitoring.scrapeIntervalSeconds: ${JSON.stringify(scrapeIntervalSeconds)} must be a whole number of seconds, 1-300 (default 30)`);
    }
    if (m.clusterName !== undefined && (typeof m.clusterName !== "string" || !CLUSTER_NAME.test(m.clusterName))) {
        problems.push(`monitoring.clusterName: ${JSON.stringify(m.clusterName)} must be 1-128 letters, digits, '.', '_', ':', '/' or '-' (starting with a letter or digit), e.g. "prod-eu1"`);
    }
    return { port, plainHttp: plainHttp === true, scrapeIntervalSeconds, ...(m.clusterName !== undefined ? { clusterName: m.clusterName } : {}) };
}

/**
 * The `etcd_cluster` label value of this cluster: the setting, else the component's name when it is a
 * valid label value, else the name with the other characters replaced.
 */
export function monitoringClusterName(m: MonitoringSettings | undefined, componentName: string): string {
    if (m?.clusterName) return m.clusterName;
    const cleaned = componentName.replace(/[^A-Za-z0-9._:/-]/g, "_").slice(0, 128);
    return /^[A-Za-z0-9]/.test(cleaned) ? cleaned : `c${cleaned}`.slice(0, 128);
}

/** The Prometheus job of the members' metrics listeners. */
export function scrapeJobName(clusterName: string): string {
    return `etcd-${clusterName}`;
}

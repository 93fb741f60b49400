/**
 * What monitoring adds to a member's etcd config: a metrics listener on the member's own address next to
 * the loopback one. etcd serves an https metrics URL with the client listener's TLS settings
 * (server/embed/etcd.go createMetricsListener: ClientTLSInfo), so with client-cert-auth on, a scraper
 * needs a client certificate from the cluster's CA; an http URL has no TLS at all.
 */
import { ClusterSettings, MemberSettings } from "../settings";

/** CN of the certificate Prometheus presents (client_auth only). */
export const MONITORING_CN = "etcd-monitoring";

function host(address: string): string {
    return address.includes(":") ? `[${address}]` : address;
}

/**
 * The `listen-metrics-urls` value, and `metrics: extensive` when monitoring is on: the mixin's
 * etcdGRPCRequestsSlow reads grpc_server_handling_seconds, which etcd only exports at that level. Without
 * monitoring the keys are exactly what they were, so turning it on (or off) is the only change that restarts.
 */
export function metricsConfig(s: ClusterSettings, m: MemberSettings): Record<string, string> {
    const loopback = `http://127.0.0.1:${s.metricsPort}`;
    const mon = s.monitoring;
    if (!mon) return { "listen-metrics-urls": loopback };
    const scheme = mon.plainHttp ? "http" : "https";
    return { "listen-metrics-urls": `${loopback},${scheme}://${host(m.listenAddress)}:${mon.port}`, metrics: "extensive" };
}

/** host:port Prometheus scrapes for a member: its address (in its server certificate's SANs). */
export function scrapeTarget(m: Pick<MemberSettings, "address">, port: number): string {
    return `${host(m.address)}:${port}`;
}

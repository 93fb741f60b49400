/** The `monitoring` argument of EtcdCluster: a metrics listener Prometheus on another host can scrape, securely. */

/**
 * Turns on a metrics listener on every member's own address (etcd's `/metrics` and `/health`), over https
 * with a client certificate from the cluster's CA (output `monitoringCertPem`/`monitoringKeyPem`), and the
 * outputs `prometheusScrapeConfig` and `prometheusRules`. The loopback listener (`metricsPort`) stays.
 */
export interface EtcdMonitoringArgs {
    /** Port of the metrics listener on each member's address. Default 2382. */
    port?: number;
    /**
     * Serve it over plain http, without TLS or client certificates: anyone who reaches the port reads the
     * metrics. Only when asked for; every preview warns. Default false.
     */
    plainHttp?: boolean;
    /** How often Prometheus scrapes the members (the scrape config's interval; the alerts' rate windows follow it). Default 30. */
    scrapeIntervalSeconds?: number;
    /**
     * The value of the `etcd_cluster` label on the scraped series, the host metrics and the alerts; also
     * names the scrape job (`etcd-<clusterName>`). Default: the component's name (the stack name for this
     * project's stack program). Set it when two clusters in one Prometheus have the same name.
     */
    clusterName?: string;
}

/** The arguments of etcd authentication: the clients of the cluster and what each may do. */

/** One grant of a client: every key under a prefix, or one exact key; read-only or read-write. */
export interface EtcdClientPermissionArgs {
    /** Every key that starts with this, e.g. "/app-a/". Set `prefix` or `key`, not both. */
    prefix?: string;
    /** Exactly this key, e.g. "/config/feature-flags". */
    key?: string;
    /** "read" (get, watch) or "readwrite" (also put, delete, transactions, leases on those keys). */
    access: string;
}

/** A client of the cluster: the component issues it a certificate whose CN is `name`, the etcd user it acts as. */
export interface EtcdClientArgs {
    /** The certificate's CN and the etcd user name, e.g. "app-a" (lowercase letters, digits, '.', '_', '-'). */
    name: string;
    /** What the client may do; nothing else is allowed once authentication is on. */
    permissions: EtcdClientPermissionArgs[];
}

/** A client's key pair, as the output clientCertificates holds it. */
export interface EtcdClientCertificate {
    /** The client's certificate (PEM), CN = the client's name. */
    certPem: string;
    /**
     * The client's private key (PEM); the whole clientCertificates output is secret.
     * @secret
     */
    keyPem: string;
}

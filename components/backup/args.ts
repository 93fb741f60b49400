/** The `backup` argument of EtcdCluster: off-host, encrypted backups to an S3-compatible store. */
import * as pulumi from "@pulumi/pulumi";

/** Which backups the store keeps (everything else is deleted after a verified upload). */
export interface EtcdBackupRetentionArgs {
    /** Every backup (full bases and deltas) newer than this many hours is kept. Default 1. */
    allWithinHours?: number;
    /** The newest full base of each of the last N hours is kept. Default 24. */
    hourly?: number;
    /** The newest full base of each of the last N days is kept. Default 7. */
    daily?: number;
    /** The newest full base of each of the last N weeks is kept. Default 4. */
    weekly?: number;
}

/**
 * Where and how the cluster backs itself up. The leader uploads the events since the last upload every
 * rpoSeconds/2 seconds and a full base on `fullSchedule`; every object is encrypted and authenticated on
 * the member before it leaves it.
 */
export interface EtcdBackupArgs {
    /** Bucket and prefix: `s3://etcd-backups/prod`. */
    store: string;
    /** The store's https endpoint, e.g. `https://s3.example.internal:7070`; omit for AWS S3. */
    endpoint?: string;
    /** Default `us-east-1`. */
    region?: string;
    /** Path-style addressing (`https://endpoint/bucket/key`); default true with an endpoint, false for AWS S3. */
    pathStyle?: boolean;
    /** PEM bundle the store's certificate is checked against (a private endpoint); default: the hosts' CAs. */
    caBundle?: string;
    /** The store's access key id (e.g. AKIA...). */
    accessKeyId: string;
    /**
     * The store's secret access key. Pass it as a Pulumi secret.
     * @secret
     */
    secretAccessKey: pulumi.Input<string>;
    /** The writes a total loss may cost, in seconds (10-3600). Default 30. */
    rpoSeconds?: number;
    /** When the leader uploads a full base: a systemd OnCalendar expression. Default "hourly". */
    fullSchedule?: string;
    /** Which backups the store keeps: everything recent, then the newest full base per hour, day and week. */
    retention?: EtcdBackupRetentionArgs;
    /**
     * The key backups are encrypted with (at least 32 characters). Default: generated once and kept in the
     * stack (output backupEncryptionKey).
     * @secret
     */
    encryptionKey?: pulumi.Input<string>;
}

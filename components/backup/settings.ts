/**
 * The `backup` setting, checked and defaulted before anything is registered. Every problem is reported
 * with its field and the fix; the secrets (secretAccessKey, encryptionKey) are only checked for presence
 * here and stay Pulumi secrets (see cluster.ts).
 */
import { EtcdBackupArgs } from "./args";
import { parseStoreUrl, StoreLocation } from "./storeLocation";

export interface BackupRetention {
    allWithinSeconds: number;
    hourly: number;
    daily: number;
    weekly: number;
}

/** The validated, defaulted `backup` setting, without its secrets. */
export interface BackupSettings {
    store: StoreLocation;
    /** `https://host[:port]`; AWS S3's regional endpoint when none was given. */
    endpoint: string;
    region: string;
    pathStyle: boolean;
    /** PEM the store's certificate is checked against, when given. */
    caBundle?: string;
    accessKeyId: string;
    rpoSeconds: number;
    /** Seconds between two delta runs on the leader: half the RPO, so a run may fail once and the RPO still holds. */
    periodSeconds: number;
    fullSchedule: string;
    retention: BackupRetention;
    /** Whether the stack gives the encryption key (else it is generated and kept in the stack). */
    keyGiven: boolean;
}

/** Fields of `backup` as written in stack config (caBundlePath instead of caBundle). */
export const BACKUP_FIELDS = ["store", "endpoint", "region", "pathStyle", "caBundlePath", "accessKeyId", "secretAccessKey", "rpoSeconds", "fullSchedule", "retention", "encryptionKey"];
export const RETENTION_FIELDS = ["allWithinHours", "hourly", "daily", "weekly"];

const REGION = /^[a-z0-9-]{2,32}$/;
const ON_CALENDAR = /^[A-Za-z0-9*:,./~ -]{1,100}$/;

export function awsEndpoint(region: string): string {
    return `https://s3.${region}.amazonaws.com`;
}

const present = (v: unknown) => v !== undefined && v !== null && v !== "";

/** Checks `args.backup`; problems go into `problems`. Undefined when backups are off. */
export function resolveBackupSettings(b: EtcdBackupArgs | undefined, problems: string[]): BackupSettings | undefined {
    if (b === undefined || b === null) return undefined;
    if (typeof b !== "object") {
        problems.push(`backup: must be an object like { store: "s3://etcd-backups/prod", accessKeyId: ..., secretAccessKey: (secret) }`);
        return undefined;
    }
    const store = typeof b.store === "string" ? parseStoreUrl(b.store) : { problem: `is missing; name the bucket and prefix, e.g. "s3://etcd-backups/prod"` };
    if ("problem" in store) problems.push(`backup.store: ${JSON.stringify(b.store ?? null)} ${store.problem}`);
    const region = b.region ?? "us-east-1";
    if (typeof region !== "string" || !REGION.test(region)) problems.push(`backup.region: ${JSON.stringify(region)} is not a region name such as "us-east-1"`);
    let endpoint = awsEndpoint(String(region));
    if (b.endpoint !== undefined) {
        let url: URL | undefined;
        try {
            url = new URL(String(b.endpoint));
        } catch {
            url = undefined;
        }
        if (!url || url.protocol !== "https:" || (url.pathname !== "/" && url.pathname !== "") || url.search || url.username) {
            problems.push(
                `backup.endpoint: ${JSON.stringify(b.endpoint)} must be an https URL of the store's host and port only, e.g. "https://s3.example.internal:7070" ` +
                    `(backups are encrypted, but the store's credentials and listings must not travel in the clear); omit it for AWS S3`,
            );
        } else {
            endpoint = url.origin;
        }
    }
    const pathStyle = b.pathStyle ?? b.endpoint !== undefined;
    if (typeof pathStyle !== "boolean") problems.push(`backup.pathStyle: must be true (https://endpoint/bucket/key) or false (https://bucket.endpoint/key)`);
    if (b.caBundle !== undefined && (typeof b.caBundle !== "string" || !b.caBundle.includes("-----BEGIN CERTIFICATE-----"))) {
        problems.push(`backup.caBundle: must hold PEM certificates (-----BEGIN CERTIFICATE-----) the store's certificate chains to`);
    }
    if (typeof b.accessKeyId !== "string" || !/^[A-Za-z0-9._+/=-]{3,128}$/.test(b.accessKeyId)) {
        problems.push(`backup.accessKeyId: ${b.accessKeyId === undefined ? "is missing" : "is not an access key id"}; set the store's access key id, e.g. "AKIA..."`);
    }
    if (!present(b.secretAccessKey)) {
        problems.push(`backup.secretAccessKey: is missing; set it as a secret: pulumi config set --secret --path backup.secretAccessKey`);
    }
    const rpoSeconds = b.rpoSeconds ?? 30;
    if (typeof rpoSeconds !== "number" || !Number.isInteger(rpoSeconds) || rpoSeconds < 10 || rpoSeconds > 3600) {
        problems.push(`backup.rpoSeconds: ${JSON.stringify(rpoSeconds)} must be a whole number of seconds, 10-3600 (default 30)`);
    }
    const fullSchedule = b.fullSchedule ?? "hourly";
    if (typeof fullSchedule !== "string" || !ON_CALENDAR.test(fullSchedule)) {
        problems.push(`backup.fullSchedule: ${JSON.stringify(fullSchedule)} is not a systemd OnCalendar expression; use e.g. "hourly" or "*-*-* 00/4:00:00"`);
    }
    const r = b.retention ?? {};
    const count = (field: keyof typeof r, dflt: number, max: number) => {
        const v = r[field] ?? dflt;
        if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > max) problems.push(`backup.retention.${field}: ${JSON.stringify(v)} must be a whole number, 0-${max} (default ${dflt})`);
        return Number(v);
    };
    const retention: BackupRetention = {
        allWithinSeconds: count("allWithinHours", 1, 24 * 31) * 3600,
        hourly: count("hourly", 24, 24 * 31),
        daily: count("daily", 7, 366),
        weekly: count("weekly", 4, 520),
    };
    if (b.encryptionKey !== undefined && typeof b.encryptionKey === "string" && b.encryptionKey.length < 32) {
        problems.push(`backup.encryptionKey: must be at least 32 characters (e.g. the backupEncryptionKey output of the stack that wrote the backups), or unset to generate one`);
    }
    if ("problem" in store) return undefined;
    return {
        store,
        endpoint,
        region: String(region),
        pathStyle: pathStyle === true,
        caBundle: b.caBundle,
        accessKeyId: String(b.accessKeyId),
        rpoSeconds,
        periodSeconds: Math.max(5, Math.floor(rpoSeconds / 2)),
        fullSchedule,
        retention,
        keyGiven: present(b.encryptionKey),
    };
}

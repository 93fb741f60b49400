/** An S3 store location as configured: `s3://bucket/prefix`. */

export interface StoreLocation {
    /** As configured, e.g. `s3://etcd-backups/prod`. */
    url: string;
    bucket: string;
    /** Without leading or trailing `/`; may be empty. */
    prefix: string;
}

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const PREFIX = /^[A-Za-z0-9!_.*'()/-]*$/;

/** Parses `s3://bucket/prefix`; returns a problem text when it is not one. */
export function parseStoreUrl(url: string): StoreLocation | { problem: string } {
    const m = /^s3:\/\/([^/]+)(?:\/(.*))?$/.exec(url);
    if (!m) return { problem: `must be s3://<bucket>/<prefix>, e.g. "s3://etcd-backups/prod"` };
    const bucket = m[1];
    const prefix = (m[2] ?? "").replace(/\/+$/, "");
    if (!BUCKET.test(bucket) || bucket.includes("..")) return { problem: `names the bucket "${bucket}", which is not a valid bucket name (3-63 lowercase letters, digits, '.' and '-')` };
    if (!PREFIX.test(prefix) || prefix.split("/").some((s) => s === "" || s === "." || s === "..")) {
        return { problem: `has the prefix "${prefix}"; a prefix may use letters, digits and !_.*'()/- only, without empty, "." or ".." segments` };
    }
    return { url, bucket, prefix };
}

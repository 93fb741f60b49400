/**
 * A failed S3 request, named the way an operator needs it: the operation, the object (s3://bucket/key),
 * the endpoint, and the cause: S3's error code and message from the XML body, or the TLS or network error.
 * Never the secret: nothing of the request's signature is in it.
 */

/** S3's code for an answer with an <Error> body; for the rest: */
export type S3FailureKind = "s3" | "tls" | "network" | "timeout" | "integrity";

export interface S3Failure {
    operation: string;
    bucket: string;
    key?: string;
    endpoint: string;
    kind: S3FailureKind;
    /** S3's error code (NoSuchKey, SignatureDoesNotMatch, ...), NotFound for a 404 without a body, or the TLS/network error code. */
    code: string;
    /** S3's or the system's message. */
    detail: string;
    status?: number;
    attempts?: number;
    cause?: unknown;
}

const HINTS: Record<string, string> = {
    SignatureDoesNotMatch: "check the secret access key and the region",
    InvalidAccessKeyId: "check the access key id",
    // versitygw's answer (HTTP 404) to an access key it does not know.
    XAdminUserNotFound: "check the access key id",
    AuthorizationHeaderMalformed: "check the region",
    PermanentRedirect: "check the region, the endpoint and pathStyle",
    NoSuchBucket: "check the bucket name (and pathStyle for this endpoint)",
};

export class S3Error extends Error implements S3Failure {
    readonly operation: string;
    readonly bucket: string;
    readonly key?: string;
    readonly endpoint: string;
    readonly kind: S3FailureKind;
    readonly code: string;
    readonly detail: string;
    readonly status?: number;
    readonly attempts?: number;

    constructor(failure: S3Failure) {
        const object = `s3://${failure.bucket}/${failure.key ?? ""}`;
        const where = failure.status !== undefined ? `HTTP ${failure.status} from ${failure.endpoint}` : failure.endpoint;
        const tries = failure.attempts && failure.attempts > 1 ? `, ${failure.attempts} attempts` : "";
        const hint = tlsHint(failure) ?? HINTS[failure.code];
        super(`S3 ${failure.operation} ${object} failed: ${failure.code}: ${failure.detail} (${where}${tries})${hint ? `; ${hint}` : ""}`, { cause: failure.cause });
        this.name = "S3Error";
        this.operation = failure.operation;
        this.bucket = failure.bucket;
        this.key = failure.key;
        this.endpoint = failure.endpoint;
        this.kind = failure.kind;
        this.code = failure.code;
        this.detail = failure.detail;
        this.status = failure.status;
        this.attempts = failure.attempts;
    }
}

function tlsHint(failure: S3Failure): string | undefined {
    if (failure.kind !== "tls") return undefined;
    if (/ALTNAME/.test(failure.code)) return "the endpoint's certificate does not name this host: use the name (or IP) it was issued for";
    if (/CERT|SELF_SIGNED|UNABLE_TO/.test(failure.code)) return "the endpoint's certificate is not signed by a trusted CA: give the CA that signed it (caBundlePem)";
    return undefined;
}

/** Is a Node error from the TLS layer (certificate verification or handshake)? */
export function isTlsError(error: NodeJS.ErrnoException): boolean {
    const code = error.code ?? "";
    return /^ERR_TLS_|^ERR_SSL_|CERT|SELF_SIGNED|UNABLE_TO_/.test(code) || /SSL routines|certificate/i.test(error.message);
}

/**
 * AWS Signature Version 4 for S3 requests, pure: the canonical request, the string to sign, the signing
 * key and the Authorization header, exactly as AWS's "Signature Calculations for the Authorization Header"
 * describes them (and as its published examples check: test/unit/backupS3Signer.test.ts).
 */
import * as crypto from "node:crypto";

/** SHA-256 of no bytes: the payload hash of a request without a body. */
export const EMPTY_PAYLOAD_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
/** The payload hash of a request whose body is not signed (S3 then does not check it). */
export const UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD";

export interface SigningCredentials {
    accessKeyId: string;
    secretAccessKey: string;
}

/** What is signed: the request as it goes on the wire. */
export interface RequestToSign {
    method: string;
    /** The path, already URI-encoded (see uriEncode) exactly as it is sent. */
    canonicalUri: string;
    /** Query parameters; their order does not matter (they are sorted). */
    query: ReadonlyArray<readonly [string, string]>;
    /** Headers to sign, `host` among them (names in any case). */
    headers: Readonly<Record<string, string>>;
    /** Hex SHA-256 of the body, EMPTY_PAYLOAD_SHA256, or UNSIGNED_PAYLOAD. */
    payloadHash: string;
}

export interface SignedRequest {
    /** The request's headers plus x-amz-date, x-amz-content-sha256 and authorization. */
    headers: Record<string, string>;
    canonicalRequest: string;
    stringToSign: string;
    signature: string;
}

const sha256Hex = (data: string | Buffer): string => crypto.createHash("sha256").update(data).digest("hex");
const hmac = (key: crypto.BinaryLike, data: string): Buffer => crypto.createHmac("sha256", key).update(data, "utf8").digest();

/**
 * RFC 3986 percent-encoding of the UTF-8 bytes of `value`: everything but A-Z a-z 0-9 - . _ ~ becomes %XY
 * (upper-case hex); "/" too unless `keepSlash` (object key paths keep theirs, query values do not).
 */
export function uriEncode(value: string, keepSlash: boolean): string {
    let out = "";
    for (const byte of Buffer.from(value, "utf8")) {
        const c = String.fromCharCode(byte);
        if (/[A-Za-z0-9\-._~]/.test(c) || (keepSlash && c === "/")) out += c;
        else out += `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
    }
    return out;
}

/** name=value pairs, each encoded, sorted by encoded name then value, joined by "&" (a bare name gets "="). */
export function canonicalQueryString(query: ReadonlyArray<readonly [string, string]>): string {
    return query
        .map(([name, value]) => [uriEncode(name, false), uriEncode(value, false)] as const)
        .sort(([an, av], [bn, bv]) => (an < bn ? -1 : an > bn ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
        .map(([name, value]) => `${name}=${value}`)
        .join("&");
}

/** The two time formats SigV4 uses: 20130524T000000Z and 20130524. */
export function amzTimes(now: Date): { amzDate: string; dateStamp: string } {
    const amzDate = now.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
    return { amzDate, dateStamp: amzDate.slice(0, 8) };
}

/** Header names lower-cased and sorted; values trimmed, inner runs of spaces made one. */
function canonicalHeaders(headers: Readonly<Record<string, string>>): { text: string; signedHeaders: string } {
    const byName = new Map<string, string[]>();
    for (const [name, value] of Object.entries(headers)) {
        const lower = name.toLowerCase();
        byName.set(lower, [...(byName.get(lower) ?? []), value.trim().replace(/ +/g, " ")]);
    }
    const names = [...byName.keys()].sort();
    return { text: names.map((n) => `${n}:${byName.get(n)!.join(",")}\n`).join(""), signedHeaders: names.join(";") };
}

export function canonicalRequest(request: RequestToSign): { canonicalRequest: string; signedHeaders: string } {
    const { text, signedHeaders } = canonicalHeaders(request.headers);
    const lines = [request.method.toUpperCase(), request.canonicalUri, canonicalQueryString(request.query), text, signedHeaders, request.payloadHash];
    return { canonicalRequest: lines.join("\n"), signedHeaders };
}

export function credentialScope(dateStamp: string, region: string, service: string): string {
    return `${dateStamp}/${region}/${service}/aws4_request`;
}

export function stringToSign(canonical: string, amzDate: string, scope: string): string {
    return ["AWS4-HMAC-SHA256", amzDate, scope, sha256Hex(canonical)].join("\n");
}

/** HMAC chain "AWS4"+secret -> date -> region -> service -> "aws4_request". */
export function signingKey(secretAccessKey: string, dateStamp: string, region: string, service: string): Buffer {
    return hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, dateStamp), region), service), "aws4_request");
}

/**
 * Sign a request for `region` at `now`: returns the headers to send (the given ones, x-amz-date,
 * x-amz-content-sha256 and authorization), with the intermediate values for diagnosis.
 */
export function signRequest(request: RequestToSign, credentials: SigningCredentials, region: string, now: Date, service = "s3"): SignedRequest {
    const { amzDate, dateStamp } = amzTimes(now);
    const headers: Record<string, string> = { ...request.headers, "x-amz-date": amzDate, "x-amz-content-sha256": request.payloadHash };
    const { canonicalRequest: canonical, signedHeaders } = canonicalRequest({ ...request, headers });
    const scope = credentialScope(dateStamp, region, service);
    const toSign = stringToSign(canonical, amzDate, scope);
    const signature = crypto.createHmac("sha256", signingKey(credentials.secretAccessKey, dateStamp, region, service)).update(toSign, "utf8").digest("hex");
    headers.authorization = `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope},SignedHeaders=${signedHeaders},Signature=${signature}`;
    return { headers, canonicalRequest: canonical, stringToSign: toSign, signature };
}

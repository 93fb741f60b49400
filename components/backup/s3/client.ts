/**
 * The deployer's S3 client: GetObject (into memory or streamed to a file), PutObject, HeadObject,
 * ListObjectsV2 (every page) and DeleteObject over HTTPS (node:https, an optional private CA bundle),
 * signed with SigV4 (./sigv4). Every upload sends its payload's SHA-256 (the server checks the bytes) and
 * keeps it with the object as x-amz-meta-content-sha256, the same metadata the hosts' s3.sh writes;
 * downloads are checked against it. Bounded connect and idle timeouts; network errors, timeouts and
 * HTTP 408/429/5xx are retried a few times. Failures are S3Errors naming the operation, the object and
 * the cause.
 */
import * as crypto from "node:crypto";
import { once } from "node:events";
import * as fs from "node:fs";
import type * as http from "node:http";
import * as https from "node:https";
import type * as net from "node:net";
import * as path from "node:path";
import { S3Location, defaultEndpoint, locationProblems, requestAddress } from "./address";
import { S3Error, S3FailureKind, isTlsError } from "./s3Error";
import { EMPTY_PAYLOAD_SHA256, signRequest } from "./sigv4";
import { xmlBlocks, xmlText } from "./xml";

/** User metadata (x-amz-meta-<name>) holding the hex SHA-256 of the object's bytes. */
export const CONTENT_SHA256_METADATA = "content-sha256";
/** The largest object a single PUT may carry (S3's limit). */
export const MAX_SINGLE_PUT_BYTES = 5 * 1024 ** 3;

export interface S3ClientOptions extends S3Location {
    accessKeyId: string;
    secretAccessKey: string;
    /** PEM certificate(s) trusted for the endpoint instead of Node's bundled CAs (a private store's CA). */
    caBundlePem?: string;
    /** Connecting, TLS handshake included (default 10 s). */
    connectTimeoutMs?: number;
    /** A request that moves no byte for this long fails (default 60 s). */
    idleTimeoutMs?: number;
    /** Retries after a network error, a timeout or HTTP 408/429/5xx (default 2; 0.25 s, then 0.5 s, ...). */
    retries?: number;
    /** Resolves the endpoint's host name instead of DNS (like curl --resolve: a name DNS does not know). */
    lookup?: net.LookupFunction;
}

export interface ObjectInfo {
    size: number;
    etag: string;
    lastModified: string;
    /** x-amz-meta-* values by name (without the prefix). */
    metadata: Record<string, string>;
}

export interface ListedObject {
    key: string;
    size: number;
    etag: string;
    lastModified: string;
}

export interface PutOptions {
    /** Extra user metadata (ASCII names and values). */
    metadata?: Record<string, string>;
    contentType?: string;
}

type Body = { kind: "buffer"; data: Buffer } | { kind: "file"; file: string; size: number };

interface RequestSpec {
    operation: string;
    method: "GET" | "PUT" | "HEAD" | "DELETE";
    key?: string;
    /** What errors name after the bucket, when not the key (a listing's prefix). */
    subject?: string;
    query?: ReadonlyArray<readonly [string, string]>;
    headers?: Record<string, string>;
    body?: Body;
    payloadHash: string;
}

const RETRIED_STATUS = new Set([408, 429, 500, 502, 503, 504]);
const ERROR_BODY_LIMIT = 64 * 1024;

/** A connect or idle timeout, raised by this client (Node's own socket errors keep their codes). */
class TimeoutSignal extends Error {
    constructor(readonly phase: "connect" | "idle", readonly ms: number) {
        super(phase === "connect" ? `no TLS connection within ${ms} ms` : `no byte moved for ${ms} ms`);
    }
}

/** An integrity failure seen while reading a response (not retried: the stored object is what it is). */
class IntegritySignal extends Error {
    constructor(readonly code: string, message: string) {
        super(message);
    }
}

export class S3Client {
    private readonly options: S3ClientOptions;
    private readonly endpoint: string;

    constructor(options: S3ClientOptions) {
        const problems = locationProblems(options);
        if (!options.accessKeyId) problems.push("accessKeyId is empty");
        if (!options.secretAccessKey) problems.push("secretAccessKey is empty");
        if (problems.length) throw new Error(`S3 store settings: ${problems.join("; ")}`);
        this.options = options;
        this.endpoint = options.endpoint ?? defaultEndpoint(options.region);
    }

    get bucket(): string {
        return this.options.bucket;
    }

    /** The object's bytes, checked against its Content-Length and its recorded SHA-256. */
    async getObject(key: string): Promise<Buffer> {
        return this.request({ operation: "GetObject", method: "GET", key, payloadHash: EMPTY_PAYLOAD_SHA256 }, async (res) => {
            const chunks: Buffer[] = [];
            for await (const chunk of res) chunks.push(chunk as Buffer);
            const data = Buffer.concat(chunks);
            checkDownload(res, data.length, crypto.createHash("sha256").update(data).digest("hex"));
            return data;
        });
    }

    /**
     * Stream the object into `file` (mode 0600): written to a temporary file beside it, checked (length,
     * recorded SHA-256), then renamed over `file`, so `file` is never a partial download.
     */
    async getObjectToFile(key: string, file: string): Promise<{ size: number; sha256: string }> {
        return this.request({ operation: "GetObject", method: "GET", key, payloadHash: EMPTY_PAYLOAD_SHA256 }, async (res) => {
            const partial = path.join(path.dirname(file), `.${path.basename(file)}.s3-get-${crypto.randomBytes(6).toString("hex")}`);
            const out = fs.createWriteStream(partial, { flags: "wx", mode: 0o600 });
            const hash = crypto.createHash("sha256");
            let size = 0;
            try {
                for await (const chunk of res) {
                    const bytes = chunk as Buffer;
                    hash.update(bytes);
                    size += bytes.length;
                    if (!out.write(bytes)) await once(out, "drain");
                }
                await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
                const sha256 = hash.digest("hex");
                checkDownload(res, size, sha256);
                fs.renameSync(partial, file);
                return { size, sha256 };
            } catch (e) {
                out.destroy();
                fs.rmSync(partial, { force: true });
                throw e;
            }
        });
    }

    async putObject(key: string, data: Buffer, options: PutOptions = {}): Promise<{ etag: string }> {
        const sha256 = crypto.createHash("sha256").update(data).digest("hex");
        return this.put(key, { kind: "buffer", data }, sha256, options);
    }

    /** Upload a file (at most 5 GiB) streamed from disk; its SHA-256 is computed first and checked by the server. */
    async putObjectFromFile(key: string, file: string, options: PutOptions = {}): Promise<{ etag: string }> {
        const size = fs.statSync(file).size;
        if (size > MAX_SINGLE_PUT_BYTES) throw new Error(`S3 PutObject s3://${this.bucket}/${key}: ${file} has ${size} bytes, more than the 5 GiB a single upload may carry`);
        const hash = crypto.createHash("sha256");
        for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
        return this.put(key, { kind: "file", file, size }, hash.digest("hex"), options);
    }

    /** Size, ETag, time and user metadata of an object; an S3Error with code NoSuchKey when there is none. */
    async headObject(key: string): Promise<ObjectInfo> {
        try {
            return await this.request({ operation: "HeadObject", method: "HEAD", key, payloadHash: EMPTY_PAYLOAD_SHA256 }, async (res) => {
                res.resume();
                const metadata: Record<string, string> = {};
                for (const [name, value] of Object.entries(res.headers)) {
                    if (name.startsWith("x-amz-meta-") && typeof value === "string") metadata[name.slice("x-amz-meta-".length)] = value;
                }
                return { size: Number(res.headers["content-length"]), etag: String(res.headers.etag ?? ""), lastModified: String(res.headers["last-modified"] ?? ""), metadata };
            });
        } catch (e) {
            if (!(e instanceof S3Error) || e.status !== 404 || e.code !== "NotFound") throw e;
            // A HEAD answer has no body, so a 404 may be no such key, no such bucket or (versitygw) an unknown
            // access key: the same request as a GET of one byte brings S3's error code.
            const probe = { operation: "HeadObject", method: "GET" as const, key, headers: { range: "bytes=0-0" }, payloadHash: EMPTY_PAYLOAD_SHA256 };
            throw await this.request(probe, async (res) => {
                res.resume();
                return e;
            }).catch((why: unknown) => why);
        }
    }

    /** Every object under `prefix`, in S3's order, reading all pages (`maxKeys` per page, at most 1000). */
    async listObjectsV2(prefix = "", options: { maxKeys?: number } = {}): Promise<ListedObject[]> {
        const maxKeys = options.maxKeys ?? 1000;
        if (!Number.isInteger(maxKeys) || maxKeys < 1 || maxKeys > 1000) throw new Error(`S3 ListObjectsV2: maxKeys must be 1..1000, not ${maxKeys}`);
        const objects: ListedObject[] = [];
        let token: string | undefined;
        for (let page = 1; ; page++) {
            const query: [string, string][] = [["list-type", "2"], ["max-keys", String(maxKeys)], ["prefix", prefix]];
            if (token !== undefined) query.push(["continuation-token", token]);
            const xml = await this.request({ operation: "ListObjectsV2", method: "GET", subject: `${prefix}*`, query, payloadHash: EMPTY_PAYLOAD_SHA256 }, (res) => readText(res));
            for (const block of xmlBlocks(xml, "Contents")) {
                objects.push({ key: xmlText(block, "Key") ?? "", size: Number(xmlText(block, "Size") ?? "NaN"), etag: xmlText(block, "ETag") ?? "", lastModified: xmlText(block, "LastModified") ?? "" });
            }
            if (xmlText(xml, "IsTruncated") !== "true") return objects;
            const next = xmlText(xml, "NextContinuationToken");
            if (!next || next === token) throw this.error({ operation: "ListObjectsV2", key: `${prefix}*`, kind: "s3", code: "BadListing", detail: `page ${page} says the listing goes on but gives no new continuation token` });
            token = next;
        }
    }

    /** Delete an object (S3 reports success for a key that does not exist). */
    async deleteObject(key: string): Promise<void> {
        await this.request({ operation: "DeleteObject", method: "DELETE", key, payloadHash: EMPTY_PAYLOAD_SHA256 }, async (res) => {
            res.resume();
        });
    }

    private async put(key: string, body: Body, sha256: string, options: PutOptions): Promise<{ etag: string }> {
        const headers: Record<string, string> = { [`x-amz-meta-${CONTENT_SHA256_METADATA}`]: sha256 };
        for (const [name, value] of Object.entries(options.metadata ?? {})) headers[`x-amz-meta-${name.toLowerCase()}`] = value;
        if (options.contentType) headers["content-type"] = options.contentType;
        return this.request({ operation: "PutObject", method: "PUT", key, headers, body, payloadHash: sha256 }, async (res) => {
            res.resume();
            return { etag: String(res.headers.etag ?? "") };
        });
    }

    /** One operation with its retries. */
    private async request<T>(spec: RequestSpec, onSuccess: (res: http.IncomingMessage) => Promise<T>): Promise<T> {
        const attempts = (this.options.retries ?? 2) + 1;
        for (let attempt = 1; ; attempt++) {
            try {
                return await this.attempt(spec, onSuccess);
            } catch (e) {
                if (!(e instanceof S3Error)) throw e;
                const retried = e.kind === "network" || e.kind === "timeout" || (e.status !== undefined && RETRIED_STATUS.has(e.status));
                if (!retried || attempt >= attempts) {
                    throw attempt === 1 ? e : this.error({ operation: e.operation, key: e.key, kind: e.kind, code: e.code, detail: e.detail, status: e.status, attempts: attempt, cause: e });
                }
                await new Promise((resolve) => setTimeout(resolve, 250 * 2 ** (attempt - 1)));
            }
        }
    }

    private attempt<T>(spec: RequestSpec, onSuccess: (res: http.IncomingMessage) => Promise<T>): Promise<T> {
        const query = spec.query ?? [];
        const address = requestAddress(this.options, spec.key, query);
        const signed = signRequest(
            { method: spec.method, canonicalUri: address.canonicalUri, query, headers: { host: address.host, ...spec.headers }, payloadHash: spec.payloadHash },
            this.options,
            this.options.region,
            new Date(),
        );
        const headers: Record<string, string | number> = { ...signed.headers };
        if (spec.body) headers["content-length"] = spec.body.kind === "buffer" ? spec.body.data.length : spec.body.size;
        const connectMs = this.options.connectTimeoutMs ?? 10_000;
        const idleMs = this.options.idleTimeoutMs ?? 60_000;
        return new Promise<T>((resolve, reject) => {
            const fail = (e: unknown) => reject(this.failure(spec, e));
            const req = https.request({
                hostname: address.hostname,
                port: address.port,
                method: spec.method,
                path: address.path,
                headers,
                ca: this.options.caBundlePem,
                lookup: this.options.lookup,
                agent: false,
                timeout: idleMs,
            });
            const connectTimer = setTimeout(() => req.destroy(new TimeoutSignal("connect", connectMs)), connectMs);
            req.on("socket", (socket) => socket.once("secureConnect", () => clearTimeout(connectTimer)));
            req.on("timeout", () => req.destroy(new TimeoutSignal("idle", idleMs)));
            req.on("error", (e) => {
                clearTimeout(connectTimer);
                fail(e);
            });
            req.on("close", () => clearTimeout(connectTimer));
            req.on("response", (res) => {
                const status = res.statusCode ?? 0;
                if (status >= 200 && status < 300) {
                    onSuccess(res).then(resolve, fail);
                    return;
                }
                readText(res, ERROR_BODY_LIMIT).then(
                    (text) => reject(this.httpError(spec, status, text)),
                    (e) => fail(e),
                );
            });
            if (!spec.body) req.end();
            else if (spec.body.kind === "buffer") req.end(spec.body.data);
            else {
                const stream = fs.createReadStream(spec.body.file);
                stream.on("error", (e) => req.destroy(e));
                stream.pipe(req);
            }
        });
    }

    private httpError(spec: RequestSpec, status: number, body: string): S3Error {
        const code = xmlText(body, "Code");
        if (code) return this.error({ operation: spec.operation, key: spec.subject ?? spec.key, kind: "s3", code, detail: xmlText(body, "Message") ?? "no message", status });
        const detail = status === 404 ? "no such object" : status === 403 ? "access denied" : "the answer carries no S3 error";
        return this.error({ operation: spec.operation, key: spec.subject ?? spec.key, kind: "s3", code: status === 404 ? "NotFound" : status === 403 ? "Forbidden" : `HTTP${status}`, detail, status });
    }

    /** Any error of an attempt as an S3Error (TLS, network, timeout or integrity). */
    private failure(spec: RequestSpec, e: unknown): S3Error {
        if (e instanceof S3Error) return e;
        if (e instanceof TimeoutSignal) return this.error({ operation: spec.operation, key: spec.subject ?? spec.key, kind: "timeout", code: e.phase === "connect" ? "ConnectTimeout" : "IdleTimeout", detail: e.message, cause: e });
        if (e instanceof IntegritySignal) return this.error({ operation: spec.operation, key: spec.subject ?? spec.key, kind: "integrity", code: e.code, detail: e.message, cause: e });
        const err = e as NodeJS.ErrnoException;
        const kind: S3FailureKind = isTlsError(err) ? "tls" : "network";
        return this.error({ operation: spec.operation, key: spec.subject ?? spec.key, kind, code: err.code ?? (kind === "tls" ? "TLS" : "NetworkError"), detail: err.message, cause: e });
    }

    private error(f: { operation: string; key?: string; kind: S3FailureKind; code: string; detail: string; status?: number; attempts?: number; cause?: unknown }): S3Error {
        return new S3Error({ ...f, bucket: this.bucket, endpoint: this.endpoint });
    }
}

/** The response body as text; past `limit` bytes the rest is read and dropped (an error body is short). */
async function readText(res: http.IncomingMessage, limit = Infinity): Promise<string> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res) {
        const bytes = chunk as Buffer;
        if (size < limit) chunks.push(bytes);
        size += bytes.length;
    }
    return Buffer.concat(chunks).toString("utf8");
}

/** A download is the object only if it has its Content-Length and the SHA-256 recorded at upload (when there is one). */
function checkDownload(res: http.IncomingMessage, size: number, sha256: string): void {
    const expectedSize = res.headers["content-length"];
    if (expectedSize !== undefined && Number(expectedSize) !== size) throw new IntegritySignal("ShortRead", `received ${size} bytes, the object has ${expectedSize}`);
    const recorded = res.headers[`x-amz-meta-${CONTENT_SHA256_METADATA}`];
    if (typeof recorded === "string" && recorded !== sha256) throw new IntegritySignal("ChecksumMismatch", `the received bytes have SHA-256 ${sha256}, the object was uploaded with ${recorded}`);
}

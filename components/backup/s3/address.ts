/**
 * Where an S3 request goes: the endpoint (AWS S3 of the region when none is given), path-style
 * (https://endpoint/bucket/key) or virtual-hosted (https://bucket.endpoint/key) addressing, and the
 * encoded path and query exactly as they are sent and signed. Pure.
 */
import * as net from "node:net";
import { canonicalQueryString, uriEncode } from "./sigv4";

export interface S3Location {
    /** https://host[:port]; omitted: AWS S3 in `region`. */
    endpoint?: string;
    region: string;
    bucket: string;
    /** Path-style addressing; default: true with an endpoint (most S3-compatible servers), false for AWS S3. */
    pathStyle?: boolean;
}

export interface RequestAddress {
    hostname: string;
    port: number;
    /** The Host header: the host name, with the port when it is not 443. */
    host: string;
    /** The encoded path, as sent and as signed (the canonical URI). */
    canonicalUri: string;
    /** The encoded path and canonical query string: the request target on the wire. */
    path: string;
    /** For messages. */
    url: string;
}

/** AWS S3's regional endpoint. */
export function defaultEndpoint(region: string): string {
    return `https://s3.${region}.amazonaws.com`;
}

/** What is wrong with a location, each problem naming the setting; empty when it is usable. */
export function locationProblems(location: S3Location): string[] {
    const problems: string[] = [];
    if (!/^[a-z0-9-]+$/.test(location.region)) problems.push(`region '${location.region}' is not a region name (e.g. us-east-1)`);
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(location.bucket)) problems.push(`bucket '${location.bucket}' is not a bucket name (3-63 of a-z 0-9 . -)`);
    if (location.endpoint !== undefined) {
        let url: URL | undefined;
        try {
            url = new URL(location.endpoint);
        } catch {
            problems.push(`endpoint '${location.endpoint}' is not a URL (https://host[:port])`);
        }
        if (url && (url.protocol !== "https:" || url.username || url.password || (url.pathname !== "/" && url.pathname !== "") || url.search || url.hash)) {
            problems.push(`endpoint '${location.endpoint}' must be https://host[:port], without a path, query or credentials`);
        }
        if (url && location.pathStyle === false && net.isIP(url.hostname.replace(/^\[|\]$/g, ""))) {
            problems.push(`endpoint '${location.endpoint}' is an IP address: virtual-hosted addressing (pathStyle: false) needs a DNS name, since the bucket becomes part of the host name`);
        }
    }
    return problems;
}

export function usesPathStyle(location: S3Location): boolean {
    return location.pathStyle ?? location.endpoint !== undefined;
}

/** The address of an object (`key`) or of the bucket itself (`key` undefined), with a query. */
export function requestAddress(location: S3Location, key: string | undefined, query: ReadonlyArray<readonly [string, string]> = []): RequestAddress {
    const problems = locationProblems(location);
    if (problems.length) throw new Error(`S3 store settings: ${problems.join("; ")}`);
    const endpoint = new URL(location.endpoint ?? defaultEndpoint(location.region));
    const pathStyle = usesPathStyle(location);
    const hostname = pathStyle ? endpoint.hostname : `${location.bucket}.${endpoint.hostname}`;
    const port = endpoint.port ? Number(endpoint.port) : 443;
    const keyPath = key === undefined ? "" : uriEncode(key, true);
    const canonicalUri = pathStyle ? `/${location.bucket}${key === undefined ? "" : `/${keyPath}`}` : `/${keyPath}`;
    const queryString = canonicalQueryString(query);
    const path = queryString ? `${canonicalUri}?${queryString}` : canonicalUri;
    const host = port === 443 ? hostname : `${hostname}:${port}`;
    return { hostname: hostname.replace(/^\[|\]$/g, ""), port, host, canonicalUri, path, url: `https://${host}${path}` };
}

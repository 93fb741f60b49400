/**
 * Gets the etcd release archive onto the deployer, verified against its SHA-256, before any host is
 * touched. Official releases and mirrors are downloaded once into a local cache; local archives are
 * used where they are. A mismatch stops the deployment.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { BinarySourceSettings, releaseArchiveName } from "./settings";

export interface VerifiedRelease {
    /** Local path of the verified archive. */
    path: string;
    sha256: string;
}

// A RunError: Pulumi prints the message as a clean error, without a stack trace.
export class ReleaseError extends pulumi.RunError {
    constructor(message: string) {
        super(message);
        this.name = "ReleaseError";
    }
}

const isUrl = (s: string) => /^https?:\/\//.test(s);

export async function sha256File(file: string): Promise<string> {
    const h = createHash("sha256");
    for await (const chunk of fs.createReadStream(file)) h.update(chunk as Buffer);
    return h.digest("hex");
}

async function fetchBytes(url: string, what: string): Promise<Buffer> {
    let res: Response;
    try {
        res = await fetch(url, { redirect: "follow", signal: AbortSignal.timeout(15 * 60 * 1000) });
    } catch (e) {
        throw new ReleaseError(`cannot download ${what} from ${url}: ${(e as Error).cause ?? (e as Error).message}. ` +
            `On a machine without internet access, set binary.path (a local archive) or binary.url (a mirror) with binary.sha256 or binary.sha256sums`);
    }
    if (!res.ok) throw new ReleaseError(`cannot download ${what} from ${url}: HTTP ${res.status}`);
    return Buffer.from(await res.arrayBuffer());
}

/** Find the archive's line in a SHA256SUMS file. */
export function checksumFromSums(sums: string, archiveName: string, source: string): string {
    for (const line of sums.split("\n")) {
        const m = /^([0-9a-fA-F]{64})\s+\*?(\S+)\s*$/.exec(line.trim());
        if (m && path.basename(m[2]) === archiveName) return m[1].toLowerCase();
    }
    throw new ReleaseError(`${source} has no checksum for ${archiveName}`);
}

async function expectedChecksum(b: BinarySourceSettings, archiveName: string): Promise<string> {
    if (b.sha256) return b.sha256;
    if (!b.sha256sums) throw new ReleaseError(`binary: no checksum for ${b.location}; set binary.sha256 or binary.sha256sums`);
    let text: string;
    if (isUrl(b.sha256sums)) {
        text = (await fetchBytes(b.sha256sums, "SHA256SUMS")).toString("utf8");
    } else {
        try {
            text = fs.readFileSync(b.sha256sums, "utf8");
        } catch (e) {
            throw new ReleaseError(`binary.sha256sums: cannot read ${b.sha256sums}: ${(e as Error).message}`);
        }
    }
    return checksumFromSums(text, archiveName, b.sha256sums);
}

/** Verify (and for URLs, download into cacheDir) the release archive. */
export async function obtainRelease(b: BinarySourceSettings, version: string, arch: string, cacheDir: string): Promise<VerifiedRelease> {
    const archiveName = releaseArchiveName(version, arch);
    const expected = await expectedChecksum(b, archiveName);
    if (b.kind === "local") {
        if (!fs.existsSync(b.location)) throw new ReleaseError(`binary.path: ${b.location} does not exist; build or download the etcd ${version} archive there`);
        const actual = await sha256File(b.location);
        if (actual !== expected) {
            throw new ReleaseError(`binary.path: checksum mismatch for ${b.location}: expected ${expected}, got ${actual}. The archive is corrupt or not the one the checksum describes`);
        }
        return { path: b.location, sha256: actual };
    }
    const cached = path.join(cacheDir, expected, archiveName);
    if (fs.existsSync(cached) && (await sha256File(cached)) === expected) return { path: cached, sha256: expected };
    const bytes = await fetchBytes(b.location, `etcd ${version}`);
    const actual = createHash("sha256").update(bytes).digest("hex");
    if (actual !== expected) {
        throw new ReleaseError(`checksum mismatch for ${b.location}: expected ${expected}, got ${actual}. Nothing was deployed`);
    }
    fs.mkdirSync(path.dirname(cached), { recursive: true });
    const tmp = `${cached}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, bytes);
    fs.renameSync(tmp, cached);
    return { path: cached, sha256: actual };
}

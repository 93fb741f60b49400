/**
 * The snapshot `restoreFrom` names, checked on the deployer before anything is registered: it must be
 * a snapshot written by `etcdctl snapshot save` (a bbolt file followed by the SHA-256 of its content,
 * which `etcdutl snapshot restore` checks too), and `etcdutl snapshot status` must read it. etcdutl comes
 * from the verified release archive when this machine can run it (same OS and CPU as the hosts);
 * otherwise every host runs it before any member stops (hostScripts.ts).
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { FileRestoreRequest } from "./plan";
import { VerifiedRelease } from "../release";
import { releaseDirName } from "../settings";

// A RunError: Pulumi prints the message as a clean error, without a stack trace.
export class RestoreSourceError extends pulumi.RunError {
    constructor(message: string) {
        super(`restoreFrom: ${message}`);
        this.name = "RestoreSourceError";
    }
}

/** bbolt's meta page magic, at byte 16 of the file (after the page header), little-endian. */
const BOLT_MAGIC = 0xed0cdaed;
const HASH_LEN = 32;

/** What `etcdutl snapshot status -w json` prints. */
export interface SnapshotStatus {
    hash: number;
    revision: number;
    totalKey: number;
    totalSize: number;
}

/** The content's SHA-256 and whether the file is a snapshot with a matching trailing hash (and why not). */
export function checkSnapshotIntegrity(file: string): { sha256: string; size: number; problem?: string } {
    const size = fs.statSync(file).size;
    const fd = fs.openSync(file, "r");
    try {
        const whole = createHash("sha256");
        const body = createHash("sha256");
        const buf = Buffer.alloc(1 << 20);
        const head = Buffer.alloc(20);
        fs.readSync(fd, head, 0, head.length, 0);
        const tail = Buffer.alloc(HASH_LEN);
        let pos = 0;
        const bodyLen = size - HASH_LEN;
        while (pos < size) {
            const n = fs.readSync(fd, buf, 0, Math.min(buf.length, size - pos), pos);
            if (n === 0) break;
            const chunk = buf.subarray(0, n);
            whole.update(chunk);
            if (pos < bodyLen) body.update(chunk.subarray(0, Math.min(n, bodyLen - pos)));
            if (pos + n > bodyLen) chunk.subarray(Math.max(0, bodyLen - pos)).copy(tail, Math.max(0, pos - bodyLen));
            pos += n;
        }
        const sha256 = whole.digest("hex");
        if (size < 4096 || head.readUInt32LE(16) !== BOLT_MAGIC) return { sha256, size, problem: "is not an etcd snapshot (no bbolt database header)" };
        // etcd appends the hash to what `snapshot save` streams; a db copied out of a data dir has none.
        if (size % 512 !== HASH_LEN) return { sha256, size, problem: "has no integrity hash (a db file copied out of a data dir?); use a file written by etcdctl snapshot save" };
        if (!body.digest().equals(tail)) return { sha256, size, problem: "is corrupt: its content does not match the SHA-256 etcd appended when it was saved" };
        return { sha256, size };
    } finally {
        fs.closeSync(fd);
    }
}

const NODE_ARCH: Record<string, string> = { x64: "amd64", arm64: "arm64", ppc64: "ppc64le", s390x: "s390x" };

/** etcdutl from the verified release, unpacked once next to the cache; undefined when this machine cannot run it. */
function deployerEtcdutl(release: VerifiedRelease, version: string, arch: string, cacheDir: string): string | undefined {
    if (process.platform !== "linux" || NODE_ARCH[process.arch] !== arch) return undefined;
    const dir = path.join(cacheDir, release.sha256, "bin");
    const bin = path.join(dir, "etcdutl");
    if (!fs.existsSync(bin)) {
        fs.mkdirSync(dir, { recursive: true });
        const tmp = fs.mkdtempSync(path.join(dir, ".unpack-"));
        try {
            execFileSync("tar", ["-xzf", release.path, "-C", tmp, "--strip-components=1", `${releaseDirName(version, arch)}/etcdutl`], { stdio: "pipe" });
            fs.renameSync(path.join(tmp, "etcdutl"), bin);
        } finally {
            fs.rmSync(tmp, { recursive: true, force: true });
        }
    }
    return bin;
}

/** `etcdutl snapshot status` (it opens the file read-only). */
function snapshotStatus(etcdutl: string, file: string): SnapshotStatus {
    let out: string;
    try {
        out = execFileSync(etcdutl, ["snapshot", "status", file, "-w", "json"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 10 * 60 * 1000 });
    } catch (e) {
        const err = e as { stderr?: string; message: string };
        const why = (err.stderr ?? err.message).split("\n").filter((l) => l.trim() && !l.startsWith("{")).slice(-2).join(" ");
        throw new RestoreSourceError(`etcdutl snapshot status rejects ${file}: ${why || err.message}`);
    }
    return JSON.parse(out.trim().split("\n").pop() ?? "{}") as SnapshotStatus;
}

/** Check the snapshot and describe it for the record: its identity is its path and content. */
export function inspectRestoreSource(file: string, release: VerifiedRelease, version: string, arch: string, cacheDir: string): FileRestoreRequest {
    const integrity = checkSnapshotIntegrity(file);
    if (integrity.problem) throw new RestoreSourceError(`${file} ${integrity.problem}`);
    const etcdutl = deployerEtcdutl(release, version, arch, cacheDir);
    const status = etcdutl ? snapshotStatus(etcdutl, file) : undefined;
    return {
        kind: "file",
        id: createHash("sha256").update(`${file}\n${integrity.sha256}`).digest("hex").slice(0, 16),
        file,
        sha256: integrity.sha256,
        size: integrity.size,
        ...(status ? { revision: status.revision, totalKey: status.totalKey } : {}),
    };
}

/** etcdctl on the deployer machine, from the same release archive the hosts get. */
import { execFile, execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export function releaseArchive(version: string): { archive: string; sums: string } {
    const cache = process.env.ETCD_PULUMI_CACHE ?? path.join(os.homedir(), ".cache", "etcd-pulumi");
    const dir = path.join(cache, "etcd-releases", `v${version}`);
    return { archive: path.join(dir, `etcd-v${version}-linux-amd64.tar.gz`), sums: path.join(dir, "SHA256SUMS") };
}

/** Unpack etcdctl from the release archive into a temp dir; returns its path. */
export function localEtcdctl(version: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "etcdctl-"));
    execFileSync("tar", ["-xzf", releaseArchive(version).archive, "-C", dir, "--strip-components=1", `etcd-v${version}-linux-amd64/etcdctl`]);
    return path.join(dir, "etcdctl");
}

export interface ClientCreds {
    caFile?: string;
    certFile?: string;
    keyFile?: string;
}

/** Write PEMs to files (keys 0600) for etcdctl; each replaced atomically, so a running client never reads half a file. */
export function writeCreds(dir: string, prefix: string, pems: { ca?: string; cert?: string; key?: string }): ClientCreds {
    fs.mkdirSync(dir, { recursive: true });
    const w = (name: string, body: string | undefined, mode: number) => {
        if (body === undefined) return undefined;
        const p = path.join(dir, `${prefix}-${name}`);
        fs.writeFileSync(`${p}.tmp`, body, { mode });
        fs.renameSync(`${p}.tmp`, p);
        return p;
    };
    return { caFile: w("ca.crt", pems.ca, 0o644), certFile: w("client.crt", pems.cert, 0o644), keyFile: w("client.key", pems.key, 0o600) };
}

export interface EtcdctlResult {
    status: number;
    stdout: string;
    stderr: string;
}

/** etcdctl's TLS flags for the files that are set (none for a plain-http cluster). */
export function tlsArgs(creds: ClientCreds): string[] {
    return [
        ...(creds.caFile ? [`--cacert=${creds.caFile}`] : []),
        ...(creds.certFile ? [`--cert=${creds.certFile}`] : []),
        ...(creds.keyFile ? [`--key=${creds.keyFile}`] : []),
    ];
}

function etcdctlArgs(endpoints: string, creds: ClientCreds, args: string[]): string[] {
    return [`--endpoints=${endpoints}`, "--dial-timeout=3s", "--command-timeout=5s", ...tlsArgs(creds), ...args];
}

/** Blocks this process (and so any Writer in it) until etcdctl ends: use etcdctlAsync while a writer runs. */
export function etcdctl(bin: string, endpoints: string, creds: ClientCreds, args: string[], timeoutMs = 30_000): EtcdctlResult {
    const r = spawnSync(bin, etcdctlArgs(endpoints, creds, args), { encoding: "utf8", timeout: timeoutMs });
    return { status: r.status ?? -1, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

/** etcdctl without blocking the event loop (a Writer keeps writing meanwhile). */
export function etcdctlAsync(bin: string, endpoints: string, creds: ClientCreds, args: string[], timeoutMs = 30_000): Promise<EtcdctlResult> {
    return new Promise((resolve) => {
        execFile(bin, etcdctlArgs(endpoints, creds, args), { encoding: "utf8", timeout: timeoutMs }, (err, stdout, stderr) =>
            resolve({ status: err ? (typeof err.code === "number" ? err.code : -1) : 0, stdout: stdout ?? "", stderr: stderr ?? "" }),
        );
    });
}

/**
 * A loopback HTTP mirror for etcd release archives: preview-only tests (no internet, no hosts) point
 * `binary.url`/`binary.sha256sums` at it instead of the official download. A mirror is a supported
 * binary source in its own right, verified against its SHA256SUMS like any other.
 */
import * as fs from "node:fs";
import * as http from "node:http";
import { AddressInfo } from "node:net";

export interface ReleaseMirror {
    /** http://127.0.0.1:<port> */
    base: string;
    /** Every path requested, in order. */
    served: string[];
    /** The `binary` setting that downloads `{version}` from this mirror, checked against its SHA256SUMS. */
    binary: { url: string; sha256sums: string };
    close(): void;
}

/** Serve each URL path from the local file `files` maps it to; anything else is a 404. */
export async function startReleaseMirror(files: Record<string, string>): Promise<ReleaseMirror> {
    const served: string[] = [];
    const server = http.createServer((req, res) => {
        served.push(req.url ?? "");
        const file = files[req.url ?? ""];
        if (!file) return void res.writeHead(404).end();
        res.writeHead(200);
        fs.createReadStream(file).pipe(res);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return {
        base,
        served,
        binary: { url: `${base}/v{version}/etcd-v{version}-linux-{arch}.tar.gz`, sha256sums: `${base}/v{version}/SHA256SUMS` },
        close: () => void server.close(),
    };
}

/** The mirror paths of one release, as upstream lays them out. */
export function releasePaths(version: string, archive: string, sums: string): Record<string, string> {
    return { [`/v${version}/SHA256SUMS`]: sums, [`/v${version}/etcd-v${version}-linux-amd64.tar.gz`]: archive };
}

/**
 * A loopback mirror of an etcd release (the archive and SHA256SUMS that setup built or downloaded), in the
 * official download's layout. Tests of stacks whose hosts are unreachable use it instead of the official
 * download (no internet here); a mirror is a supported binary source in its own right.
 */
import * as fs from "node:fs";
import * as http from "node:http";
import { AddressInfo } from "node:net";
import { releaseArchive } from "./etcdctl";

export interface ReleaseMirror {
    /** http://127.0.0.1:PORT */
    base: string;
    /** The stack config's `binary` setting that downloads from this mirror. */
    binary: { url: string; sha256sums: string };
    /** Every path requested, in order. */
    served: string[];
    close(): void;
}

/** Serve `version`'s archive and SHA256SUMS, plus `extraFiles` (URL path -> local file). */
export async function releaseMirror(version: string, extraFiles: Record<string, string> = {}): Promise<ReleaseMirror> {
    const { archive, sums } = releaseArchive(version);
    const files: Record<string, string> = { [`/v${version}/SHA256SUMS`]: sums, [`/v${version}/etcd-v${version}-linux-amd64.tar.gz`]: archive, ...extraFiles };
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
        binary: { url: `${base}/v{version}/etcd-v{version}-linux-{arch}.tar.gz`, sha256sums: `${base}/v{version}/SHA256SUMS` },
        served,
        close: () => server.close(),
    };
}

/**
 * A git server on loopback for tests that install a package from a git URL: git's own smart-HTTP
 * backend (`git http-backend`, run as CGI per request) behind HTTPS with a throwaway self-signed
 * certificate, because the Pulumi CLI accepts only https:// (or git://) URLs for git sources. Clients
 * trust it through `caFile` (SSL_CERT_FILE for Go programs, GIT_SSL_CAINFO for git).
 */
import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as https from "node:https";
import { AddressInfo } from "node:net";
import * as path from "node:path";

const HTTP_BACKEND = "/usr/lib/git-core/git-http-backend";

export interface GitHttpsServer {
    /** https://<address>[:<port>]/<repo path> */
    url(repoPath: string): string;
    /** The server's certificate (PEM), the only CA a client needs. */
    caFile: string;
    close(): Promise<void>;
}

/** Why the server cannot run here, or undefined. */
export function gitHttpsServerUnavailable(): string | undefined {
    if (!fs.existsSync(HTTP_BACKEND)) return `${HTTP_BACKEND} is missing (Debian's git package ships it)`;
    return undefined;
}

/**
 * Serve the bare repositories under `root` (read-only: clone and fetch) on `address`:`port` (a loopback
 * address; port 0 picks a free one). `dir` receives the key and certificate. The Pulumi CLI 3.259 makes a
 * plugin name of the URL's host and path, and one with a port in it (":") is taken for a local path
 * (`pulumi package add` then fails), so the package tests use port 443 on an address of their own.
 */
export async function startGitHttpsServer(root: string, dir: string, address = "127.0.0.1", port = 0): Promise<GitHttpsServer> {
    const keyFile = path.join(dir, "git-server.key");
    const caFile = path.join(dir, "git-server.crt");
    execFileSync(
        "openssl",
        ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj", `/CN=${address}`, "-addext", `subjectAltName=IP:${address}`, "-keyout", keyFile, "-out", caFile],
        { stdio: ["ignore", "ignore", "pipe"] },
    );
    const server = https.createServer({ key: fs.readFileSync(keyFile), cert: fs.readFileSync(caFile) }, (req, res) => {
        const url = new URL(req.url ?? "/", `https://${address}`);
        const cgi = spawn(HTTP_BACKEND, [], {
            env: {
                GIT_PROJECT_ROOT: root,
                GIT_HTTP_EXPORT_ALL: "1",
                PATH_INFO: decodeURIComponent(url.pathname),
                QUERY_STRING: url.search.replace(/^\?/, ""),
                REQUEST_METHOD: req.method ?? "GET",
                CONTENT_TYPE: req.headers["content-type"] ?? "",
                HTTP_CONTENT_ENCODING: String(req.headers["content-encoding"] ?? ""),
                HTTP_GIT_PROTOCOL: String(req.headers["git-protocol"] ?? ""),
                REMOTE_ADDR: "127.0.0.1",
                PATH: process.env.PATH ?? "/usr/bin:/bin",
            },
            stdio: ["pipe", "pipe", "inherit"],
        });
        req.pipe(cgi.stdin);
        // CGI output: headers, a blank line, then the body.
        let head = Buffer.alloc(0);
        let headersDone = false;
        cgi.stdout.on("data", (chunk: Buffer) => {
            if (headersDone) return void res.write(chunk);
            head = Buffer.concat([head, chunk]);
            const end = head.indexOf("\r\n\r\n") >= 0 ? head.indexOf("\r\n\r\n") + 4 : head.indexOf("\n\n") >= 0 ? head.indexOf("\n\n") + 2 : -1;
            if (end < 0) return;
            headersDone = true;
            let status = 200;
            for (const line of head.subarray(0, end).toString("latin1").split(/\r?\n/).filter(Boolean)) {
                const [name, ...value] = line.split(":");
                if (name.toLowerCase() === "status") status = parseInt(value.join(":").trim(), 10);
                else res.setHeader(name, value.join(":").trim());
            }
            res.writeHead(status);
            res.write(head.subarray(end));
        });
        cgi.on("close", () => res.end());
        cgi.on("error", (e) => {
            res.writeHead(500);
            res.end(String(e));
        });
    });
    await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, address, resolve);
    });
    const bound = (server.address() as AddressInfo).port;
    const authority = bound === 443 ? address : `${address}:${bound}`;
    return {
        url: (repoPath) => `https://${authority}/${repoPath.replace(/^\//, "")}`,
        caFile,
        close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
}

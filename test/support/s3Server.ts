/**
 * A throwaway S3-compatible server for one test file: versitygw (Apache-2.0; scripts/setup-s3.sh builds it
 * at the pinned version) with its posix backend in a temp dir, so an object is the plain file
 * <dataDir>/<bucket>/<key> and a test can read the raw stored bytes. HTTPS only, with a certificate from a
 * throwaway CA (openssl) naming the listen IP and 127.0.0.1 (and a domain with its subdomains, for
 * virtual-hosted addressing), one root account whose keys reach versitygw through its environment, and
 * one bucket, created over the S3 API (signed by the product's SigV4 signer, which its unit test checks
 * against AWS's published examples).
 * It can go offline (process ended: connections refused) and come back with the same data and keys, or
 * freeze (SIGSTOP: connections accepted, never answered) and thaw.
 */
import { ChildProcess, spawn, spawnSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as https from "node:https";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { requestAddress } from "../../components/backup/s3/address";
import { EMPTY_PAYLOAD_SHA256, SigningCredentials, signRequest } from "../../components/backup/s3/sigv4";

export interface S3ServerOptions {
    /** IP the server listens on (default 127.0.0.1; tests reaching it from the test hosts use 172.30.213.1). */
    listenAddress?: string;
    /** Default: a free port on listenAddress. */
    port?: number;
    /** Default: random keys. */
    accessKeyId?: string;
    secretAccessKey?: string;
    /** Default: "etcd-backups". */
    bucket?: string;
    /** Default: us-east-1. */
    region?: string;
    /**
     * Also serve virtual-hosted addressing for <bucket>.<domain> (versitygw --virtual-domain); the certificate
     * then names <domain> and *.<domain>. A domain under localhost needs no DNS for curl, which resolves
     * *.localhost to loopback (e.g. "s3.localhost"; not "localhost" itself: TLS refuses a *.<tld> wildcard).
     */
    virtualHostDomain?: string;
}

export interface S3Server {
    /** https://<listenAddress>:<port> (path-style addressing). */
    endpoint: string;
    /** https://<virtualHostDomain>:<port>, when asked for: buckets at https://<bucket>.<domain>:<port>. */
    virtualHostEndpoint?: string;
    listenAddress: string;
    port: number;
    region: string;
    bucket: string;
    accessKeyId: string;
    secretAccessKey: string;
    /** The throwaway CA that signed the server's certificate. */
    caPem: string;
    caFile: string;
    /** The posix backend's root: one directory per bucket. */
    dataDir: string;
    /** Where the posix backend keeps an object's bytes. */
    objectPath(key: string): string;
    /** Every regular file under dataDir (objects, unfinished multipart parts, versitygw's own files). */
    storedFiles(): string[];
    /** End the process: connections are refused; data, keys and port are kept for bringOnline(). */
    takeOffline(): Promise<void>;
    /** Start it again on the same port with the same data and keys; resolves once it answers. */
    bringOnline(): Promise<void>;
    /** SIGSTOP: connections are accepted by the kernel but never answered (a hung store). */
    freeze(): void;
    thaw(): void;
    /** What versitygw printed. */
    log(): string;
    /** End it and remove every file. */
    stop(): Promise<void>;
}

// A test process that ends without stop() (a failed before(), an uncaught error) leaves no server or files.
const running = new Set<ChildProcess>();
const directories = new Set<string>();
process.on("exit", () => {
    for (const child of running) child.kill("SIGKILL");
    for (const dir of directories) fs.rmSync(dir, { recursive: true, force: true });
});

function binary(): string {
    const bin = process.env.VERSITYGW_BIN;
    if (!bin || !fs.existsSync(bin)) throw new Error(`versitygw is not installed at ${bin}: run \`npm run setup\` (scripts/setup-s3.sh)`);
    return bin;
}

async function freePort(address: string): Promise<number> {
    return new Promise((resolve, reject) => {
        const server = net.createServer();
        server.once("error", reject);
        server.listen(0, address, () => {
            const port = (server.address() as net.AddressInfo).port;
            server.close(() => resolve(port));
        });
    });
}

function openssl(dir: string, args: string[]): void {
    const r = spawnSync("openssl", args, { cwd: dir, encoding: "utf8", timeout: 30_000 });
    if (r.status !== 0) throw new Error(`openssl ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
}

/** CA and server certificate (EC P-256, 2 days) for the listen IP, 127.0.0.1 and the virtual-host domain. */
function makeCertificates(dir: string, listenAddress: string, domain: string | undefined): { caFile: string; certFile: string; keyFile: string } {
    openssl(dir, ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "ca.key"]);
    openssl(dir, ["req", "-x509", "-new", "-key", "ca.key", "-subj", "/O=etcd-pulumi tests/CN=throwaway S3 CA", "-days", "2", "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-out", "ca.crt"]);
    openssl(dir, ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "server.key"]);
    openssl(dir, ["req", "-new", "-key", "server.key", "-subj", `/O=etcd-pulumi tests/CN=${listenAddress}`, "-out", "server.csr"]);
    const sans = [...new Set([`IP:${listenAddress}`, "IP:127.0.0.1", ...(domain ? [`DNS:${domain}`, `DNS:*.${domain}`] : [])])];
    fs.writeFileSync(path.join(dir, "server.ext"), `keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=${sans.join(",")}\n`);
    openssl(dir, ["x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2", "-extfile", "server.ext", "-out", "server.crt"]);
    fs.chmodSync(path.join(dir, "server.key"), 0o600);
    return { caFile: path.join(dir, "ca.crt"), certFile: path.join(dir, "server.crt"), keyFile: path.join(dir, "server.key") };
}

function walk(dir: string): string[] {
    if (!fs.existsSync(dir)) return [];
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
        const p = path.join(dir, e.name);
        return e.isDirectory() ? walk(p) : e.isFile() ? [p] : [];
    });
}

/** GET /health until it answers 200 (or the process ends, or 30 s pass). */
async function waitHealthy(url: string, ca: string, child: ChildProcess, log: () => string): Promise<void> {
    const deadline = Date.now() + 30_000;
    for (;;) {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`versitygw exited (${child.exitCode ?? child.signalCode}) before it answered:\n${log()}`);
        const status = await new Promise<number>((resolve) => {
            const req = https.get(url, { ca, timeout: 1000 }, (res) => {
                res.resume();
                resolve(res.statusCode ?? 0);
            });
            req.on("timeout", () => req.destroy());
            req.on("error", () => resolve(0));
        });
        if (status === 200) return;
        if (Date.now() > deadline) throw new Error(`versitygw did not answer ${url} within 30 s:\n${log()}`);
        await new Promise((r) => setTimeout(r, 100));
    }
}

/** CreateBucket (PUT /<bucket>, path-style). */
async function createBucket(endpoint: string, ca: string, region: string, bucket: string, credentials: SigningCredentials): Promise<void> {
    const address = requestAddress({ endpoint, region, bucket, pathStyle: true }, undefined);
    const signed = signRequest({ method: "PUT", canonicalUri: address.canonicalUri, query: [], headers: { host: address.host }, payloadHash: EMPTY_PAYLOAD_SHA256 }, credentials, region, new Date());
    const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = https.request({ hostname: address.hostname, port: address.port, method: "PUT", path: address.path, headers: signed.headers, ca, timeout: 30_000 }, (res) => {
            let text = "";
            res.on("data", (d) => (text += d));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
        });
        req.on("timeout", () => req.destroy(new Error("timed out")));
        req.on("error", reject);
        req.end();
    });
    if (status !== 200) throw new Error(`creating bucket ${bucket} failed: HTTP ${status} ${body}`);
}

export async function startS3Server(options: S3ServerOptions = {}): Promise<S3Server> {
    const bin = binary();
    const listenAddress = options.listenAddress ?? "127.0.0.1";
    const port = options.port ?? (await freePort(listenAddress));
    const region = options.region ?? "us-east-1";
    const bucket = options.bucket ?? "etcd-backups";
    const accessKeyId = options.accessKeyId ?? `AKTEST${crypto.randomBytes(7).toString("hex").toUpperCase()}`;
    const secretAccessKey = options.secretAccessKey ?? crypto.randomBytes(30).toString("base64");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "etcd-pulumi-s3-"));
    directories.add(dir);
    const dataDir = path.join(dir, "data");
    const logFile = path.join(dir, "versitygw.log");
    fs.mkdirSync(dataDir);
    const { caFile, certFile, keyFile } = makeCertificates(dir, listenAddress, options.virtualHostDomain);
    const caPem = fs.readFileSync(caFile, "utf8");
    const endpoint = `https://${listenAddress}:${port}`;
    const args = [
        "--port", `${listenAddress}:${port}`, "--cert", certFile, "--key", keyFile, "--region", region, "--health", "/health", "--quiet",
        ...(options.virtualHostDomain ? ["--virtual-domain", options.virtualHostDomain] : []),
        "posix", dataDir,
    ];
    const log = () => (fs.existsSync(logFile) ? fs.readFileSync(logFile, "utf8") : "");
    let child: ChildProcess | undefined;
    let frozen = false;

    const launch = async () => {
        const out = fs.openSync(logFile, "a");
        // The root keys go through the environment, never the command line.
        child = spawn(bin, args, { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ROOT_ACCESS_KEY_ID: accessKeyId, ROOT_SECRET_ACCESS_KEY: secretAccessKey }, stdio: ["ignore", out, out] });
        fs.closeSync(out);
        running.add(child);
        const started = child;
        started.once("exit", () => running.delete(started));
        await waitHealthy(`${endpoint}/health`, caPem, started, log);
    };
    const end = async () => {
        const current = child;
        child = undefined;
        if (!current || current.exitCode !== null || current.signalCode !== null) return;
        if (frozen) current.kill("SIGCONT");
        frozen = false;
        await new Promise<void>((resolve) => {
            current.once("exit", () => resolve());
            current.kill("SIGTERM");
            setTimeout(() => current.kill("SIGKILL"), 5000).unref();
        });
    };

    try {
        await launch();
        await createBucket(endpoint, caPem, region, bucket, { accessKeyId, secretAccessKey });
    } catch (e) {
        await end();
        fs.rmSync(dir, { recursive: true, force: true });
        directories.delete(dir);
        throw e;
    }

    return {
        endpoint,
        virtualHostEndpoint: options.virtualHostDomain ? `https://${options.virtualHostDomain}:${port}` : undefined,
        listenAddress,
        port,
        region,
        bucket,
        accessKeyId,
        secretAccessKey,
        caPem,
        caFile,
        dataDir,
        objectPath: (key) => path.join(dataDir, bucket, ...key.split("/")),
        storedFiles: () => walk(dataDir),
        takeOffline: end,
        bringOnline: async () => {
            if (!child) await launch();
        },
        freeze: () => {
            if (!child) throw new Error("the S3 server is offline: nothing to freeze");
            child.kill("SIGSTOP");
            frozen = true;
        },
        thaw: () => {
            if (child && frozen) child.kill("SIGCONT");
            frozen = false;
        },
        log,
        stop: async () => {
            await end();
            fs.rmSync(dir, { recursive: true, force: true });
            directories.delete(dir);
        },
    };
}

/**
 * A throwaway PostgreSQL server for one test file, set up the way a team would give Pulumi's
 * `postgres://` state backend a database: Debian's `postgresql` binaries (scripts/test.sh installs them),
 * a fresh cluster in a temp dir run by the package's unprivileged `postgres` user (PostgreSQL refuses to
 * run as root), listening on 127.0.0.1 only, TLS with its own certificate, password (SCRAM) logins over
 * TLS only, and a role `pulumi` that owns a database `pulumi`.
 */
import { spawnSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { StateBackend } from "./project";

const PG_ROOT = "/usr/lib/postgresql";

export interface Postgres {
    port: number;
    /** The server's self-signed certificate: the clients' `sslrootcert`. */
    caFile: string;
    /** The role `pulumi` (owner of the database `pulumi`) as a Pulumi backend; its password in PGPASSWORD. */
    backend: StateBackend;
    password: string;
    /** A backend URL (no password) for a role on the database `pulumi`, server certificate verified. */
    url(user: string): string;
    /** Run SQL as the superuser on the database `pulumi`; psql's unaligned output (`|` between fields). */
    sql(query: string): string;
    stop(): void;
}

/** The newest PostgreSQL server binaries Debian installed (/usr/lib/postgresql/<version>/bin). */
function serverBin(): string {
    const versions = fs.existsSync(PG_ROOT) ? fs.readdirSync(PG_ROOT).filter((v) => fs.existsSync(path.join(PG_ROOT, v, "bin", "pg_ctl"))) : [];
    const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
    if (!newest) throw new Error(`no PostgreSQL server under ${PG_ROOT}: scripts/test.sh installs Debian's postgresql package (or: apt-get install postgresql)`);
    return path.join(PG_ROOT, newest, "bin");
}

async function freeLoopbackPort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const server = net.createServer();
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => {
            const port = (server.address() as net.AddressInfo).port;
            server.close(() => resolve(port));
        });
    });
}

function run(command: string, args: string[], cwd: string): string {
    const r = spawnSync(command, args, { cwd, encoding: "utf8", timeout: 120_000, maxBuffer: 64 * 1024 * 1024 });
    if (r.status !== 0) throw new Error(`${command} ${args.join(" ")} exited ${r.status}: ${r.stderr || r.error?.message}`);
    return r.stdout;
}

export async function startPostgres(): Promise<Postgres> {
    const bin = serverBin();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "etcd-pulumi-pg-"));
    const data = path.join(dir, "data");
    const port = await freeLoopbackPort();
    const password = crypto.randomBytes(16).toString("hex");
    const caFile = path.join(dir, "server.crt");
    const asPostgres = (tool: string, args: string[]) => run("runuser", ["-u", "postgres", "--", path.join(bin, tool), ...args], dir);
    const sql = (query: string) => asPostgres("psql", ["-h", dir, "-p", String(port), "-U", "postgres", "-d", "pulumi", "-v", "ON_ERROR_STOP=1", "-At", "-c", query]).trim();
    let started = false;
    const stop = () => {
        if (started) spawnSync("runuser", ["-u", "postgres", "--", path.join(bin, "pg_ctl"), "-D", data, "-m", "fast", "-w", "stop"], { cwd: dir, stdio: "ignore", timeout: 60_000 });
        started = false;
        fs.rmSync(dir, { recursive: true, force: true });
    };
    try {
        run("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", "server.key", "-out", "server.crt"], dir);
        fs.chmodSync(path.join(dir, "server.key"), 0o600);
        run("chown", ["-R", "postgres:", dir], dir);
        asPostgres("initdb", ["-D", data, "-U", "postgres", "-E", "UTF8", "--no-locale", "--auth-local=peer", "--auth-host=scram-sha-256"]);
        // TLS with a password, from loopback, to the state database only; the superuser only over the socket.
        fs.writeFileSync(path.join(data, "pg_hba.conf"), "local all postgres peer\nhostssl pulumi all 127.0.0.1/32 scram-sha-256\n");
        fs.appendFileSync(
            path.join(data, "postgresql.conf"),
            [`listen_addresses = '127.0.0.1'`, `port = ${port}`, `unix_socket_directories = '${dir}'`, "ssl = on", `ssl_cert_file = '${caFile}'`, `ssl_key_file = '${path.join(dir, "server.key")}'`, ""].join("\n"),
        );
        asPostgres("pg_ctl", ["-D", data, "-l", path.join(dir, "server.log"), "-w", "-t", "60", "start"]);
        started = true;
        asPostgres("psql", ["-h", dir, "-p", String(port), "-U", "postgres", "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-c", `CREATE ROLE pulumi LOGIN PASSWORD '${password}'`, "-c", "CREATE DATABASE pulumi OWNER pulumi"]);
    } catch (e) {
        const log = path.join(dir, "server.log");
        const tail = fs.existsSync(log) ? fs.readFileSync(log, "utf8").split("\n").slice(-20).join("\n") : "";
        stop();
        throw new Error(`could not start a throwaway PostgreSQL: ${(e as Error).message}${tail ? `\n${tail}` : ""}`);
    }
    const url = (user: string) => `postgres://${user}@127.0.0.1:${port}/pulumi?sslmode=verify-full&sslrootcert=${caFile}`;
    return { port, caFile, password, url, sql, stop, backend: { url: url("pulumi"), env: { PGPASSWORD: password } } };
}

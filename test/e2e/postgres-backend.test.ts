/**
 * End to end: the stacks' state in PostgreSQL (Pulumi's DIY `postgres://` backend), as a team shares it.
 * A throwaway PostgreSQL on loopback (test/support/postgres.ts); the real CLI deploys the cluster to 3
 * local hosts through it; a second `pulumi up` started while the first is rolling the cluster is refused
 * by the stack lock; a lock left behind by a killed `up` blocks until `pulumi cancel` clears it.
 */
import { after, before, test } from "node:test";
import * as assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { etcdStartStamp, hosts, hostsUp, Inventory, onHostOk, ROOT, stackMembers } from "../support/hosts";
import { ClientCreds, localEtcdctl, releaseArchive, writeCreds } from "../support/etcdctl";
import { cleanup, recorder, setConfig, TestProject, testProject } from "../support/project";
import { Postgres, startPostgres } from "../support/postgres";
import { pulumiSuite } from "../support/toolchain";
import { assertOneHealthyCluster } from "../support/checks";

const VERSION = "3.6.16";
const NAMES = ["etcd1", "etcd2", "etcd3"];
const STACK = "pg";
// The backend keeps every file of its layout as a row keyed by its path, under the URL's path (the
// database name) as a prefix.
const PREFIX = "pulumi/.pulumi";
const STACK_KEY = `${PREFIX}/stacks/etcd-pulumi/${STACK}.json`;
const LOCKED = /error: the stack is currently locked by 1 lock\(s\)\. Either wait for the other process\(es\) to end or delete the lock file with `pulumi cancel`\./;

let pg: Postgres;
let inv: Inventory;
let p: TestProject;
let bin: string;
let endpoints: string;
let admin: ClientCreds;
const creds = fs.mkdtempSync(path.join(os.tmpdir(), "etcd-e2e-creds-"));

const memberConfig = (inventory: Inventory) => stackMembers(inventory, NAMES);

/** A row's content as the backend wrote it (each row holds a file, base64 in a JSON object). */
const rowText = (key: string) => pg.sql(`SELECT convert_from(decode(data->>'data', 'base64'), 'UTF8') FROM pulumi_state WHERE key = '${key}'`);
const keys = (like: string) => pg.sql(`SELECT key FROM pulumi_state WHERE key LIKE '${like}' ORDER BY key`).split("\n").filter(Boolean);
const lockKeys = () => keys(`${PREFIX}/locks/%`);

interface Checkpoint {
    checkpoint: { latest: { resources: { urn: string; type: string }[]; pending_operations?: unknown[] } };
}
const checkpoint = () => JSON.parse(rowText(STACK_KEY)) as Checkpoint;

/** Wait until some `pulumi up` holds the stack's lock; its row and what it says about its owner. */
async function heldLock(timeoutMs: number, stillRunning: () => boolean): Promise<{ key: string; pid: number }> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && stillRunning()) {
        const [key] = lockKeys();
        if (key) return { key, pid: (JSON.parse(rowText(key)) as { pid: number }).pid };
        await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error("no process took the stack lock");
}

/** Every regular file under `dir`, not following symlinks (node_modules is one). */
function filesUnder(dir: string): string[] {
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
        const full = path.join(dir, e.name);
        if (e.isDirectory()) return filesUnder(full);
        return e.isFile() ? [full] : [];
    });
}

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

pulumiSuite("stack state in PostgreSQL: deploy, the stack lock, pulumi cancel (real Pulumi CLI)", { timeout: 30 * 60 * 1000 }, () => {
    before(async () => {
        pg = await startPostgres();
        inv = hostsUp(3);
        bin = localEtcdctl(VERSION);
        const { archive, sums } = releaseArchive(VERSION);
        assert.ok(fs.existsSync(archive), `missing ${archive}: run npm run setup`);
        p = await testProject(
            STACK,
            {
                members: memberConfig(inv),
                sshUser: "root",
                sshPrivateKeyPath: inv.sshKeyPath,
                binary: { path: archive, sha256sums: sums },
                healthTimeoutSeconds: 60,
                sshDialErrorLimit: 3,
                sshPerDialTimeout: 5,
            },
            pg.backend,
        );
    });

    after(async () => {
        try {
            await p?.stack.cancel();
            await p?.stack.destroy({ onOutput: recorder(p, "destroy-after") });
        } catch {
            /* best effort: the hosts go away next */
        }
        hosts("down");
        if (p) cleanup(p);
        pg?.stop();
    });

    test("first up through the postgres backend deploys a healthy 3-member cluster; state and history are rows in PostgreSQL, secrets encrypted, nothing on disk", async () => {
        const t0 = Date.now();
        const up = await p.stack.up({ onOutput: recorder(p, "up") });
        console.log(`first up through the postgres backend: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
        assert.equal(up.summary.result, "succeeded");
        endpoints = up.outputs.clientEndpoints.value as string;
        admin = writeCreds(creds, "admin", { ca: up.outputs.caCertPem.value, cert: up.outputs.adminCertPem.value, key: up.outputs.adminKeyPem.value });
        assertOneHealthyCluster(bin, endpoints, admin, memberConfig(inv));

        assert.ok(keys(`${PREFIX}/meta.yaml`).length === 1, "backend metadata row");
        assert.ok(keys(`${PREFIX}/history/etcd-pulumi/${STACK}/%`).length > 0, "update history rows");
        const types = checkpoint().checkpoint.latest.resources.map((r) => r.type);
        assert.ok(types.includes("etcd-pulumi:index:EtcdCluster"), `the cluster in the stack's row: ${types.join(", ")}`);
        assert.equal(types.filter((t) => t === "command:remote:CopyToRemote").length, NAMES.length, "every member's upload step in the stack's row");
        assert.ok(types.filter((t) => t === "command:remote:Command").length >= 3 * NAMES.length, "every member's host steps in the stack's row");
        const [encrypted, plainKeys] = pg
            .sql("SELECT count(*) FILTER (WHERE f LIKE '%\"ciphertext\"%'), count(*) FILTER (WHERE f ~ '-----BEGIN [A-Z ]*PRIVATE KEY-----') FROM (SELECT convert_from(decode(data->>'data', 'base64'), 'UTF8') AS f FROM pulumi_state) AS files")
            .split("|")
            .map(Number);
        assert.ok(encrypted > 0, "secrets are stored encrypted");
        assert.equal(plainKeys, 0, "no private key in plaintext in any row");
        assert.deepEqual(lockKeys(), [], "the lock is released after the up");

        assert.equal(fs.existsSync(path.join(p.dir, ".state")), false);
        const urn = `urn:pulumi:${STACK}::etcd-pulumi::`;
        const onDisk = filesUnder(p.dir).filter((f) => fs.readFileSync(f, "latin1").includes(urn));
        assert.deepEqual(onDisk, [], "no state file in the project directory");
    });

    test("a role that may only read and write the table is refused: the backend creates its table and index on every connection", () => {
        pg.sql("CREATE ROLE readwrite LOGIN PASSWORD 'readwrite-only'; GRANT SELECT, INSERT, UPDATE, DELETE ON pulumi_state TO readwrite");
        const r = spawnSync("pulumi", ["stack", "ls"], { cwd: p.dir, encoding: "utf8", env: { ...process.env, ...p.env, PULUMI_BACKEND_URL: pg.url("readwrite"), PGPASSWORD: "readwrite-only" } });
        assert.notEqual(r.status, 0);
        assert.match(r.stderr, /unable to open state database .*failed to create table pulumi_state: pq: permission denied for schema public/);
    });

    test("two ups on the same stack at once: the first rolls the cluster, the second is refused by the stack lock at once; the state stays intact", async () => {
        await setConfig(p, "logLevel", "warn");
        const before = NAMES.map((n) => etcdStartStamp(inv, n));
        let firstRunning = true;
        const firstStart = Date.now();
        const first = p.stack.up({ onOutput: recorder(p, "up-first") }).finally(() => (firstRunning = false));
        first.catch(() => undefined); // awaited below; keeps an early failure from being unhandled meanwhile
        const lock = await heldLock(60_000, () => firstRunning);

        const t0 = Date.now();
        const secondOutput: string[] = [];
        const refusal = await p.stack.up({ onOutput: (o) => secondOutput.push(o) }).then(
            () => assert.fail("the second up ran while the first held the lock"),
            (e: unknown) => errorText(e),
        );
        console.log(`second up refused by the stack lock after ${((Date.now() - t0) / 1000).toFixed(1)} s:\n${refusal.split("\n").filter((l) => /locked|created by/.test(l)).join("\n")}`);
        assert.ok(firstRunning, "the first up was still rolling the cluster when the second was refused");
        assert.match(refusal, LOCKED);
        // Who holds it: the lock's row, credentials masked, the owner's user, host and pid.
        const lockUrl = `postgres://\\*\\*\\*\\*:\\*\\*\\*\\*@127\\.0\\.0\\.1:${pg.port}/${lock.key.replace(/\./g, "\\.")}\\?\\S*: created by \\S+@\\S+ \\(pid ${lock.pid}\\) at \\S+`;
        assert.match(refusal, new RegExp(lockUrl));
        assert.ok(!refusal.includes(pg.password), "the database password is not printed");
        assert.doesNotMatch(secondOutput.join(""), /Updating \(/, "the refused up did not start an update");

        const up = await first;
        console.log(`first up (rolling restart of 3 members): ${((Date.now() - firstStart) / 1000).toFixed(1)} s`);
        assert.equal(up.summary.result, "succeeded");
        const after = NAMES.map((n) => etcdStartStamp(inv, n));
        NAMES.forEach((n, i) => assert.notEqual(after[i], before[i], `${n} restarted by the first up`));
        for (const n of NAMES) assert.match(onHostOk(inv, n, "grep '^log-level' /etc/etcd/etcd.conf.yml"), /warn/);

        assert.deepEqual(lockKeys(), [], "no lock left");
        assert.deepEqual(checkpoint().checkpoint.latest.pending_operations ?? [], [], "no pending operation in the state");
        await p.stack.preview({ expectNoChanges: true, onOutput: recorder(p, "preview-after-race") });
        assertOneHealthyCluster(bin, endpoints, admin, memberConfig(inv));
    });

    test("a lock left by a killed up blocks the next up (naming the dead process) until pulumi cancel removes it", async () => {
        const cli = spawn("pulumi", ["up", "--yes", "--skip-preview", "--non-interactive", "--stack", STACK], { cwd: p.dir, env: { ...process.env, ...p.env }, detached: true, stdio: "ignore" });
        let running = true;
        const exited = once(cli, "exit").finally(() => (running = false));
        const lock = await heldLock(60_000, () => running);
        assert.equal(lock.pid, cli.pid, "the lock names the CLI's pid");
        process.kill(-(cli.pid as number), "SIGKILL"); // the CLI and everything it started: no chance to unlock
        await exited;
        assert.deepEqual(lockKeys(), [lock.key], "the killed up's lock stays behind");

        const refusal = await p.stack.up({ onOutput: recorder(p, "up-stale") }).then(
            () => assert.fail("an up ran despite the stale lock"),
            (e: unknown) => errorText(e),
        );
        assert.match(refusal, LOCKED);
        assert.match(refusal, new RegExp(`\\(pid ${cli.pid}\\)`));

        await p.stack.cancel();
        assert.deepEqual(lockKeys(), [], "pulumi cancel removed the lock");
        const up = await p.stack.up({ onOutput: recorder(p, "up-after-cancel") });
        assert.equal(up.summary.result, "succeeded");
        assert.deepEqual(Object.keys(up.summary.resourceChanges ?? {}), ["same"], "nothing to do after the cancel");
        await p.stack.preview({ expectNoChanges: true, onOutput: recorder(p, "preview-after-cancel") });
    });

    test("npm run pulumi with PULUMI_BACKEND_URL reads the stack from PostgreSQL; its secrets need the stack's passphrase", () => {
        const run = (env: Record<string, string>) => {
            const { PULUMI_CONFIG_PASSPHRASE: _p, PULUMI_CONFIG_PASSPHRASE_FILE: _f, ...inherited } = process.env;
            return spawnSync("bash", [path.join(ROOT, "scripts", "pulumi.sh"), "stack", "output", "--stack", STACK, "--show-secrets", "--json"], {
                encoding: "utf8",
                env: { ...inherited, PULUMI_BACKEND_URL: pg.backend.url, ...pg.backend.env, ...env },
            });
        };
        const withPassphrase = run({ PULUMI_CONFIG_PASSPHRASE: p.env.PULUMI_CONFIG_PASSPHRASE });
        assert.equal(withPassphrase.status, 0, withPassphrase.stderr);
        const outputs = JSON.parse(withPassphrase.stdout) as Record<string, string>;
        assert.equal(outputs.clientEndpoints, endpoints);
        assert.match(outputs.adminKeyPem, /BEGIN/);
        const without = run({});
        assert.notEqual(without.status, 0, "no passphrase: the secrets stay locked");
        assert.match(without.stderr, /passphrase must be set with PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE/);
    });
});

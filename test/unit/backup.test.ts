/**
 * The off-host backup's pure parts and its host programs' logic, without a store: the settings check,
 * object names, which backups a restore uses, the retention policy (retention.awk, on a simulated clock),
 * the replay of events (condense.awk), the object encryption shared by the hosts (crypto.sh) and the
 * deployer (keys.ts), and the files each member gets.
 */
import { describe, test } from "node:test";
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { chooseRestore, parseBackupSelector } from "../../components/backup/catalog";
import { backupFiles, BACKUP_PATHS, renderBackupEnv, renderCredentials } from "../../components/backup/hostFiles";
import { deriveBackupKeys, macPads, objectTag, readHead, unsealObject } from "../../components/backup/keys";
import { inspectStoreRestore, StoreReader, storeRestoreId } from "../../components/backup/storeRestore";
import { BackupObject, parseObjectKey } from "../../components/backup/objectNames";
import { argsFromStackConfig } from "../../components/stackConfig";
import { hostPaths } from "../../components/render/paths";
import { EtcdConfigError, resolveSettings } from "../../components/validate";
import { EtcdClusterArgs } from "../../components/types";

const HOST = path.join(__dirname, "..", "..", "components", "backup", "host");
const members = ["etcd1", "etcd2", "etcd3"].map((n, i) => ({ name: n, address: `10.0.0.${11 + i}` }));
const base: EtcdClusterArgs = { members, ssh: { privateKey: "k" }, binary: { path: "/tmp/x.tgz", sha256: "b".repeat(64) } };
const backup = { store: "s3://etcd-backups/prod", accessKeyId: "AKIAEXAMPLE", secretAccessKey: "s3cr3t" };
const problemsOf = (args: EtcdClusterArgs): string[] => {
    try {
        resolveSettings(args);
        return [];
    } catch (e) {
        if (e instanceof EtcdConfigError) return e.problems;
        throw e;
    }
};

describe("backup: settings", () => {
    test("defaults: AWS S3 in us-east-1 (virtual-hosted), RPO 30 s (a run every 15 s), hourly full base, exponential retention", () => {
        const b = resolveSettings({ ...base, backup }).backup!;
        assert.deepEqual(b.store, { url: "s3://etcd-backups/prod", bucket: "etcd-backups", prefix: "prod" });
        assert.deepEqual([b.endpoint, b.region, b.pathStyle], ["https://s3.us-east-1.amazonaws.com", "us-east-1", false]);
        assert.deepEqual([b.rpoSeconds, b.periodSeconds, b.fullSchedule], [30, 15, "hourly"]);
        assert.deepEqual(b.retention, { allWithinSeconds: 3600, hourly: 24, daily: 7, weekly: 4 });
        assert.equal(b.keyGiven, false);
        const own = resolveSettings({ ...base, backup: { ...backup, endpoint: "https://s3.example.internal:7070/", region: "eu-1", rpoSeconds: 10, encryptionKey: "x".repeat(40) } }).backup!;
        assert.deepEqual([own.endpoint, own.pathStyle, own.periodSeconds, own.keyGiven], ["https://s3.example.internal:7070", true, 5, true], "an endpoint means path-style by default");
    });

    test("every problem is named with its field and the fix, before anything is registered", () => {
        const problems = problemsOf({
            ...base,
            backup: {
                store: "https://bucket/prefix",
                endpoint: "http://s3.local:9000",
                region: "US East",
                accessKeyId: "",
                secretAccessKey: "",
                rpoSeconds: 5,
                fullSchedule: "every hour; rm -rf /",
                retention: { hourly: -1 },
                encryptionKey: "short",
            },
        });
        for (const re of [
            /^backup\.store: "https:\/\/bucket\/prefix" must be s3:\/\/<bucket>\/<prefix>/,
            /^backup\.endpoint: "http:\/\/s3\.local:9000" must be an https URL/,
            /^backup\.region: "US East" is not a region name/,
            /^backup\.accessKeyId: is not an access key id/,
            /^backup\.secretAccessKey: is missing; set it as a secret: pulumi config set --secret --path backup\.secretAccessKey/,
            /^backup\.rpoSeconds: 5 must be a whole number of seconds, 10-3600/,
            /^backup\.fullSchedule: .* is not a systemd OnCalendar expression/,
            /^backup\.retention\.hourly: -1 must be a whole number/,
            /^backup\.encryptionKey: must be at least 32 characters/,
        ]) {
            assert.ok(problems.some((p) => re.test(p)), `${re} in:\n${problems.join("\n")}`);
        }
        assert.match(problemsOf({ ...base, backup: { ...backup, store: "s3://etcd-backups/a/../b" } }).join("\n"), /backup\.store: .*without empty, "\." or "\.\." segments/);
    });

    test("restoreFrom: backup:... needs backup set, and a selector that parses", () => {
        assert.match(problemsOf({ ...base, restoreFrom: "backup:latest" }).join("\n"), /restoreFrom: backup:latest restores from the backup store, but backup is not set/);
        assert.match(problemsOf({ ...base, backup, restoreFrom: "backup:yesterday" }).join("\n"), /restoreFrom: "backup:yesterday" is not a backup to restore; use backup:latest, backup:<ISO 8601 time>/);
        const s = resolveSettings({ ...base, backup, restoreFrom: "backup:2026-12-01T09:30:00+01:00" });
        assert.deepEqual(s.restoreFromBackup, { selector: { kind: "time", time: "2026-12-01T08:30:00Z" }, text: "backup:2026-12-01T09:30:00+01:00" });
        assert.equal(s.restoreFrom, undefined, "not a file");
        assert.deepEqual(parseBackupSelector("backup:revision:123"), { kind: "revision", revision: 123 });
        assert.deepEqual(parseBackupSelector("backup:latest"), { kind: "latest" });
    });

    test("stack config: caBundlePath is read on the deployer; secrets must be stored as secrets; unknown fields get a hint", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "backup-cfg-"));
        const ca = path.join(dir, "ca.pem");
        fs.writeFileSync(ca, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
        const values = (b: object) => ({ "etcd-pulumi:members": JSON.stringify(members), "etcd-pulumi:sshPrivateKeyPath": ca, "etcd-pulumi:backup": JSON.stringify(b) });
        const read = (p: string) => (p === ca ? fs.readFileSync(p, "utf8") : (() => { throw Object.assign(new Error("missing"), { code: "ENOENT" }); })());
        const args = argsFromStackConfig({
            namespace: "etcd-pulumi",
            values: { ...values({ ...backup, endpoint: "https://s3.local:7070", caBundlePath: ca }), "etcd-pulumi:sshPrivateKeyPath": path.join(dir, "key") },
            isSecret: (k) => k === "etcd-pulumi:backup",
            readFile: (p) => (p === path.join(dir, "key") ? "-----BEGIN OPENSSH PRIVATE KEY-----\nx\n" : read(p)),
        });
        assert.match(String(args.backup?.caBundle), /BEGIN CERTIFICATE/);
        assert.equal((args.backup as unknown as Record<string, unknown>).caBundlePath, undefined);
        assert.throws(
            () => argsFromStackConfig({ namespace: "etcd-pulumi", values: { ...values({ ...backup, endpont: "x" }), "etcd-pulumi:sshPrivateKeyPath": path.join(dir, "key") }, readFile: () => "-----BEGIN OPENSSH PRIVATE KEY-----\n" }),
            (e: Error) => {
                assert.match(e.message, /backup\.endpont: unknown field; did you mean "endpoint"\?/);
                assert.match(e.message, /backup\.secretAccessKey: is stored in plaintext in the stack config; set it as a secret: pulumi config set --secret --path backup\.secretAccessKey/);
                return true;
            },
        );
        fs.rmSync(dir, { recursive: true, force: true });
    });
});

const obj = (name: string, size = 100) => parseObjectKey(name, "", size)!;
const full = (c: string, rev: number, time: string, keys = 10) => obj(`cluster-${c}/full/${String(rev).padStart(20, "0")}-${time}-k${keys}.db.enc`);
const delta = (c: string, from: number, to: number, time: string, keys = 10) => obj(`cluster-${c}/delta/${String(from).padStart(20, "0")}-${String(to).padStart(20, "0")}-${time}-k${keys}.events.gz.enc`);

describe("backup: object names and which backups a restore uses", () => {
    test("names parse into cluster, kind, revisions, time and keys (relative to the prefix); anything else is ignored", () => {
        assert.deepEqual(parseObjectKey("prod/cluster-42/delta/00000000000000000010-00000000000000000017-20261201T093015Z-k5.events.gz.enc", "prod", 77), {
            name: "cluster-42/delta/00000000000000000010-00000000000000000017-20261201T093015Z-k5.events.gz.enc",
            cluster: "42",
            kind: "delta",
            fromRevision: 10,
            toRevision: 17,
            time: "2026-12-01T09:30:15Z",
            keys: 5,
            size: 77,
        });
        assert.equal(parseObjectKey("prod/cluster-42/HEAD", "prod", 1), undefined);
        assert.equal(parseObjectKey("other/cluster-42/full/x", "prod", 1), undefined);
        // The shell's own formatting (printf %020d, date +%Y%m%dT%H%M%SZ) produces names this parses.
        const r = spawnSync("bash", ["-c", `printf 'cluster-7/full/%020d-%s-k%s.db.enc' 123 "$(date -u -d @0 +%Y%m%dT%H%M%SZ)" 9`], { encoding: "utf8" });
        assert.deepEqual(obj(r.stdout), { name: r.stdout, cluster: "7", kind: "full", fromRevision: 123, toRevision: 123, time: "1970-01-01T00:00:00Z", keys: 9, size: 100 });
    });

    const store: BackupObject[] = [
        full("1", 100, "20261201T080000Z", 50),
        delta("1", 100, 110, "20261201T080015Z", 51),
        delta("1", 110, 125, "20261201T080030Z", 52),
        delta("1", 118, 140, "20261201T080045Z", 53), // overlaps the one before (a leader change)
        full("1", 141, "20261201T090000Z", 53),
        delta("1", 140, 150, "20261201T090015Z", 54),
        delta("1", 160, 170, "20261201T090045Z", 55), // a gap: 150-160 never arrived
        full("2", 1_000_000_170, "20261201T100000Z", 55), // the cluster restored from those: a new ID
        delta("2", 1_000_000_170, 1_000_000_180, "20261201T100015Z", 60),
    ];
    const names = (c: ReturnType<typeof chooseRestore>) => ("problem" in c ? c.problem : c.objects.map((o) => `${o.kind}:${o.fromRevision}-${o.toRevision}`));

    test("latest: the newest restore point, whichever cluster wrote it", () => {
        assert.deepEqual(names(chooseRestore(store, { kind: "latest" }, "s3://b/p")), ["full:1000000170-1000000170", "delta:1000000170-1000000180"]);
        const c = chooseRestore(store, { kind: "latest" }, "s3://b/p");
        assert.ok(!("problem" in c));
        assert.deepEqual([c.cluster, c.revision, c.time, c.keys, c.size], ["2", 1_000_000_180, "2026-12-01T10:00:15Z", 60, 200]);
    });

    test("a time or revision: the nearest earlier point the store can rebuild (overlapping deltas chain; a gap is skipped)", () => {
        assert.deepEqual(names(chooseRestore(store, { kind: "time", time: "2026-12-01T08:00:50Z" }, "s")), ["full:100-100", "delta:100-110", "delta:110-125", "delta:118-140"]);
        assert.deepEqual(names(chooseRestore(store, { kind: "revision", revision: 130 }, "s")), ["full:100-100", "delta:100-110", "delta:110-125"]);
        // 170 needs 150-160, which is missing: the nearest earlier restorable point is 150.
        assert.deepEqual(names(chooseRestore(store, { kind: "time", time: "2026-12-01T09:59:00Z" }, "s")), ["full:141-141", "delta:140-150"]);
        // A full base at the point's own revision is the whole chain.
        assert.deepEqual(names(chooseRestore(store, { kind: "revision", revision: 141 }, "s")), ["full:141-141"]);
        assert.match(names(chooseRestore(store, { kind: "time", time: "2026-11-30T00:00:00Z" }, "s3://b/p")) as string, /^s3:\/\/b\/p holds no restorable backup at or before 2026-11-30T00:00:00Z \(it holds 9 objects from 2026-12-01T08:00:00Z/);
        assert.match(names(chooseRestore([], { kind: "latest" }, "s3://b/p")) as string, /holds no backups of any cluster/);
    });
});

describe("backup: retention (retention.awk) on a simulated clock", () => {
    const listing = [
        "cluster-1/HEAD",
        "cluster-1/full/00000000000000001000-20261210T113000Z-k9.db.enc", // F1 within the hour; the newest
        "cluster-1/full/00000000000000000900-20261210T100500Z-k9.db.enc", // F2 newest of hour 10
        "cluster-1/full/00000000000000000890-20261210T100000Z-k9.db.enc", // F3 an older one of hour 10
        "cluster-1/full/00000000000000000800-20261210T083000Z-k9.db.enc", // F4 before the hourly tier, not its day's newest
        "cluster-1/full/00000000000000000500-20261209T200000Z-k9.db.enc", // F5 newest of 12-09
        "cluster-1/full/00000000000000000400-20261209T080000Z-k9.db.enc", // F6 older one of 12-09
        "cluster-1/full/00000000000000000100-20261201T000000Z-k9.db.enc", // F7 beyond every tier
        "cluster-1/delta/00000000000000001000-00000000000000001010-20261210T114000Z-k9.events.gz.enc", // D1 within the hour
        "cluster-1/delta/00000000000000001010-00000000000000001020-20261210T115000Z-k9.events.gz.enc", // D2 within the hour
        "cluster-1/delta/00000000000000000900-00000000000000000905-20261210T100600Z-k9.events.gz.enc", // D3 needed by D5
        "cluster-1/delta/00000000000000000905-00000000000000000950-20261210T103000Z-k9.events.gz.enc", // D6 needed by D5
        "cluster-1/delta/00000000000000000950-00000000000000000990-20261210T110500Z-k9.events.gz.enc", // D5 within the hour, on F2
        "cluster-1/delta/00000000000000000800-00000000000000000810-20261210T083500Z-k9.events.gz.enc", // D7 old, unneeded
        "cluster-2/HEAD",
        "cluster-2/full/00000000000000000050-20261120T000000Z-k9.db.enc", // F8 an old cluster's
        "cluster-2/delta/00000000000000000050-00000000000000000060-20261120T000100Z-k9.events.gz.enc", // D8
    ];
    const run = (now: string, all = 3600, hourly = 3, daily = 2, weekly = 1, input = listing) => {
        const epoch = Math.floor(Date.parse(now) / 1000);
        const r = spawnSync("awk", ["-v", `now=${epoch}`, "-v", `all_within=${all}`, "-v", `hourly=${hourly}`, "-v", `daily=${daily}`, "-v", `weekly=${weekly}`, "-f", path.join(HOST, "retention.awk")], {
            input: `${input.join("\n")}\n`,
            encoding: "utf8",
        });
        assert.equal(r.status, 0, r.stderr);
        return r.stdout.split("\n").filter(Boolean).sort();
    };

    test("deletes exactly what the tiers do not keep; a kept delta keeps its base and the deltas before it; an old cluster's HEAD goes with it", () => {
        assert.deepEqual(run("2026-12-10T12:00:00Z"), [listing[7], listing[6], listing[4], listing[3], listing[13], listing[14], listing[16], listing[15]].sort());
    });

    test("the newest full base and the deltas after it stay, however old (full uploads failing for days)", () => {
        const stale = [
            "cluster-1/full/00000000000000000100-20261201T000000Z-k9.db.enc",
            "cluster-1/delta/00000000000000000100-00000000000000000110-20261201T000100Z-k9.events.gz.enc",
            "cluster-1/delta/00000000000000000110-00000000000000000120-20261201T000200Z-k9.events.gz.enc",
        ];
        assert.deepEqual(run("2026-12-20T00:00:00Z", 3600, 0, 0, 0, stale), []);
    });

    test("everything within allWithinHours stays, and nothing else of the tiers when they are 0", () => {
        const deleted = run("2026-12-10T12:00:00Z", 7200, 0, 0, 0);
        assert.ok(!deleted.includes(listing[3]), "10:00 is within two hours");
        assert.ok(deleted.includes(listing[5]) && deleted.includes(listing[4]), "the day tier is off");
    });
});

describe("backup: replaying events (condense.awk)", () => {
    test("the last event of each key up to the target, puts with values, deletes, empty values; later events ignored", () => {
        const events = [
            `{"kv":{"key":"YQ==","create_revision":2,"mod_revision":2,"version":1,"value":"MQ=="}}`,
            `{"kv":{"key":"YQ==","create_revision":2,"mod_revision":3,"version":2,"value":"Mg=="}}`,
            `{"type":1,"kv":{"key":"Yg==","mod_revision":4}}`,
            `{"kv":{"key":"Yw==","create_revision":5,"mod_revision":5,"version":1}}`,
            `{"kv":{"key":"YQ==","create_revision":2,"mod_revision":9,"version":3,"value":"OQ=="}}`,
            `{"kv":{"key":"YQ==","create_revision":2,"mod_revision":3,"version":2,"value":"Mg=="}}`, // a duplicate from overlapping deltas
        ];
        const r = spawnSync("awk", ["-v", "target=5", "-f", path.join(HOST, "condense.awk")], { input: `${events.join("\n")}\n`, encoding: "utf8" });
        assert.equal(r.status, 0, r.stderr);
        assert.deepEqual(r.stdout.split("\n").filter(Boolean).sort(), [
            `{"request_delete_range":{"key":"Yg=="}}`,
            `{"request_put":{"key":"YQ==","value":"Mg=="}}`,
            `{"request_put":{"key":"Yw==","value":""}}`,
        ]);
    });
});

describe("backup: object encryption, hosts (crypto.sh) and deployer (keys.ts) alike", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "backup-crypto-"));
    const keys = deriveBackupKeys("the stack's backup key, 32+ characters long");
    fs.writeFileSync(path.join(dir, "enc.pass"), `${keys.encryptionPass}\n`, { mode: 0o600 });
    fs.writeFileSync(path.join(dir, "mac.pads"), macPads(keys.macKey), { mode: 0o600 });
    const sh = (body: string) =>
        spawnSync("bash", ["-c", `set -euo pipefail; fail() { echo "FAIL: $*" >&2; exit 1; }; BACKUP_KEY_DIR='${dir}'; source '${path.join(HOST, "crypto.sh")}'; backup_keys_load; ${body}`], { encoding: "utf8" });

    test("a sealed object is ciphertext with a tag; it round-trips on the host and opens on the deployer (raw and gzip)", () => {
        const plain = Buffer.concat([Buffer.from("secret-value-\0-binary\n"), randomBytes(200_000)]);
        fs.writeFileSync(path.join(dir, "plain"), plain);
        const r = sh(`seal cluster-1/full/a "${dir}/plain" "${dir}/obj"; unseal cluster-1/full/a "${dir}/obj" "${dir}/back"; cmp "${dir}/plain" "${dir}/back"`);
        assert.equal(r.status, 0, r.stderr);
        const gz = sh(`seal cluster-1/delta/b.gz.enc "${dir}/plain" "${dir}/objgz"; unseal cluster-1/delta/b.gz.enc "${dir}/objgz" "${dir}/backgz"; cmp "${dir}/plain" "${dir}/backgz"`);
        assert.equal(gz.status, 0, gz.stderr);
        assert.ok(unsealObject(keys, "cluster-1/delta/b.gz.enc", fs.readFileSync(path.join(dir, "objgz"))).equals(plain));
        const sealed = fs.readFileSync(path.join(dir, "obj"));
        assert.equal(sealed.subarray(0, 8).toString("latin1"), "Salted__");
        assert.equal(sealed.indexOf("secret-value"), -1, "no plaintext in the object");
        assert.ok(unsealObject(keys, "cluster-1/full/a", sealed).equals(plain));
        // The same plaintext sealed twice differs (a fresh salt, so a fresh key and IV).
        assert.equal(sh(`seal cluster-1/full/a "${dir}/plain" "${dir}/obj2"`).status, 0);
        assert.ok(!fs.readFileSync(path.join(dir, "obj2")).equals(sealed));
    });

    test("a changed byte, a renamed object or another key fails before decryption, naming the object and the fix", () => {
        const sealed = fs.readFileSync(path.join(dir, "obj"));
        const flipped = Buffer.from(sealed);
        flipped[1000] ^= 1;
        fs.writeFileSync(path.join(dir, "bad"), flipped);
        const r = sh(`unseal cluster-1/full/a "${dir}/bad" "${dir}/out"`);
        assert.notEqual(r.status, 0);
        assert.match(r.stderr, /cluster-1\/full\/a does not authenticate with this cluster's backup key: it was written with another key \(set backup\.encryptionKey/);
        assert.equal(fs.existsSync(path.join(dir, "out")) && fs.statSync(path.join(dir, "out")).size > 0, false, "nothing decrypted");
        assert.notEqual(sh(`unseal cluster-1/full/b "${dir}/obj" "${dir}/out"`).status, 0, "renamed");
        assert.throws(() => unsealObject(deriveBackupKeys("another stack's backup key, also long"), "cluster-1/full/a", sealed), /does not authenticate with this stack's backup key/);
    });

    test("unseal_stream: the ciphertext on stdin and the tag apart (a base streamed from the store) opens; a changed byte or a failed download does not, and leaves nothing", () => {
        const obj = `${dir}/obj`;
        const stream = (name: string, file: string, mark = `${dir}/no-such-mark`) =>
            sh(`size=$(stat -c %s "${file}"); tail -c 32 "${file}" > "${dir}/tag"; head -c $((size - 32)) "${file}" | unseal_stream ${name} "${dir}/tag" "${dir}/streamed" "${mark}"`);
        const r = stream("cluster-1/full/a", obj);
        assert.equal(r.status, 0, r.stderr);
        assert.ok(fs.readFileSync(path.join(dir, "streamed")).equals(fs.readFileSync(path.join(dir, "plain"))));
        const bad = stream("cluster-1/full/a", `${dir}/bad`);
        assert.notEqual(bad.status, 0);
        assert.match(bad.stderr, /cluster-1\/full\/a does not authenticate with this cluster's backup key/);
        assert.equal(fs.existsSync(path.join(dir, "streamed")), false, "a refused object leaves no plaintext");
        assert.notEqual(stream("cluster-1/full/b", obj).status, 0, "renamed");
        fs.writeFileSync(path.join(dir, "failed"), "");
        const failed = stream("cluster-1/full/a", obj, `${dir}/failed`);
        assert.notEqual(failed.status, 0);
        assert.match(failed.stderr, /downloading cluster-1\/full\/a failed/);
        assert.equal(fs.existsSync(path.join(dir, "streamed")), false);
    });

    test("HEAD: a JSON line and its tag, written by the host, read by the deployer", () => {
        fs.writeFileSync(path.join(dir, "head"), `{"cluster":"9","revision":42,"object":"o","time":"t"}\n`);
        const r = sh(`tag cluster-9/HEAD "${dir}/head" >> "${dir}/head"`);
        assert.equal(r.status, 0, r.stderr);
        assert.equal(readHead(keys, "cluster-9/HEAD", fs.readFileSync(path.join(dir, "head"))).revision, 42);
        assert.throws(() => readHead(keys, "cluster-8/HEAD", fs.readFileSync(path.join(dir, "head"))), /does not authenticate/);
    });
});

describe("backup: the files each member gets", () => {
    const s = resolveSettings({ ...base, backup: { ...backup, endpoint: "https://s3.local:7070", caBundle: "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n" } });
    const paths = hostPaths(s.dataDir, s.walDir);
    const files = backupFiles(s, s.members[0], paths, s.backup!, { encryptionPass: "e".repeat(64), macPads: "m\n", secretAccessKey: 'sec"ret\\key' });

    test("secrets only in root-only files; the env file has none and names them; the programs shipped as they are in host/", () => {
        const byPath = new Map(files.map((f) => [f.path, f]));
        for (const p of [BACKUP_PATHS.credentialsFile, BACKUP_PATHS.encryptionPassFile, BACKUP_PATHS.macPadsFile, BACKUP_PATHS.envFile]) assert.deepEqual([byPath.get(p)?.mode, byPath.get(p)?.owner], ["0600", "root:root"], p);
        const env = renderBackupEnv(s, s.members[0], paths, s.backup!);
        assert.doesNotMatch(env, /sec"ret|eeee/);
        assert.match(env, /^S3_ENDPOINT='https:\/\/s3\.local:7070'$/m);
        assert.match(env, /^S3_PATH_STYLE='true'$/m);
        assert.match(env, /^S3_CA_FILE='\/etc\/etcd-pulumi\/backup\/s3-ca\.pem'$/m);
        assert.match(env, /^BACKUP_MEMBER='etcd1'$/m);
        assert.equal(renderCredentials("AKIA", 'sec"ret\\key').split("\n")[1], 'user = "AKIA:sec\\"ret\\\\key"');
        assert.equal(byPath.get(BACKUP_PATHS.program)?.content, fs.readFileSync(path.join(HOST, "etcd-backup.sh"), "utf8"));
        assert.equal(spawnSync("bash", ["-n", path.join(HOST, "etcd-backup.sh")]).status, 0);
    });

    test("units: a low-priority oneshot every half RPO on every member, the full base on its schedule", () => {
        const timer = files.find((f) => f.path === BACKUP_PATHS.deltaTimer)!.content;
        assert.match(timer, /^OnUnitActiveSec=15s$/m);
        assert.match(timer, /^AccuracySec=1s$/m);
        const service = files.find((f) => f.path === BACKUP_PATHS.deltaService)!.content;
        assert.match(service, /^ExecStart=\/usr\/local\/lib\/etcd-pulumi\/backup\/etcd-backup delta$/m);
        assert.match(service, /^Nice=10$/m);
        assert.match(service, /^CPUWeight=20$/m);
        assert.match(files.find((f) => f.path === BACKUP_PATHS.fullTimer)!.content, /^OnCalendar=hourly$/m);
    });
});

describe("backup: what restoreFrom backup:... resolves to on the deployer (storeRestore.ts, an in-memory store)", () => {
    const settings = resolveSettings({ ...base, backup }).backup!;
    const keys = deriveBackupKeys("the stack's backup key, 32+ characters long");
    const sealedHead = (k: typeof keys, cluster: string) => {
        const body = Buffer.from(`{"cluster":"${cluster}","revision":110,"object":"o","time":"t"}\n`);
        return Buffer.concat([body, Buffer.from(`${objectTag(k.macKey, `cluster-${cluster}/HEAD`, body).toString("hex")}\n`)]);
    };
    const objects: Record<string, Buffer> = {
        [full("5", 100, "20261201T080000Z", 50).name]: Buffer.alloc(300),
        [delta("5", 100, 110, "20261201T080015Z", 51).name]: Buffer.alloc(40),
        "cluster-5/HEAD": sealedHead(keys, "5"),
    };
    const reader = (store: Record<string, Buffer>): StoreReader => ({
        list: async (prefix) => Object.entries(store).filter(([k]) => k.startsWith(prefix)).map(([key, b]) => ({ key, size: b.length })),
        get: async (key) => store[key],
    });

    test("the newest restore point, its objects in order, sizes and key count; the id depends on store and selector only", async () => {
        const r = await inspectStoreRestore(settings, "backup:latest", { kind: "latest" }, keys, reader(objects));
        assert.deepEqual([r.kind, r.cluster, r.revision, r.totalKey, r.size, r.time], ["store", "5", 110, 51, 340, "2026-12-01T08:00:15Z"]);
        assert.deepEqual(r.objects, [full("5", 100, "20261201T080000Z", 50).name, delta("5", 100, 110, "20261201T080015Z", 51).name]);
        const later = await inspectStoreRestore(settings, "backup:latest", { kind: "latest" }, keys, reader({ ...objects, [delta("5", 110, 120, "20261201T080030Z").name]: Buffer.alloc(9) }));
        assert.equal(later.id, r.id, "newer backups do not make it another restore");
        assert.equal(r.id, storeRestoreId("s3://etcd-backups/prod", "backup:latest"));
        assert.notEqual(storeRestoreId("s3://etcd-backups/prod", "backup:revision:100"), r.id);
    });

    test("another key, an empty store, a store that cannot be listed: refused with the fix", async () => {
        await assert.rejects(inspectStoreRestore(settings, "backup:latest", { kind: "latest" }, deriveBackupKeys("a different key, also 32+ characters"), reader(objects)), /restoreFrom: cluster-5\/HEAD does not authenticate with this stack's backup key: the backups in s3:\/\/etcd-backups\/prod were written with another key: set backup\.encryptionKey/);
        await assert.rejects(inspectStoreRestore(settings, "backup:latest", { kind: "latest" }, keys, reader({})), /restoreFrom: s3:\/\/etcd-backups\/prod holds no backups of any cluster/);
        const down: StoreReader = { list: async () => { throw new Error("ECONNREFUSED"); }, get: async () => undefined };
        await assert.rejects(inspectStoreRestore(settings, "backup:latest", { kind: "latest" }, keys, down), /restoreFrom: cannot list s3:\/\/etcd-backups\/prod \(ECONNREFUSED\); check backup\.endpoint/);
    });
});

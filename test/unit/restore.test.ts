import { describe, test } from "node:test";
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { decideRestore, RESTORE_BUMP_REVISION, RestoreRequest } from "../../components/restore/plan";
import { ClusterRecord, reviewTransition } from "../../components/plan/transition";
import { checkSnapshotIntegrity } from "../../components/restore/snapshotFile";
import { hostPaths } from "../../components/render/paths";
import { restoreDataScript, restoreFetchScript, restoreHealthScript, restoreStopScript, takesPart } from "../../components/restore/hostScripts";
import { resolveSettings } from "../../components/validate";
import { EtcdConfigError } from "../../components/validate";
import { recordedCluster } from "../support/clusterRecord";

const record = (over: Partial<ClusterRecord> = {}): ClusterRecord => recordedCluster(undefined, over);
const request = (id = "1111222233334444"): RestoreRequest => ({ kind: "file", id, file: "/backups/snap.db", sha256: "f".repeat(64), size: 3 * 1024 * 1024, revision: 4321, totalKey: 25 });
const ctx = { now: new Date("2026-11-22T00:00:00Z"), renewBeforeHours: 720 };
/** The record names what restoreFrom asks for by its identity; the check gets the request itself. */
const asking = (r: RestoreRequest) => ({ restore: { id: r.id } });
const told = (r: RestoreRequest, c: object = ctx) => ({ ...ctx, ...c, restoreRequest: r });

describe("restore: decided once per snapshot, kept, loud", () => {
    test("a request restores once; the same request later changes nothing; another file restores again", () => {
        const first = reviewTransition(record(), record(asking(request())), told(request()));
        assert.deepEqual(first.refusals, []);
        assert.equal(first.restoring, true);
        assert.match(first.changes[0], /^RESTORE from \/backups\/snap\.db \(revision 4321, 25 keys, 3\.0 MiB, sha256 ffffffffffff\): every member \(etcd1, etcd2, etcd3\) stops at once/);
        assert.match(first.changes[0], /moved aside to \/var\/lib\/etcd\.before-restore-<UTC time> \(never deleted\)/);
        assert.match(first.changes[0], new RegExp(`revision \\+${RESTORE_BUMP_REVISION}, marked compacted`));
        assert.match(first.changes[0], /Writes made after the snapshot are NOT in the restored cluster/);
        assert.equal(first.restore?.clusterToken, "etcd-pulumi-restore-1111222233334444");
        assert.deepEqual(first.restore?.members.map((m) => `${m.name}=${m.incarnation}`), ["etcd1=10.0.0.11#0", "etcd2=10.0.0.12#0", "etcd3=10.0.0.13#0"]);
        assert.deepEqual(Object.values(first.bootstrap).map((b) => b.state), ["new", "new", "new"], "every member founds the restored cluster");

        const again = reviewTransition(record(asking(request())), record(asking(request())), told(request(), { previousRestore: first.restore }));
        assert.deepEqual([again.restoring, again.changes], [false, []]);
        assert.deepEqual(again.restore, first.restore, "the decision is kept");
        const unset = reviewTransition(record(asking(request())), record(), { ...ctx, previousRestore: first.restore });
        assert.deepEqual([unset.restoring, unset.changes, unset.restore], [false, [], first.restore], "unsetting restoreFrom does nothing to the cluster");

        const other = reviewTransition(record(asking(request())), record(asking(request("5555666677778888"))), told(request("5555666677778888"), { previousRestore: first.restore }));
        assert.equal(other.restoring, true);
        assert.equal(other.restore?.id, "5555666677778888");
    });

    test("a first deployment from a snapshot founds the cluster from it", () => {
        const r = reviewTransition(undefined, record(asking(request())), told(request()));
        assert.equal(r.restoring, true);
        assert.match(r.changes[1], /^RESTORE from .*: the new cluster etcd1, etcd2, etcd3 starts from it;/);
        assert.doesNotMatch(r.changes[1], /NOT in the restored cluster/);
    });

    test("a restore forms the cluster from the config's members (new hosts after a total loss), without the membership guards", () => {
        const moved = record({ members: ["etcd1", "etcd2", "etcd4"].map((name, i) => ({ name, address: `10.0.1.${11 + i}`, replacement: 0, config: `name: ${name}\n` })), ...asking(request()) });
        assert.equal(reviewTransition(record(), { ...moved, restore: undefined }, ctx).refusals[0]?.property, "members", "without a restore: refused");
        const r = reviewTransition(record(), moved, told(request()));
        assert.deepEqual(r.refusals, []);
        assert.deepEqual(r.restore?.members.map((m) => m.address), ["10.0.1.11", "10.0.1.12", "10.0.1.13"]);
        assert.match(r.changes.join("\n"), /etcd3 \(10\.0\.0\.13\): not in the restored cluster/);
    });

    test("refused: a version change in the same run (the restore runs with the deployed version)", () => {
        const r = reviewTransition(record(), record({ version: "3.6.17", ...asking(request()) }), told(request()));
        assert.equal(r.refusals[0].property, "restoreFrom");
        assert.match(r.refusals[0].reason, /set version back to "3\.6\.16" for the restore and upgrade in a later pulumi up/);
        assert.equal(r.restoring, false);
        assert.equal(r.restore, null, "a refused restore is not kept");
    });

    test("decideRestore: nothing asked, or the same as kept, is no restore", () => {
        const ms = [{ name: "b", address: "10.0.0.2" }, { name: "a", address: "10.0.0.1", replacement: 2 }];
        assert.equal(decideRestore(undefined, null, ms), undefined);
        const plan = decideRestore(request(), null, ms)!;
        assert.deepEqual(plan.members.map((m) => m.incarnation), ["10.0.0.1#2", "10.0.0.2#0"], "name order, incarnations");
        assert.equal(decideRestore(request(), plan, ms), undefined);
    });
});

describe("restore: the snapshot file on the deployer", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "restore-unit-"));
    /** A file shaped like `etcdctl snapshot save` output: bbolt magic at byte 16, size % 512 == 32, SHA-256 of the body at the end. */
    const snapshotLike = (bodyBytes = 8192) => {
        const body = Buffer.alloc(bodyBytes, 7);
        body.writeUInt32LE(0xed0cdaed, 16);
        return Buffer.concat([body, createHash("sha256").update(body).digest()]);
    };
    const write = (name: string, b: Buffer) => {
        const f = path.join(dir, name);
        fs.writeFileSync(f, b);
        return f;
    };

    test("a well-formed snapshot passes, with the SHA-256 of the whole file", () => {
        const b = snapshotLike(3 * 1024 * 1024 + 512); // several read chunks, the hash straddling none
        const r = checkSnapshotIntegrity(write("good.db", b));
        assert.equal(r.problem, undefined);
        assert.equal(r.sha256, createHash("sha256").update(b).digest("hex"));
        assert.equal(r.size, b.length);
    });

    test("corrupt, hashless and non-snapshot files are named as such", () => {
        const bad = snapshotLike();
        bad[100] ^= 1;
        assert.match(checkSnapshotIntegrity(write("bad.db", bad)).problem ?? "", /is corrupt/);
        assert.match(checkSnapshotIntegrity(write("raw.db", snapshotLike().subarray(0, 8192))).problem ?? "", /has no integrity hash/);
        assert.match(checkSnapshotIntegrity(write("text.db", Buffer.alloc(8192 + 32, "a"))).problem ?? "", /is not an etcd snapshot/);
    });

    test("validation: restoreFrom must exist and be a non-empty file, named with the fix", () => {
        const base = { members: ["a", "b", "c"].map((n, i) => ({ name: n, address: `10.0.0.${i + 1}` })), ssh: { privateKey: "k" }, binary: { path: "/tmp/x.tgz", sha256: "b".repeat(64) } };
        assert.throws(() => resolveSettings({ ...base, restoreFrom: path.join(dir, "nope.db") }), (e: Error) => e instanceof EtcdConfigError && /restoreFrom: .*nope\.db does not exist; copy the snapshot/.test(e.message));
        assert.throws(() => resolveSettings({ ...base, restoreFrom: write("empty.db", Buffer.alloc(0)) }), /restoreFrom: .*empty\.db is empty/);
        assert.throws(() => resolveSettings({ ...base, restoreFrom: dir }), /restoreFrom: .* is not a file/);
        assert.equal(resolveSettings({ ...base, restoreFrom: write("ok.db", snapshotLike()) }).restoreFrom, path.join(dir, "ok.db"));
    });
});

describe("restore: host scripts", () => {
    const s = resolveSettings({
        members: ["etcd1", "etcd2", "etcd3"].map((n, i) => ({ name: n, address: `10.0.0.${11 + i}` })),
        ssh: { privateKey: "k", user: "deploy" },
        binary: { path: "/tmp/x.tgz", sha256: "b".repeat(64) },
        walDir: "/var/lib/etcd-wal",
    });
    const paths = hostPaths(s.dataDir, s.walDir);
    const plan = decideRestore(request(), null, s.members)!;

    test("valid bash, strict mode, host and step named; the restore flags and quoted values", () => {
        const m = s.members[1];
        for (const body of [restoreStopScript(m, paths, plan), restoreDataScript(s, m, paths, plan), restoreHealthScript(s, m, paths, plan)]) {
            assert.ok(body.startsWith("set -euo pipefail\n"));
            assert.match(body, /\[etcd2\] step restore-/);
            const r = spawnSync("bash", ["-n"], { input: body });
            assert.equal(r.status, 0, r.stderr.toString());
        }
        const data = restoreDataScript(s, m, paths, plan);
        assert.match(data, /--name 'etcd2' --initial-cluster 'etcd1=https:\/\/10\.0\.0\.11:2380,etcd2=https:\/\/10\.0\.0\.12:2380,etcd3=https:\/\/10\.0\.0\.13:2380'/);
        assert.match(data, /--initial-cluster-token 'etcd-pulumi-restore-1111222233334444' --initial-advertise-peer-urls 'https:\/\/10\.0\.0\.12:2380'/);
        assert.match(data, /--wal-dir "\$tmp\.wal"/);
        assert.match(data, /--bump-revision 1000000000 --mark-compacted/);
        assert.match(data, /mv -T '\/var\/lib\/etcd' '\/var\/lib\/etcd\.before-restore-'"\$when"/, "old data moved aside, not deleted");
        assert.match(data, /mv -T '\/var\/lib\/etcd-wal' '\/var\/lib\/etcd-wal\.before-restore-'"\$when"/);
        assert.doesNotMatch(data, /rm -rf '\/var\/lib\/etcd' *$/m);
        assert.match(restoreStopScript(m, paths, plan), /getent passwd 'deploy'/, "the snapshot is found in the SSH user's home");
        assert.match(restoreHealthScript(s, m, paths, plan), /expected 'etcd1 etcd2 etcd3'/);
    });

    test("a member that is not part of the restore (joined later, or replaced since) does nothing", () => {
        const later = { ...s.members[0], name: "etcd4", address: "10.0.0.14" };
        const replaced = { ...s.members[0], replacement: 1 };
        for (const m of [later, replaced]) {
            assert.equal(takesPart(plan, m), false);
            for (const body of [restoreStopScript(m, paths, plan), restoreDataScript(s, m, paths, plan), restoreHealthScript(s, m, paths, plan)]) {
                assert.match(body, /was not part of restore 1111222233334444 \(it joined later\): nothing to do/);
                assert.doesNotMatch(body, /systemctl|etcdutl/);
            }
        }
        assert.match(restoreDataScript(s, s.members[0], paths, null), /no restore was asked for: nothing to do/);
    });
});

describe("restore from the store: host scripts", () => {
    const s = resolveSettings({
        members: ["etcd1", "etcd2", "etcd3"].map((n, i) => ({ name: n, address: `10.0.0.${11 + i}` })),
        ssh: { privateKey: "k" },
        binary: { path: "/tmp/x.tgz", sha256: "b".repeat(64) },
        backup: { store: "s3://bkt/p", accessKeyId: "AKIAX", secretAccessKey: "s" },
    });
    const paths = hostPaths(s.dataDir, s.walDir);
    const store: RestoreRequest = { kind: "store", id: "abcdabcdabcdabcd", selector: "backup:latest", store: "s3://b/p", cluster: "7", time: "2026-12-01T10:00:00Z", objects: ["cluster-7/full/x.db.enc", "cluster-7/delta/y.events.gz.enc"], revision: 42, totalKey: 9, size: 100 };
    const plan = decideRestore(store, null, s.members)!;
    const m = s.members[0];

    test("fetch runs the backup's program with the plan (quoted); nothing stops there; stop and data use what it left", () => {
        const fetch = restoreFetchScript(m, plan);
        assert.match(fetch, /'\/usr\/local\/lib\/etcd-pulumi\/backup\/etcd-backup' fetch-restore 'abcdabcdabcdabcd' 42 9 'cluster-7\/full\/x\.db\.enc' 'cluster-7\/delta\/y\.events\.gz\.enc' \|\| fail "could not rebuild the backup from s3:\/\/b\/p; nothing was stopped"/);
        assert.doesNotMatch(fetch, /systemctl stop/);
        const stop = restoreStopScript(m, paths, plan);
        assert.match(stop, /f='\/var\/lib\/etcd-backups\/restore\/restore-abcdabcdabcdabcd\.db'/);
        assert.doesNotMatch(stop, /sha256sum/, "authenticated object by object at fetch");
        const data = restoreDataScript(s, m, paths, plan);
        assert.match(data, /if \[ -f "\$f\.raw" \]; then skip_hash=yes; fi/);
        assert.match(data, /--mark-compacted \$\{skip_hash:\+--skip-hash-check\}/);
        for (const body of [fetch, stop, data, restoreHealthScript(s, m, paths, plan)]) assert.equal(spawnSync("bash", ["-n"], { input: body }).status, 0);
        assert.match(restoreHealthScript(s, m, paths, plan), /endpoint hashkv --cluster --rev="\$rev"/, "every member holds the same data");
        // A file restore has nothing to fetch.
        assert.match(restoreFetchScript(m, decideRestore(request(), null, s.members)!), /comes from a file: nothing to fetch/);
    });
});

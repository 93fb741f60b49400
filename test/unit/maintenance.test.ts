/**
 * The maintenance job's pure parts: the settings check (args and stack config), what goes on a host
 * (env file, units, files, the member steps' lines), that a settings change restarts nothing (same
 * start inputs, same plan), and the host programs' decisions and formats (rules.sh, record.sh, the
 * lock's reads and transactions in lock.sh, with etcdctl replaced by a recorder).
 */
import { describe, test } from "node:test";
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { argsFromStackConfig } from "../../components/stackConfig";
import { EtcdConfigError, resolveSettings } from "../../components/validate";
import { EtcdClusterArgs } from "../../components/types";
import { hostPaths } from "../../components/render/paths";
import { memberFiles } from "../../components/render/files";
import { configureDeleteScript, serviceScript } from "../../components/render/scripts";
import { renderEtcdConfig } from "../../components/render/config";
import { renderUnit } from "../../components/render/unit";
import { desiredRecord } from "../../components/plan/desiredRecord";
import { reviewTransition } from "../../components/plan/transition";
import { DEFAULT_MAINTENANCE } from "../../components/maintenance/settings";
import {
    lockWaitSeconds,
    MAINTENANCE_PATHS,
    maintenanceFilePaths,
    maintenanceFiles,
    passBoundSeconds,
    renderMaintenanceEnv,
    renderPassService,
    renderTimer,
} from "../../components/maintenance/hostFiles";

const HOST = path.join(__dirname, "..", "..", "components", "maintenance", "host");
const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nx\n-----END OPENSSH PRIVATE KEY-----\n";
const members = ["etcd1", "etcd2", "etcd3"].map((n, i) => ({ name: n, address: `10.0.0.${11 + i}` }));
const base: EtcdClusterArgs = { members, ssh: { privateKey: KEY }, binary: { path: "/tmp/x.tgz", sha256: "b".repeat(64) } };
const problemsOf = (args: EtcdClusterArgs): string[] => {
    try {
        resolveSettings(args);
        return [];
    } catch (e) {
        if (e instanceof EtcdConfigError) return e.problems;
        throw e;
    }
};

/** Runs `body` in bash with the host programs' libraries sourced; returns status and output. */
function bash(body: string, env: Record<string, string> = {}): { status: number; stdout: string; stderr: string } {
    const r = spawnSync("bash", ["-c", `set -euo pipefail\n. ${HOST}/rules.sh\n. ${HOST}/record.sh\n. ${HOST}/lock.sh\n${body}`], { encoding: "utf8", env: { ...process.env, LC_ALL: "C", ...env } });
    return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
const ok = (body: string) => bash(body).status === 0;
const out = (body: string, env: Record<string, string> = {}) => {
    const r = bash(body, env);
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.trim();
};

describe("maintenance: settings", () => {
    test("defaults: daily, etcd's fragmentation threshold (in use below 50% and more than 100 MiB to win back), 300 s per member, a check every 5 minutes", () => {
        assert.deepEqual(resolveSettings(base).maintenance, {
            defragSchedule: "daily",
            defragMaxInUseRatio: 0.5,
            defragMinReclaimableBytes: 104857600,
            defragTimeoutSeconds: 300,
            checkIntervalSeconds: 300,
        });
        const own = resolveSettings({ ...base, maintenance: { defragSchedule: "Sun *-*-* 03:00:00", defragMaxInUseRatio: 0, checkIntervalSeconds: 30 } }).maintenance;
        assert.deepEqual([own.defragSchedule, own.defragMaxInUseRatio, own.checkIntervalSeconds, own.defragTimeoutSeconds], ["Sun *-*-* 03:00:00", 0, 30, 300]);
        assert.equal(resolveSettings({ ...base, maintenance: { defragSchedule: "off" } }).maintenance.defragSchedule, "off");
    });

    test("every problem is named with its field and the fix, all at once, before anything is registered", () => {
        const problems = problemsOf({
            ...base,
            maintenance: { defragSchedule: "dayly", defragMaxInUseRatio: 1.5, defragMinReclaimableBytes: -1, defragTimeoutSeconds: 5, checkIntervalSeconds: 600 },
        });
        for (const re of [
            /^maintenance\.defragSchedule: "dayly" is not a systemd calendar word; did you mean "daily"\?/,
            /^maintenance\.defragMaxInUseRatio: 1\.5 must be a share of the database file between 0 and 1 \(default 0\.5; 0 turns the fragmentation trigger off\)/,
            /^maintenance\.defragMinReclaimableBytes: -1 must be a whole number of bytes/,
            /^maintenance\.defragTimeoutSeconds: 5 must be a whole number of seconds, 10-3600 \(default 300\)/,
            /^maintenance\.checkIntervalSeconds: 600 must be a whole number of seconds .*10-300 \(default 300\)/,
        ]) {
            assert.ok(problems.some((p) => re.test(p)), `${re} in:\n${problems.join("\n")}`);
        }
        assert.match(problemsOf({ ...base, maintenance: { defragSchedule: "daily; rm -rf /" } }).join("\n"), /maintenance\.defragSchedule: .* is not a systemd OnCalendar expression; use "off" or/);
        assert.match(problemsOf({ ...base, maintenance: "weekly" as never }).join("\n"), /^maintenance: must be an object like \{ defragSchedule: "daily" \}/);
    });

    test("stack config: `maintenance` is an object; an unknown field gets a did-you-mean, together with the other problems", () => {
        const input = (maintenance: unknown) => ({
            namespace: "etcd-pulumi",
            values: { "etcd-pulumi:members": JSON.stringify(members), "etcd-pulumi:sshPrivateKeyPath": "/k", "etcd-pulumi:maintenance": JSON.stringify(maintenance) },
            readFile: () => KEY,
        });
        const args = argsFromStackConfig(input({ defragSchedule: "weekly", checkIntervalSeconds: 60 }));
        assert.deepEqual(args.maintenance, { defragSchedule: "weekly", checkIntervalSeconds: 60 });
        assert.equal(resolveSettings(args).maintenance.checkIntervalSeconds, 60);
        try {
            argsFromStackConfig(input({ defragSchdule: "weekly", defragTimeoutSeconds: 1 }));
            assert.fail("expected an error");
        } catch (e) {
            const msg = (e as EtcdConfigError).problems.join("\n");
            assert.match(msg, /maintenance\.defragSchdule: unknown field; did you mean "defragSchedule"\?/);
            assert.match(msg, /maintenance\.defragTimeoutSeconds: 1 must be a whole number of seconds/);
        }
    });
});

describe("maintenance: what goes on a host", () => {
    const s = resolveSettings({ ...base, quotaBackendBytes: 16 * 1024 * 1024, healthTimeoutSeconds: 60 });
    const paths = hostPaths(s.dataDir);

    test("the env file: this member, the settings, quoted for bash, no secret", () => {
        const env = renderMaintenanceEnv(s, s.members[1], paths, { ...s.maintenance, defragSchedule: "Sun 03:00" });
        for (const line of [
            "DEFRAG_MEMBER='etcd2'",
            "DEFRAG_SCHEDULE='Sun 03:00'",
            "DEFRAG_MAX_IN_USE_RATIO='0.5'",
            "DEFRAG_MIN_RECLAIMABLE_BYTES='104857600'",
            "DEFRAG_TIMEOUT_SECONDS='300'",
            "HEALTH_TIMEOUT_SECONDS='60'",
            "QUOTA_BACKEND_BYTES='16777216'",
            "NOSPACE_DISARM_BELOW_PERCENT='90'",
            "DEFRAG_KEY_PREFIX='/etcd-pulumi/maintenance/'",
            "DEFRAG_RECORD_FILE='/var/lib/etcd-pulumi/last-defrag.json'",
            "DEFRAG_METRICS_FILE='/var/lib/etcd-pulumi/metrics/etcd-defrag.prom'",
            "ETCD_ENDPOINT='https://127.0.0.1:2379'",
            "ETCD_KEY_FILE='/etc/etcd/pki/etcdctl.key'",
        ]) {
            assert.ok(env.split("\n").includes(line), `${line} in:\n${env}`);
        }
        assert.doesNotMatch(env, /PRIVATE KEY/);
        // Sourced by bash: every value comes back as written.
        assert.equal(out(`. /dev/stdin <<'EOF'\n${env}\nEOF\nprintf '%s|%s' "$DEFRAG_SCHEDULE" "$LOCK_WAIT_SECONDS"`), `Sun 03:00|${lockWaitSeconds(s, s.maintenance)}`);
    });

    test("units: a check every checkIntervalSeconds (etcd-defrag.timer -> etcd-defrag-check.service); the pass bounded by waiting for the lock plus every member's bounds", () => {
        const timer = renderTimer({ ...DEFAULT_MAINTENANCE, checkIntervalSeconds: 20 });
        assert.match(timer, /^OnActiveSec=20s$/m);
        assert.match(timer, /^OnUnitActiveSec=20s$/m);
        assert.match(timer, /^Unit=etcd-defrag-check\.service$/m);
        assert.match(timer, /^WantedBy=timers\.target$/m);
        // 3 members, 300 s per defragmentation, 60 s health waits: (300 + 2*60 + 30) per member.
        assert.equal(lockWaitSeconds(s, s.maintenance), 3 * 450 + 60);
        assert.equal(passBoundSeconds(s, s.maintenance), 1410 + 60 + 300 + 3 * 450 + 120);
        const pass = renderPassService(s, s.maintenance);
        assert.match(pass, /^ExecStart=\/usr\/local\/lib\/etcd-pulumi\/etcd-defrag pass$/m);
        assert.match(pass, new RegExp(`^TimeoutStartSec=${passBoundSeconds(s, s.maintenance)}$`, "m"));
        assert.match(pass, /^Type=oneshot$/m);
    });

    test("the files: shipped programs, env and units, root-owned; in the member's files; removed on destroy, timer first", () => {
        const files = maintenanceFiles(s, s.members[0], paths, s.maintenance);
        assert.deepEqual(
            files.map((f) => `${f.path} ${f.mode} ${f.owner}`),
            [
                "/usr/local/lib/etcd-pulumi/etcd-defrag 0755 root:root",
                "/usr/local/lib/etcd-pulumi/maintenance/lock.sh 0644 root:root",
                "/usr/local/lib/etcd-pulumi/maintenance/rules.sh 0644 root:root",
                "/usr/local/lib/etcd-pulumi/maintenance/record.sh 0644 root:root",
                "/etc/etcd-pulumi/maintenance/defrag.env 0644 root:root",
                "/etc/systemd/system/etcd-defrag.service 0644 root:root",
                "/etc/systemd/system/etcd-defrag-check.service 0644 root:root",
                "/etc/systemd/system/etcd-defrag.timer 0644 root:root",
            ],
        );
        assert.match(files[0].content, /^#!\/bin\/bash\n/);
        assert.deepEqual(maintenanceFilePaths(), files.map((f) => f.path));
        const all = memberFiles(paths, { config: "", unit: "", profile: "", caCert: "", serverCert: "", serverKey: "", peerCert: "", peerKey: "", clientCert: "", clientKey: "", snapshotTool: "", snapshotService: "", snapshotTimer: "" }, files);
        assert.ok(files.every((f) => all.includes(f)));
        const del = configureDeleteScript(s, s.members[0], paths, []);
        assert.match(del, /systemctl disable --now etcd-defrag\.timer etcd-defrag-check\.service etcd-defrag\.service/);
        for (const f of maintenanceFilePaths()) assert.ok(del.includes(`'${f}'`), `${f} removed on destroy`);
        assert.ok(del.indexOf("etcd-defrag.timer") < del.indexOf(`'${MAINTENANCE_PATHS.program}'`), "the timer stops before its program goes");
    });

    test("a change of the maintenance settings: other files of the job, the same service step, the same start inputs, the same plan: no restart", () => {
        const other = resolveSettings({ ...base, quotaBackendBytes: 16 * 1024 * 1024, healthTimeoutSeconds: 60, maintenance: { defragSchedule: "weekly", defragTimeoutSeconds: 900, checkIntervalSeconds: 30 } });
        assert.notDeepEqual(maintenanceFiles(other, other.members[0], paths, other.maintenance), maintenanceFiles(s, s.members[0], paths, s.maintenance));
        assert.equal(serviceScript(other, other.members[0], paths, "converge"), serviceScript(s, s.members[0], paths, "converge"));
        assert.match(serviceScript(s, s.members[0], paths, "converge"), /systemctl enable --now etcd-defrag\.timer/);
        const cfg = (x: typeof s) => renderEtcdConfig({ settings: x, member: x.members[0], initialMembers: x.members, clusterToken: "t", paths });
        assert.equal(cfg(other), cfg(s));
        assert.equal(renderUnit(other, paths), renderUnit(s, paths));
        const review = reviewTransition(desiredRecord(s, paths, "a".repeat(64)), desiredRecord(other, paths, "a".repeat(64)), { now: new Date(), renewBeforeHours: 720 });
        assert.deepEqual([review.refusals, review.changes], [[], []]);
    });

    test("the rolling restart's health gates let a member with only a NOSPACE alarm through (raising quotaBackendBytes is a way out of it)", () => {
        const script = serviceScript(s, s.members[0], paths, "converge");
        const serving = /^serving\(\) \{.*\}$/m.exec(script)![0];
        const run = (json: string) => spawnSync("bash", ["-c", `set -euo pipefail\netcdctl_tls() { printf '%s' "$FAKE"; }\n${serving}\nserving --endpoints=x`], { encoding: "utf8", env: { ...process.env, FAKE: json } });
        assert.equal(run(`[{"endpoint":"a","health":true,"took":"1ms"},{"endpoint":"b","health":false,"took":"2ms","error":"Active Alarm(s): NOSPACE "}]`).status, 0);
        assert.equal(run(`[{"endpoint":"b","health":false,"took":"2ms","error":"Active Alarm(s): NOSPACE NOSPACE "}]`).status, 0, "raised by two members");
        const down = run(`[{"endpoint":"a","health":true,"took":"1ms"},{"endpoint":"b","health":false,"took":"5s","error":"context deadline exceeded"}]`);
        assert.equal(down.status, 1);
        assert.match(down.stdout, /context deadline exceeded/, "the member that does not serve is named");
        assert.equal(run(`[{"endpoint":"b","health":false,"error":"Active Alarm(s): NOSPACE CORRUPT "}]`).status, 1, "a CORRUPT alarm is never waved through");
        assert.equal(run("").status, 1);
        assert.match(script, /cluster_health\(\) \{ serving --endpoints="\$LOCAL_ENDPOINT" --cluster; \}/);
        assert.match(script, /wait_for 60 serving --endpoints="\$LOCAL_ENDPOINT"/);
    });
});

describe("maintenance: the host programs' decisions (rules.sh)", () => {
    const MiB = 1024 * 1024;
    test("fragmented: less than the ratio in use AND more than the minimum reclaimable (etcd's mixin alert); 0 turns it off", () => {
        const f = (size: number, used: number, ratio = 0.5, min = 100 * MiB) => ok(`fragmented ${size} ${used} ${ratio} ${min}`);
        assert.equal(f(500 * MiB, 200 * MiB), true, "40% in use, 300 MiB to win back");
        assert.equal(f(500 * MiB, 300 * MiB), false, "60% in use");
        assert.equal(f(150 * MiB, 60 * MiB), false, "40% in use but only 90 MiB to win back");
        assert.equal(f(500 * MiB, 200 * MiB, 0), false, "ratio 0: off");
        assert.equal(f(0, 0), false, "no file");
        assert.equal(f(10 * MiB, 1 * MiB, 0.5, 4 * MiB), true);
    });

    test("next_member: followers by name first, the leader only when it is the last left", () => {
        assert.equal(out("next_member etcd2 etcd3 etcd1 etcd2"), "etcd1");
        assert.equal(out("next_member etcd1 etcd1 etcd2 etcd3"), "etcd2");
        assert.equal(out("next_member etcd1 etcd1 etcd3"), "etcd3");
        assert.equal(out("next_member etcd1 etcd1"), "etcd1");
        assert.equal(out("next_member '' etcd3 etcd2"), "etcd2", "no leader known: by name");
        const order = out(`left="etcd1 etcd2 etcd3 etcd4 etcd5"; while [ -n "$left" ]; do n=$(next_member etcd3 $left); printf '%s ' "$n"; left=$(printf '%s\\n' $left | { grep -vx "$n" || true; } | paste -sd' ' -); done`);
        assert.equal(order, "etcd1 etcd2 etcd4 etcd5 etcd3");
    });

    test("nospace_verdict: disarm only when every member is below 90% of the quota it runs with; else the fullest member", () => {
        const Q = 16 * MiB;
        assert.equal(out(`nospace_verdict 90 a=${MiB}=${Q} b=${2 * MiB}=${Q}`), "fits");
        assert.equal(out(`nospace_verdict 90 a=${MiB}=${Q} b=${15 * MiB}=${Q} c=${14 * MiB}=${Q}`), `outgrown b ${15 * MiB} ${Q}`);
        assert.equal(out(`nospace_verdict 90 a=${Math.ceil(0.9 * Q)}=${Q}`), `outgrown a ${Math.ceil(0.9 * Q)} ${Q}`, "90% is not below 90%");
        // Right after quotaBackendBytes was raised: a member not yet restarted still runs with the old quota.
        assert.equal(out(`nospace_verdict 90 a=${15 * MiB}=${48 * MiB} b=${15 * MiB}=${Q}`), `outgrown b ${15 * MiB} ${Q}`);
        assert.equal(out(`nospace_verdict 90 a=${15 * MiB}=${48 * MiB} b=${15 * MiB}=${48 * MiB}`), "fits");
    });

    test("all_serving_json: every endpoint answered; a NOSPACE alarm alone does not count against a member, anything else does", () => {
        const j = (s: string) => ok(`all_serving_json '${s}'`);
        assert.equal(j(`[{"endpoint":"a","health":true,"took":"1ms"},{"endpoint":"b","health":true,"took":"1ms"}]`), true);
        assert.equal(j(`[{"endpoint":"a","health":true,"took":"1ms"},{"endpoint":"b","health":false,"took":"1ms","error":"Active Alarm(s): NOSPACE "}]`), true);
        assert.equal(j(`[{"endpoint":"a","health":false,"took":"1ms","error":"Active Alarm(s): NOSPACE NOSPACE "}]`), true, "raised by two members");
        assert.equal(j(`[{"endpoint":"a","health":false,"took":"1ms","error":"Active Alarm(s): CORRUPT "}]`), false);
        assert.equal(j(`[{"endpoint":"a","health":false,"took":"1ms","error":"Active Alarm(s): NOSPACE CORRUPT "}]`), false);
        assert.equal(j(`[{"endpoint":"a","health":true,"took":"1ms"},{"endpoint":"b","health":false,"took":"5s","error":"context deadline exceeded"}]`), false);
        assert.equal(j(""), false);
    });

    test("schedule_verdict and schedule_slack: off, a first look, not yet, done by another member's pass, due", () => {
        const v = (expr: string, stored: string, next: string, now: number, last: string, slack = 900) => out(`schedule_verdict '${expr}' '${stored}' '${next}' ${now} '${last}' ${slack}`);
        assert.equal(v("off", "", "", 1000, ""), "off");
        assert.equal(v("daily", "", "", 1000, ""), "init");
        assert.equal(v("daily", "weekly", "5000", 1000, ""), "init", "a new expression: look it up again");
        assert.equal(v("daily", "daily", "5000", 1000, ""), "wait");
        assert.equal(v("daily", "daily", "5000", 5001, ""), "due");
        assert.equal(v("daily", "daily", "5000", 5001, "4000"), "due", "the last pass was long before the elapse");
        assert.equal(v("daily", "daily", "5000", 5030, "5010"), "satisfied", "another member's pass after the elapse");
        assert.equal(v("daily", "daily", "5000", 5030, "4500"), "satisfied", "within the slack before it (clocks a little apart)");
        assert.equal(v("minutely", "minutely", "5000", 5030, "4900", 30), "due", "the previous minute's pass does not count for this one");
        assert.equal(out("schedule_slack 0 86400"), "900");
        assert.equal(out("schedule_slack 0 60"), "30");
    });

    test("calendar_elapses: the next two elapses after a time, from systemd-analyze, in any time zone", (t) => {
        if (spawnSync("systemd-analyze", ["--version"]).status !== 0) {
            t.skip("systemd-analyze is not installed on this machine (the hosts have it)");
            return;
        }
        const base = Date.parse("2026-12-01T10:00:00Z") / 1000;
        assert.equal(out(`calendar_elapses daily ${base}`, { TZ: "UTC" }), [Date.parse("2026-12-02T00:00:00Z") / 1000, Date.parse("2026-12-03T00:00:00Z") / 1000].join("\n"));
        assert.equal(out(`calendar_elapses daily ${base}`, { TZ: "Europe/Berlin" }), [Date.parse("2026-12-01T23:00:00Z") / 1000, Date.parse("2026-12-02T23:00:00Z") / 1000].join("\n"));
        assert.equal(out(`calendar_elapses '*:0/5' ${base}`, { TZ: "UTC" }), [base + 300, base + 600].join("\n"));
        assert.notEqual(bash(`calendar_elapses dayly ${base}`).status, 0);
    });
});

describe("maintenance: what a pass leaves for monitoring (record.sh)", () => {
    test("the member entry is JSON with times, sizes, what was won back and where the leadership went", () => {
        const e = JSON.parse(out(`member_entry etcd3 leader 1796132116192 1796132116871 13393920 1089536 561152 552960 ok etcd1`));
        assert.deepEqual(e, {
            member: "etcd3",
            role: "leader",
            result: "ok",
            startedAt: "2026-12-01T13:35:16.192Z",
            endedAt: "2026-12-01T13:35:16.871Z",
            startedAtMs: 1796132116192,
            endedAtMs: 1796132116871,
            durationSeconds: 0.679,
            before: { dbSize: 13393920, dbSizeInUse: 1089536 },
            after: { dbSize: 561152, dbSizeInUse: 552960 },
            reclaimedBytes: 12832768,
            leadershipMovedTo: "etcd1",
        });
        assert.equal(JSON.parse(out(`member_entry etcd1 follower 1000 2005 10 5 10 5 failed`)).leadershipMovedTo, undefined);
        assert.equal(JSON.parse(out(`json_string "$(printf 'a "quoted" \\\\ back\\tslash\\nnext')"`)), 'a "quoted" \\ back\tslash\nnext');
        assert.equal(out("human_bytes 13393920; echo; human_bytes 512"), "12.8 MiB\n512 B");
    });

    test("the metrics file: every metric the monitoring work reads, with HELP and TYPE; counters carried over from the last file", () => {
        const m = out("render_metrics 100 90 1 2 5.5 1234 3");
        for (const [name, v] of [
            ["etcd_pulumi_defrag_last_run_timestamp_seconds", "100"],
            ["etcd_pulumi_defrag_last_success_timestamp_seconds", "90"],
            ["etcd_pulumi_defrag_last_run_success", "1"],
            ["etcd_pulumi_defrag_failures_total", "2"],
            ["etcd_pulumi_defrag_last_duration_seconds", "5.5"],
            ["etcd_pulumi_defrag_reclaimed_bytes", "1234"],
            ["etcd_pulumi_nospace_recoveries_total", "3"],
        ]) {
            assert.match(m, new RegExp(`^${name} ${v.replace(".", "\\.")}$`, "m"));
            assert.match(m, new RegExp(`^# HELP ${name} `, "m"));
            assert.match(m, new RegExp(`^# TYPE ${name} (gauge|counter)$`, "m"));
        }
        assert.equal(out(`f=$(mktemp); render_metrics 100 90 0 7 5.5 0 4 > "$f"; previous_metric "$f" etcd_pulumi_defrag_failures_total; previous_metric "$f" etcd_pulumi_nospace_recoveries_total; previous_metric /nonexistent x; rm -f "$f"`), "7\n4\n0");
        assert.equal(out(`d=$(mktemp -d); echo hi | write_atomically "$d/m/x.prom"; stat -c %a "$d/m/x.prom"; cat "$d/m/x.prom"; ls -A "$d/m" | wc -l; rm -rf "$d"`), "644\nhi\n1");
    });
});

describe("maintenance: the lock's reads and transactions (lock.sh, etcdctl replaced by a recorder)", () => {
    /** etcdctl's `get -w fields` answer for the lock's keys, and a fake local_ectl that records transactions and answers `txn` with $TXN. */
    const fields = (kvs: [string, number, string][]) =>
        ['"ClusterID" : 1', '"MemberID" : 2', '"Revision" : 40', '"RaftTerm" : 2', ...kvs.flatMap(([k, mod, v]) => [`"Key" : "${k}"`, `"CreateRevision" : 3`, `"ModRevision" : ${mod}`, `"Version" : 1`, `"Value" : "${v}"`]), '"More" : false', `"Count" : ${kvs.length}`].join("\n");
    const P = "/etcd-pulumi/maintenance/";
    const fake = (state: string) =>
        `DEFRAG_KEY_PREFIX='${P}'; DEFRAG_MEMBER=etcd2\n` +
        `local_ectl() { case "$1" in get) printf '%s\\n' "$STATE" ;; txn) cat >> "$LOG"; echo "=== txn" >> "$LOG"; printf '%s\\n' "\${TXN:-SUCCESS}" ;; put) echo "put $2 $3" >> "$LOG" ;; esac; }\n` +
        `STATE=$(cat <<'EOF'\n${state}\nEOF\n)\nLOG=$(mktemp)\n`;
    const free = fields([[`${P}roster`, 7, "etcd1 etcd2 etcd3"], [`${P}token/etcd1`, 8, "free"], [`${P}token/etcd2`, 9, "free"], [`${P}token/etcd3`, 10, "free"], [`${P}last-pass`, 30, "start=1796132111 member=etcd1 reason=manual"]]);

    test("lock_read: the roster, its revision, the tokens, the last pass; the holder is whoever's token is missing", () => {
        assert.equal(out(`${fake(free)}lock_read; printf '%s|%s|%s|%s|%s' "$ROSTER" "$ROSTER_MOD" "$TOKENS" "$LAST_PASS" "$(lock_holder)"`), "etcd1 etcd2 etcd3|7| etcd1 etcd2 etcd3 |start=1796132111 member=etcd1 reason=manual|");
        const held = fields([[`${P}roster`, 7, "etcd1 etcd2 etcd3"], [`${P}token/etcd1`, 8, "free"], [`${P}token/etcd2`, 9, "free"]]);
        assert.equal(out(`${fake(held)}lock_read; lock_holder`), "etcd3");
        assert.equal(out(`${fake(fields([]))}lock_read; printf '%s|%s' "$ROSTER_MOD" "$(lock_holder)"`), "0|");
    });

    test("lock_take: one transaction that needs the roster unchanged and every roster member's token present, and deletes only this member's token (a delete passes a NOSPACE alarm)", () => {
        const log = out(`${fake(free)}lock_take; echo "rc=$? resumed=$LOCK_RESUMED"; cat "$LOG"`);
        assert.equal(
            log,
            [
                "rc=0 resumed=0",
                `mod("${P}roster") = "7"`,
                `create("${P}token/etcd1") > "0"`,
                `create("${P}token/etcd2") > "0"`,
                `create("${P}token/etcd3") > "0"`,
                "",
                `del ${P}token/etcd2`,
                "",
                "",
                "=== txn",
            ].join("\n"),
        );
        // Another member holds it: no transaction at all, the holder is named.
        const held = fields([[`${P}roster`, 7, "etcd1 etcd2 etcd3"], [`${P}token/etcd2`, 9, "free"], [`${P}token/etcd3`, 10, "free"]]);
        assert.equal(out(`${fake(held)}rc=0; lock_take || rc=$?; echo "rc=$rc holder=$LOCK_HOLDER"; cat "$LOG"`), "rc=1 holder=etcd1");
        // This member's own token is missing: a pass of its own that did not finish; it goes on (no transaction).
        const mine = fields([[`${P}roster`, 7, "etcd1 etcd2 etcd3"], [`${P}token/etcd1`, 8, "free"], [`${P}token/etcd3`, 10, "free"]]);
        assert.equal(out(`${fake(mine)}lock_take; echo "rc=$? resumed=$LOCK_RESUMED"; cat "$LOG"`), "rc=0 resumed=1");
        // The compares failed (someone else was faster): read again, up to 5 times, then give up naming why.
        assert.equal(out(`${fake(free)}rc=0; lock_take || rc=$?; echo "rc=$rc $LOCK_ERROR"; grep -c '=== txn' "$LOG"`, { TXN: "FAILURE" }), "rc=2 the lock kept changing under 5 attempts\n5");
    });

    test("joining and pruning the roster: guarded by the roster's revision (created if absent); a member that left is dropped with its token", () => {
        assert.equal(out(`${fake(fields([]))}lock_read; lock_join; cat "$LOG"`), [`create("${P}roster") = "0"`, "", `put ${P}roster "etcd2"`, `put ${P}token/etcd2 free`, "", "", "=== txn"].join("\n"));
        const two = fields([[`${P}roster`, 7, "etcd1 etcd3"], [`${P}token/etcd1`, 8, "free"]]);
        assert.equal(out(`${fake(two)}lock_read; lock_join; cat "$LOG"`), [`mod("${P}roster") = "7"`, "", `put ${P}roster "etcd1 etcd3 etcd2"`, `put ${P}token/etcd2 free`, "", "", "=== txn"].join("\n"));
        assert.equal(out(`${fake(free)}lock_read; lock_prune etcd1 etcd2; cat "$LOG"`), ["etcd3", `mod("${P}roster") = "7"`, "", `put ${P}roster "etcd1 etcd2"`, `del ${P}token/etcd3`, "", "", "=== txn"].join("\n"));
        assert.equal(out(`${fake(free)}lock_read; lock_prune etcd1 etcd2 etcd3; cat "$LOG"`), "", "nobody left: no transaction");
        assert.equal(out(`${fake(free)}lock_release; cat "$LOG"`), `put ${P}token/etcd2 free`);
    });
});

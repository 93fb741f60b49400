/**
 * Every script that runs on a member host. Each is idempotent: running it twice leaves the host as
 * running it once does. Each fails loudly, naming the host and the step (see shell.ts).
 */
import { ClusterSettings, MemberSettings, releaseArchiveName, releaseDirName } from "../settings";
import { HostPaths, INCARNATION_FILE } from "./paths";
import { SNAPSHOT_TIMER } from "./scheduledSnapshot";
import { backupPrepareLines, backupRemoveLines, backupServiceLines } from "../backup/hostLines";
import { maintenanceRemoveLines, maintenanceServiceLines } from "../maintenance/hostLines";
import { script, shq } from "./shell";

const ETCD_USER = "etcd";

/** `uname -m` of a host that runs a release built for each arch. */
const HOST_MACHINE: Record<string, string> = { amd64: "x86_64", arm64: "aarch64", ppc64le: "ppc64le", s390x: "s390x" };

/** Bash helpers shared by the scripts that talk to etcd: TLS etcdctl and a bounded wait. */
export function etcdctlHelpers(s: ClusterSettings, paths: HostPaths): string[] {
    return [
        `etcdctl_tls() { ${shq(`${paths.binDir}/etcdctl`)} --cacert=${shq(paths.caCert)} --cert=${shq(paths.clientCert)} --key=${shq(paths.clientKey)} --dial-timeout=3s --command-timeout=5s "$@"; }`,
        `LOCAL_ENDPOINT=${shq(`https://127.0.0.1:${s.clientPort}`)}`,
        // wait_for SECONDS CMD...: retry CMD every 0.2 s until it succeeds or the time is up; the last output is kept in $WAIT_OUT.
        // (Each wait of a rolling restart costs half a poll on average: 0.2 s keeps that small without busy-looping etcdctl.)
        // The kept output drops etcdctl's JSON log lines: the last two plain lines say what failed.
        `wait_for() { local limit=$1; shift; local deadline=$((SECONDS + limit)); while true; do if WAIT_OUT=$("$@" 2>&1); then return 0; fi; if (( SECONDS >= deadline )); then WAIT_OUT=$(printf '%s\\n' "$WAIT_OUT" | { grep -v '^{"level"' || true; } | tail -n 2 | paste -sd' ' -); return 1; fi; sleep 0.2; done; }`,
        // serving ARGS...: every endpoint etcdctl's ARGS name answers a linearizable read. A NOSPACE alarm alone
        // does not count against a member (it still serves reads, and raising quotaBackendBytes, a rolling
        // restart, is one way out of it: see maintenance/). Prints the endpoints that do not serve.
        `serving() { local out total ok; out=$(etcdctl_tls endpoint health -w json "$@" 2>/dev/null) || true; total=$(printf '%s' "$out" | grep -o '{[^}]*}' | grep -c '"endpoint"' || true); ok=$(printf '%s' "$out" | grep -o '{[^}]*}' | grep -c -E -e '"health":true' -e '"error":"Active Alarm\\(s\\): (NOSPACE )+"' || true); [ "$total" -gt 0 ] && [ "$ok" -eq "$total" ] || { printf '%s' "$out" | grep -o '{[^}]*}' | grep -v -e '"health":true' || echo "no answer"; return 1; }; }`,
        // cluster_health: every member in the member list serves (asked through the local member).
        `cluster_health() { serving --endpoints="$LOCAL_ENDPOINT" --cluster; }`,
        // one_leader: every member answers and all name the same non-zero leader.
        `one_leader() { local out; out=$(etcdctl_tls --endpoints="$LOCAL_ENDPOINT" endpoint status --cluster -w json) || return 1; local leaders; leaders=$(printf '%s' "$out" | grep -o '"leader":[0-9]*' | sort -u); [ -n "$leaders" ] && [ "$(printf '%s\\n' "$leaders" | wc -l)" -eq 1 ] && [ "$leaders" != '"leader":0' ]; }`,
        // The journal's last lines, etcd's JSON reduced to "level: message", each cut to one terminal line.
        `recent_log() { echo "last lines of the etcd journal:"; journalctl -u etcd -n 8 --no-pager -o cat 2>&1 | sed -E 's/^\\{"level":"([a-z]+)".*"msg":"([^"]*)".*$/  \\1: \\2/' | cut -c1-160 || true; }`,
        // caught_up: the local member has applied everything the most advanced member had committed when asked.
        `caught_up() { local out target applied; out=$(etcdctl_tls --endpoints="$LOCAL_ENDPOINT" endpoint status --cluster -w json) || return 1; target=$(printf '%s' "$out" | grep -o '"raftIndex":[0-9]*' | cut -d: -f2 | sort -n | tail -1); applied=$(etcdctl_tls --endpoints="$LOCAL_ENDPOINT" endpoint status -w json | grep -o '"raftAppliedIndex":[0-9]*' | cut -d: -f2); [ -n "$target" ] && [ -n "$applied" ] && [ "$applied" -ge "$target" ]; }`,
        // leader_is_local: prints yes when the local member leads the cluster.
        `leader_is_local() { local out; out=$(etcdctl_tls --endpoints="$LOCAL_ENDPOINT" endpoint status -w json 2>/dev/null) || { echo no; return 0; }; local id leader; id=$(printf '%s' "$out" | grep -o '"member_id":[0-9]*' | head -1 | cut -d: -f2); leader=$(printf '%s' "$out" | grep -o '"leader":[0-9]*' | head -1 | cut -d: -f2); if [ -n "$id" ] && [ "$id" = "$leader" ]; then echo yes; else echo no; fi; }`,
        // member_field NAME FIELD: from 'member list -w simple' (ID, status, name, peer, client, learner).
        `member_field() { etcdctl_tls --endpoints="$LOCAL_ENDPOINT" member list -w simple | awk -F', ' -v n="$1" -v f="$2" '$3 == n { print $f }'; }`,
    ];
}


/** A line that renames the current phase in failure messages (one script, several phases). */
function phase(m: MemberSettings, step: string): string {
    return `ETCD_PULUMI_WHERE=${shq(`etcd-pulumi: [${m.name}] step ${step}`)}`;
}

/** Creates the etcd system user and the directories, and (re)asserts their owners and modes. */
function prepareLines(s: ClusterSettings, paths: HostPaths): string[] {
    const dirs = [s.dataDir, ...(s.walDir ? [s.walDir] : [])];
    return [
        `command -v systemctl >/dev/null || fail "systemd is required (systemctl not found)"`,
        `command -v sha256sum >/dev/null && command -v tar >/dev/null || fail "sha256sum and tar are required"`,
        `getent group ${ETCD_USER} >/dev/null || groupadd --system ${ETCD_USER}`,
        `getent passwd ${ETCD_USER} >/dev/null || useradd --system --gid ${ETCD_USER} --home-dir ${shq(s.dataDir)} --no-create-home --shell /usr/sbin/nologin --comment 'etcd (etcd-pulumi)' ${ETCD_USER}`,
        ...dirs.map((d) => `install -d -m 0700 -o ${ETCD_USER} -g ${ETCD_USER} ${shq(d)} && chmod 0700 ${shq(d)} && chown ${ETCD_USER}:${ETCD_USER} ${shq(d)}`),
        `install -d -m 0755 -o root -g root ${shq(paths.configDir)} ${shq(paths.toolDir)}`,
        `install -d -m 0750 -o root -g ${ETCD_USER} ${shq(paths.pkiDir)} && chmod 0750 ${shq(paths.pkiDir)} && chown root:${ETCD_USER} ${shq(paths.pkiDir)}`,
    ];
}

/** Where the release archive is uploaded: relative to the SSH user's home (private to that user; SFTP creates the directory). */
export function stagedArchivePath(s: ClusterSettings, paths: HostPaths): string {
    return `${paths.stagingDir}/${releaseArchiveName(s.version, s.arch)}`;
}

/** Shell expression for the absolute path of the staged archive, as root (through sudo) or as the SSH user. */
function stagedArchiveOnHost(s: ClusterSettings, m: MemberSettings, paths: HostPaths): string {
    return `"$(getent passwd ${shq(m.sshUser)} | cut -d: -f6)"/${shq(stagedArchivePath(s, paths))}`;
}

/**
 * Verifies the uploaded archive's SHA-256 on the host, unpacks it into a versioned directory and points
 * the binaries in binDir at it (atomic symlink swap). A version already installed from the same archive
 * is left alone.
 */
function installLines(s: ClusterSettings, m: MemberSettings, paths: HostPaths, sha256: string): string[] {
    const target = `${paths.installRoot}/v${s.version}`;
    const stamp = `${target}/.archive-sha256`;
    return [
        // The checksum proves the archive; what it cannot prove is that this host can run it.
        `case "$(uname -m)" in ${HOST_MACHINE[s.arch] ?? "unknown"}) ;; *) fail "this host is $(uname -m), the release is linux-${s.arch}: set arch to match the hosts" ;; esac`,
        `expected=${shq(sha256)}`,
        `if [ -f ${shq(stamp)} ] && [ "$(cat ${shq(stamp)})" = "$expected" ] && [ -x ${shq(`${target}/etcd`)} ]; then`,
        `  log "etcd ${s.version} already installed"`,
        `else`,
        `  archive=${stagedArchiveOnHost(s, m, paths)}`,
        `  [ -f "$archive" ] || fail "release archive $archive was not uploaded"`,
        `  actual=$(sha256sum "$archive" | cut -d' ' -f1)`,
        `  [ "$actual" = "$expected" ] || fail "checksum mismatch for $archive: expected $expected, got $actual"`,
        `  install -d -m 0755 ${shq(paths.installRoot)}`,
        // Only the three binaries, straight into a temp dir next to the target, then renamed into place.
        `  tmp=$(mktemp -d ${shq(`${paths.installRoot}/.unpack.XXXXXX`)})`,
        `  tar -xzf "$archive" -C "$tmp" --strip-components=1 --no-same-owner ${["etcd", "etcdctl", "etcdutl"].map((b) => shq(`${releaseDirName(s.version, s.arch)}/${b}`)).join(" ")} || fail "archive lacks etcd, etcdctl or etcdutl under ${releaseDirName(s.version, s.arch)}/"`,
        `  chmod 0755 "$tmp" "$tmp"/etcd "$tmp"/etcdctl "$tmp"/etcdutl`,
        `  printf '%s\\n' "$expected" > "$tmp/.archive-sha256"`,
        `  rm -rf ${shq(target)} && mv -T "$tmp" ${shq(target)}`,
        `  log "etcd ${s.version} unpacked into ${target}"`,
        `fi`,
        `for b in etcd etcdctl etcdutl; do ln -sfn ${shq(target)}/"$b" ${shq(paths.binDir)}/."$b".new && mv -Tf ${shq(paths.binDir)}/."$b".new ${shq(paths.binDir)}/"$b"; done`,
    ];
}

/** Standalone install step (host-level tests). */
export function installScript(s: ClusterSettings, m: MemberSettings, paths: HostPaths, sha256: string): string {
    return script({ host: m.name, step: "install" }, [...installLines(s, m, paths, sha256), `log "binaries in ${paths.binDir} point at ${paths.installRoot}/v${s.version}"`]);
}

/**
 * Writes the files of `bundle` (renderFileBundle: one per line, `PATH MODE OWNER:GROUP BASE64`). Each
 * file is written to a temp file in the same directory and renamed over the old one (atomic: etcd
 * re-reads leaf certificates on each handshake and never sees a half-written file). Unchanged files are
 * not touched; existing directories keep their owner and mode (prepare sets them).
 *
 * `bootstrapState` is "new" only for the members of a cluster being created: while the member's data
 * dir is still empty, its config copy says `initial-cluster-state: new`; the ready step turns it back to
 * `existing` once the cluster is healthy.
 */
function filesLines(s: ClusterSettings, paths: HostPaths, bootstrapState: "new" | "existing", bundle: string): string[] {
    if (/^ETCD_PULUMI_FILES$/m.test(bundle)) throw new Error("file bundle contains the heredoc terminator");
    return [
        `changed=0; systemd_changed=0`,
        `while IFS=' ' read -r path mode owner data; do`,
        `  [ -n "$path" ] || continue`,
        `  dir=$(dirname "$path"); [ -d "$dir" ] || install -d -m 0755 "$dir"`,
        `  tmp=$(mktemp "$dir/.etcd-pulumi.XXXXXX")`,
        `  printf '%s' "$data" | base64 -d > "$tmp"`,
        `  chown "$owner" "$tmp"; chmod "$mode" "$tmp"`,
        `  if [ -f "$path" ] && cmp -s "$tmp" "$path" && [ "$(stat -c '%a %U:%G' "$path")" = "$(stat -c '%a %U:%G' "$tmp")" ]; then rm -f "$tmp"; else mv -f "$tmp" "$path"; echo "wrote $path"; changed=$((changed + 1)); case "$path" in /etc/systemd/system/*) systemd_changed=1 ;; esac; fi`,
        `done <<'ETCD_PULUMI_FILES'`,
        bundle.replace(/\n$/, ""),
        `ETCD_PULUMI_FILES`,
        bootstrapState === "new"
            ? [
                  `if [ ! -d ${shq(`${s.dataDir}/member`)} ]; then`,
                  `  sed 's/^initial-cluster-state: existing$/initial-cluster-state: new/' ${shq(paths.configFile)} > ${shq(`${paths.configFile}.bootstrap`)}`,
                  `  chown root:${ETCD_USER} ${shq(`${paths.configFile}.bootstrap`)}; chmod 0640 ${shq(`${paths.configFile}.bootstrap`)}`,
                  `  mv -f ${shq(`${paths.configFile}.bootstrap`)} ${shq(paths.configFile)}`,
                  `  log "empty data dir: this member bootstraps a new cluster"`,
                  `fi`,
              ].join("\n")
            : `:`,
        // Only a changed unit needs systemd to reload (a reload costs seconds on a busy host); a reload
        // also gives a running timer its new schedule.
        `if [ "$systemd_changed" = 1 ]; then systemctl daemon-reload; fi`,
        `log "$changed file(s) changed"`,
    ];
}

/** Standalone files step (host-level tests). */
export function filesScript(s: ClusterSettings, m: MemberSettings, paths: HostPaths, bootstrapState: "new" | "existing", bundle: string): string {
    return script({ host: m.name, step: "files" }, filesLines(s, paths, bootstrapState, bundle));
}

/**
 * Everything a member host needs before etcd (re)starts, in one SSH session: user and directories, the
 * verified release, then config, unit, certificates and keys (the bundle; secret).
 */
export function configureScript(
    s: ClusterSettings,
    m: MemberSettings,
    paths: HostPaths,
    c: { sha256: string; bootstrapState: "new" | "existing"; bundle: string; probeNewCa?: NewCaProbe },
): string {
    return script({ host: m.name, step: "prepare" }, [
        ...prepareLines(s, paths),
        ...backupPrepareLines(s.backup),
        phase(m, "install"),
        ...installLines(s, m, paths, c.sha256),
        ...(c.probeNewCa ? [phase(m, "check-new-ca"), ...newCaProbeLines(s, paths, c.probeNewCa)] : []),
        phase(m, "files"),
        ...filesLines(s, paths, c.bootstrapState, c.bundle),
    ]);
}

/** A client certificate from a new CA, and the bundle to check servers with (CA rotation, phase reissue). */
export interface NewCaProbe {
    caBundle: string;
    clientCert: string;
    clientKey: string;
}

/**
 * Before this host swaps in certificates from a new CA: every member of the cluster must already accept
 * one (its running etcd trusts the new CA, i.e. phase trust-both finished everywhere); otherwise the
 * members that still trust only the old CA would refuse this one's new peer certificate.
 */
function newCaProbeLines(s: ClusterSettings, paths: HostPaths, p: NewCaProbe): string[] {
    const b64 = (v: string) => shq(Buffer.from(v, "utf8").toString("base64"));
    return [
        ...etcdctlHelpers(s, paths),
        `probe=$(mktemp -d); trap 'rm -rf "$probe"' EXIT`,
        `printf '%s' ${b64(p.caBundle)} | base64 -d > "$probe/ca.crt"; printf '%s' ${b64(p.clientCert)} | base64 -d > "$probe/client.crt"; printf '%s' ${b64(p.clientKey)} | base64 -d > "$probe/client.key"`,
        `urls=$(etcdctl_tls --endpoints="$LOCAL_ENDPOINT" member list -w simple | awk -F', ' '$5 != "" { print $3 "=" $5 }') || fail "cannot list the members through the local etcd"`,
        `for entry in $urls; do`,
        `  ${shq(`${paths.binDir}/etcdctl`)} --cacert="$probe/ca.crt" --cert="$probe/client.crt" --key="$probe/client.key" --dial-timeout=3s --command-timeout=5s --endpoints="\${entry#*=}" endpoint health >/dev/null 2>&1 ||`,
        `    fail "member \${entry%%=*} does not accept certificates from the new CA yet (phase trust-both has not finished there); set caRotation: trust-both, run pulumi up until it succeeds, then reissue"`,
        `done`,
        `log "every member accepts certificates from the new CA"`,
    ];
}

/** Undoes configure: files, binaries, staged archive; the data dir, WAL dir and etcd user only when purge is set. */
export function configureDeleteScript(s: ClusterSettings, m: MemberSettings, paths: HostPaths, files: string[], purge = s.purgeDataOnDestroy): string {
    const body = [
        `systemctl disable --now ${SNAPSHOT_TIMER} >/dev/null 2>&1 || true`,
        ...backupRemoveLines(),
        ...maintenanceRemoveLines(),
        ...files.map((f) => `rm -f ${shq(f)}`),
        `systemctl daemon-reload || true`,
        `for b in etcd etcdctl etcdutl; do l=${shq(paths.binDir)}/"$b"; if [ -L "$l" ] && readlink "$l" | grep -q ${shq(`^${paths.installRoot}/`)}; then rm -f "$l"; fi; done`,
        `rm -rf ${shq(paths.installRoot)}`,
        `rm -f ${stagedArchiveOnHost(s, m, paths)}`,
        `rmdir ${shq(paths.pkiDir)} ${shq(paths.configDir)} ${shq(paths.toolDir)} 2>/dev/null || true`,
    ];
    if (purge) {
        body.push(
            `systemctl stop etcd 2>/dev/null || true`,
            ...[s.dataDir, ...(s.walDir ? [s.walDir] : []), INCARNATION_FILE.replace(/\/[^/]*$/, "")].map((d) => `rm -rf ${shq(d)}`),
            `getent passwd ${ETCD_USER} >/dev/null && userdel ${ETCD_USER} || true`,
            `getent group ${ETCD_USER} >/dev/null && groupdel ${ETCD_USER} || true`,
            `log "configuration, certificates and binaries removed; data purged"`,
        );
    } else {
        body.push(`log "configuration, certificates and binaries removed; data dir ${s.dataDir} kept (purgeDataOnDestroy is off)"`);
    }
    return script({ host: m.name, step: "remove" }, body);
}

/**
 * Brings etcd on this host to its desired state, deciding on the host (not from a hash in the command
 * text) whether a restart is needed: only when what etcd reads at start (config, unit, trusted CA,
 * binary) differs from what the running etcd was started with (recorded at each start by the unit's
 * ExecStartPre, see startInputs.ts). So no SSH, timeout or script-text change can restart anything.
 *
 * mode "bootstrap" (first creation): a stopped member is started without waiting (a lone member of a
 * new cluster cannot finish starting until a quorum runs; the ready step waits). mode "converge": a
 * stopped member is started and waited for; a running one is restarted only if needed, and only while
 * the whole cluster is healthy, then waited for until healthy, caught up and under one leader.
 */
export function serviceScript(s: ClusterSettings, m: MemberSettings, paths: HostPaths, mode: "bootstrap" | "converge", joinFirst: string[] = []): string {
    const t = s.healthTimeoutSeconds;
    const waitHealthy = [
        `wait_for ${t} serving --endpoints="$LOCAL_ENDPOINT" || { recent_log >&2; fail "member ${m.name} not healthy ${t}s after $what: $WAIT_OUT"; }`,
        `wait_for ${t} one_leader || fail "no single leader across the cluster after $what ${m.name}: $WAIT_OUT"`,
        `wait_for ${t} caught_up || fail "member ${m.name} did not catch up with the cluster's raft index within ${t}s"`,
    ];
    return script({ host: m.name, step: mode === "bootstrap" ? "start" : "restart" }, [
        ...etcdctlHelpers(s, paths),
        // A member that joins a running cluster is added (and promoted) first: membership.ts joinLines.
        ...joinFirst,
        `systemctl enable etcd.service >/dev/null 2>&1`,
        // Scheduled snapshots run wherever etcd runs (render/scheduledSnapshot.ts).
        `systemctl is-enabled --quiet ${SNAPSHOT_TIMER} && systemctl is-active --quiet ${SNAPSHOT_TIMER} || systemctl enable --now ${SNAPSHOT_TIMER} >/dev/null 2>&1`,
        // So do the off-host backups (backup/), when set.
        ...backupServiceLines(s.backup),
        // So does the maintenance check (maintenance/): defragmentation and NOSPACE recovery.
        ...maintenanceServiceLines(),
        `if ! systemctl is-active --quiet etcd.service; then`,
        `  what="starting"`,
        ...(mode === "bootstrap"
            ? // A member of a cluster being created cannot finish starting until a quorum runs: do not wait.
              [`  systemctl start --no-block etcd.service`, `  log "etcd start queued"`]
            : [
                  // Type=notify: the start returns once etcd has joined and serves.
                  `  timeout ${t} systemctl start etcd.service || { recent_log >&2; fail "etcd did not start within ${t}s"; }`,
                  ...waitHealthy.map((l) => `  ${l}`),
                  `  log "etcd was not running: started; member healthy and caught up"`,
              ]),
        `  exit 0`,
        `fi`,
        `changed=$(${shq(paths.startInputsTool)} changed)`,
        `if [ -z "$changed" ]; then log "etcd runs with its current config, unit, CA and binary: no restart"; exit 0; fi`,
        `what="restarting ($changed changed)"`,
        `wait_for ${t} cluster_health || fail "cluster not healthy before restarting ${m.name} for changed $changed; refusing (a restart now could cost quorum): $WAIT_OUT"`,
        // A leader hands over first, so clients see a leadership transfer instead of an election timeout.
        `if [ "$(leader_is_local)" = yes ]; then`,
        `  to=$(etcdctl_tls --endpoints="$LOCAL_ENDPOINT" member list -w simple | awk -F', ' -v n=${shq(m.name)} '$3 != n && $2 == "started" && $6 == "false" { print $1; exit }')`,
        `  if [ -n "$to" ] && etcdctl_tls --endpoints="$LOCAL_ENDPOINT" move-leader "$to" >/dev/null 2>&1; then log "leadership moved to $to"; else log "could not move leadership away; restarting anyway"; fi`,
        `fi`,
        // Type=notify: the restart returns once the new etcd has joined and serves (never an old process answering).
        `timeout ${t} systemctl restart etcd.service || { recent_log >&2; fail "etcd did not come back within ${t}s of $what"; }`,
        ...waitHealthy,
        `log "restarted ($changed changed); member healthy and caught up, cluster has a leader"`,
    ]);
}

/**
 * Stops and disables etcd (a member leaving the cluster, or destroy). The data dir stays, but no longer
 * counts as this member's: if the member is added again later, its join moves that data aside.
 */
export function stopScript(m: MemberSettings): string {
    return script({ host: m.name, step: "stop" }, [
        `if systemctl list-unit-files etcd.service >/dev/null 2>&1; then systemctl disable --now etcd.service >/dev/null 2>&1 || true; fi`,
        `rm -f ${shq(INCARNATION_FILE)}`,
        `log "etcd stopped and disabled"`,
    ]);
}

/**
 * After all members were started: bounded wait until this member and the whole cluster are healthy over
 * TLS, then persist `initial-cluster-state: existing`.
 */
export function readyScript(s: ClusterSettings, m: MemberSettings, paths: HostPaths): string {
    const t = s.healthTimeoutSeconds;
    return script({ host: m.name, step: "wait-healthy" }, [
        ...etcdctlHelpers(s, paths),
        `wait_for ${t} serving --endpoints="$LOCAL_ENDPOINT" || { recent_log >&2; fail "member ${m.name} not healthy after ${t}s: $WAIT_OUT"; }`,
        `wait_for ${t} one_leader || { recent_log >&2; fail "cluster has no single leader after ${t}s (seen from ${m.name}): $WAIT_OUT"; }`,
        `if grep -q '^initial-cluster-state: new$' ${shq(paths.configFile)}; then`,
        `  sed 's/^initial-cluster-state: new$/initial-cluster-state: existing/' ${shq(paths.configFile)} > ${shq(`${paths.configFile}.ready`)}`,
        `  chown root:${ETCD_USER} ${shq(`${paths.configFile}.ready`)}; chmod 0640 ${shq(`${paths.configFile}.ready`)}`,
        `  mv -f ${shq(`${paths.configFile}.ready`)} ${shq(paths.configFile)}`,
        `fi`,
        `log "member healthy; initial-cluster-state is existing"`,
    ]);
}

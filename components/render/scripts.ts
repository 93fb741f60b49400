/**
 * Every script that runs on a member host. Each is idempotent: running it twice leaves the host as
 * running it once does. Each fails loudly, naming the host and the step (see shell.ts).
 */
import { ClusterSettings, MemberSettings, releaseArchiveName, releaseDirName } from "../settings";
import { HostPaths } from "./paths";
import { script, shq } from "./shell";

const ETCD_USER = "etcd";

/** Bash helpers shared by the scripts that talk to etcd: TLS etcdctl and a bounded wait. */
export function etcdctlHelpers(s: ClusterSettings, paths: HostPaths): string[] {
    return [
        `etcdctl_tls() { ${shq(`${paths.binDir}/etcdctl`)} --cacert=${shq(paths.caCert)} --cert=${shq(paths.clientCert)} --key=${shq(paths.clientKey)} --dial-timeout=3s --command-timeout=5s "$@"; }`,
        `LOCAL_ENDPOINT=${shq(`https://127.0.0.1:${s.clientPort}`)}`,
        // wait_for SECONDS CMD...: retry CMD every 2 s until it succeeds or the time is up; the last output is kept in $WAIT_OUT.
        `wait_for() { local limit=$1; shift; local deadline=$((SECONDS + limit)); while true; do if WAIT_OUT=$("$@" 2>&1); then return 0; fi; if (( SECONDS >= deadline )); then return 1; fi; sleep 2; done; }`,
        // cluster_health: every member in the member list answers healthy (asked through the local member).
        `cluster_health() { etcdctl_tls --endpoints="$LOCAL_ENDPOINT" endpoint health --cluster; }`,
        // one_leader: every member answers and all name the same non-zero leader.
        `one_leader() { local out; out=$(etcdctl_tls --endpoints="$LOCAL_ENDPOINT" endpoint status --cluster -w json) || return 1; local leaders; leaders=$(printf '%s' "$out" | grep -o '"leader":[0-9]*' | sort -u); [ -n "$leaders" ] && [ "$(printf '%s\\n' "$leaders" | wc -l)" -eq 1 ] && [ "$leaders" != '"leader":0' ]; }`,
        `recent_log() { journalctl -u etcd -n 30 --no-pager 2>&1 || true; }`,
        // caught_up: the local member has applied everything the most advanced member had committed when asked.
        `caught_up() { local out target applied; out=$(etcdctl_tls --endpoints="$LOCAL_ENDPOINT" endpoint status --cluster -w json) || return 1; target=$(printf '%s' "$out" | grep -o '"raftIndex":[0-9]*' | cut -d: -f2 | sort -n | tail -1); applied=$(etcdctl_tls --endpoints="$LOCAL_ENDPOINT" endpoint status -w json | grep -o '"raftAppliedIndex":[0-9]*' | cut -d: -f2); [ -n "$target" ] && [ -n "$applied" ] && [ "$applied" -ge "$target" ]; }`,
        // member_field NAME FIELD: from 'member list -w simple' (ID, status, name, peer, client, learner).
        `member_field() { etcdctl_tls --endpoints="$LOCAL_ENDPOINT" member list -w simple | awk -F', ' -v n="$1" -v f="$2" '$3 == n { print $f }'; }`,
    ];
}

/** Creates the etcd system user and the directories; the staging dir belongs to the SSH user (for SFTP). */
export function prepareScript(s: ClusterSettings, m: MemberSettings, paths: HostPaths): string {
    const dirs = [s.dataDir, ...(s.walDir ? [s.walDir] : [])];
    return script({ host: m.name, step: "prepare" }, [
        `command -v systemctl >/dev/null || fail "systemd is required (systemctl not found)"`,
        `command -v sha256sum >/dev/null && command -v tar >/dev/null || fail "sha256sum and tar are required"`,
        `getent group ${ETCD_USER} >/dev/null || groupadd --system ${ETCD_USER}`,
        `getent passwd ${ETCD_USER} >/dev/null || useradd --system --gid ${ETCD_USER} --home-dir ${shq(s.dataDir)} --no-create-home --shell /usr/sbin/nologin --comment 'etcd (etcd-pulumi)' ${ETCD_USER}`,
        ...dirs.map((d) => `install -d -m 0700 -o ${ETCD_USER} -g ${ETCD_USER} ${shq(d)} && chmod 0700 ${shq(d)} && chown ${ETCD_USER}:${ETCD_USER} ${shq(d)}`),
        `install -d -m 0755 -o root -g root ${shq(paths.configDir)}`,
        `install -d -m 0750 -o root -g ${ETCD_USER} ${shq(paths.pkiDir)}`,
        `install -d -m 0700 -o ${shq(m.sshUser)} ${shq(paths.stagingDir)}`,
        `log "etcd user and directories ready"`,
    ]);
}

/** Undoes prepare. The data dir, WAL dir and etcd user go only when purge is set. */
export function prepareDeleteScript(s: ClusterSettings, m: MemberSettings, paths: HostPaths, purge = s.purgeDataOnDestroy): string {
    const body = [`rm -rf ${shq(paths.stagingDir)}`, `rmdir ${shq(paths.pkiDir)} ${shq(paths.configDir)} 2>/dev/null || true`];
    if (purge) {
        body.push(
            `systemctl stop etcd 2>/dev/null || true`,
            ...[s.dataDir, ...(s.walDir ? [s.walDir] : [])].map((d) => `rm -rf ${shq(d)}`),
            `getent passwd ${ETCD_USER} >/dev/null && userdel ${ETCD_USER} || true`,
            `getent group ${ETCD_USER} >/dev/null && groupdel ${ETCD_USER} || true`,
            `log "data purged"`,
        );
    } else {
        body.push(`log "data dir ${s.dataDir} kept (purgeDataOnDestroy is off)"`);
    }
    return script({ host: m.name, step: "prepare-delete" }, body);
}

/** Path the release archive is uploaded to. */
export function stagedArchivePath(s: ClusterSettings, paths: HostPaths): string {
    return `${paths.stagingDir}/${releaseArchiveName(s.version, s.arch)}`;
}

/**
 * Verifies the uploaded archive's SHA-256 on the host, unpacks it into a versioned directory and points
 * the binaries in binDir at it (atomic symlink swap). A version already installed from the same archive
 * is left alone.
 */
export function installScript(s: ClusterSettings, m: MemberSettings, paths: HostPaths, sha256: string): string {
    const archive = stagedArchivePath(s, paths);
    const target = `${paths.installRoot}/v${s.version}`;
    const stamp = `${target}/.archive-sha256`;
    return script({ host: m.name, step: "install" }, [
        `expected=${shq(sha256)}`,
        `if [ -f ${shq(stamp)} ] && [ "$(cat ${shq(stamp)})" = "$expected" ] && [ -x ${shq(`${target}/etcd`)} ]; then`,
        `  log "etcd ${s.version} already installed"`,
        `else`,
        `  [ -f ${shq(archive)} ] || fail "release archive ${archive} was not uploaded"`,
        `  actual=$(sha256sum ${shq(archive)} | cut -d' ' -f1)`,
        `  [ "$actual" = "$expected" ] || fail "checksum mismatch for ${archive}: expected $expected, got $actual"`,
        `  install -d -m 0755 ${shq(paths.installRoot)}`,
        `  tmp=$(mktemp -d ${shq(`${paths.installRoot}/.unpack.XXXXXX`)})`,
        `  tar -xzf ${shq(archive)} -C "$tmp"`,
        `  for b in etcd etcdctl etcdutl; do [ -x "$tmp/${releaseDirName(s.version, s.arch)}/$b" ] || fail "archive lacks $b"; done`,
        `  rm -rf ${shq(target)}`,
        `  install -d -m 0755 ${shq(target)}`,
        `  for b in etcd etcdctl etcdutl; do install -m 0755 -o root -g root "$tmp/${releaseDirName(s.version, s.arch)}/$b" ${shq(target)}/; done`,
        `  rm -rf "$tmp"`,
        `  printf '%s\\n' "$expected" > ${shq(stamp)}`,
        `  log "etcd ${s.version} unpacked into ${target}"`,
        `fi`,
        `reported=$(${shq(`${target}/etcd`)} --version 2>&1) || fail "${target}/etcd does not run: $reported"`,
        `case "$reported" in *${shq(`etcd Version: ${s.version}`)}*) ;; *) fail "${target}/etcd reports '$reported', expected version ${s.version}" ;; esac`,
        `for b in etcd etcdctl etcdutl; do ln -sfn ${shq(target)}/"$b" ${shq(paths.binDir)}/."$b".new && mv -Tf ${shq(paths.binDir)}/."$b".new ${shq(paths.binDir)}/"$b"; done`,
        `log "binaries in ${paths.binDir} point at ${target}"`,
    ]);
}

export function installDeleteScript(m: MemberSettings, paths: HostPaths): string {
    return script({ host: m.name, step: "install-delete" }, [
        `for b in etcd etcdctl etcdutl; do l=${shq(paths.binDir)}/"$b"; if [ -L "$l" ] && readlink "$l" | grep -q ${shq(`^${paths.installRoot}/`)}; then rm -f "$l"; fi; done`,
        `rm -rf ${shq(paths.installRoot)}`,
        `log "etcd binaries removed"`,
    ]);
}

/**
 * Writes the files carried on standard input, one per line: `PATH MODE OWNER:GROUP BASE64`. Each file is
 * written to a temp file in the same directory and renamed over the old one (atomic: etcd re-reads leaf
 * certificates on each handshake and never sees a half-written file). Unchanged files are not touched.
 *
 * `bootstrapState` is "new" only for the members of a cluster being created: while the member's data
 * dir is still empty, its config copy says `initial-cluster-state: new`; the ready step turns it back to
 * `existing` once the cluster is healthy.
 */
export function filesScript(s: ClusterSettings, m: MemberSettings, paths: HostPaths, bootstrapState: "new" | "existing"): string {
    return script({ host: m.name, step: "files" }, [
        `changed=0`,
        `while IFS=' ' read -r path mode owner data; do`,
        `  [ -n "$path" ] || continue`,
        `  dir=$(dirname "$path"); install -d -m 0755 "$dir"`,
        `  tmp=$(mktemp "$dir/.etcd-pulumi.XXXXXX")`,
        `  printf '%s' "$data" | base64 -d > "$tmp"`,
        `  chown "$owner" "$tmp"; chmod "$mode" "$tmp"`,
        `  if [ -f "$path" ] && cmp -s "$tmp" "$path" && [ "$(stat -c '%a %U:%G' "$path")" = "$(stat -c '%a %U:%G' "$tmp")" ]; then rm -f "$tmp"; else mv -f "$tmp" "$path"; echo "wrote $path"; changed=$((changed + 1)); fi`,
        `done`,
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
        `if [ "$changed" -gt 0 ]; then systemctl daemon-reload; fi`,
        `log "$changed file(s) changed"`,
    ]);
}

export function filesDeleteScript(m: MemberSettings, files: string[]): string {
    return script({ host: m.name, step: "files-delete" }, [
        ...files.map((f) => `rm -f ${shq(f)}`),
        `systemctl daemon-reload || true`,
        `log "configuration, certificates and unit removed"`,
    ]);
}

/** First start: enable and start without waiting (a lone member cannot finish starting until quorum forms). */
export function startScript(m: MemberSettings): string {
    return script({ host: m.name, step: "start" }, [
        `systemctl daemon-reload`,
        `systemctl enable etcd.service >/dev/null 2>&1`,
        `if systemctl is-active --quiet etcd.service; then log "etcd already running"; else systemctl start --no-block etcd.service; log "etcd start queued"; fi`,
    ]);
}

/**
 * Restart after a change to the config, unit, CA or binary: only when the cluster is healthy, then wait
 * until this member is healthy again and the cluster has one leader.
 */
export function restartScript(s: ClusterSettings, m: MemberSettings, paths: HostPaths): string {
    const t = s.healthTimeoutSeconds;
    return script({ host: m.name, step: "restart" }, [
        ...etcdctlHelpers(s, paths),
        `if systemctl is-active --quiet etcd.service; then`,
        `  wait_for ${t} cluster_health || fail "cluster not healthy before restarting ${m.name}; refusing to restart (would risk quorum): $WAIT_OUT"`,
        `fi`,
        `systemctl daemon-reload`,
        `systemctl enable etcd.service >/dev/null 2>&1`,
        `systemctl restart --no-block etcd.service`,
        `wait_for ${t} etcdctl_tls --endpoints="$LOCAL_ENDPOINT" endpoint health || { recent_log >&2; fail "member ${m.name} not healthy ${t}s after restart: $WAIT_OUT"; }`,
        `wait_for ${t} one_leader || fail "no single leader across the cluster after restarting ${m.name}: $WAIT_OUT"`,
        `wait_for ${t} caught_up || fail "member ${m.name} did not catch up with the cluster's raft index within ${t}s"`,
        `log "restarted; member healthy and caught up, cluster has a leader"`,
    ]);
}

export function stopScript(m: MemberSettings): string {
    return script({ host: m.name, step: "stop" }, [
        `if systemctl list-unit-files etcd.service >/dev/null 2>&1; then systemctl disable --now etcd.service >/dev/null 2>&1 || true; fi`,
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
        `wait_for ${t} etcdctl_tls --endpoints="$LOCAL_ENDPOINT" endpoint health || { recent_log >&2; fail "member ${m.name} not healthy after ${t}s: $WAIT_OUT"; }`,
        `wait_for ${t} one_leader || { recent_log >&2; fail "cluster has no single leader after ${t}s (seen from ${m.name}): $WAIT_OUT"; }`,
        `if grep -q '^initial-cluster-state: new$' ${shq(paths.configFile)}; then`,
        `  sed 's/^initial-cluster-state: new$/initial-cluster-state: existing/' ${shq(paths.configFile)} > ${shq(`${paths.configFile}.ready`)}`,
        `  chown root:${ETCD_USER} ${shq(`${paths.configFile}.ready`)}; chmod 0640 ${shq(`${paths.configFile}.ready`)}`,
        `  mv -f ${shq(`${paths.configFile}.ready`)} ${shq(paths.configFile)}`,
        `fi`,
        `log "member healthy; initial-cluster-state is existing"`,
    ]);
}

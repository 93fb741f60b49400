/**
 * Day-2 host scripts: the snapshot taken before an upgrade, the lines of a member's service step that
 * join it to a running cluster (learner add, promote), and the removal of members the config no longer
 * lists. Each is idempotent: a re-run after an interruption finishes the job.
 */
import { ClusterSettings, MemberSettings } from "../settings";
import { clientUrl, peerUrl } from "./config";
import { HostPaths } from "./paths";
import { etcdctlHelpers } from "./scripts";
import { script, shq } from "./shell";

export const BACKUP_DIR = "/var/lib/etcd-backups";

/** On one member: a snapshot, verified with etcdutl, keeping the newest `keep` files. */
export function snapshotScript(s: ClusterSettings, m: MemberSettings, paths: HostPaths, label: string, keep = 5): string {
    return script({ host: m.name, step: `snapshot ${label}` }, [
        ...etcdctlHelpers(s, paths),
        // Before the first deployment there is nothing to save.
        `if ! systemctl is-active --quiet etcd.service; then log "etcd is not running here yet: no snapshot needed"; exit 0; fi`,
        `install -d -m 0700 -o root -g root ${shq(BACKUP_DIR)}`,
        `f=${shq(`${BACKUP_DIR}/etcd-${label}-`)}"$(date -u +%Y%m%dT%H%M%SZ).db"`,
        `etcdctl_tls --endpoints="$LOCAL_ENDPOINT" --command-timeout=300s snapshot save "$f.part" >/dev/null`,
        `status=$(${shq(`${paths.binDir}/etcdutl`)} snapshot status "$f.part" -w json) || fail "snapshot $f does not verify: $status"`,
        `mv -f "$f.part" "$f"`,
        `ls -1t ${shq(BACKUP_DIR)}/etcd-*.db | tail -n +${keep + 1} | xargs -r rm -f`,
        `log "snapshot $f verified: $status"`,
    ]);
}

/** How a member's service step brings it into the cluster (from the record's bootstrap decision). */
export interface MemberStart {
    /** plan/bootstrap.ts incarnationOf: a new value means this host's old etcd data is never reused. */
    incarnation: string;
    /** For a member that joins a running cluster: the client URLs of the members it joins (itself excluded). */
    joinVia?: string[];
}

/**
 * Service-step lines for a member that joins a running cluster, run before the usual start/restart
 * logic. Idempotent, and resumable after an interruption at any point:
 *  1. once per incarnation (the host's incarnation file says which one its data belongs to): stop a
 *     stale etcd, move old data aside (never reused), remove an old member of this name or peer URL
 *     (through the members that stay, only while they are healthy), add this one as a learner, and
 *     record the incarnation;
 *  2. while it is a learner: start it and promote it once it is in sync (etcd refuses until then).
 */
export function joinLines(s: ClusterSettings, m: MemberSettings, paths: HostPaths, start: MemberStart): string[] {
    if (!start.joinVia) return [`[ -s ${shq(paths.incarnationFile)} ] || { install -d -m 0755 ${shq(dirOf(paths.incarnationFile))}; printf '%s\\n' ${shq(start.incarnation)} > ${shq(paths.incarnationFile)}; }`];
    const t = s.healthTimeoutSeconds;
    const dirs = [s.dataDir, ...(s.walDir ? [s.walDir] : [])];
    return [
        `ETCD_PULUMI_WHERE=${shq(`etcd-pulumi: [${m.name}] step join`)}`,
        `NAME=${shq(m.name)}; PEER=${shq(peerUrl(m, s))}; VIA=${shq(start.joinVia.join(","))}; WANT=${shq(start.incarnation)}`,
        `via() { etcdctl_tls --endpoints="$VIA" "$@"; }`,
        `by_peer() { via member list -w simple | awk -F', ' -v p="$PEER" -v f="$1" '$4 == p { print $f }'; }`,
        `if [ "$(cat ${shq(paths.incarnationFile)} 2>/dev/null || true)" != "$WANT" ]; then`,
        `  systemctl stop etcd.service 2>/dev/null || true`,
        ...dirs.map(
            (d) =>
                `  if [ -n "$(ls -A ${shq(d)} 2>/dev/null)" ]; then aside=${shq(d)}.replaced-$(date -u +%Y%m%dT%H%M%SZ); mv ${shq(d)} "$aside"; install -d -m 0700 -o etcd -g etcd ${shq(d)}; log "old data of this host moved aside to $aside (never reused)"; fi`,
        ),
        `  list=$(via member list -w simple 2>&1) || fail "cannot reach the cluster through $VIA to join it: $list"`,
        // An earlier incarnation of this member: same name, or same peer URL and already started (a learner added for this one has no name yet).
        `  stale=$(printf '%s\\n' "$list" | awk -F', ' -v n="$NAME" -v p="$PEER" '$3 == n || ($4 == p && $3 != "") { print $1 }')`,
        `  for id in $stale; do`,
        `    wait_for ${t} via endpoint health || fail "the members that stay are not all healthy; refusing to remove the old $NAME ($id): $WAIT_OUT"`,
        `    via member remove "$id" >/dev/null; log "old member $NAME ($id) removed"`,
        `  done`,
        `  if [ -z "$(by_peer 1)" ]; then`,
        `    if printf '%s\\n' "$list" | awk -F', ' -v p="$PEER" '$6 == "true" && $4 != p { found = 1 } END { exit !found }'; then fail "another learner is pending in the cluster; it must be promoted or removed before $NAME joins"; fi`,
        `    wait_for ${t} via endpoint health || fail "cluster not healthy; refusing to add $NAME: $WAIT_OUT"`,
        // etcd refuses ("unhealthy cluster") until its leader has seen every member for a while: retry, re-checking first.
        `    add_once() { [ -n "$(by_peer 1)" ] && return 0; via member add "$NAME" --peer-urls="$PEER" --learner; }`,
        `    wait_for ${t} add_once || fail "etcd refused to add $NAME: $WAIT_OUT"`,
        `    log "$NAME added as a learner"`,
        `  fi`,
        `  install -d -m 0755 ${shq(dirOf(paths.incarnationFile))}; printf '%s\\n' "$WANT" > ${shq(paths.incarnationFile)}`,
        `fi`,
        // A running voter answers health itself; otherwise ask the cluster whether this member is still a learner.
        `if systemctl is-active --quiet etcd.service && etcdctl_tls --endpoints="$LOCAL_ENDPOINT" endpoint health >/dev/null 2>&1; then learner=false; else learner=$(by_peer 6) || fail "cannot reach the cluster through $VIA to finish joining $NAME"; fi`,
        `if [ "$learner" = "true" ]; then`,
        `  systemctl enable etcd.service >/dev/null 2>&1`,
        // A learner cannot finish starting before it has the cluster's data: do not block on it.
        `  systemctl is-active --quiet etcd.service || systemctl start --no-block etcd.service`,
        `  id=$(by_peer 1)`,
        `  wait_for ${t} via member promote "$id" || { recent_log >&2; fail "learner $NAME not promoted within ${t}s (not in sync?): $WAIT_OUT"; }`,
        `  log "$NAME promoted to voting member"`,
        `  wait_for ${t} etcdctl_tls --endpoints="$LOCAL_ENDPOINT" endpoint health || { recent_log >&2; fail "member $NAME not healthy ${t}s after joining: $WAIT_OUT"; }`,
        `  wait_for ${t} one_leader || fail "no single leader across the cluster after $NAME joined: $WAIT_OUT"`,
        `fi`,
        `ETCD_PULUMI_WHERE=${shq(`etcd-pulumi: [${m.name}] step service`)}`,
    ];
}

const dirOf = (p: string) => p.replace(/\/[^/]*$/, "");

/**
 * On one host (the first member by name; configure gave it etcdctl and a client certificate): remove
 * from the cluster every member the config no longer lists, one at a time, each only while every
 * other member is healthy. Runs before any member's service step, so a leaving member is removed
 * before its service is stopped (its resources are deleted at the end of the run). A member whose name
 * stays but whose address changed is left to its own join (replacement: removed first, then joined).
 * `mode` "create": a host that has never run etcd and founds a new cluster has nothing to remove.
 */
export function pruneScript(s: ClusterSettings, runner: MemberSettings, paths: HostPaths, desired: MemberSettings[], mode: "create" | "update"): string {
    const t = s.healthTimeoutSeconds;
    const names = desired.map((m) => m.name).join(" ");
    const peers = desired.map((m) => peerUrl(m, s)).join(" ");
    return script({ host: runner.name, step: "remove-members" }, [
        ...etcdctlHelpers(s, paths),
        `ALL=${shq(desired.map((m) => clientUrl(m, s)).join(","))}`,
        `NAMES=${shq(` ${names} `)}; PEERS=${shq(` ${peers} `)}`,
        ...(mode === "create" ? [`if [ ! -s ${shq(paths.incarnationFile)} ] && ! systemctl is-active --quiet etcd.service; then log "a new cluster: no member to remove"; exit 0; fi`] : []),
        `list=$(etcdctl_tls --endpoints="$ALL" member list -w simple 2>&1) || fail "cannot reach the cluster through $ALL to remove members that left the config: $list"`,
        `leaving=$(printf '%s\\n' "$list" | awk -F', ' -v names="$NAMES" -v peers="$PEERS" '$1 != "" && index(names, " " $3 " ") == 0 && index(peers, " " $4 " ") == 0 { print $1 "=" $3 }')`,
        `if [ -z "$leaving" ]; then log "no member to remove"; exit 0; fi`,
        `for entry in $leaving; do`,
        `  id=\${entry%%=*}; name=\${entry#*=}`,
        // Health of the members the config keeps (other leaving or replaced members may be dead already).
        `  stay=$(etcdctl_tls --endpoints="$ALL" member list -w simple | awk -F', ' -v names="$NAMES" -v peers="$PEERS" '$5 != "" && index(names, " " $3 " ") > 0 && index(peers, " " $4 " ") > 0 { print $5 }' | paste -sd, -)`,
        `  wait_for ${t} etcdctl_tls --endpoints="$stay" endpoint health || fail "the members that stay are not all healthy; refusing to remove $name: $WAIT_OUT"`,
        `  etcdctl_tls --endpoints="$stay" member remove "$id" >/dev/null`,
        `  log "$name ($id) removed from the cluster"`,
        `done`,
    ]);
}

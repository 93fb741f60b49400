/**
 * Day-2 host scripts: adding a member as a learner and promoting it, removing a member, and the
 * snapshot taken before an upgrade. Each runs on a member that stays in the cluster (the "runner"),
 * except where noted, and is idempotent: a re-run after an interruption finishes the job.
 */
import { ClusterSettings, MemberSettings } from "../settings";
import { peerUrl } from "./config";
import { HostPaths } from "./paths";
import { etcdctlHelpers } from "./scripts";
import { script, shq } from "./shell";

/** On the runner: `member add --learner` for the joiner, unless it is already a member. */
export function memberAddScript(s: ClusterSettings, runner: MemberSettings, joiner: MemberSettings, paths: HostPaths): string {
    const t = s.healthTimeoutSeconds;
    return script({ host: runner.name, step: `add-member ${joiner.name}` }, [
        ...etcdctlHelpers(s, paths),
        `NAME=${shq(joiner.name)}; PEER=${shq(peerUrl(joiner, s))}`,
        `list=$(etcdctl_tls --endpoints="$LOCAL_ENDPOINT" member list -w simple) || fail "cannot list members: $list"`,
        `if printf '%s\\n' "$list" | awk -F', ' -v p="$PEER" '$4 == p { found = 1 } END { exit !found }'; then log "$NAME ($PEER) is already a member"; exit 0; fi`,
        `if printf '%s\\n' "$list" | awk -F', ' -v n="$NAME" '$3 == n { found = 1 } END { exit !found }'; then fail "a member named $NAME with another peer URL exists; remove it first"; fi`,
        `if printf '%s\\n' "$list" | awk -F', ' '$6 == "true" { found = 1 } END { exit !found }'; then fail "another learner is pending; it must be promoted or removed before $NAME is added"; fi`,
        `wait_for ${t} cluster_health || fail "cluster not healthy; refusing to add $NAME: $WAIT_OUT"`,
        // etcd itself refuses ("unhealthy cluster") until its leader has seen every member for a few
        // seconds, e.g. right after a restart: retry, re-checking first in case an earlier try went through.
        `add_once() { etcdctl_tls --endpoints="$LOCAL_ENDPOINT" member list -w simple | awk -F', ' -v p="$PEER" '$4 == p { found = 1 } END { exit !found }' && return 0; etcdctl_tls --endpoints="$LOCAL_ENDPOINT" member add "$NAME" --peer-urls="$PEER" --learner; }`,
        `wait_for ${t} add_once || fail "etcd refused to add $NAME: $WAIT_OUT"`,
        `log "$NAME added as a learner"`,
    ]);
}

/** On the runner: promote the joiner once its learner has caught up (etcd refuses until then). */
export function promoteScript(s: ClusterSettings, runner: MemberSettings, joiner: MemberSettings, paths: HostPaths): string {
    const t = s.healthTimeoutSeconds;
    return script({ host: runner.name, step: `promote ${joiner.name}` }, [
        ...etcdctlHelpers(s, paths),
        `NAME=${shq(joiner.name)}; PEER=${shq(peerUrl(joiner, s))}`,
        // By peer URL: a learner that has not published its name yet is listed without one.
        `by_peer() { etcdctl_tls --endpoints="$LOCAL_ENDPOINT" member list -w simple | awk -F', ' -v p="$PEER" -v f="$1" '$4 == p { print $f }'; }`,
        `id=$(by_peer 1); [ -n "$id" ] || fail "$NAME ($PEER) is not a member; add it first"`,
        `if [ "$(by_peer 6)" = "false" ]; then log "$NAME is already a voting member"; exit 0; fi`,
        `wait_for ${t} etcdctl_tls --endpoints="$LOCAL_ENDPOINT" member promote "$id" || fail "learner $NAME not promoted within ${t}s (not in sync?): $WAIT_OUT"`,
        `wait_for ${t} cluster_health || fail "cluster not healthy after promoting $NAME: $WAIT_OUT"`,
        `log "$NAME promoted to voting member"`,
    ]);
}

/**
 * On the runner: `member remove` for a leaving member, before its service is stopped. Refused unless
 * every other member is healthy (removing from a degraded cluster can cost quorum).
 */
export function memberRemoveScript(s: ClusterSettings, runner: MemberSettings, leaving: { name: string }, paths: HostPaths): string {
    const t = s.healthTimeoutSeconds;
    return script({ host: runner.name, step: `remove-member ${leaving.name}` }, [
        ...etcdctlHelpers(s, paths),
        `NAME=${shq(leaving.name)}`,
        `id=$(member_field "$NAME" 1)`,
        `if [ -z "$id" ]; then log "$NAME is not a member (already removed)"; exit 0; fi`,
        `others() { etcdctl_tls --endpoints="$LOCAL_ENDPOINT" member list -w simple | awk -F', ' -v n="$NAME" '$3 != n && $5 != "" { print $5 }' | paste -sd, -; }`,
        `wait_for ${t} etcdctl_tls --endpoints="$(others)" endpoint health || fail "the members that stay are not all healthy; refusing to remove $NAME: $WAIT_OUT"`,
        `etcdctl_tls --endpoints="$LOCAL_ENDPOINT" member remove "$id" >/dev/null`,
        `log "$NAME removed from the cluster"`,
    ]);
}

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

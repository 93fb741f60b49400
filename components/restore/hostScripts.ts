/**
 * The host side of a restore (plan.ts decides it), in steps the cluster runs in order on every member
 * taking part: for a restore from the store, download, authenticate, decrypt and assemble the backup
 * into one verified snapshot (the backup's program, etcd-backup fetch-restore); verify the snapshot and
 * stop etcd (all members, before anyone restores: no member of the old cluster may still run when the
 * new one forms); restore the data dir from the snapshot and start without waiting (a lone member
 * cannot finish starting); then, on one member, wait until the restored cluster is healthy and every
 * member holds the same data. Each step is idempotent: a host stamps the restore it finished, and a
 * re-run after an interruption only does what is left.
 */
import { incarnationOf } from "../plan/bootstrap";
import { isStoreRestore, RESTORE_BUMP_REVISION, RestorePlan } from "./plan";
import { ClusterSettings, MemberSettings } from "../settings";
import { initialCluster, peerUrl } from "../render/config";
import { HostPaths } from "../render/paths";
import { etcdctlHelpers } from "../render/scripts";
import { script, shq } from "../render/shell";
import { BACKUP_PATHS } from "../backup/hostFiles";

/** The restore this host's data came from (written last by the data step). */
export const RESTORE_STAMP = "/var/lib/etcd-pulumi/restored";
/** The restore whose health gate passed (on the member that ran it). */
export const RESTORE_VERIFIED = "/var/lib/etcd-pulumi/restore-verified";

/** Where a snapshot file is uploaded, relative to the SSH user's home (next to the release archive). */
export function stagedSnapshotPath(paths: HostPaths, plan: Pick<RestorePlan, "id">): string {
    return `${paths.stagingDir}/restore-${plan.id}.db`;
}

/** Shell expression of the snapshot this host restores from: the uploaded file, or what fetch assembled from the store. */
function snapshotOnHost(m: MemberSettings, paths: HostPaths, plan: RestorePlan): string {
    return isStoreRestore(plan)
        ? shq(`${BACKUP_PATHS.restoreDir}/restore-${plan.id}.db`)
        : `"$(getent passwd ${shq(m.sshUser)} | cut -d: -f6)"/${shq(stagedSnapshotPath(paths, plan))}`;
}

/** The snapshot file restoreFrom names must be the one uploaded; one fetched from the store was authenticated object by object there (and appears only complete). */
function shaCheck(plan: RestorePlan): string[] {
    if (isStoreRestore(plan)) return [];
    return [
        `actual=$(sha256sum "$f" | cut -d' ' -f1)`,
        `[ "$actual" = ${shq(plan.sha256)} ] || fail "snapshot $f is not the file restoreFrom names (sha256 $actual, expected ${plan.sha256}); run pulumi up again"`,
    ];
}

/** Whether this member (this incarnation of it) takes part in the restore. */
export function takesPart(plan: RestorePlan | null, m: MemberSettings): plan is RestorePlan {
    return !!plan && plan.members.some((p) => p.name === m.name && p.incarnation === incarnationOf(m));
}

function notPart(m: MemberSettings, step: string, plan: RestorePlan | null): string {
    return script({ host: m.name, step }, [
        `log ${shq(plan ? `this member was not part of restore ${plan.id} (it joined later): nothing to do` : "no restore was asked for: nothing to do")}`,
    ]);
}

const stampIs = (file: string, id: string) => `[ "$(cat ${shq(file)} 2>/dev/null || true)" = ${shq(id)} ]`;

/**
 * Step 0 of a restore from the store, every member: one verified snapshot from the backup (full base,
 * then deltas), made by the backup's own program. Nothing stops here; a wrong key or a tampered object
 * fails this step.
 */
export function restoreFetchScript(m: MemberSettings, plan: RestorePlan | null): string {
    if (!takesPart(plan, m)) return notPart(m, "restore-fetch", plan);
    if (!isStoreRestore(plan)) return script({ host: m.name, step: "restore-fetch" }, [`log "restore ${plan.id} comes from a file: nothing to fetch"`]);
    return script({ host: m.name, step: "restore-fetch" }, [
        `if ${stampIs(RESTORE_STAMP, plan.id)}; then log "restore ${plan.id} already done on this host"; exit 0; fi`,
        `[ -x ${shq(BACKUP_PATHS.program)} ] || fail "the backup program is not installed (is backup set in the stack config?)"`,
        `${shq(BACKUP_PATHS.program)} fetch-restore ${shq(plan.id)} ${plan.revision} ${plan.totalKey} ${plan.objects.map(shq).join(" ")} || fail "could not rebuild the backup from ${plan.store}; nothing was stopped"`,
    ]);
}

/** Step 1, every member: the snapshot is the one asked for and etcdutl reads it; then etcd stops. */
export function restoreStopScript(m: MemberSettings, paths: HostPaths, plan: RestorePlan | null): string {
    if (!takesPart(plan, m)) return notPart(m, "restore-stop", plan);
    return script({ host: m.name, step: "restore-stop" }, [
        `if ${stampIs(RESTORE_STAMP, plan.id)}; then log "restore ${plan.id} already done on this host: etcd keeps running"; exit 0; fi`,
        `f=${snapshotOnHost(m, paths, plan)}`,
        `[ -f "$f" ] || fail "snapshot $f is not here; run pulumi up again"`,
        ...shaCheck(plan),
        `status=$(${shq(`${paths.binDir}/etcdutl`)} snapshot status "$f" -w json 2>&1) || fail "etcdutl snapshot status rejects $f: $(printf '%s' "$status" | tail -n 1)"`,
        `log "snapshot verified: $(printf '%s' "$status" | tail -n 1)"`,
        `systemctl stop etcd.service 2>/dev/null || true`,
        `! systemctl is-active --quiet etcd.service || fail "etcd is still running after systemctl stop"`,
        `log "etcd stopped for restore ${plan.id}"`,
    ]);
}

/**
 * Step 2, every member, once every member has stopped: old data aside (never deleted), the data dir
 * restored from the snapshot as a member of the new cluster, then etcd started without waiting.
 */
export function restoreDataScript(s: ClusterSettings, m: MemberSettings, paths: HostPaths, plan: RestorePlan | null): string {
    if (!takesPart(plan, m)) return notPart(m, "restore-data", plan);
    const dirs = [s.dataDir, ...(s.walDir ? [s.walDir] : [])];
    const me = plan.members.find((p) => p.name === m.name)!;
    return script({ host: m.name, step: "restore-data" }, [
        // Done earlier (a re-run): only make sure etcd runs, as the restore left it.
        `if ${stampIs(RESTORE_STAMP, plan.id)}; then systemctl is-active --quiet etcd.service || systemctl start --no-block etcd.service; log "restore ${plan.id} already done on this host"; exit 0; fi`,
        `f=${snapshotOnHost(m, paths, plan)}`,
        `[ -f "$f" ] || fail "snapshot $f is not here; run pulumi up again"`,
        `systemctl stop etcd.service 2>/dev/null || true`,
        `! systemctl is-active --quiet etcd.service || fail "etcd is still running; refusing to replace its data"`,
        `when=$(date -u +%Y%m%dT%H%M%SZ)`,
        ...dirs.map(
            (d) =>
                `if [ -n "$(ls -A ${shq(d)} 2>/dev/null)" ]; then mv -T ${shq(d)} ${shq(`${d}.before-restore-`)}"$when"; log "data in ${d} moved aside to ${d}.before-restore-$when"; else rm -rf ${shq(d)}; fi`,
        ),
        // A partial restore of an interrupted run is our own output: start it over.
        `tmp=${shq(`${s.dataDir}.restoring`)}; rm -rf "$tmp" "$tmp.wal"`,
        // A backup assembled from deltas is the assembly etcd's own database, without a snapshot hash (fetch marks it .raw).
        `skip_hash=""; if [ -f "$f.raw" ]; then skip_hash=yes; fi`,
        `out=$(${shq(`${paths.binDir}/etcdutl`)} snapshot restore "$f" --name ${shq(m.name)} --initial-cluster ${shq(initialCluster(plan.members, s))} \\`,
        `  --initial-cluster-token ${shq(plan.clusterToken)} --initial-advertise-peer-urls ${shq(peerUrl(me, s))} --data-dir "$tmp" ${s.walDir ? `--wal-dir "$tmp.wal" ` : ""}\\`,
        `  --bump-revision ${RESTORE_BUMP_REVISION} --mark-compacted \${skip_hash:+--skip-hash-check} 2>&1) || fail "etcdutl snapshot restore failed: $(printf '%s' "$out" | grep -v '^{' | tail -n 2 | paste -sd' ' -)"`,
        `chown -R etcd:etcd "$tmp"${s.walDir ? ` "$tmp.wal"` : ""}; chmod 0700 "$tmp"${s.walDir ? ` "$tmp.wal"` : ""}`,
        `mv -T "$tmp" ${shq(s.dataDir)}`,
        ...(s.walDir ? [`mv -T "$tmp.wal" ${shq(s.walDir)}`] : []),
        // The restored data belongs to this incarnation of the member (a later join must not move it aside).
        `install -d -m 0755 ${shq(dirOf(paths.incarnationFile))}`,
        `printf '%s\\n' ${shq(me.incarnation)} > ${shq(paths.incarnationFile)}`,
        `printf '%s\\n' ${shq(plan.id)} > ${shq(RESTORE_STAMP)}`,
        `rm -f "$f" "$f.raw"`,
        `systemctl enable etcd.service >/dev/null 2>&1`,
        // A member of the restored cluster cannot finish starting until a quorum runs: do not wait here (step 3 does).
        `systemctl start --no-block etcd.service`,
        `log "data dir restored from the snapshot (restore ${plan.id}); etcd start queued"`,
    ]);
}

/** Step 3, on one member of the restore: every restored member healthy and voting, one leader, revision bumped. */
export function restoreHealthScript(s: ClusterSettings, m: MemberSettings, paths: HostPaths, plan: RestorePlan | null): string {
    if (!takesPart(plan, m)) return notPart(m, "restore-health", plan);
    const t = s.healthTimeoutSeconds;
    const names = plan.members.map((p) => p.name).sort().join(" ");
    return script({ host: m.name, step: "restore-health" }, [
        ...etcdctlHelpers(s, paths),
        `if ${stampIs(RESTORE_VERIFIED, plan.id)}; then log "restore ${plan.id} was verified earlier"; exit 0; fi`,
        `${stampIs(RESTORE_STAMP, plan.id)} || fail "this host's data is not from restore ${plan.id}; run pulumi up again"`,
        `wait_for ${t} cluster_health || { recent_log >&2; fail "restored cluster not healthy within ${t}s: $WAIT_OUT"; }`,
        `wait_for ${t} one_leader || fail "restored cluster has no single leader within ${t}s: $WAIT_OUT"`,
        `voters=$(etcdctl_tls --endpoints="$LOCAL_ENDPOINT" member list -w simple | awk -F', ' '$2 == "started" && $6 == "false" { print $3 }' | sort | paste -sd' ' -)`,
        `[ "$voters" = ${shq(names)} ] || fail "restored cluster has voting members '$voters', expected '${names}'"`,
        `rev=$(etcdctl_tls --endpoints="$LOCAL_ENDPOINT" endpoint status -w json | grep -o '"revision":[0-9]*' | head -1 | cut -d: -f2)`,
        `[ -n "$rev" ] && [ "$rev" -gt ${RESTORE_BUMP_REVISION} ] || fail "restored revision $rev is not above the bump (${RESTORE_BUMP_REVISION}): the restore did not take"`,
        // Every member restored its own copy: the same data everywhere, or the restore is not done.
        `hashes=$(etcdctl_tls --endpoints="$LOCAL_ENDPOINT" endpoint hashkv --cluster --rev="$rev" -w json | grep -o '"hash":[0-9]*' | sort -u | wc -l)`,
        `[ "$hashes" = 1 ] || fail "the restored members hold different data at revision $rev ($hashes different hashes); do not use this cluster: restore again"`,
        `printf '%s\\n' ${shq(plan.id)} > ${shq(RESTORE_VERIFIED)}`,
        `log "restored cluster healthy: members ${names}, one leader, revision $rev, the same data on every member"`,
    ]);
}

const dirOf = (p: string) => p.replace(/\/[^/]*$/, "");

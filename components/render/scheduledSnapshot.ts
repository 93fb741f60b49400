/**
 * Scheduled, verified snapshots on every member: a systemd timer starts a oneshot service that saves a
 * snapshot of the local member (TLS to 127.0.0.1, the host's etcdctl client certificate), verifies it
 * with `etcdutl snapshot status`, keeps the newest N and records the last success where monitoring can
 * read it. `systemctl start etcd-snapshot.service` takes one at once.
 */
import { ClusterSettings } from "../settings";
import { HostPaths } from "./paths";
import { shq } from "./shell";

export const SNAPSHOT_SERVICE = "etcd-snapshot.service";
export const SNAPSHOT_TIMER = "etcd-snapshot.timer";
/** Scheduled snapshots only (the pre-upgrade ones live one level up, with their own retention). */
export const SCHEDULED_SNAPSHOT_DIR = "/var/lib/etcd-backups/scheduled";
/** The last successful snapshot, as JSON (time, revision, size, file); world-readable, for monitoring. */
export const LAST_SNAPSHOT_FILE = "/var/lib/etcd-pulumi/last-snapshot.json";

/** The script the service runs. A failure exits non-zero with the reason and never deletes a good snapshot. */
export function renderSnapshotTool(s: ClusterSettings, paths: HostPaths): string {
    const etcdctl = (timeout: string) =>
        `${shq(`${paths.binDir}/etcdctl`)} --cacert=${shq(paths.caCert)} --cert=${shq(paths.clientCert)} --key=${shq(paths.clientKey)} --endpoints=${shq(`https://127.0.0.1:${s.clientPort}`)} --dial-timeout=5s --command-timeout=${timeout}`;
    return `#!/bin/bash
# Managed by etcd-pulumi: takes, verifies and rotates a snapshot of the local etcd member.
set -euo pipefail
umask 077
dir=${shq(SCHEDULED_SNAPSHOT_DIR)}
keep=${s.snapshotRetention}
fail() { echo "etcd-snapshot on $(hostname): $*" >&2; exit 1; }
install -d -m 0700 -o root -g root "$dir"
# Nanoseconds in the name: two snapshots in one second (by hand, right after the timer) are two files.
f="$dir/etcd-$(date -u +%Y%m%dT%H%M%S.%NZ).db"
trap 'rm -f "$f.part"' EXIT
# A member that does not answer fails at once (snapshot save alone would retry until its timeout).
health=$(${etcdctl("10s")} endpoint health 2>&1) || fail "the local member is not healthy, no snapshot taken: $(printf '%s' "$health" | tail -n 1)"
${etcdctl("600s")} snapshot save "$f.part" >/dev/null 2>"$f.err" || { msg=$(tail -n 3 "$f.err"); rm -f "$f.err"; fail "snapshot save failed: $msg"; }
rm -f "$f.err"
status=$(${shq(`${paths.binDir}/etcdutl`)} snapshot status "$f.part" -w json 2>&1) || fail "snapshot does not verify: $status"
revision=$(printf '%s' "$status" | grep -o '"revision":[0-9]*' | cut -d: -f2)
[ -n "$revision" ] || fail "snapshot status without a revision: $status"
mv -f "$f.part" "$f"
# Retention only after a verified success: a failure never removes a good snapshot.
ls -1t "$dir"/etcd-*.db | tail -n +$((keep + 1)) | xargs -r rm -f
size=$(stat -c %s "$f")
install -d -m 0755 "$(dirname ${shq(LAST_SNAPSHOT_FILE)})"
printf '{"time":"%s","revision":%s,"size":%s,"file":"%s"}\\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$revision" "$size" "$f" > ${shq(`${LAST_SNAPSHOT_FILE}.tmp`)}
chmod 0644 ${shq(`${LAST_SNAPSHOT_FILE}.tmp`)}
mv -f ${shq(`${LAST_SNAPSHOT_FILE}.tmp`)} ${shq(LAST_SNAPSHOT_FILE)}
echo "etcd-snapshot: $f verified (revision $revision, $size bytes); keeping the newest $keep"
`;
}

export function renderSnapshotService(paths: HostPaths): string {
    return `# Managed by etcd-pulumi.
[Unit]
Description=Verified snapshot of the local etcd member (etcd-pulumi)
After=etcd.service

[Service]
Type=oneshot
TimeoutStartSec=30min
ExecStart=${paths.snapshotTool}
Nice=10
IOSchedulingClass=idle
`;
}

export function renderSnapshotTimer(s: ClusterSettings): string {
    return `# Managed by etcd-pulumi.
[Unit]
Description=Scheduled etcd snapshot (etcd-pulumi)

[Timer]
OnCalendar=${s.snapshotSchedule}
RandomizedDelaySec=60
Persistent=true

[Install]
WantedBy=timers.target
`;
}

/** The three files of the scheduled snapshot, as memberFiles takes them. */
export function scheduledSnapshotFiles(s: ClusterSettings, paths: HostPaths): { snapshotTool: string; snapshotService: string; snapshotTimer: string } {
    return { snapshotTool: renderSnapshotTool(s, paths), snapshotService: renderSnapshotService(paths), snapshotTimer: renderSnapshotTimer(s) };
}

/**
 * Whether the cluster needs attention, and why (pure): one line per finding, naming the member and what to
 * do. Any finding makes `npm run status` exit 1.
 */
import { ClusterObservation, JobRecord } from "./observations";

export interface VerdictOptions {
    now: Date;
    certRenewBeforeHours: number;
    /** An off-host backup older than this needs attention. */
    backupMaxAgeSeconds: number;
}

/** The newest off-host backup any member recorded (only the leader uploads), and which member recorded it. */
export function newestBackup(o: ClusterObservation): { record: JobRecord; by: string } | undefined {
    let best: { record: JobRecord; by: string } | undefined;
    for (const m of o.members) {
        const r = m.host?.lastBackup;
        if (r && (!best || Date.parse(r.time) > Date.parse(best.record.time))) best = { record: r, by: m.name };
    }
    return best;
}

/** The member every answering member names as leader; undefined when none does or they disagree. */
export function leaderOf(o: ClusterObservation): { name: string; id: string } | undefined {
    const ids = new Set(o.members.map((m) => m.status?.leader).filter((l): l is string => l !== undefined && l !== "0"));
    if (ids.size !== 1) return undefined;
    const id = [...ids][0];
    const byStatus = o.members.find((m) => m.status?.memberId === id);
    const byList = o.memberList?.find((m) => m.id === id);
    return { id, name: byStatus?.name ?? byList?.name ?? `member ${id}` };
}

export function defaultBackupMaxAgeSeconds(rpoSeconds: number): number {
    // Ten times the RPO (5 minutes at the default 30 s): several missed runs in a row, not one slow upload.
    return Math.max(300, 10 * rpoSeconds);
}

const hours = (ms: number) => ms / 3_600_000;

export function attention(o: ClusterObservation, opts: VerdictOptions): string[] {
    const out: string[] = [];
    const now = opts.now.getTime();
    for (const m of o.members) {
        if (!m.status) out.push(`${m.name}: unreachable over TLS at ${m.clientUrl} (${m.statusError ?? "no answer"}); check the host and etcd (journalctl -u etcd)`);
        else if (m.health && !m.health.health) out.push(`${m.name}: unhealthy (${m.health.error ?? "endpoint health is false"})`);
        if (m.status?.isLearner) out.push(`${m.name}: still a learner (not a voting member); run pulumi up to finish its join`);
        for (const a of m.alarms) out.push(`${m.name}: alarm ${a} raised; ${a === "NOSPACE" ? "the database is over its quota and refuses writes: compact and defragment, or raise quotaBackendBytes" : "see etcd's log on that member"}`);
        if (m.hostError) out.push(`${m.name}: its host did not answer over SSH (${m.hostError}); snapshot, backup and certificate columns unknown`);
        if (m.hostSkipped) out.push(`${m.name}: ${m.hostSkipped}, so its host was not asked; run pulumi up to apply the config (or undo the edit)`);
        for (const c of m.host?.certificates ?? []) {
            const left = hours(Date.parse(c.notAfter) - now);
            if (left < opts.certRenewBeforeHours) out.push(`${m.name}: ${c.name} certificate expires ${c.notAfter} (within certRenewBeforeHours, ${opts.certRenewBeforeHours} h); run pulumi up to renew it`);
        }
    }
    const answering = o.members.filter((m) => m.status);
    if (answering.length > 0 && !leaderOf(o)) {
        const named = [...new Set(answering.map((m) => m.status!.leader))];
        out.push(named.length > 1 ? `the members disagree about the leader (${named.join(", ")}): an election may be under way; run status again` : `no leader: the cluster has lost quorum or is electing; writes fail until it has one`);
    }
    const ids = new Set(o.members.map((m) => m.status?.memberId).filter(Boolean));
    for (const extra of o.memberList ?? []) {
        if (!o.members.some((m) => m.name === extra.name) && !ids.has(extra.id)) out.push(`the cluster's member list has ${extra.name || `an unstarted member ${extra.id}`} that the stack did not deploy; run pulumi up (it removes members the config does not list)`);
    }
    for (const c of o.certificates) {
        const left = hours(Date.parse(c.notAfter) - now);
        if (left >= opts.certRenewBeforeHours) continue;
        out.push(c.name === "CA" ? `the CA certificate expires ${c.notAfter}: rotate the CA (README "Day 2", caGeneration and caRotation)` : `the ${c.name} certificate expires ${c.notAfter} (within certRenewBeforeHours, ${opts.certRenewBeforeHours} h); run pulumi up to renew it`);
    }
    if (o.backup.configured) {
        const b = newestBackup(o);
        if (!b) out.push(`off-host backups are configured but no member recorded one (/var/lib/etcd-pulumi/last-backup.json); see journalctl -u etcd-backup.service on the leader`);
        else {
            const age = (now - Date.parse(b.record.time)) / 1000;
            if (age > opts.backupMaxAgeSeconds) out.push(`the newest off-host backup is ${Math.round(age)} s old (${b.record.time}, by ${b.by}), more than ${opts.backupMaxAgeSeconds} s; see journalctl -u etcd-backup.service on the leader`);
        }
    }
    return out;
}

/** The status table and the lines under it (pure). */
import { ClusterObservation, JobRecord } from "./observations";
import { leaderOf, newestBackup } from "./verdict";

export function humanBytes(n: number): string {
    const units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let v = n;
    let u = 0;
    while (v >= 1024 && u < units.length - 1) {
        v /= 1024;
        u++;
    }
    return u === 0 ? `${v} B` : `${v.toFixed(1)} ${units[u]}`;
}

export function humanAge(seconds: number): string {
    if (seconds < 0) return "in the future";
    if (seconds < 90) return `${Math.round(seconds)}s ago`;
    if (seconds < 5400) return `${Math.round(seconds / 60)}m ago`;
    if (seconds < 172800) return `${Math.round(seconds / 3600)}h ago`;
    return `${Math.round(seconds / 86400)}d ago`;
}

const when = (r: JobRecord | undefined, now: Date) => (r ? `${r.time.replace(/\.\d+Z$/, "Z")} (${humanAge((now.getTime() - Date.parse(r.time)) / 1000)})` : "none");

/** Days until a time, as the table shows it. */
function expiresIn(notAfter: string, now: Date): string {
    const days = (Date.parse(notAfter) - now.getTime()) / 86_400_000;
    return `${notAfter.slice(0, 10)} (${days < 1 ? `${Math.max(0, Math.round(days * 24))}h` : `${Math.floor(days)}d`})`;
}

function pad(rows: string[][]): string {
    const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
    return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join("  ").trimEnd()).join("\n");
}

export const COLUMNS = ["MEMBER", "ADDRESS", "HEALTH", "LEADER", "RAFT INDEX", "DB SIZE", "IN USE", "ALARMS", "VERSION", "LAST SNAPSHOT", "LAST BACKUP", "CERTS EXPIRE"];

export function renderStatus(stack: string, o: ClusterObservation, findings: string[], now: Date): string {
    const leader = leaderOf(o);
    const rows = o.members.map((m) => {
        const st = m.status;
        const health = !st ? "unreachable" : m.health?.health === false ? "UNHEALTHY" : st.isLearner ? "learner" : "healthy";
        const certs = m.host?.certificates ?? [];
        const soonest = certs.length ? certs.map((c) => c.notAfter).sort()[0] : undefined;
        const onHost = (v: string) => (m.host ? v : "?");
        return [
            m.name,
            m.address,
            health,
            st ? (leader && st.memberId === leader.id ? "leader" : "-") : "?",
            st ? String(st.raftIndex) : "?",
            st ? humanBytes(st.dbSize) : "?",
            st ? `${humanBytes(st.dbSizeInUse)}${st.dbSize > 0 ? ` (${Math.round((100 * st.dbSizeInUse) / st.dbSize)}%)` : ""}` : "?",
            st ? (m.alarms.length ? m.alarms.join(",") : "-") : "?",
            st ? st.version : "?",
            onHost(when(m.host?.lastSnapshot, now)),
            onHost(m.host?.lastBackup ? when(m.host.lastBackup, now) : "-"),
            onHost(soonest ? expiresIn(soonest, now) : "none"),
        ];
    });
    const lines = [`Cluster of stack ${stack}: ${o.members.length} member(s), leader ${leader?.name ?? "NONE"}`, pad([COLUMNS, ...rows])];
    const b = newestBackup(o);
    lines.push(
        !o.backup.configured
            ? "Off-host backup: not configured"
            : b
              ? `Off-host backup: newest ${when(b.record, now)}, revision ${b.record.revision ?? "?"}, ${b.record.kind ?? "?"}, made by ${b.by}`
              : "Off-host backup: configured, none recorded yet",
    );
    if (o.certificates.length) lines.push(`Certificates from the stack's outputs: ${o.certificates.map((c) => `${c.name} ${expiresIn(c.notAfter, now)}`).join(", ")}`);
    if (findings.length === 0) lines.push("Result: ok");
    else lines.push("Needs attention:", ...findings.map((f) => `  ${f}`), `Result: ATTENTION (${findings.length})`);
    return `${lines.join("\n")}\n`;
}

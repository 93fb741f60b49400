/**
 * What status learned about each member, parsed purely from what etcdctl printed (over TLS from this
 * machine) and what the host report printed (over SSH): no I/O here.
 */
import { X509Certificate } from "node:crypto";

/** etcd's member and cluster IDs are 64-bit: kept as decimal strings, never as JSON numbers (which lose digits). */
export function parseEtcdJson(text: string): unknown {
    return JSON.parse(text.replace(/"(member_id|cluster_id|leader|ID|memberID)":\s*(\d+)/g, `"$1":"$2"`));
}

export interface EndpointStatus {
    memberId: string;
    clusterId: string;
    leader: string;
    version: string;
    dbSize: number;
    dbSizeInUse: number;
    raftIndex: number;
    raftAppliedIndex: number;
    raftTerm: number;
    isLearner: boolean;
    errors: string[];
}

/** One endpoint's `etcdctl endpoint status -w json`. */
export function parseEndpointStatus(stdout: string): EndpointStatus | undefined {
    let parsed: unknown;
    try {
        parsed = parseEtcdJson(stdout);
    } catch {
        return undefined;
    }
    const first = (Array.isArray(parsed) ? parsed[0] : undefined) as { Status?: Record<string, unknown> } | undefined;
    const st = first?.Status;
    if (!st) return undefined;
    const header = (st.header ?? {}) as Record<string, unknown>;
    return {
        memberId: String(header.member_id ?? ""),
        clusterId: String(header.cluster_id ?? ""),
        leader: String(st.leader ?? "0"),
        version: String(st.version ?? ""),
        dbSize: Number(st.dbSize ?? 0),
        dbSizeInUse: Number(st.dbSizeInUse ?? 0),
        raftIndex: Number(st.raftIndex ?? 0),
        raftAppliedIndex: Number(st.raftAppliedIndex ?? 0),
        raftTerm: Number(st.raftTerm ?? 0),
        isLearner: st.isLearner === true,
        errors: Array.isArray(st.errors) ? st.errors.map(String) : [],
    };
}

/** One endpoint's `etcdctl endpoint health -w json`: healthy, or the error etcd gave. */
export function parseEndpointHealth(stdout: string): { health: boolean; error?: string } | undefined {
    try {
        const parsed = JSON.parse(stdout) as { health?: boolean; error?: string }[];
        if (!Array.isArray(parsed) || parsed.length === 0) return undefined;
        return { health: parsed[0].health === true, ...(parsed[0].error ? { error: parsed[0].error } : {}) };
    } catch {
        return undefined;
    }
}

/** `etcdctl alarm list` (simple format): member ID -> alarms raised there. */
export function parseAlarms(stdout: string): Map<string, string[]> {
    const alarms = new Map<string, string[]>();
    for (const line of stdout.split("\n")) {
        const m = /^memberID:(\d+) alarm:(\S+)/.exec(line.trim());
        if (m) alarms.set(m[1], [...(alarms.get(m[1]) ?? []), m[2]]);
    }
    return alarms;
}

/** `etcdctl member list -w json`: the cluster's own view of its membership. */
export function parseMemberList(stdout: string): { id: string; name: string; isLearner: boolean; peerUrls: string[] }[] | undefined {
    try {
        const parsed = parseEtcdJson(stdout) as { members?: { ID: string; name?: string; isLearner?: boolean; peerURLs?: string[] }[] };
        return (parsed.members ?? []).map((m) => ({ id: String(m.ID), name: m.name ?? "", isLearner: m.isLearner === true, peerUrls: m.peerURLs ?? [] }));
    } catch {
        return undefined;
    }
}

/** A state file a host job writes (last-snapshot.json, last-backup.json): its time and the rest as given. */
export interface JobRecord {
    time: string;
    revision?: number;
    size?: number;
    kind?: string;
    member?: string;
    object?: string;
}

export interface HostReport {
    lastSnapshot?: JobRecord;
    lastBackup?: JobRecord;
    /** Leaf certificates on the host: which, and when each expires (ISO 8601). */
    certificates: { name: string; notAfter: string }[];
}

/** Section markers of the host report (hostReport.ts prints them). */
export const SECTION = "=== etcd-pulumi status: ";
export const NONE = "(none)";

function jobRecord(body: string): JobRecord | undefined {
    if (body.trim() === NONE || body.trim() === "") return undefined;
    try {
        const r = JSON.parse(body) as JobRecord;
        return typeof r.time === "string" ? r : undefined;
    } catch {
        return undefined;
    }
}

/** The host report: sections `=== etcd-pulumi status: <name>` followed by the file's content or (none). */
export function parseHostReport(stdout: string): HostReport {
    const sections = new Map<string, string>();
    let current: string | undefined;
    for (const line of stdout.split("\n")) {
        if (line.startsWith(SECTION)) {
            current = line.slice(SECTION.length).trim();
            sections.set(current, "");
        } else if (current !== undefined) {
            sections.set(current, `${sections.get(current)}${line}\n`);
        }
    }
    const certificates: HostReport["certificates"] = [];
    for (const name of ["server", "peer", "client"]) {
        const pem = sections.get(`${name}.crt`);
        if (!pem || pem.trim() === NONE) continue;
        try {
            certificates.push({ name, notAfter: new Date(new X509Certificate(pem).validTo).toISOString() });
        } catch {
            /* an unreadable certificate shows as missing */
        }
    }
    return { lastSnapshot: jobRecord(sections.get("last-snapshot.json") ?? ""), lastBackup: jobRecord(sections.get("last-backup.json") ?? ""), certificates };
}

/** When a PEM certificate (the first of a bundle) expires, ISO 8601. */
export function certificateNotAfter(pem: string): string | undefined {
    try {
        return new Date(new X509Certificate(pem).validTo).toISOString();
    } catch {
        return undefined;
    }
}

/** Everything observed about one member. */
export interface MemberObservation {
    name: string;
    address: string;
    clientUrl: string;
    status?: EndpointStatus;
    /** Why the status could not be read over TLS. */
    statusError?: string;
    health?: { health: boolean; error?: string };
    alarms: string[];
    host?: HostReport;
    /** Why the host report could not be read over SSH. */
    hostError?: string;
    /** Why its host was not asked (the stack's config no longer has this member as deployed). */
    hostSkipped?: string;
}

/** The cluster-wide facts beside the members. */
export interface ClusterObservation {
    members: MemberObservation[];
    /** The cluster's member list, when any member answered it. */
    memberList?: { id: string; name: string; isLearner: boolean }[];
    certificates: { name: string; notAfter: string }[];
    backup: { configured: boolean; rpoSeconds: number };
}

/**
 * The EtcdCluster component's inputs as this pack reads them (the policy summary that
 * components/policySummary.ts sends). The engine hands them over untyped, so they are checked here: a
 * cluster that does not expose them (an older etcd-pulumi) is reported, never waved through.
 */

export const ETCD_CLUSTER_TYPE = "etcd-pulumi:index:EtcdCluster";

export interface MemberView {
    name: string;
    address: string;
    sshHost: string;
    hostKeyPinned: boolean;
}

export interface ClusterView {
    members: MemberView[];
    bastion?: { host: string; hostKeyPinned: boolean };
    version: string;
    purgeDataOnDestroy: boolean;
    allowEvenMembers: boolean;
    allowSmallCluster: boolean;
    /** Undefined for an etcd-pulumi older than authentication: only the rule about it reports that, the others still judge the cluster. */
    authEnabled?: boolean;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** The cluster's policy summary, or what is missing from it. */
export function readClusterView(props: Record<string, unknown>): { cluster: ClusterView } | { missing: string[] } {
    const missing: string[] = [];
    const members = Array.isArray(props.members) ? props.members : undefined;
    if (!members || members.length === 0) missing.push("members");
    members?.forEach((m, i) => {
        if (!isRecord(m) || typeof m.name !== "string" || typeof m.address !== "string" || typeof m.sshHost !== "string" || typeof m.hostKeyPinned !== "boolean") {
            missing.push(`members[${i}] {name, address, sshHost, hostKeyPinned}`);
        }
    });
    const bastion = props.bastion;
    if (bastion !== undefined && (!isRecord(bastion) || typeof bastion.host !== "string" || typeof bastion.hostKeyPinned !== "boolean")) {
        missing.push("bastion {host, hostKeyPinned}");
    }
    if (typeof props.version !== "string") missing.push("version");
    for (const flag of ["purgeDataOnDestroy", "allowEvenMembers", "allowSmallCluster"]) {
        if (typeof props[flag] !== "boolean") missing.push(flag);
    }
    if (props.authEnabled !== undefined && typeof props.authEnabled !== "boolean") missing.push("authEnabled");
    if (missing.length > 0) return { missing };
    return {
        cluster: {
            members: (members as MemberView[]).map((m) => ({ name: m.name, address: m.address, sshHost: m.sshHost, hostKeyPinned: m.hostKeyPinned })),
            ...(isRecord(bastion) ? { bastion: { host: bastion.host as string, hostKeyPinned: bastion.hostKeyPinned as boolean } } : {}),
            version: props.version as string,
            purgeDataOnDestroy: props.purgeDataOnDestroy as boolean,
            allowEvenMembers: props.allowEvenMembers as boolean,
            allowSmallCluster: props.allowSmallCluster as boolean,
            ...(props.authEnabled !== undefined ? { authEnabled: props.authEnabled as boolean } : {}),
        },
    };
}

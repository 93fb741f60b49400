/**
 * What a policy pack (policy/) needs to judge a cluster, sent to the engine as the EtcdCluster
 * component's own inputs: plain facts from the validated settings, never a key or any other secret.
 */
import { ClusterSettings } from "./settings";

export interface PolicyMemberSummary {
    name: string;
    address: string;
    /** Where the deployer connects (defaults to address). */
    sshHost: string;
    /** Whether the member's SSH host key is pinned (the key itself stays out: a boolean is all a rule needs). */
    hostKeyPinned: boolean;
}

export interface PolicyBastionSummary {
    host: string;
    hostKeyPinned: boolean;
}

export interface EtcdClusterPolicySummary {
    /** In config order. */
    members: PolicyMemberSummary[];
    /** Absent when the hosts are reached directly. */
    bastion?: PolicyBastionSummary;
    version: string;
    purgeDataOnDestroy: boolean;
    allowEvenMembers: boolean;
    allowSmallCluster: boolean;
    /** etcd authentication on (`auth`). */
    authEnabled: boolean;
}

export function policySummary(s: ClusterSettings): EtcdClusterPolicySummary {
    return {
        members: s.members.map((m) => ({ name: m.name, address: m.address, sshHost: m.sshHost, hostKeyPinned: m.hostKey !== undefined })),
        ...(s.bastion ? { bastion: { host: s.bastion.host, hostKeyPinned: s.bastion.hostKey !== undefined } } : {}),
        version: s.version,
        purgeDataOnDestroy: s.purgeDataOnDestroy,
        allowEvenMembers: s.allowEvenMembers,
        allowSmallCluster: s.allowSmallCluster,
        authEnabled: s.auth.enabled,
    };
}

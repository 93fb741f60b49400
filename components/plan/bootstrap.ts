/**
 * How each member first starts, decided from what the record kept, never from what answers on the
 * network: founding members of a new cluster start together with `initial-cluster-state: new`; a member
 * added later (or replaced) joins the running cluster as a learner with state `existing` and the exact
 * member list it joins. Kept unchanged for as long as the member stays, so a later run never changes
 * what it was told (and never re-runs anything for it). Plain values only (runs inside the record's provider).
 */
import { MembershipPlan } from "./membership";

export interface ClusterPeer {
    name: string;
    address: string;
}

export interface MemberBootstrap {
    /** "new": founded the cluster; "existing": joined a running cluster. */
    state: "new" | "existing";
    /** The member list its etcd starts with (`initial-cluster`), itself included. */
    initialCluster: ClusterPeer[];
    /** This member's identity on its host (address and replacement counter): a new one joins fresh. */
    incarnation: string;
}

export const incarnationOf = (m: { address: string; replacement?: number }) => `${m.address}#${m.replacement ?? 0}`;

const peers = (ms: ClusterPeer[]): ClusterPeer[] => ms.map((m) => ({ name: m.name, address: m.address }));

/** A new cluster: every member founds it, with the whole list. */
export function foundingBootstraps(members: (ClusterPeer & { replacement?: number })[]): Record<string, MemberBootstrap> {
    return Object.fromEntries(members.map((m) => [m.name, { state: "new" as const, initialCluster: peers(members), incarnation: incarnationOf(m) }]));
}

/**
 * After a membership plan: members that stay keep what was recorded (members recorded before this
 * was kept count as founders of the recorded list); joiners get their plan entry.
 */
export function nextBootstraps(
    previous: Record<string, MemberBootstrap> | undefined,
    previousMembers: (ClusterPeer & { replacement?: number })[],
    plan: MembershipPlan<ClusterPeer & { replacement?: number }>,
): Record<string, MemberBootstrap> {
    const recorded = previous ?? foundingBootstraps(previousMembers);
    const out: Record<string, MemberBootstrap> = {};
    for (const m of plan.keep) out[m.name] = recorded[m.name] ?? { state: "new", initialCluster: peers(previousMembers), incarnation: incarnationOf(m) };
    for (const a of plan.add) out[a.member.name] = { state: "existing", initialCluster: peers(a.initialMembers), incarnation: incarnationOf(a.member) };
    return out;
}

/**
 * Day-2 planning, pure: from the members and version the cluster has now to the ones the config asks
 * for, the ordered, quorum-safe list of steps, or an error that names what is unsafe and how to proceed.
 * Removals come before additions (a replaced member is removed first), one member at a time.
 */
import { MemberSettings } from "../settings";
import { PlanError } from "./planError";

export interface DeployedMember {
    name: string;
    address: string;
    /** The member's replacement counter (MemberSettings.replacement); a bump replaces it. */
    replacement?: number;
}

export interface MembershipPlan<M extends DeployedMember = MemberSettings> {
    /** True when no cluster exists yet: every member bootstraps together with state `new`. */
    bootstrap: boolean;
    /** Members to remove, in order. Replaced members appear here and in `add`. */
    remove: DeployedMember[];
    /** Members to add, in order, each with the exact initial-cluster it must start with. */
    add: { member: M; initialMembers: M[] }[];
    /** Members that stay, untouched by membership changes. */
    keep: M[];
}


export const quorum = (n: number) => Math.floor(n / 2) + 1;

export interface PlanOptions {
    /** Allow a cluster of fewer than 3 members. */
    allowSmallCluster?: boolean;
}

/**
 * Plan the membership change. `deployed` is undefined when the cluster has never been deployed.
 * A member whose name stays but whose address (or replacement counter) changes is a replacement:
 * removed, then added fresh (its old data dir is never reused). Additions go in the order of `desired`.
 */
export function planMembership<M extends DeployedMember = MemberSettings>(deployed: DeployedMember[] | undefined, desired: M[], opts: PlanOptions = {}): MembershipPlan<M> {
    const r = membershipChange(deployed, desired, opts);
    if ("problem" in r) throw new PlanError(r.problem);
    return r.plan;
}

/** planMembership without throwing: the plan, or why the change is unsafe (plain values, see version.ts). */
export function membershipChange<M extends DeployedMember = MemberSettings>(
    deployed: DeployedMember[] | undefined,
    desired: M[],
    opts: PlanOptions = {},
): { plan: MembershipPlan<M> } | { problem: string } {
    if (deployed === undefined || deployed.length === 0) return { plan: { bootstrap: true, remove: [], add: [], keep: desired } };
    const desiredByName = new Map(desired.map((m) => [m.name, m]));
    const deployedByName = new Map(deployed.map((m) => [m.name, m]));
    const sameIncarnation = (d: DeployedMember, m: DeployedMember) => d.address === m.address && (d.replacement ?? 0) === (m.replacement ?? 0);
    const remove = deployed.filter((d) => !desiredByName.has(d.name) || !sameIncarnation(d, desiredByName.get(d.name)!));
    const replaced = new Set(remove.filter((d) => desiredByName.has(d.name)).map((d) => d.name));
    const keep = desired.filter((m) => deployedByName.has(m.name) && !replaced.has(m.name));
    const joining = desired.filter((m) => !deployedByName.has(m.name) || replaced.has(m.name));

    if (desired.length < 3 && !opts.allowSmallCluster && desired.length < deployed.length) {
        return { problem: `members: shrinking to ${desired.length} member(s) leaves no fault tolerance; keep at least 3 or set allowSmallCluster: true` };
    }
    // Walk the steps and check quorum of the CURRENT membership at every point.
    let current = deployed.length;
    for (const r of remove) {
        const afterRemoval = current - 1;
        if (afterRemoval < 1) return { problem: `members: removing ${r.name} would leave no member; a cluster cannot be emptied by a config change (destroy the stack instead)` };
        current = afterRemoval;
    }
    // Removing one member at a time from n keeps n-1 running, which is a quorum of n for n >= 2; the
    // check that matters is that the members that stay are enough to carry the cluster.
    if (keep.length < quorum(deployed.length)) {
        return {
            problem:
                `members: this change keeps only ${keep.length} of the ${deployed.length} current members (${keep.map((m) => m.name).join(", ") || "none"}); ` +
                `at least ${quorum(deployed.length)} must stay to keep quorum. Change fewer members per pulumi up`,
        };
    }
    const add: MembershipPlan<M>["add"] = [];
    const members = [...keep];
    for (const m of joining) {
        members.push(m);
        add.push({ member: m, initialMembers: [...members] });
    }
    return { plan: { bootstrap: false, remove, add, keep } };
}


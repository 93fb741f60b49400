/**
 * EtcdClusterRecord: the component's memory between runs, kept in the stack's state (no StackReference
 * to itself, no read step). It is the first resource the cluster registers and every other resource
 * depends on it, so its check, which reviews the change from the recorded deployment to the config
 * (plan/transition.ts), runs before anything else is registered: a refused change fails the preview
 * with the reason and the fix, and nothing is touched. Its check also puts the plan in words into
 * `plannedChanges`, which the component prints at preview.
 */
import * as pulumi from "@pulumi/pulumi";
import { MemberBootstrap } from "./plan/bootstrap";
import { LeafRenewal } from "./plan/leafRenewal";
import { RestorePlan, RestoreRequest } from "./restore/plan";
import { ClusterRecord, reviewTransition } from "./plan/transition";

interface RecordInputs {
    record: ClusterRecord;
    /** The time the program ran (ISO 8601); not kept, not compared. */
    now: string;
    renewBeforeHours: number;
    /** What restoreFrom names, described; not kept, not compared (see ReviewContext.restoreRequest). */
    restoreRequest?: RestoreRequest;
}

interface RecordState {
    record: ClusterRecord;
    renewBeforeHours: number;
    leafRenewal: LeafRenewal;
    bootstrap: Record<string, MemberBootstrap>;
    /** The last restore (restore.ts), null when none. */
    restore: RestorePlan | null;
}

// Kept and compared: record, renewBeforeHours, leafRenewal, bootstrap and restore (the last three set by check). plannedChanges
// is the plan text of the last check, now the program's clock, restoreRequest the description of what restoreFrom names (its
// identity is in record), __provider the serialized provider: none is compared.
const kept = (p: Partial<RecordState>) => JSON.stringify([p.record, p.renewBeforeHours, p.leafRenewal, p.bootstrap, p.restore ?? null]);
const outs = (s: RecordState) => ({ record: s.record, renewBeforeHours: s.renewBeforeHours, leafRenewal: s.leafRenewal, bootstrap: s.bootstrap, restore: s.restore ?? null, plannedChanges: [] });

export const clusterRecordProvider: pulumi.dynamic.ResourceProvider = {
    async check(olds: Partial<RecordState> | undefined, news: RecordInputs) {
        const review = reviewTransition(olds?.record, news.record, {
            now: new Date(news.now),
            renewBeforeHours: news.renewBeforeHours,
            previousLeafRenewal: olds?.leafRenewal,
            previousBootstrap: olds?.bootstrap,
            previousRestore: olds?.restore,
            restoreRequest: news.restoreRequest,
        });
        return {
            inputs: { ...news, leafRenewal: review.leafRenewal, bootstrap: review.bootstrap, restore: review.restore, plannedChanges: review.changes },
            failures: review.refusals.map((r) => ({ property: r.property, reason: r.reason })),
        };
    },
    async diff(_id: string, olds: Partial<RecordState>, news: RecordState) {
        return { changes: kept(olds) !== kept(news) };
    },
    // The stored outputs carry no plan, so a later run without changes prints none.
    async create(inputs: RecordState) {
        return { id: "etcd-cluster-record", outs: outs(inputs) };
    },
    async update(_id: string, _olds: unknown, news: RecordState) {
        return { outs: outs(news) };
    },
};

export interface EtcdClusterRecordArgs {
    record: pulumi.Input<ClusterRecord>;
    renewBeforeHours: number;
    /** The current time; ETCD_PULUMI_NOW (ISO 8601) overrides it, to test renewal. */
    now: string;
    restoreRequest?: pulumi.Input<RestoreRequest | undefined>;
}

/** What the record registers: its inputs, and its outputs unset (check and create fill them in). */
export const recordProperties = (args: EtcdClusterRecordArgs) => ({ ...args, leafRenewal: undefined, bootstrap: undefined, restore: undefined, plannedChanges: undefined });

export class EtcdClusterRecord extends pulumi.dynamic.Resource {
    /** At preview: what this run will do, one line per step; empty when nothing changes. */
    declare public readonly plannedChanges: pulumi.Output<string[]>;
    /** The leaf certificates' generation: they are replaced when it changes. */
    declare public readonly leafRenewal: pulumi.Output<LeafRenewal>;
    /** How each member first starts: founder of a new cluster or joiner (plan/bootstrap.ts). */
    declare public readonly bootstrap: pulumi.Output<Record<string, MemberBootstrap>>;
    /** The last restore from a snapshot (plan/restore.ts), null when there was none. */
    declare public readonly restore: pulumi.Output<RestorePlan | null>;

    constructor(name: string, args: EtcdClusterRecordArgs, opts?: pulumi.CustomResourceOptions) {
        super(clusterRecordProvider, name, recordProperties(args), opts, "etcd-pulumi", "EtcdClusterRecord");
    }
}

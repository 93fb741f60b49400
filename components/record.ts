/**
 * EtcdClusterRecord: the component's memory between runs, kept in the stack's state (no StackReference
 * to itself, no read step). It is the first resource the cluster registers and every other resource
 * depends on it, so its check, which reviews the change from the recorded deployment to the config
 * (plan/transition.ts), runs before anything else is registered: a refused change fails the preview
 * with the reason and the fix, and nothing is touched. Its check also puts the plan in words into
 * `plannedChanges`, which the component prints at preview.
 */
import * as pulumi from "@pulumi/pulumi";
import { ClusterRecord, reviewTransition } from "./plan/transition";

// The inputs are { record, plannedChanges }: only `record` is kept and compared; plannedChanges is the
// plan text of the last check, and __provider the serialized provider.
const provider: pulumi.dynamic.ResourceProvider = {
    async check(olds: { record?: unknown }, news: { record: ClusterRecord }) {
        const review = reviewTransition(olds?.record, news.record);
        return {
            inputs: { ...news, plannedChanges: review.changes },
            failures: review.refusals.map((r) => ({ property: r.property, reason: r.reason })),
        };
    },
    async diff(_id: string, olds: { record?: unknown }, news: { record: ClusterRecord }) {
        return { changes: JSON.stringify(olds.record) !== JSON.stringify(news.record) };
    },
    // The stored outputs carry no plan, so a later run without changes prints none.
    async create(inputs: { record: ClusterRecord }) {
        return { id: "etcd-cluster-record", outs: { record: inputs.record, plannedChanges: [] } };
    },
    async update(_id: string, _olds: unknown, news: { record: ClusterRecord }) {
        return { outs: { record: news.record, plannedChanges: [] } };
    },
};

export interface EtcdClusterRecordArgs {
    record: pulumi.Input<ClusterRecord>;
}

export class EtcdClusterRecord extends pulumi.dynamic.Resource {
    /** At preview: what this run will do, one line per step; empty when nothing changes. */
    declare public readonly plannedChanges: pulumi.Output<string[]>;

    constructor(name: string, args: EtcdClusterRecordArgs, opts?: pulumi.CustomResourceOptions) {
        super(provider, name, { record: args.record, plannedChanges: undefined }, opts, "etcd-pulumi", "EtcdClusterRecord");
    }
}

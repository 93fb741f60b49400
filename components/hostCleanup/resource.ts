/**
 * EtcdHostCleanup: the cluster's last resource. It holds every member's CleanupHost (plan.ts) and the SSH
 * key, and does on the deployer, best-effort and bounded, what the member steps' deletes used to do:
 *  - update: the hosts the last deployment had and this one does not (by SSH target) are cleaned, all at
 *    once; an unreachable one is reported (a warning) and skipped, so a host that is gone for good never
 *    fails the run; a host that answers but whose clean-up fails does fail it (the next up retries);
 *  - delete (`pulumi destroy`): every host is cleaned the same way;
 *  - create: nothing (a new cluster, or the first run of a stack deployed before this resource existed).
 * The run's report is an output tagged with the run it belongs to, so the component prints it exactly
 * once: a later run without changes returns the stored report of an older run.
 */
import * as pulumi from "@pulumi/pulumi";
import { runOverSsh } from "../deployerSsh/run";
import { CleanupHost, CleanupOutcome, leavingHosts, outcomeLine } from "./plan";

export interface HostCleanupInputs {
    hosts: CleanupHost[];
    /** Secret. */
    privateKey: string;
    /** Dials per host (sshDialErrorLimit) and the bound on each (sshPerDialTimeout). */
    attempts: number;
    connectTimeoutSeconds: number;
    /** Identifies the program run; not compared, not a reason to update. */
    runId: string;
}

export interface HostCleanupReport {
    runId: string;
    lines: { level: "info" | "warning"; text: string }[];
}

interface HostCleanupState extends HostCleanupInputs {
    report: HostCleanupReport;
}

/** A clean-up's session: long enough for systemctl to stop etcd and for the files to go. */
const RUN_TIMEOUT_SECONDS = 120;

// What a change is: anything but the run id (and the report, which is only an output).
const kept = (p: Partial<HostCleanupInputs>) => JSON.stringify([p.hosts, p.privateKey, p.attempts, p.connectTimeoutSeconds]);

async function cleanAll(hosts: CleanupHost[], from: HostCleanupInputs): Promise<CleanupOutcome[]> {
    return Promise.all(
        hosts.map(async (h) => {
            const r = await runOverSsh(h.route, from.privateKey, h.command, h.script, { attempts: from.attempts, connectTimeoutSeconds: from.connectTimeoutSeconds, runTimeoutSeconds: RUN_TIMEOUT_SECONDS });
            const outcome: CleanupOutcome["outcome"] = r.outcome === "ok" ? "cleaned" : r.outcome;
            return { member: h.member, address: h.address, outcome, attempts: r.attempts, seconds: r.seconds, reason: r.reason };
        }),
    );
}

function reportOf(runId: string, outcomes: CleanupOutcome[], purpose: "leaves" | "destroy"): HostCleanupReport {
    return { runId, lines: outcomes.map((o) => ({ level: o.outcome === "cleaned" ? ("info" as const) : ("warning" as const), text: outcomeLine(o, purpose) })) };
}

/** A clean-up that reached a host and failed there fails the step, naming every such host. */
function failIfAnyFailed(outcomes: CleanupOutcome[], purpose: "leaves" | "destroy"): void {
    const failed = outcomes.filter((o) => o.outcome === "failed");
    if (failed.length > 0) throw new Error(failed.map((o) => outcomeLine(o, purpose)).join("\n"));
}

/** Exported for the unit tests (test/unit/hostCleanup.test.ts). */
export const hostCleanupProvider: pulumi.dynamic.ResourceProvider = {
    async diff(_id: string, olds: Partial<HostCleanupState>, news: HostCleanupInputs) {
        return { changes: kept(olds) !== kept(news), replaces: [], deleteBeforeReplace: false };
    },
    async create(inputs: HostCleanupInputs) {
        return { id: "etcd-host-cleanup", outs: { ...inputs, report: { runId: inputs.runId, lines: [] } } };
    },
    async update(_id: string, olds: HostCleanupState, news: HostCleanupInputs) {
        // A leaving host is reached the way it was last deployed (its own user, port, host key, and the key of then).
        const outcomes = await cleanAll(leavingHosts(olds.hosts ?? [], news.hosts), olds);
        failIfAnyFailed(outcomes, "leaves");
        return { outs: { ...news, report: reportOf(news.runId, outcomes, "leaves") } };
    },
    async delete(_id: string, olds: HostCleanupState) {
        const outcomes = await cleanAll(olds.hosts ?? [], olds);
        // No program runs during a destroy to print the report: the provider's output is shown with the run's diagnostics.
        for (const o of outcomes) if (o.outcome !== "failed") console.error(`${o.outcome === "cleaned" ? "" : "warning: "}${outcomeLine(o, "destroy")}`);
        failIfAnyFailed(outcomes, "destroy");
    },
};

export interface EtcdHostCleanupArgs {
    hosts: pulumi.Input<CleanupHost[]>;
    privateKey: pulumi.Input<string>;
    attempts: number;
    connectTimeoutSeconds: number;
    runId: string;
}

export class EtcdHostCleanup extends pulumi.dynamic.Resource {
    /** What this run's clean-up did (hosts reached, skipped), tagged with the run id. */
    declare public readonly report: pulumi.Output<HostCleanupReport>;

    constructor(name: string, args: EtcdHostCleanupArgs, opts?: pulumi.CustomResourceOptions) {
        super(hostCleanupProvider, name, { ...args, privateKey: pulumi.secret(args.privateKey), report: undefined }, { ...opts, additionalSecretOutputs: ["privateKey"] }, "etcd-pulumi", "EtcdHostCleanup");
    }
}

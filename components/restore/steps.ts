/**
 * The resources of a restore, in their order (hostScripts.ts has what each runs): the snapshot file
 * uploaded to every member, or the backup fetched from the store by every member -> verify + stop on
 * every member -> restore + start on every member -> health gate on the first member. They exist while
 * restoreFrom is set; their scripts come from the restore the record kept, so they run again only for
 * another restore, and do nothing for a member that joined later.
 */
import * as pulumi from "@pulumi/pulumi";
import { remote } from "@pulumi/command";
import { EtcdMember } from "../member";
import { RestorePlan } from "./plan";
import { HostPaths } from "../render/paths";
import { restoreDataScript, restoreFetchScript, restoreHealthScript, restoreStopScript, stagedSnapshotPath } from "./hostScripts";
import { stepInvocation, stepStdin } from "../render/shell";
import { ClusterSettings, MemberSettings } from "../settings";

export interface RestoreStepsInputs {
    prefix: string;
    settings: ClusterSettings;
    paths: HostPaths;
    /** The snapshot on the deployer (settings.restoreFrom), or undefined for a restore from the store. */
    file?: string;
    /** Members in name order, with their resources. */
    members: { settings: MemberSettings; member: EtcdMember }[];
    /** The restore the record decided (or kept). */
    plan: pulumi.Output<RestorePlan | null>;
    /** What every restore step waits for (the record). */
    after: pulumi.Resource[];
}

/** Registers the restore steps; returns the health gate, which membership and service steps wait for. */
export function addRestoreSteps(i: RestoreStepsInputs, parent: pulumi.Resource): remote.Command {
    const { prefix, settings: s, paths } = i;
    const step = (m: MemberSettings, member: EtcdMember, suffix: string, render: (plan: RestorePlan | null) => string, dependsOn: pulumi.Resource[]) =>
        new remote.Command(
            `${prefix}-${m.name}-${suffix}`,
            {
                connection: member.connection,
                addPreviousOutputInEnv: false,
                logging: "stdout",
                // The same script for create and update: a new restore (another snapshot) updates these steps.
                stdin: i.plan.apply((plan) => stepStdin({ create: render(plan), update: render(plan) })),
                create: stepInvocation(`${m.name}/${suffix}`, "create", m.sudo),
                update: stepInvocation(`${m.name}/${suffix}`, "update", m.sudo),
            },
            { parent, dependsOn },
        );
    const configured = i.members.map((x) => x.member.configure);
    const file = i.file;
    // A file travels from the deployer; a backup is fetched by each member from the store (it needs the backup's program and keys: configure).
    const sources: pulumi.Resource[] = file
        ? i.members.map(
              ({ settings: m, member }) =>
                  new remote.CopyToRemote(
                      `${prefix}-${m.name}-restore-upload`,
                      {
                          connection: member.connection,
                          source: new pulumi.asset.FileAsset(file),
                          remotePath: i.plan.apply((plan) => stagedSnapshotPath(paths, { id: plan?.id ?? "none" })),
                          triggers: [i.plan.apply((plan) => plan?.id ?? "none")],
                      },
                      { parent, dependsOn: i.after },
                  ),
          )
        : i.members.map(({ settings: m, member }) => step(m, member, "restore-fetch", (plan) => restoreFetchScript(m, plan), [...i.after, member.configure]));
    // Every member verifies and stops before any restores: no member of the old cluster runs when the new one forms.
    const stops = i.members.map(({ settings: m, member }) => step(m, member, "restore-stop", (plan) => restoreStopScript(m, paths, plan), [...sources, ...configured]));
    const data = i.members.map(({ settings: m, member }) => step(m, member, "restore-data", (plan) => restoreDataScript(s, m, paths, plan), stops));
    const first = i.members[0];
    return step(first.settings, first.member, "restore-health", (plan) => restoreHealthScript(s, first.settings, paths, plan), data);
}

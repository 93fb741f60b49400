/**
 * The cluster's two auth steps, on the first member by name (the host program: host/etcd-auth.sh):
 *  - `<name>-auth`, after that member's configure step and before membership and service steps: users,
 *    roles and permissions brought to the config, then authentication on or off. Before the service
 *    steps, because a member that joins in this run adds itself with its own etcdctl certificate, whose
 *    user must exist once authentication is on. On a cluster being created it has nothing to do yet.
 *  - `<name>-auth-after-bootstrap`, after every readiness check, once: the same for a cluster that has
 *    just formed. Later runs leave it alone (its update does nothing).
 * Both authenticate as the admin (CN etcd-admin, root): it is a root user in every cluster etcd-pulumi
 * set up, also from a member that joins in this very run and has no user yet. Its key travels on the
 * step's secret standard input into a private temp dir that is removed when the step ends.
 */
import * as pulumi from "@pulumi/pulumi";
import { remote, types } from "@pulumi/command";
import { KeyPair } from "../pki";
import { RestorePlan } from "../restore/plan";
import { HostPaths } from "../render/paths";
import { stepInvocation, stepStdin } from "../render/shell";
import { ClusterSettings, MemberSettings } from "../settings";
import { afterBootstrapUpdateScript, authStepScript, AuthStepValues } from "./render";
import { managedUsers } from "./users";

export interface AuthStepsInputs {
    prefix: string;
    settings: ClusterSettings;
    paths: HostPaths;
    /** The member the steps run on, and its SSH connection. */
    runner: MemberSettings;
    connection: types.input.remote.ConnectionArgs;
    caBundlePem: pulumi.Input<string>;
    admin: KeyPair;
    /** The last restore (a restore brings the snapshot's users and roles: the step runs again after one). */
    restore: pulumi.Output<RestorePlan | null>;
}

function authStdin(i: AuthStepsInputs, render: (v: Omit<AuthStepValues, "skipOnNewHost" | "step">) => Record<string, string>): pulumi.Output<string> {
    const users = managedUsers(i.settings.auth, i.settings.members.map((m) => m.name));
    return pulumi.secret(
        pulumi.all([i.caBundlePem, i.admin.certPem, i.admin.keyPem, i.restore]).apply(
            ([caBundle, adminCert, adminKey, restore]) =>
                `# restore ${restore?.id ?? "none"}\n` + stepStdin(render({ settings: i.settings, runner: i.runner, paths: i.paths, users, caBundle, adminCert, adminKey })),
        ),
    );
}

function authCommand(i: AuthStepsInputs, step: AuthStepValues["step"], stdin: pulumi.Output<string>, parent: pulumi.Resource, dependsOn: pulumi.Input<pulumi.Resource>[]): remote.Command {
    return new remote.Command(
        `${i.prefix}-${step}`,
        {
            connection: i.connection,
            addPreviousOutputInEnv: false,
            logging: "stdout",
            stdin,
            create: stepInvocation(`${i.runner.name}/${step}`, "create", i.runner.sudo),
            update: stepInvocation(`${i.runner.name}/${step}`, "update", i.runner.sudo),
        },
        // Its stdin holds the admin's private key.
        { parent, dependsOn, additionalSecretOutputs: ["stdin"] },
    );
}

/** `<name>-auth`: waits for `after` (the record, the runner's configure step, a restore); membership and service steps wait for it. */
export function addAuthStep(i: AuthStepsInputs, parent: pulumi.Resource, after: pulumi.Input<pulumi.Resource>[]): remote.Command {
    const stdin = authStdin(i, (v) => ({
        create: authStepScript({ ...v, step: "auth", skipOnNewHost: true }),
        update: authStepScript({ ...v, step: "auth", skipOnNewHost: false }),
    }));
    return authCommand(i, "auth", stdin, parent, after);
}

/** `<name>-auth-after-bootstrap`: after `ready` (every member's readiness check). */
export function addAuthAfterBootstrapStep(i: AuthStepsInputs, parent: pulumi.Resource, ready: pulumi.Input<pulumi.Resource>[]): remote.Command {
    const stdin = authStdin(i, (v) => ({
        create: authStepScript({ ...v, step: "auth-after-bootstrap", skipOnNewHost: false }),
        update: afterBootstrapUpdateScript(i.runner),
    }));
    return authCommand(i, "auth-after-bootstrap", stdin, parent, ready);
}

/**
 * Clean-up of hosts that leave the cluster, planned purely. Every host step of the component is kept on
 * delete (cluster.ts): the command provider's delete dials its host and fails the run when that host is
 * gone for good (pulumi/pulumi-command#104). Instead the cluster's host-cleanup resource holds, per
 * member, how to reach its host and the script that undoes the member's steps; when a host is no longer
 * any member's (scale in, or a member replaced onto another host) or the cluster is destroyed, that
 * script runs there once, best-effort: an unreachable host is reported and skipped, never waited for.
 */
import { memberFilePaths } from "../render/files";
import { HostPaths } from "../render/paths";
import { configureDeleteScript, stopScript } from "../render/scripts";
import { stepInvocation, stepStdin } from "../render/shell";
import { ClusterSettings, MemberSettings } from "../settings";
import { SshRoute } from "../deployerSsh/clientConfig";

/** One member's host as the clean-up needs it. Plain JSON, no secret (the SSH key is kept once, beside). */
export interface CleanupHost {
    member: string;
    address: string;
    /** What identifies the host: the SSH target `host:port`. A target another member still uses is never cleaned. */
    target: string;
    route: SshRoute;
    /** The command line that runs `script` (it arrives on stdin), through sudo for a non-root user. */
    command: string;
    /** Stop and disable etcd and its timers, remove what configure installed; data only with purgeDataOnDestroy. */
    script: string;
}

/** How one host's clean-up went. */
export interface CleanupOutcome {
    member: string;
    address: string;
    outcome: "cleaned" | "unreachable" | "failed";
    attempts: number;
    seconds: number;
    reason: string;
}

export function cleanupHost(s: ClusterSettings, m: MemberSettings, paths: HostPaths): CleanupHost {
    const endpoint = (host: string, port: number, user: string, hostKey?: string) => ({ host, port, user, ...(hostKey ? { hostKey } : {}) });
    return {
        member: m.name,
        address: m.address,
        target: `${m.sshHost}:${m.sshPort}`,
        route: {
            target: endpoint(m.sshHost, m.sshPort, m.sshUser, m.hostKey),
            ...(s.bastion ? { bastion: endpoint(s.bastion.host, s.bastion.port, s.bastion.user, s.bastion.hostKey) } : {}),
        },
        command: stepInvocation(`${m.name}/cleanup`, "cleanup", m.sudo),
        // The same two scripts the member's service and configure steps carried for their deletes.
        script: stepStdin({ cleanup: `${stopScript(m)}${configureDeleteScript(s, m, paths, memberFilePaths(paths))}` }),
    };
}

/** Hosts of the last deployment that no member of this one uses (by SSH target), in member order. */
export function leavingHosts(before: CleanupHost[], now: CleanupHost[]): CleanupHost[] {
    const inUse = new Set(now.map((h) => h.target));
    return before.filter((h) => !inUse.has(h.target));
}

/** The line a run prints for one host's clean-up. */
export function outcomeLine(o: CleanupOutcome, purpose: "leaves" | "destroy"): string {
    const what = purpose === "leaves" ? `${o.member} left the cluster` : `destroy of ${o.member}`;
    switch (o.outcome) {
        case "cleaned":
            return `etcd-pulumi: [${o.member}] ${what}: host ${o.address} cleaned (etcd stopped and disabled, its files removed) in ${o.seconds.toFixed(1)} s`;
        case "unreachable":
            return (
                `etcd-pulumi: [${o.member}] ${what}, but its host ${o.address} did not answer over SSH (${o.attempts} attempt(s), ${o.seconds.toFixed(1)} s: ${o.reason}); ` +
                `its clean-up was skipped. If that host comes back, stop etcd there before it is used again: systemctl disable --now etcd.service etcd-snapshot.timer`
            );
        case "failed":
            return `etcd-pulumi: [${o.member}] ${what}: the clean-up on host ${o.address} failed: ${o.reason}`;
    }
}

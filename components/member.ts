/**
 * One etcd member on one host: the remote steps that put etcd there, as children named after the
 * member. Everything that goes onto the host is rendered in ./render; this file only wires it. The
 * cluster decides the order (cluster.ts): configure on every member, then the service steps one member
 * at a time, then the readiness checks.
 */
import * as pulumi from "@pulumi/pulumi";
import { remote, types } from "@pulumi/command";
import { incarnationOf, MemberBootstrap } from "./plan/bootstrap";
import { MemberPki } from "./pki";
import { VerifiedRelease } from "./release";
import { clientUrl, peerUrl, renderEtcdConfig } from "./render/config";
import { memberFilePaths, memberFiles, renderFileBundle } from "./render/files";
import { joinLines } from "./render/membership";
import { HostPaths } from "./render/paths";
import { renderEtcdctlProfile } from "./render/profile";
import { scheduledSnapshotFiles } from "./render/scheduledSnapshot";
import { configureDeleteScript, configureScript, readyScript, serviceScript, stagedArchivePath, stopScript } from "./render/scripts";
import { stepInvocation, stepStdin } from "./render/shell";
import { startInputsComment } from "./render/startInputs";
import { renderUnit } from "./render/unit";
import { ClusterSettings, MemberSettings } from "./settings";
import { backupFiles, BackupHostSecrets } from "./backup/hostFiles";
import { HOST_METRICS_FILES, hostMetricsFiles } from "./monitoring/hostMetrics";
import { monitoringClusterName } from "./monitoring/settings";
import { maintenanceFiles } from "./maintenance/hostFiles";

export interface EtcdMemberInputs {
    /** Prefix of child resource names (the cluster's name). */
    prefix: string;
    settings: ClusterSettings;
    member: MemberSettings;
    paths: HostPaths;
    /** How this member first starts (founder or joiner), as the record decided. */
    bootstrap: pulumi.Output<MemberBootstrap>;
    clusterToken: pulumi.Input<string>;
    /** The CAs the member trusts (two during a CA rotation). */
    caBundlePem: pulumi.Input<string>;
    pki: MemberPki;
    release: Promise<VerifiedRelease>;
    privateKey: pulumi.Input<string>;
    /** Resources every step of this member waits for (the cluster's record, whose check guards the change). */
    after: pulumi.Resource[];
    /** Steps that must finish before a (new) release is installed, e.g. the pre-upgrade snapshot. */
    installAfter?: pulumi.Input<pulumi.Resource[]>;
    /** The secrets of the off-host backup's files, when settings.backup is set. */
    backupSecrets?: pulumi.Output<BackupHostSecrets>;
}

/** The SSH connection to a member host. Built once so it never differs between runs. */
export function connectionFor(s: ClusterSettings, m: MemberSettings, privateKey: pulumi.Input<string>): types.input.remote.ConnectionArgs {
    return {
        host: m.sshHost,
        port: m.sshPort,
        user: m.sshUser,
        privateKey,
        dialErrorLimit: s.dialErrorLimit,
        perDialTimeout: s.perDialTimeout,
        ...(m.hostKey ? { hostKey: m.hostKey } : {}),
        ...(s.bastion
            ? {
                  proxy: {
                      host: s.bastion.host,
                      port: s.bastion.port,
                      user: s.bastion.user,
                      privateKey,
                      dialErrorLimit: s.dialErrorLimit,
                      perDialTimeout: s.perDialTimeout,
                      ...(s.bastion.hostKey ? { hostKey: s.bastion.hostKey } : {}),
                  },
              }
            : {}),
    };
}

export class EtcdMember extends pulumi.ComponentResource {
    public readonly name: string;
    public readonly clientUrl: string;
    public readonly peerUrl: string;
    /** User, directories, verified release, config, unit, certificates (one SSH session). */
    public readonly configure: remote.Command;
    /** The SSH connection of this member's steps (also used by cluster-level steps run here). */
    public readonly connection: types.input.remote.ConnectionArgs;
    private readonly inputs: EtcdMemberInputs;
    private readonly config: pulumi.Output<string>;
    private readonly sha256: pulumi.Output<string>;
    private readonly unit: string;

    constructor(inputs: EtcdMemberInputs, opts?: pulumi.ComponentResourceOptions) {
        const { prefix, settings: s, member: m, paths } = inputs;
        super("etcd-pulumi:index:EtcdMember", `${prefix}-${m.name}`, {}, opts);
        this.inputs = inputs;
        this.name = m.name;
        this.clientUrl = clientUrl(m, s);
        this.peerUrl = peerUrl(m, s);
        const conn = (this.connection = connectionFor(s, m, inputs.privateKey));

        // The archive goes to the SSH user's home (SFTP creates the directory), so the upload needs no step before it.
        const upload = new remote.CopyToRemote(
            this.child("upload"),
            {
                connection: conn,
                source: new pulumi.asset.FileAsset(inputs.release.then((r) => r.path)),
                remotePath: stagedArchivePath(s, paths),
                // A replaced member (new host, or a bumped replacement counter) needs the archive again;
                // the provider only re-copies for a new source or path, not for a new connection.
                triggers: [incarnationOf(m)],
            },
            { parent: this, dependsOn: inputs.after },
        );
        this.sha256 = pulumi.output(inputs.release).apply((r) => r.sha256);

        // initial-cluster is what the record decided for this member: it never changes while the member stays.
        this.config = pulumi
            .all([inputs.clusterToken, inputs.bootstrap])
            .apply(([token, b]) => renderEtcdConfig({ settings: s, member: m, initialMembers: b.initialCluster, clusterToken: token, paths }));
        const unit = (this.unit = renderUnit(s, paths));
        const { server, peer, client } = inputs.pki;
        const backup = s.backup;
        const bundle = pulumi
            .all([pulumi.all([this.config, inputs.caBundlePem, server.certPem, server.keyPem, peer.certPem, peer.keyPem, client.certPem, client.keyPem]), pulumi.output(inputs.backupSecrets)])
            .apply(([[cfg, ca, sc, sk, pc, pk, cc, ck], backupSecrets]) => ({
                ca,
                cc,
                ck,
                text: renderFileBundle(
                    memberFiles(paths, {
                        config: cfg,
                        unit,
                        profile: renderEtcdctlProfile(s, paths),
                        ...scheduledSnapshotFiles(s, paths),
                        caCert: ca,
                        serverCert: sc,
                        serverKey: sk,
                        peerCert: pc,
                        peerKey: pk,
                        clientCert: cc,
                        clientKey: ck,
                    },
                    [
                        // Certificate expiry and which cluster this host is, for monitoring agents (always written).
                        ...hostMetricsFiles(monitoringClusterName(s.monitoring, prefix), m.name, { server: sc, peer: pc, client: cc, caBundle: ca }),
                        ...(backup && backupSecrets ? backupFiles(s, m, paths, backup, backupSecrets) : []),
                        // The maintenance job runs wherever etcd runs (maintenance/).
                        ...maintenanceFiles(s, m, paths, s.maintenance),
                    ],
                    ),
                ),
            }));
        // Its stdin embeds the private keys, so it is secret.
        this.configure = new remote.Command(
            this.child("configure"),
            {
                ...this.step("configure"),
                stdin: pulumi.secret(
                    pulumi.all([this.sha256, bundle, inputs.bootstrap]).apply(([h, b, boot]) =>
                        // The incarnation line makes a replaced member's host (even one at the same address) configured again.
                        `# member incarnation ${boot.incarnation}\n` +
                        stepStdin({
                            create: configureScript(s, m, paths, { sha256: h, bootstrapState: boot.state, bundle: b.text }),
                            update: configureScript(s, m, paths, {
                                sha256: h,
                                bootstrapState: "existing",
                                bundle: b.text,
                                // Certificates from a new CA only once every member trusts it (CA rotation, phase reissue).
                                ...(s.caRotation === "reissue" ? { probeNewCa: { caBundle: b.ca, clientCert: b.cc, clientKey: b.ck } } : {}),
                            }),
                            delete: configureDeleteScript(s, m, paths, [...memberFilePaths(paths), ...HOST_METRICS_FILES]),
                        }),
                    ),
                ),
            },
            { parent: this, dependsOn: pulumi.output(inputs.installAfter ?? []).apply((extra) => [upload, ...inputs.after, ...extra]), additionalSecretOutputs: ["stdin"] },
        );
        this.registerOutputs({ name: this.name, clientUrl: this.clientUrl, peerUrl: this.peerUrl });
    }

    private child(suffix: string): string {
        return `${this.inputs.prefix}-${this.inputs.member.name}-${suffix}`;
    }

    /** Scripts travel on stdin; the command text only names the host, the step and the action. */
    private step(suffix: string) {
        const m = this.inputs.member;
        return {
            connection: this.connection,
            addPreviousOutputInEnv: false,
            logging: "stdout" as const,
            create: stepInvocation(`${m.name}/${suffix}`, "create", m.sudo),
            update: stepInvocation(`${m.name}/${suffix}`, "update", m.sudo),
            delete: stepInvocation(`${m.name}/${suffix}`, "delete", m.sudo),
        };
    }

    /**
     * The step that starts etcd on this host (a joiner: added as a learner, started, promoted), and
     * restarts it when what etcd reads at start changed. Whether a restart is needed is decided on the
     * host (serviceScript), not by this resource's diff. `after`: the cluster chains these one member at a time.
     */
    addService(after: pulumi.Input<pulumi.Resource[]>): remote.Command {
        const { settings: s, member: m, paths } = this.inputs;
        const unit = this.unit;
        return new remote.Command(
            this.child("service"),
            {
                ...this.step("service"),
                stdin: pulumi.all([this.config, this.inputs.caBundlePem, this.sha256, this.inputs.bootstrap]).apply(([cfg, ca, h, boot]) => {
                    const join = joinLines(s, m, paths, {
                        incarnation: boot.incarnation,
                        joinVia: boot.state === "existing" ? boot.initialCluster.filter((p) => p.name !== m.name).map((p) => clientUrl(p, s)) : undefined,
                    });
                    return stepStdin({
                        create: serviceScript(s, m, paths, "bootstrap", join),
                        update: `${startInputsComment({ config: cfg, unit, caCert: ca, binarySha256: h })}\n${serviceScript(s, m, paths, "converge", join)}`,
                        delete: stopScript(m),
                    });
                }),
            },
            { parent: this, dependsOn: after },
        );
    }

    /** Bounded wait until this member and the cluster are healthy; runs after every member was started. */
    addReadyCheck(after: pulumi.Resource[]): remote.Command {
        const { settings: s, member: m, paths } = this.inputs;
        return new remote.Command(
            this.child("ready"),
            {
                connection: this.connection,
                addPreviousOutputInEnv: false,
                logging: "stdout",
                stdin: stepStdin({ create: readyScript(s, m, paths) }),
                create: stepInvocation(`${m.name}/ready`, "create", m.sudo),
            },
            { parent: this, dependsOn: after },
        );
    }
}

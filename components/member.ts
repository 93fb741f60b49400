/**
 * One etcd member on one host: the remote steps that put etcd there, as children named after the
 * member. Everything that goes onto the host is rendered in ./render; this file only wires it.
 */
import * as pulumi from "@pulumi/pulumi";
import { remote, types } from "@pulumi/command";
import { MemberPki } from "./pki";
import { VerifiedRelease } from "./release";
import { clientUrl, peerUrl, renderEtcdConfig } from "./render/config";
import { memberFilePaths, memberFiles, renderFileBundle } from "./render/files";
import { HostPaths } from "./render/paths";
import { renderEtcdctlProfile } from "./render/profile";
import { configureDeleteScript, configureScript, readyScript, serviceScript, stagedArchivePath, stopScript } from "./render/scripts";
import { stepInvocation, stepStdin } from "./render/shell";
import { startInputsComment } from "./render/startInputs";
import { renderUnit } from "./render/unit";
import { ClusterSettings, MemberSettings } from "./settings";

export interface EtcdMemberInputs {
    /** Prefix of child resource names (the cluster's name). */
    prefix: string;
    settings: ClusterSettings;
    member: MemberSettings;
    paths: HostPaths;
    /** Members the cluster has when this member first starts (all of them, for a new cluster). */
    initialMembers: MemberSettings[];
    /** "new" for members created with the cluster, "existing" for members joining later. */
    bootstrapState: "new" | "existing";
    clusterToken: pulumi.Input<string>;
    caCertPem: pulumi.Input<string>;
    pki: MemberPki;
    release: Promise<VerifiedRelease>;
    privateKey: pulumi.Input<string>;
    /** The previous member's service step: restarts run one member at a time, in name order. */
    previousService?: pulumi.Resource;
    /** Resources every step of this member waits for (the cluster's record, whose check guards the change). */
    after: pulumi.Resource[];
    /** Steps that must finish before a (new) release is installed, e.g. the pre-upgrade snapshot. */
    installAfter?: pulumi.Resource[];
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
    /** The step that starts etcd on this host, and restarts it when what etcd reads at start changed. */
    public readonly service: remote.Command;
    private readonly connection: types.input.remote.ConnectionArgs;
    private readonly inputs: EtcdMemberInputs;

    constructor(inputs: EtcdMemberInputs, opts?: pulumi.ComponentResourceOptions) {
        const { prefix, settings: s, member: m, paths } = inputs;
        super("etcd-pulumi:index:EtcdMember", `${prefix}-${m.name}`, {}, opts);
        this.inputs = inputs;
        this.name = m.name;
        this.clientUrl = clientUrl(m, s);
        this.peerUrl = peerUrl(m, s);
        const conn = (this.connection = connectionFor(s, m, inputs.privateKey));
        const child = (suffix: string) => `${prefix}-${m.name}-${suffix}`;
        // Scripts travel on stdin; the command text only names the host, the step and the action.
        const step = (suffix: string) => ({
            connection: conn,
            addPreviousOutputInEnv: false,
            logging: "stdout" as const,
            create: stepInvocation(`${m.name}/${suffix}`, "create", m.sudo),
            update: stepInvocation(`${m.name}/${suffix}`, "update", m.sudo),
            delete: stepInvocation(`${m.name}/${suffix}`, "delete", m.sudo),
        });

        // The archive goes to the SSH user's home (SFTP creates the directory), so the upload needs no step before it.
        const upload = new remote.CopyToRemote(
            child("upload"),
            {
                connection: conn,
                source: new pulumi.asset.FileAsset(inputs.release.then((r) => r.path)),
                remotePath: stagedArchivePath(s, paths),
            },
            { parent: this, dependsOn: inputs.after },
        );
        const sha256 = pulumi.output(inputs.release).apply((r) => r.sha256);

        const config = pulumi
            .output(inputs.clusterToken)
            .apply((token) => renderEtcdConfig({ settings: s, member: m, initialMembers: inputs.initialMembers, clusterToken: token, paths }));
        const unit = renderUnit(s, paths);
        const bundle = pulumi
            .all([config, inputs.caCertPem, inputs.pki.server.certPem, inputs.pki.server.keyPem, inputs.pki.peer.certPem, inputs.pki.peer.keyPem, inputs.pki.client.certPem, inputs.pki.client.keyPem])
            .apply(([cfg, ca, sc, sk, pc, pk, cc, ck]) =>
                renderFileBundle(
                    memberFiles(paths, {
                        config: cfg,
                        unit,
                        profile: renderEtcdctlProfile(s, paths),
                        caCert: ca,
                        serverCert: sc,
                        serverKey: sk,
                        peerCert: pc,
                        peerKey: pk,
                        clientCert: cc,
                        clientKey: ck,
                    }),
                ),
            );
        // User, directories, verified release, config, unit, certificates and keys: one SSH session. Its
        // stdin embeds the private keys, so it is secret.
        const configure = new remote.Command(
            child("configure"),
            {
                ...step("configure"),
                stdin: pulumi.secret(
                    pulumi.all([sha256, bundle]).apply(([h, b]) =>
                        stepStdin({
                            create: configureScript(s, m, paths, { sha256: h, bootstrapState: inputs.bootstrapState, bundle: b }),
                            update: configureScript(s, m, paths, { sha256: h, bootstrapState: "existing", bundle: b }),
                            delete: configureDeleteScript(s, m, paths, memberFilePaths(paths)),
                        }),
                    ),
                ),
            },
            { parent: this, dependsOn: [upload, ...inputs.after, ...(inputs.installAfter ?? [])], additionalSecretOutputs: ["stdin"] },
        );

        // Chained member after member (previousService), so restarts happen one at a time. Whether a
        // restart is needed is decided on the host (serviceScript), not by this resource's diff.
        this.service = new remote.Command(
            child("service"),
            {
                ...step("service"),
                stdin: pulumi.all([config, inputs.caCertPem, sha256]).apply(([cfg, ca, h]) =>
                    stepStdin({
                        create: serviceScript(s, m, paths, "bootstrap"),
                        update: `${startInputsComment({ config: cfg, unit, caCert: ca, binarySha256: h })}\n${serviceScript(s, m, paths, "converge")}`,
                        delete: stopScript(m),
                    }),
                ),
            },
            { parent: this, dependsOn: [configure, ...(inputs.previousService ? [inputs.previousService] : [])] },
        );
        this.registerOutputs({ name: this.name, clientUrl: this.clientUrl, peerUrl: this.peerUrl });
    }

    /** Bounded wait until this member and the cluster are healthy; runs after every member was started. */
    addReadyCheck(after: pulumi.Resource[]): remote.Command {
        const { prefix, settings: s, member: m, paths } = this.inputs;
        return new remote.Command(
            `${prefix}-${m.name}-ready`,
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

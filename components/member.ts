/**
 * One etcd member on one host: the remote steps that put etcd there, as children named after the
 * member. Everything that goes onto the host is rendered in ./render; this file only wires it.
 */
import * as pulumi from "@pulumi/pulumi";
import { remote, types } from "@pulumi/command";
import { MemberPki } from "./pki";
import { VerifiedRelease } from "./release";
import { clientUrl, peerUrl, renderEtcdConfig } from "./render/config";
import { memberFilePaths, memberFiles, renderFileBundle, restartKey } from "./render/files";
import { HostPaths } from "./render/paths";
import { renderEtcdctlProfile } from "./render/profile";
import {
    filesDeleteScript,
    filesScript,
    installDeleteScript,
    installScript,
    prepareDeleteScript,
    prepareScript,
    readyScript,
    restartScript,
    stagedArchivePath,
    startScript,
    stopScript,
} from "./render/scripts";
import { remoteInvocation } from "./render/shell";
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
    /** The step that starts (and on change, restarts) etcd on this host. */
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
        const run = (body: string) => remoteInvocation(body, m.sudo);
        const child = (suffix: string) => `${prefix}-${m.name}-${suffix}`;
        const base = { connection: conn, addPreviousOutputInEnv: false };

        const prepare = new remote.Command(
            child("prepare"),
            { ...base, create: run(prepareScript(s, m, paths)), delete: run(prepareDeleteScript(s, m, paths)) },
            { parent: this },
        );
        const sha256 = pulumi.output(inputs.release).apply((r) => r.sha256);
        const upload = new remote.CopyToRemote(
            child("upload"),
            {
                connection: conn,
                source: new pulumi.asset.FileAsset(inputs.release.then((r) => r.path)),
                remotePath: stagedArchivePath(s, paths),
            },
            { parent: this, dependsOn: [prepare] },
        );
        const install = new remote.Command(
            child("install"),
            { ...base, create: sha256.apply((h) => run(installScript(s, m, paths, h))), delete: run(installDeleteScript(m, paths)) },
            { parent: this, dependsOn: [upload, ...(inputs.installAfter ?? [])] },
        );

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
        const files = new remote.Command(
            child("files"),
            {
                ...base,
                create: run(filesScript(s, m, paths, inputs.bootstrapState)),
                update: run(filesScript(s, m, paths, "existing")),
                delete: run(filesDeleteScript(m, memberFilePaths(paths))),
                stdin: pulumi.secret(bundle),
            },
            { parent: this, dependsOn: [prepare], additionalSecretOutputs: ["stdin"] },
        );

        const key = pulumi
            .all([config, inputs.caCertPem, sha256])
            .apply(([cfg, ca, h]) => restartKey({ config: cfg, unit, caCert: ca, binarySha256: h }));
        this.service = new remote.Command(
            child("service"),
            {
                ...base,
                create: run(startScript(m)),
                update: key.apply((k) => run(`# restart-key ${k}\n${restartScript(s, m, paths)}`)),
                delete: run(stopScript(m)),
            },
            { parent: this, dependsOn: [files, install, ...(inputs.previousService ? [inputs.previousService] : [])] },
        );
        this.registerOutputs({ name: this.name, clientUrl: this.clientUrl, peerUrl: this.peerUrl });
    }

    /** Bounded wait until this member and the cluster are healthy; runs after every member was started. */
    addReadyCheck(after: pulumi.Resource[]): remote.Command {
        const { prefix, settings: s, member: m, paths } = this.inputs;
        return new remote.Command(
            `${prefix}-${m.name}-ready`,
            { connection: this.connection, addPreviousOutputInEnv: false, create: remoteInvocation(readyScript(s, m, paths), m.sudo) },
            { parent: this, dependsOn: after },
        );
    }
}

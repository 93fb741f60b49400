/** EtcdCluster: the component other stacks import. */
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { remote } from "@pulumi/command";
import { connectionFor, EtcdMember } from "./member";
import { snapshotScript } from "./render/membership";
import { remoteInvocation } from "./render/shell";
import { createPki } from "./pki";
import { obtainRelease } from "./release";
import { hostPaths } from "./render/paths";
import { ClusterSettings } from "./settings";
import { checkVersionChange, planMembership, PlanError } from "./plan";
import { EtcdClusterArgs, EtcdDeployedState } from "./types";
import { resolveSettings } from "./validate";

export class EtcdCluster extends pulumi.ComponentResource {
    /** Client URLs of all members, in member-list order. */
    public readonly clientUrls: pulumi.Output<string[]>;
    /** Comma-joined client URLs, ready for kube-apiserver's --etcd-servers. */
    public readonly clientEndpoints: pulumi.Output<string>;
    public readonly peerUrls: pulumi.Output<string[]>;
    public readonly memberNames: pulumi.Output<string[]>;
    public readonly caCertPem: pulumi.Output<string>;
    public readonly adminCertPem: pulumi.Output<string>;
    /** Secret. */
    public readonly adminKeyPem: pulumi.Output<string>;
    public readonly apiserverCertPem: pulumi.Output<string>;
    /** Secret. */
    public readonly apiserverKeyPem: pulumi.Output<string>;
    /** etcdctl command line using the admin client certificate saved as ca.crt / admin.crt / admin.key. */
    public readonly etcdctlCommand: pulumi.Output<string>;
    public readonly version: pulumi.Output<string>;
    /** Names and addresses as deployed: read back on the next run (see EtcdDeployedState). */
    public readonly deployedMembers: pulumi.Output<{ name: string; address: string }[]>;

    constructor(name: string, args: EtcdClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        // Validate before anything is registered: bad input never reaches a host.
        const s: ClusterSettings = resolveSettings(args);
        checkDayTwo(s, args.deployed);
        super("etcd-pulumi:index:EtcdCluster", name, {}, opts);
        const paths = hostPaths(s.dataDir, s.walDir);
        const release = obtainRelease(s.binary, s.version, s.arch, s.cacheDir);
        const pki = createPki(name, s, this);
        const clusterToken: pulumi.Input<string> =
            s.clusterToken ?? new random.RandomId(`${name}-cluster-token`, { byteLength: 12, prefix: `${name}-` }, { parent: this }).hex;

        // Before a new release is installed anywhere: a verified snapshot, taken on the first member (by
        // name). The command text names the version, so it runs again exactly when the version changes.
        const privateKey = pulumi.secret(args.ssh.privateKey);
        const sorted = [...s.members].sort((a, b) => a.name.localeCompare(b.name));
        const first = sorted[0];
        const snapshot = new remote.Command(
            `${name}-snapshot-before-install`,
            {
                connection: connectionFor(s, first, privateKey),
                addPreviousOutputInEnv: false,
                create: remoteInvocation(snapshotScript(s, first, paths, `pre-install-${s.version}`), first.sudo),
            },
            { parent: this },
        );

        const members: EtcdMember[] = [];
        let previous: pulumi.Resource | undefined;
        for (const m of sorted) {
            const member = new EtcdMember(
                {
                    prefix: name,
                    settings: s,
                    member: m,
                    paths,
                    initialMembers: s.members,
                    bootstrapState: "new",
                    clusterToken,
                    caCertPem: pki.caCertPem,
                    pki: pki.members.get(m.name)!,
                    release,
                    privateKey,
                    previousService: previous,
                    installAfter: [snapshot],
                },
                { parent: this },
            );
            previous = member.service;
            members.push(member);
        }
        const services = members.map((x) => x.service);
        for (const member of members) member.addReadyCheck(services);

        const ordered = s.members.map((m) => members.find((x) => x.name === m.name)!);
        this.clientUrls = pulumi.output(ordered.map((x) => x.clientUrl));
        this.clientEndpoints = pulumi.output(ordered.map((x) => x.clientUrl).join(","));
        this.peerUrls = pulumi.output(ordered.map((x) => x.peerUrl));
        this.memberNames = pulumi.output(s.members.map((m) => m.name));
        this.caCertPem = pki.caCertPem;
        this.adminCertPem = pki.admin.certPem;
        this.adminKeyPem = pulumi.secret(pki.admin.keyPem);
        this.apiserverCertPem = pki.apiserver.certPem;
        this.apiserverKeyPem = pulumi.secret(pki.apiserver.keyPem);
        this.version = pulumi.output(s.version);
        this.deployedMembers = pulumi.output(s.members.map((m) => ({ name: m.name, address: m.address })));
        this.etcdctlCommand = this.clientEndpoints.apply(
            (e) => `etcdctl --endpoints=${e} --cacert=ca.crt --cert=admin.crt --key=admin.key`,
        );
        this.registerOutputs({
            clientUrls: this.clientUrls,
            clientEndpoints: this.clientEndpoints,
            peerUrls: this.peerUrls,
            memberNames: this.memberNames,
            caCertPem: this.caCertPem,
            adminCertPem: this.adminCertPem,
            adminKeyPem: this.adminKeyPem,
            apiserverCertPem: this.apiserverCertPem,
            apiserverKeyPem: this.apiserverKeyPem,
            etcdctlCommand: this.etcdctlCommand,
            version: this.version,
            deployedMembers: this.deployedMembers,
        });
    }
}

/**
 * Refuse, before anything is registered, the changes to a deployed cluster that the component cannot
 * yet carry out safely: a version change etcd does not support as a rolling upgrade, and any change of
 * the member list (adding members from config would start them as a new cluster; removing them would
 * stop them without `member remove`). The planned steps are named so the operator can act.
 */
export function checkDayTwo(s: ClusterSettings, deployed: EtcdDeployedState | undefined): void {
    if (!deployed || deployed.members.length === 0) return;
    checkVersionChange(deployed.version, s.version);
    const plan = planMembership(deployed.members, s.members);
    if (plan.remove.length > 0 || plan.add.length > 0) {
        const steps = [...plan.remove.map((r) => `remove ${r.name} (${r.address})`), ...plan.add.map((a) => `add ${a.member.name} (${a.member.address})`)];
        throw new PlanError(
            `members: changing the member list of a deployed cluster (${steps.join(", then ")}) is not automated yet; ` +
                `pulumi up would not do it safely, so nothing was changed. Restore the deployed list ` +
                `(${deployed.members.map((m) => m.name).join(", ")}) and see "Day 2" in README.md`,
        );
    }
}

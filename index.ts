/**
 * The stack program: read and validate this stack's config, read back what the last deployment left
 * (from this stack's own outputs), then build the cluster. Everything about what goes on a host lives in
 * components/.
 */
import * as fs from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { EtcdCluster, EtcdDeployedState } from "./components";
import { argsFromStackConfig } from "./components/stackConfig";

/** This stack's previous outputs, or undefined on the first deployment. */
async function previousDeployment(): Promise<EtcdDeployedState | undefined> {
    const self = new pulumi.StackReference(`${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`);
    try {
        const members = await self.getOutputDetails("deployedMembers");
        const version = await self.getOutputDetails("etcdVersion");
        if (!Array.isArray(members.value) || typeof version.value !== "string") return undefined;
        return { members: members.value as EtcdDeployedState["members"], version: version.value };
    } catch (e) {
        pulumi.log.warn(`cannot read this stack's previous outputs (${(e as Error).message}); day-2 safety checks (version gate, member-list changes) are OFF for this run`);
        return undefined;
    }
}

export = async () => {
    const namespace = pulumi.getProject();
    const config = new pulumi.Config();
    const values = pulumi.runtime.allConfig();
    const args = argsFromStackConfig({
        namespace,
        values,
        secretPrivateKey: `${namespace}:sshPrivateKey` in values ? config.requireSecret("sshPrivateKey") : undefined,
        readFile: (p) => fs.readFileSync(p, "utf8"),
    });
    // An SSH key read from a file is a secret from here on.
    args.ssh.privateKey = pulumi.secret(args.ssh.privateKey);
    args.deployed = await previousDeployment();

    const cluster = new EtcdCluster(pulumi.getStack(), args);
    return {
        memberNames: cluster.memberNames,
        clientUrls: cluster.clientUrls,
        clientEndpoints: cluster.clientEndpoints,
        peerUrls: cluster.peerUrls,
        caCertPem: cluster.caCertPem,
        adminCertPem: cluster.adminCertPem,
        adminKeyPem: cluster.adminKeyPem,
        apiserverCertPem: cluster.apiserverCertPem,
        apiserverKeyPem: cluster.apiserverKeyPem,
        etcdctlCommand: cluster.etcdctlCommand,
        etcdVersion: cluster.version,
        deployedMembers: cluster.deployedMembers,
    };
};

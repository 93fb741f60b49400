/**
 * The stack program: read and validate this stack's config, then build the cluster. Everything about
 * what goes on a host, and what a change may do to a deployed cluster, lives in components/.
 */
import * as fs from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { EtcdCluster } from "./components";
import { argsFromStackConfig } from "./components/stackConfig";

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

const cluster = new EtcdCluster(pulumi.getStack(), args);
export const memberNames = cluster.memberNames;
export const clientUrls = cluster.clientUrls;
export const clientEndpoints = cluster.clientEndpoints;
export const peerUrls = cluster.peerUrls;
export const caCertPem = cluster.caCertPem;
export const caBundlePem = cluster.caBundlePem;
export const adminCertPem = cluster.adminCertPem;
export const adminKeyPem = cluster.adminKeyPem;
export const apiserverCertPem = cluster.apiserverCertPem;
export const apiserverKeyPem = cluster.apiserverKeyPem;
export const clientCertificates = cluster.clientCertificates;
export const etcdctlCommand = cluster.etcdctlCommand;
export const etcdVersion = cluster.version;
export const deployedMembers = cluster.deployedMembers;

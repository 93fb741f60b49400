/**
 * The stack program: read and validate this stack's config, then build the cluster. Everything about
 * what goes on a host, and what a change may do to a deployed cluster, lives in components/.
 */
import "./programSpeed"; // first: before anything registers (see the file)
import * as fs from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { EtcdCluster } from "./components";
import { argsFromStackConfig } from "./components/stackConfig";

// Which config keys hold `secure:` values (the SDK's own check, not in its typings).
const isConfigSecret = (pulumi.runtime as unknown as { isConfigSecret: (key: string) => boolean }).isConfigSecret;
const namespace = pulumi.getProject();
const config = new pulumi.Config();
const values = pulumi.runtime.allConfig();
const args = argsFromStackConfig({
    namespace,
    values,
    secretPrivateKey: `${namespace}:sshPrivateKey` in values ? config.requireSecret("sshPrivateKey") : undefined,
    isSecret: (key) => isConfigSecret(key),
    readFile: (p) => fs.readFileSync(p, "utf8"),
});
// An SSH key read from a file is a secret from here on; so are the backup's credentials and key.
args.ssh.privateKey = pulumi.secret(args.ssh.privateKey);
if (args.backup) {
    args.backup.secretAccessKey = pulumi.secret(args.backup.secretAccessKey);
    if (args.backup.encryptionKey !== undefined) args.backup.encryptionKey = pulumi.secret(args.backup.encryptionKey);
}

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
export const backupEncryptionKey = cluster.backupEncryptionKey;
export const monitoringCertPem = cluster.monitoringCertPem;
export const monitoringKeyPem = cluster.monitoringKeyPem;
export const prometheusScrapeConfig = cluster.prometheusScrapeConfig;
export const prometheusRules = cluster.prometheusRules;

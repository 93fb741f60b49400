/**
 * A stack that uses etcd-pulumi as a package, the way another team would: `npm install etcd-pulumi`
 * (from a registry, a git URL or an `npm pack` tarball), then one EtcdCluster from its own config.
 */
import * as pulumi from "@pulumi/pulumi";
import { EtcdCluster, EtcdClusterArgs, EtcdMemberArgs } from "etcd-pulumi";

const config = new pulumi.Config();
const args: EtcdClusterArgs = {
    members: config.requireObject<EtcdMemberArgs[]>("members"),
    ssh: { user: config.get("sshUser") ?? "root", privateKey: config.requireSecret("sshPrivateKey") },
    version: config.get("version"),
    binary: config.getObject<EtcdClusterArgs["binary"]>("binary"),
    healthTimeoutSeconds: config.getNumber("healthTimeoutSeconds"),
};
const etcd = new EtcdCluster("shared-etcd", args);

// What an apiserver stack needs; clientEndpoints resolves only once every member is healthy.
export const etcdEndpoints = etcd.clientEndpoints;
export const etcdCaCertPem = etcd.caCertPem;
export const apiserverCertPem = etcd.apiserverCertPem;
export const apiserverKeyPem = etcd.apiserverKeyPem;

import { isProdStack } from "./prodStack";
import { ClusterRule } from "./rule";

export const authInProd: ClusterRule = {
    name: "etcd-auth-in-prod",
    description: "etcd authentication is on (auth: true) on prod* stacks.",
    level: () => "mandatory",
    violations(cluster, stack) {
        if (!isProdStack(stack) || cluster.authEnabled === true) return [];
        if (cluster.authEnabled === undefined) {
            return [`the EtcdCluster does not report whether authentication is on (an etcd-pulumi older than this policy pack) on prod stack "${stack}". Fix: upgrade etcd-pulumi and set auth: true`];
        }
        return [
            `auth is off on prod stack "${stack}": every certificate from the cluster's CA (the kube-apiserver's and every client's too) can read, write and delete every key, ` +
                `and a leaked one is only cut off by a CA rotation. Fix: set auth: true (etcd-pulumi:auth in the stack config) and declare the clients with their permissions (clients)`,
        ];
    },
};

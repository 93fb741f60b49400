import { isProdStack } from "./prodStack";
import { ClusterRule } from "./rule";

export const noPurgeInProd: ClusterRule = {
    name: "etcd-no-purge-in-prod",
    description: "purgeDataOnDestroy is not true on prod* stacks.",
    level: () => "mandatory",
    violations(cluster, stack) {
        if (!isProdStack(stack) || !cluster.purgeDataOnDestroy) return [];
        return [`purgeDataOnDestroy: true on prod stack "${stack}": a destroy would delete every member's data and WAL dirs. Fix: remove purgeDataOnDestroy (or set it to false) on this stack`];
    },
};

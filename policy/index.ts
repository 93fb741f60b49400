/**
 * CrossGuard policy pack for stacks that deploy EtcdCluster:
 *   pulumi preview --policy-pack policy
 * The rules (rules/) judge the component's own inputs, its policy summary; the enforcement of each
 * depends on the stack, which the language host hands the pack before it starts (pulumi.getStack()).
 */
import * as pulumi from "@pulumi/pulumi";
import { PolicyPack, ResourceValidationPolicy } from "@pulumi/policy";
import { ClusterRule, clusterRules, ETCD_CLUSTER_TYPE, readClusterView } from "./rules";

// A pack that cannot tell which stack it judges applies the strict (production) enforcement.
const stack = pulumi.getStack() || "prod (stack name unknown)";

function policyFor(rule: ClusterRule): ResourceValidationPolicy {
    return {
        name: rule.name,
        description: rule.description,
        enforcementLevel: rule.level(stack),
        validateResource: (args, reportViolation) => {
            if (args.type !== ETCD_CLUSTER_TYPE) return;
            const view = readClusterView(args.props);
            if ("missing" in view) {
                reportViolation(`EtcdCluster ${args.name} does not expose its policy summary (missing: ${view.missing.join(", ")}). Fix: use an etcd-pulumi version whose EtcdCluster sends it`);
                return;
            }
            for (const message of rule.violations(view.cluster, stack)) reportViolation(message);
        },
    };
}

new PolicyPack("etcd-pulumi", { policies: clusterRules.map(policyFor) });

/** One review rule over an EtcdCluster: pure, so it is unit-tested without the engine. */
import { ClusterView } from "./clusterView";

export type RuleLevel = "mandatory" | "advisory";

export interface ClusterRule {
    name: string;
    description: string;
    /** How a violation is enforced on the given stack. */
    level(stack: string): RuleLevel;
    /** One message per violation, each naming the member or setting and the fix. */
    violations(cluster: ClusterView, stack: string): string[];
}

/** The pack's rules, in the order they are reported. */
import { authInProd } from "./authInProd";
import { hostKeysPinned } from "./hostKeysPinned";
import { membersOdd } from "./membersOdd";
import { noPurgeInProd } from "./noPurgeInProd";
import { ClusterRule } from "./rule";
import { supportedVersion } from "./supportedVersion";

export const clusterRules: ClusterRule[] = [membersOdd, hostKeysPinned, noPurgeInProd, supportedVersion, authInProd];
export { ClusterRule, RuleLevel } from "./rule";
export { ClusterView, ETCD_CLUSTER_TYPE, readClusterView } from "./clusterView";
export { isProdStack } from "./prodStack";

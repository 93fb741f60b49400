/** The importable API: the component, its argument types, validation and the pure renderers. */
export { EtcdCluster } from "./cluster";
export { EtcdMember } from "./member";
export * from "./types";
export { EtcdConfigError, resolveSettings } from "./validate";
export { ClusterSettings, MemberSettings, DEFAULT_ETCD_VERSION } from "./settings";
export { PlanError } from "./plan/planError";
export { planMembership } from "./plan/membership";
export { checkVersionChange } from "./plan/version";
export { reviewTransition, ClusterRecord, TransitionReview } from "./plan/transition";
export { EtcdClusterPolicySummary, PolicyMemberSummary, PolicyBastionSummary, policySummary } from "./policySummary";

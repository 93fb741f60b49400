import { ClusterRule } from "./rule";

/** Oldest supported 3.5 patch: the first from which 3.5 -> 3.6 upgrades are safe. */
export const MIN_3_5_PATCH = 32;

export function isSupportedVersion(version: string): boolean {
    const m = /^3\.(\d+)\.(\d+)$/.exec(version);
    if (!m) return false;
    const [minor, patch] = [Number(m[1]), Number(m[2])];
    return (minor === 5 && patch >= MIN_3_5_PATCH) || minor === 6;
}

export const supportedVersion: ClusterRule = {
    name: "etcd-supported-version",
    description: `etcd runs a supported release: 3.5.x with x >= ${MIN_3_5_PATCH}, or 3.6.x.`,
    level: () => "mandatory",
    violations(cluster) {
        if (isSupportedVersion(cluster.version)) return [];
        return [`version: etcd ${cluster.version} is not supported. Fix: set version to a 3.6.x release (e.g. 3.6.16), or 3.5.${MIN_3_5_PATCH} or newer 3.5.x`];
    },
};

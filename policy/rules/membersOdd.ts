import { ClusterRule } from "./rule";

const FIX = "list an odd number of members, at least 3 (3, 5 or 7)";

export const membersOdd: ClusterRule = {
    name: "etcd-members-odd",
    description: "An etcd cluster has an odd number of members, at least 3, whatever allowEvenMembers or allowSmallCluster say.",
    level: () => "mandatory",
    violations(cluster) {
        const n = cluster.members.length;
        const names = cluster.members.map((m) => m.name).join(", ");
        if (n % 2 === 0) {
            const flag = cluster.allowEvenMembers ? "; allowEvenMembers: true does not lift this policy" : "";
            return [`members: ${n} members (${names}) is an even count, which tolerates no more failures than ${n - 1}${flag}. Fix: ${FIX}`];
        }
        if (n < 3) {
            const flag = cluster.allowSmallCluster ? "; allowSmallCluster: true does not lift this policy" : "";
            return [`members: ${n} member (${names}) tolerates no failure${flag}. Fix: ${FIX}`];
        }
        return [];
    },
};

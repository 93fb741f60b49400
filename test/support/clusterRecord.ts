/** A recorded deployment for the planner's unit tests: 3.6.16, default ports and dirs, one CA, the named members. */
import { ClusterRecord } from "../../components/plan/transition";

export function recordedCluster(names: string[] = ["etcd1", "etcd2", "etcd3"], over: Partial<ClusterRecord> = {}): ClusterRecord {
    return {
        version: "3.6.16",
        binarySha256: "a".repeat(64),
        keyAlgorithm: "ECDSA",
        arch: "amd64",
        clientPort: 2379,
        peerPort: 2380,
        dataDir: "/var/lib/etcd",
        walDir: "",
        unit: "[Service]\n",
        leafCertificates: { validityHours: 43800, extraSans: [] },
        ca: { generation: 1, rotation: "none" },
        allowSmallCluster: false,
        members: names.map((name, i) => ({ name, address: `10.0.0.${11 + i}`, replacement: 0, config: `name: ${name}\nlog-level: info\n` })),
        ...over,
    };
}

/** The record of what the current config asks for (compared with the recorded deployment by transition.ts). */
import { renderEtcdConfig } from "../render/config";
import { runtimeConfig } from "../render/files";
import { HostPaths } from "../render/paths";
import { renderUnit } from "../render/unit";
import { ClusterSettings } from "../settings";
import { ClusterRecord } from "./transition";

/** `restore`: the identity of what restoreFrom names (the request itself goes to the record's check on its own). */
export function desiredRecord(s: ClusterSettings, paths: HostPaths, binarySha256: string, restore?: { id: string }): ClusterRecord {
    return {
        version: s.version,
        binarySha256,
        keyAlgorithm: s.keyAlgorithm,
        arch: s.arch,
        clientPort: s.clientPort,
        peerPort: s.peerPort,
        dataDir: s.dataDir,
        walDir: s.walDir ?? "",
        unit: renderUnit(s, paths),
        leafCertificates: { validityHours: s.certValidityHours, extraSans: s.extraSans },
        ca: { generation: s.caGeneration, rotation: s.caRotation ?? "none" },
        allowSmallCluster: s.allowSmallCluster,
        members: s.members.map((m) => ({
            name: m.name,
            address: m.address,
            replacement: m.replacement,
            // The token only appears in initial-cluster-token, which runtimeConfig drops.
            config: runtimeConfig(renderEtcdConfig({ settings: s, member: m, initialMembers: s.members, clusterToken: "", paths })),
        })),
        ...(restore ? { restore: { id: restore.id } } : {}),
        hostCleanup: "cluster",
    };
}

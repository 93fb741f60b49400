/**
 * What a `pulumi up` would do to a deployed cluster, and what it must refuse: pure, from the record the
 * component keeps in its own state (what the cluster was last deployed with) and the record the current
 * config asks for. Runs inside the engine's check of the record resource, before any other resource of
 * the cluster is registered, so a refusal fails the preview before anything is touched.
 */
import { parse } from "yaml";
import { foundingBootstraps, MemberBootstrap, nextBootstraps } from "./bootstrap";
import { CaState, caChange } from "./caRotation";
import { decideLeafRenewal, LeafRenewal } from "./leafRenewal";
import { membershipChange, quorum } from "./membership";
import { decideRestore, RestorePlan, RestoreRequest, restoreWords } from "../restore/plan";
import { versionChange } from "./version";

/** One member as recorded: identity plus what its etcd reads at start (config without bootstrap-only keys). */
export interface RecordedMember {
    name: string;
    address: string;
    /** Bumped to replace the member on its host. */
    replacement: number;
    /** The member's etcd config without the `initial-cluster*` keys. */
    config: string;
}

/** Everything about a deployed cluster that decides what a change may do. Plain JSON, no secrets. */
export interface ClusterRecord {
    version: string;
    /** SHA-256 of the release archive: the same version from another archive restarts every member too. */
    binarySha256: string;
    keyAlgorithm: string;
    arch: string;
    clientPort: number;
    peerPort: number;
    dataDir: string;
    walDir: string;
    /** The systemd unit every member runs. */
    unit: string;
    /** What the leaf certificates are issued with: a change re-issues them (no restart). */
    leafCertificates: { validityHours: number; extraSans: string[] };
    /** The CA generation and the phase of a running rotation. */
    ca: CaState;
    /** Shrinking below 3 members is allowed. */
    allowSmallCluster: boolean;
    members: RecordedMember[];
    /** The identity of what restoreFrom names, if set (the request itself is ReviewContext.restoreRequest). */
    restore?: { id: string };
    /**
     * "cluster": leaving hosts are cleaned by the cluster's host-cleanup step and no member step deletes on its
     * host (components/hostCleanup/). Absent in records of earlier versions, whose member steps still do.
     */
    hostCleanup?: "cluster";
}

export interface Refusal {
    /** The config key at fault. */
    property: string;
    reason: string;
}

export interface TransitionReview {
    refusals: Refusal[];
    /** The plan in words, one line each, in the order it happens. Empty when nothing changes. */
    changes: string[];
    /** The leaf certificates' generation after this run (see leafRenewal.ts). */
    leafRenewal: LeafRenewal;
    /** How each member of the config first starts (see bootstrap.ts); what was recorded on a refusal. */
    bootstrap: Record<string, MemberBootstrap>;
    /** The last restore (this run's, when it restores; see restore.ts), or null when there was none. */
    restore: RestorePlan | null;
    /** Whether this run restores the cluster from a snapshot. */
    restoring: boolean;
}

/** What the record's check knows besides the two records. */
export interface ReviewContext {
    now: Date;
    /** Hours before expiry at which leaf certificates are renewed. */
    renewBeforeHours: number;
    previousLeafRenewal?: LeafRenewal;
    previousBootstrap?: Record<string, MemberBootstrap>;
    previousRestore?: RestorePlan | null;
    /**
     * What restoreFrom names, described (restore/snapshotFile.ts, backup/storeRestore.ts). Not compared
     * between runs: a restore from the store resolves to newer backups over time, but only its identity
     * (the record's restore.id) decides whether it runs.
     */
    restoreRequest?: RestoreRequest;
}

/** Settings that cannot change under a running cluster, and why (each refusal names the fix). */
const FIXED: { key: keyof ClusterRecord; property: string; why: string }[] = [
    { key: "peerPort", property: "peerPort", why: "changes the peer URLs stored in the cluster's membership, which a restart does not update; members would stop reaching each other one by one" },
    { key: "clientPort", property: "clientPort", why: "moves every member's client listener while the rolling restart's health checks still use the old one, and breaks every client's endpoint list" },
    { key: "dataDir", property: "dataDir", why: "would start every member on an empty data dir; moving data is an offline operation" },
    { key: "walDir", property: "walDir", why: "would start every member without its write-ahead log; moving the WAL is an offline operation" },
    { key: "arch", property: "arch", why: "the hosts' CPU architecture does not change; the new binaries would not run" },
];

function isRecord(v: unknown): v is ClusterRecord {
    const r = v as ClusterRecord | undefined;
    return typeof r === "object" && r !== null && typeof r.version === "string" && Array.isArray(r.members) && r.members.length > 0;
}

/** Top-level config keys whose values differ (deep), sorted. */
export function changedConfigKeys(before: string, after: string): string[] {
    const a = (parse(before) ?? {}) as Record<string, unknown>;
    const b = (parse(after) ?? {}) as Record<string, unknown>;
    return [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k])).sort();
}

const names = (ms: { name: string }[]) => ms.map((m) => m.name).join(", ");

const NO_ROTATION: CaState = { generation: 1, rotation: "none" };

/** The record without what a CA rotation may change: anything else differing is a second kind of change. */
const outsideRotation = (r: ClusterRecord) =>
    JSON.stringify({
        ...r,
        ca: undefined,
        keyAlgorithm: undefined,
        hostCleanup: undefined,
        allowSmallCluster: undefined,
        members: r.members.map((m) => ({ name: m.name, address: m.address, replacement: m.replacement ?? 0, config: m.config })),
    });

/**
 * Review the change from `previous` (undefined: never deployed) to `next`. Member steps happen one
 * member at a time in name order (the order the component chains them).
 */
export function reviewTransition(previous: unknown, next: ClusterRecord, ctx: ReviewContext): TransitionReview {
    const sorted = [...next.members].sort((a, b) => a.name.localeCompare(b.name));
    const keptRestore = ctx.previousRestore ?? null;
    const requested = next.restore && ctx.restoreRequest?.id === next.restore.id ? ctx.restoreRequest : undefined;
    const restore = decideRestore(requested, keptRestore, next.members);
    if (!isRecord(previous)) {
        const leaf = decideLeafRenewal(undefined, true, next.leafCertificates.validityHours, ctx.renewBeforeHours, ctx.now);
        return {
            refusals: [],
            changes: [`new cluster: ${names(sorted)} bootstrap together (etcd ${next.version})`, ...(restore ? restoreWords(restore, next.dataDir, false) : [])],
            leafRenewal: leaf.renewal,
            bootstrap: foundingBootstraps(next.members),
            restore: restore ?? keptRestore,
            restoring: restore !== undefined,
        };
    }
    const refusals: Refusal[] = [];
    const was = (key: keyof ClusterRecord) => JSON.stringify(previous[key] ?? "");
    for (const f of FIXED) {
        if (was(f.key) !== JSON.stringify(next[f.key] ?? "")) {
            refusals.push({
                property: f.property,
                reason:
                    `${f.property}: changing ${was(f.key)} -> ${JSON.stringify(next[f.key] ?? "")} on a deployed cluster ${f.why}. ` +
                    `Nothing was changed; set ${f.property} back to ${was(f.key)}`,
            });
        }
    }
    // Only plain values from here on: this runs as serialized code inside the record's provider.
    const prevCa: CaState = previous.ca ?? NO_ROTATION;
    const ca = caChange(prevCa, next.ca, previous.keyAlgorithm !== next.keyAlgorithm);
    if ("problem" in ca) refusals.push({ property: "caRotation", reason: ca.problem });
    else if ((ca.kind !== "same" || next.ca.rotation !== "none") && outsideRotation(previous) !== outsideRotation(next)) {
        refusals.push({
            property: "caRotation",
            reason:
                `caRotation: a CA rotation is running (generation ${next.ca.generation}); other changes wait until it is finished, so that a failure ` +
                `is never half rotation, half something else. Nothing was changed; undo the other edits, finish the rotation, then make them`,
        });
    }
    const version = versionChange(previous.version, next.version);
    if (restore && previous.version !== next.version) {
        refusals.push({
            property: "restoreFrom",
            reason:
                `restoreFrom: a restore runs with the version the cluster was deployed with; set version back to "${previous.version}" for the restore ` +
                `and upgrade in a later pulumi up. Nothing was changed`,
        });
    } else if ("problem" in version) {
        refusals.push({
            property: "version",
            reason:
                `${version.problem}. Nothing was changed; set version back to "${previous.version}" or to a version etcd can roll to ` +
                `(if the last pulumi up stopped part-way through an upgrade to ${previous.version}, run it again with that version to finish it)`,
        });
    }
    // A restore forms a new cluster from the config's members: the guards of a membership change on a running cluster do not apply.
    const membership = restore ? undefined : membershipChange(previous.members, sorted, { allowSmallCluster: next.allowSmallCluster });
    if (membership && "problem" in membership) refusals.push({ property: "members", reason: `${membership.problem}. Nothing was changed` });
    // The steps of a member that leaves were last registered by an earlier version, so the engine would still
    // run their deletes on its host, and fail the run if that host is gone (pulumi/pulumi-command#104).
    const leavingBeforeHostCleanup = next.hostCleanup && previous.hostCleanup !== next.hostCleanup ? previous.members.filter((p) => !next.members.some((m) => m.name === p.name)) : [];
    if (leavingBeforeHostCleanup.length > 0) {
        refusals.push({
            property: "members",
            reason:
                `members: ${names(leavingBeforeHostCleanup)} would leave in the first run of this etcd-pulumi version on this stack, whose steps were registered by an ` +
                `earlier version that still deletes them on their hosts (a host that is gone would fail the run). Nothing was changed; run pulumi up once with ` +
                `${names(leavingBeforeHostCleanup)} still in members (it only records the new behaviour; nothing restarts), then remove them`,
        });
    }
    const leafChanged = JSON.stringify(previous.leafCertificates) !== JSON.stringify(next.leafCertificates);
    const leaf = decideLeafRenewal(ctx.previousLeafRenewal, leafChanged, next.leafCertificates.validityHours, ctx.renewBeforeHours, ctx.now);
    const recordedBootstrap = ctx.previousBootstrap ?? foundingBootstraps(previous.members);
    // A refused run keeps what was recorded, renewal and bootstraps included.
    if (refusals.length > 0 || "problem" in ca || (membership && "problem" in membership)) {
        return { refusals, changes: [], leafRenewal: ctx.previousLeafRenewal ?? leaf.renewal, bootstrap: recordedBootstrap, restore: keptRestore, restoring: false };
    }
    if (restore) {
        const gone = previous.members.filter((p) => !sorted.some((m) => m.name === p.name));
        return {
            refusals,
            changes: [
                ...ca.words,
                ...restoreWords(restore, next.dataDir, true),
                ...(leafChanged || leaf.renewingExpiry ? [`every member: new leaf certificates (no restart needed beyond the restore)`] : []),
                ...gone.map((r) => `${r.name} (${r.address}): not in the restored cluster; its etcd service is stopped and disabled, its files removed, its data dir kept`),
            ],
            leafRenewal: leaf.renewal,
            // Every member of the restored cluster starts from the snapshot, as if it had founded it.
            bootstrap: foundingBootstraps(next.members),
            restore,
            restoring: true,
        };
    }

    if (!membership || "problem" in membership) return { refusals, changes: [], leafRenewal: leaf.renewal, bootstrap: recordedBootstrap, restore: keptRestore, restoring: false }; // (refused above)
    const changes: string[] = [...ca.words];
    const plan = membership.plan;
    const kind = "kind" in version ? version.kind : "same";
    const binaryChanged = kind === "same" && previous.binarySha256 !== next.binarySha256;
    if (kind !== "same") {
        changes.push(`etcd ${previous.version} -> ${next.version} (${kind} upgrade): verified snapshot on ${sorted[0].name}, new binaries on every member, then the restarts below`);
    }
    const replaced = new Set(plan.remove.filter((r) => plan.add.some((a) => a.member.name === r.name)).map((r) => r.name));
    const pruned = plan.remove.filter((r) => !replaced.has(r.name));
    if (pruned.length > 0) {
        let n = previous.members.length;
        for (const r of pruned) {
            n -= 1;
            changes.push(`${r.name} (${r.address}): leaves the cluster first (member remove through a member that stays, only while the others are healthy; ${n} members, quorum ${quorum(n)})`);
        }
    }
    const before = new Map(previous.members.map((m) => [m.name, m]));
    const bundleChanged = ca.kind === "start" || ca.kind === "finish" || ca.kind === "abort";
    const leavesReissued = ca.kind === "start" && previous.keyAlgorithm !== next.keyAlgorithm ? "new keys" : ca.kind === "reissue" || ca.kind === "back-to-trust-both" ? `from CA generation ${ca.kind === "reissue" ? next.ca.generation : next.ca.generation - 1}` : undefined;
    for (const m of sorted) {
        const join = plan.add.find((a) => a.member.name === m.name);
        if (join) {
            const old = before.get(m.name);
            const how = `joins as a learner (initial-cluster-state existing, initial-cluster ${names(join.initialMembers)}), promoted once in sync, then the next`;
            changes.push(old ? `${m.name}: replaced (${old.address} -> ${m.address}${old.address === m.address ? `, replacement ${m.replacement}` : ""}): the old member is removed first, its data dir moved aside; then it ${how}` : `${m.name} (${m.address}): ${how}`);
            continue;
        }
        const why: string[] = [];
        const changedKeys = changedConfigKeys(before.get(m.name)?.config ?? "", m.config);
        if (changedKeys.length > 0) why.push(`config: ${changedKeys.join(", ")}`);
        if (previous.unit !== next.unit) why.push("systemd unit");
        if (kind !== "same") why.push(`binary ${next.version}`);
        if (binaryChanged) why.push(`binary: another etcd ${next.version} archive`);
        if (bundleChanged) why.push("trusted CA bundle");
        if (why.length > 0) changes.push(`${m.name}: restart (${why.join("; ")}), only while the cluster is healthy, then wait until healthy and caught up`);
        if (leafChanged || leavesReissued) changes.push(`${m.name}: new leaf certificates${leavesReissued ? ` (${leavesReissued})` : ""} (no restart: etcd re-reads them on each connection)`);
        else if (leaf.renewingExpiry) {
            changes.push(`${m.name}: leaf certificates renewed, they expire ${leaf.renewingExpiry} (within certRenewBeforeHours, ${ctx.renewBeforeHours} h); no restart`);
        }
    }
    for (const r of pruned) {
        changes.push(`${r.name}: its etcd service is stopped and disabled, its files removed (best-effort at the end of the run: a host that does not answer is reported and skipped); its data dir is kept unless purgeDataOnDestroy is set`);
    }
    return { refusals, changes, leafRenewal: leaf.renewal, bootstrap: nextBootstraps(recordedBootstrap, previous.members, plan), restore: keptRestore, restoring: false };
}

/**
 * From a preview's engine events to what a reviewer needs: per member what `pulumi up` would do, the
 * cluster-wide steps, what the component refused, and the policy results. Pure.
 *
 * Sources, all in the event stream: the stack config's member list (prelude event), the plan in words
 * that EtcdCluster logs at preview (info diagnostics of the cluster component, one line per step, each
 * starting with the member it concerns; components/plan/transition.ts), the members deployed before
 * (the cluster record's previous outputs), the members' host steps (resource steps under each member
 * component), refusals (the record's check failures), and the policy events.
 */
import { DiagnosticEvent, EngineEvent, urnName, urnStack, urnType } from "./engineEvents";
import { attributePlanLines } from "./planLines";

const CLUSTER_TYPE = "etcd-pulumi:index:EtcdCluster";
const MEMBER_TYPE = "etcd-pulumi:index:EtcdMember";
const RECORD_TYPE_SUFFIX = "EtcdClusterRecord";

export interface MemberSummary {
    name: string;
    address?: string;
    /** False for a member that is deployed but no longer in the stack config (it leaves). */
    inConfig: boolean;
    /** What happens to this member, in the order it happens (the plan's words without the member prefix). */
    plan: string[];
    /** The member's host steps that run (create, update, replace, delete): step name -> operation. */
    hostSteps: { step: string; op: string }[];
}

export interface PolicyViolation {
    pack: string;
    rule: string;
    /** advisory, mandatory or remediate. */
    level: string;
    /** What the rule requires. */
    description: string;
    /** What it found, naming the member or setting and the fix. */
    message: string;
    /** The resource (its name), when the rule judged one resource. */
    resource?: string;
}

export interface PolicySummary {
    /** The packs that ran, as `name version`. */
    packs: string[];
    violations: PolicyViolation[];
    /** Rules that ran and reported nothing, sorted. */
    passed: string[];
}

export interface PreviewSummary {
    stack?: string;
    /** ok: the preview completed; refused: the component refused the change; failed: anything else went wrong. */
    outcome: "ok" | "refused" | "failed";
    /** Resource operations from the engine's summary (create, update, same, ...). */
    resourceChanges: Record<string, number>;
    /** Cluster-wide steps (upgrade, CA rotation, a new cluster), in order. */
    cluster: string[];
    /** Why the component refused the change (each names the setting and the fix). */
    refusals: string[];
    /** Other errors and warnings the preview reported. */
    errors: string[];
    warnings: string[];
    members: MemberSummary[];
    /** Undefined when no policy pack ran. */
    policy?: PolicySummary;
}

interface MemberRef {
    name: string;
    address?: string;
}

/** The member list of the stack config (`<project>:members`, a JSON list in the prelude). */
function configMembers(events: EngineEvent[]): MemberRef[] | undefined {
    const config = events.find((e) => e.preludeEvent)?.preludeEvent?.config ?? {};
    const key = Object.keys(config).find((k) => k.endsWith(":members"));
    if (!key) return undefined;
    try {
        const list = JSON.parse(config[key]) as unknown;
        if (!Array.isArray(list)) return undefined;
        return list.filter((m): m is MemberRef => typeof m?.name === "string").map((m) => ({ name: m.name, address: typeof m.address === "string" ? m.address : undefined }));
    } catch {
        return undefined; // not JSON: the preview itself reports the config error
    }
}

/** The members the cluster record says were deployed before this run. */
function deployedMembers(events: EngineEvent[]): MemberRef[] {
    for (const e of events) {
        const m = e.resourcePreEvent?.metadata;
        if (!m || !m.type.endsWith(RECORD_TYPE_SUFFIX)) continue;
        const record = m.old?.outputs?.record as { members?: MemberRef[] } | undefined;
        return (record?.members ?? []).map((r) => ({ name: r.name, address: r.address }));
    }
    return [];
}

/** The plan lines the cluster component logged, in order. */
function planLines(events: EngineEvent[]): string[] {
    return events
        .map((e) => e.diagnosticEvent)
        .filter((d): d is DiagnosticEvent => d !== undefined && d.severity === "info" && urnType(d.urn ?? "") === CLUSTER_TYPE)
        .flatMap((d) => d.message.split("\n"))
        .filter((l) => l.trim() !== "");
}

/** The record's check failure message carries the reason after the engine's "has a problem: ". */
function refusalReason(message: string): string {
    const at = message.indexOf("has a problem: ");
    return (at >= 0 ? message.slice(at + "has a problem: ".length) : message).trim();
}

function policySummary(events: EngineEvent[]): PolicySummary | undefined {
    const ran = events.find((e) => e.summaryEvent)?.summaryEvent?.PolicyPacks ?? {};
    const summaries = events.flatMap((e) => [e.policyAnalyzeSummaryEvent, e.policyAnalyzeStackSummaryEvent]).filter((s) => s !== undefined);
    const violations: PolicyViolation[] = events
        .map((e) => e.policyEvent)
        .filter((p) => p !== undefined)
        .map((p) => {
            // The engine sends the rule's description, a newline, then what the rule reported.
            const [description, ...reported] = p.message.trim().split("\n");
            return {
                pack: p.policyPackName,
                rule: p.policyName,
                level: p.enforcementLevel,
                description,
                message: reported.join(" ").trim() || description,
                resource: p.resourceUrn ? urnName(p.resourceUrn) : undefined,
            };
        });
    // The summary names a local pack "name|local|path".
    const packs = new Map<string, string>(Object.entries(ran).map(([key, version]) => [key.split("|")[0], version]));
    for (const s of summaries) if (!packs.has(s.policyPackName)) packs.set(s.policyPackName, s.policyPackVersion);
    for (const v of violations) if (!packs.has(v.pack)) packs.set(v.pack, "");
    if (packs.size === 0) return undefined;
    const failed = new Set([...summaries.flatMap((s) => s.failed ?? []), ...violations.map((v) => v.rule)]);
    const passed = [...new Set(summaries.flatMap((s) => s.passed ?? []))].filter((r) => !failed.has(r)).sort();
    return { packs: [...packs].map(([n, v]) => `${n} ${v}`.trim()).sort(), violations, passed };
}

export function summarizePreview(events: EngineEvent[]): PreviewSummary {
    const summary = events.find((e) => e.summaryEvent)?.summaryEvent;
    const firstUrn = events.map((e) => e.resourcePreEvent?.metadata.urn ?? e.diagnosticEvent?.urn).find((u) => u !== undefined);
    const policy = policySummary(events);
    const mandatoryViolated = (policy?.violations ?? []).some((v) => v.level === "mandatory");
    const diagnostics = events.map((e) => e.diagnosticEvent).filter((d): d is DiagnosticEvent => d !== undefined && !d.ephemeral);
    // The record's check failures are the component's refusals; any other error is a failure, except the bare
    // "preview failed" the engine closes with when a mandatory policy stopped it (the violation says why).
    const fromRecord = (d: DiagnosticEvent) => urnType(d.urn ?? "").endsWith(RECORD_TYPE_SUFFIX);
    const closingError = (d: DiagnosticEvent) => mandatoryViolated && d.urn === undefined && d.message.trim() === "preview failed";
    const refusals = diagnostics.filter((d) => d.severity === "error" && fromRecord(d)).map((d) => refusalReason(d.message));
    const errors = diagnostics.filter((d) => d.severity === "error" && !fromRecord(d) && !closingError(d)).map((d) => d.message.trim());
    const warnings = diagnostics.filter((d) => d.severity === "warning").map((d) => d.message.trim());

    const configured = configMembers(events) ?? [];
    const deployed = deployedMembers(events);
    const members: MemberSummary[] = [...configured]
        .sort((a, b) => a.name.localeCompare(b.name))
        .map((m) => ({ name: m.name, address: m.address, inConfig: true, plan: [], hostSteps: [] }));
    const byName = new Map(members.map((m) => [m.name, m]));
    for (const d of [...deployed].sort((a, b) => a.name.localeCompare(b.name))) {
        if (!byName.has(d.name)) {
            const leaving: MemberSummary = { name: d.name, address: d.address, inConfig: false, plan: [], hostSteps: [] };
            members.push(leaving);
            byName.set(d.name, leaving);
        }
    }

    const attributed = attributePlanLines(planLines(events), [...byName.keys()]);
    for (const [name, lines] of attributed.byMember) byName.get(name)!.plan.push(...lines);

    // Host steps are the children of each member component, named `<cluster>-<member>-<step>`.
    for (const e of events) {
        const m = e.resourcePreEvent?.metadata;
        const parent = m?.new?.parent || m?.old?.parent || "";
        if (!m || urnType(parent) !== MEMBER_TYPE || m.op === "same") continue;
        const component = urnName(parent);
        // Longest name first: in "prod-etcd-a", the member is "etcd-a", not "a".
        const owner = [...members].sort((a, b) => b.name.length - a.name.length).find((x) => component.endsWith(`-${x.name}`) && urnName(m.urn).startsWith(`${component}-`));
        owner?.hostSteps.push({ step: urnName(m.urn).slice(component.length + 1), op: m.op });
    }

    const completed = summary !== undefined && ((summary.result ?? "succeeded") === "succeeded" || mandatoryViolated) && errors.length === 0;
    const outcome = refusals.length > 0 ? "refused" : completed ? "ok" : "failed";
    return {
        stack: firstUrn ? urnStack(firstUrn) : undefined,
        outcome,
        resourceChanges: summary?.resourceChanges ?? {},
        cluster: attributed.cluster,
        refusals,
        errors,
        warnings,
        members,
        policy,
    };
}

/**
 * The part of the Pulumi engine's event stream the preview summary reads: one JSON object per line, as
 * `pulumi preview --event-log FILE` writes it and the Automation API's `onEvent` receives it. Field names
 * follow the CLI's apitype/events.go (v3.259.0); the SDK's own typings lack the policy summary events and
 * spell `PolicyPacks` differently from the wire format, hence these.
 */

export interface DiagnosticEvent {
    urn?: string;
    prefix?: string;
    message: string;
    severity: "debug" | "info" | "info#err" | "warning" | "error";
    ephemeral?: boolean;
}

export interface StepState {
    type: string;
    urn: string;
    parent?: string;
    outputs?: Record<string, unknown>;
}

export interface ResourcePreEvent {
    metadata: { op: string; urn: string; type: string; old?: StepState | null; new?: StepState | null };
}

/** A policy violation. enforcementLevel: "advisory", "mandatory" or "remediate". */
export interface PolicyEvent {
    resourceUrn?: string;
    message: string;
    policyName: string;
    policyPackName: string;
    policyPackVersion: string;
    enforcementLevel: string;
}

/** Which policies of a pack passed and failed, per resource (Analyze) or for the whole stack (AnalyzeStack). */
export interface PolicySummaryEvent {
    resourceUrn?: string;
    policyPackName: string;
    policyPackVersion: string;
    passed?: string[];
    failed?: string[];
}

export interface SummaryEvent {
    resourceChanges: Record<string, number>;
    /** Pack name -> version of every policy pack that ran. */
    PolicyPacks?: Record<string, string>;
    isPreview?: boolean;
    result?: string;
}

export interface EngineEvent {
    sequence: number;
    preludeEvent?: { config: Record<string, string> };
    diagnosticEvent?: DiagnosticEvent;
    resourcePreEvent?: ResourcePreEvent;
    policyEvent?: PolicyEvent;
    policyAnalyzeSummaryEvent?: PolicySummaryEvent;
    policyAnalyzeStackSummaryEvent?: PolicySummaryEvent;
    summaryEvent?: SummaryEvent;
}

/** Parse an event log (JSON lines), in the engine's order. */
export function parseEventLog(text: string): EngineEvent[] {
    return text
        .split("\n")
        .filter((l) => l.trim() !== "")
        .map((l) => JSON.parse(l) as EngineEvent)
        .sort((a, b) => a.sequence - b.sequence);
}

/** The type of a resource from its URN (`urn:pulumi:stack::project::parent$type::name`). */
export function urnType(urn: string): string {
    const qualified = urn.split("::")[2] ?? "";
    return qualified.slice(qualified.lastIndexOf("$") + 1);
}

/** The resource name from its URN. */
export function urnName(urn: string): string {
    return urn.split("::").slice(3).join("::");
}

/** The stack name from a URN. */
export function urnStack(urn: string): string {
    return urn.replace(/^urn:pulumi:/, "").split("::")[0];
}

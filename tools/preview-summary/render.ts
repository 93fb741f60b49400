/** The preview summary as text, and whether it blocks a deploy. Pure. */
import { MemberSummary, PreviewSummary } from "./summarize";

const OP_WORDS: [op: string, words: string][] = [
    ["create", "to create"],
    ["update", "to update"],
    ["replace", "to replace"],
    ["delete", "to delete"],
    ["same", "unchanged"],
];

function resourceLine(changes: Record<string, number>): string {
    const known = OP_WORDS.filter(([op]) => changes[op]).map(([op, words]) => `${changes[op]} ${words}`);
    const other = Object.entries(changes).filter(([op, n]) => n && !OP_WORDS.some(([k]) => k === op)).map(([op, n]) => `${n} ${op}`);
    return [...known, ...other].join(", ") || "no resources";
}

function memberBlock(m: MemberSummary, outcome: PreviewSummary["outcome"]): string[] {
    const head = `  ${m.name}${m.address ? ` (${m.address})` : ""}${m.inConfig ? "" : ", not in the stack config"}:`;
    if (m.plan.length > 0) return [head, ...m.plan.map((l) => `    ${l}`)];
    if (outcome === "refused") return [head, "    nothing (the change is refused)"];
    if (outcome === "failed") return [head, "    unknown (the preview failed before the plan was made)"];
    // No plan line means no restart and no membership change; steps may still run again (e.g. an SSH setting changed).
    const steps = m.hostSteps.map((s) => (s.op === "update" ? s.step : `${s.step} (${s.op})`));
    return [head, steps.length > 0 ? `    nothing (no restart); host steps run again and find nothing to change: ${steps.join(", ")}` : "    nothing"];
}

/** True when `pulumi up` must not go ahead: the preview failed or was refused, or a mandatory policy is violated. */
export function previewBlocks(s: PreviewSummary): boolean {
    return s.outcome !== "ok" || (s.policy?.violations ?? []).some((v) => v.level === "mandatory");
}

export function renderSummary(s: PreviewSummary): string {
    const out: string[] = [];
    const verdict = s.outcome === "refused" ? "REFUSED, nothing will be changed" : s.outcome === "failed" ? "FAILED" : resourceLine(s.resourceChanges);
    out.push(`Preview of stack ${s.stack ?? "(unknown)"}: ${verdict}`);
    const indented = (text: string) => text.split("\n").map((l, i) => (i === 0 ? l : `    ${l.trimStart()}`)).join("\n");
    for (const r of s.refusals) out.push(`  REFUSED: ${indented(r)}`);
    for (const e of s.errors) out.push(`  error: ${indented(e)}`);
    for (const w of s.warnings) out.push(`  warning: ${indented(w)}`);
    if (s.cluster.length > 0) out.push("Cluster:", ...s.cluster.map((l) => `  ${l}`));
    out.push("Members:");
    if (s.members.length === 0) out.push("  (no members found in the stack config)");
    for (const m of s.members) out.push(...memberBlock(m, s.outcome));
    out.push("Policy:");
    if (!s.policy) out.push("  no policy pack ran");
    else {
        const packs = s.policy.packs.join(", ");
        if (s.policy.violations.length === 0) out.push(`  policy pack: no violations (${packs})`);
        else {
            out.push(`  policy pack ${packs}: ${s.policy.violations.length} violation(s)`);
            for (const v of s.policy.violations) {
                out.push(`  [${v.level}] ${v.rule}${v.resource ? ` (${v.resource})` : ""}: ${v.message.replace(/\n+/g, " ")}`);
            }
        }
        if (s.policy.passed.length > 0) out.push(`  passed: ${s.policy.passed.join(", ")}`);
    }
    if (previewBlocks(s)) {
        const why = s.outcome !== "ok" ? `the preview ${s.outcome === "refused" ? "was refused" : "failed"}` : "a mandatory policy is violated";
        out.push(`Result: BLOCKED (${why}); pulumi up would not go ahead`);
    } else out.push("Result: ok");
    return out.join("\n") + "\n";
}

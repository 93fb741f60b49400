/**
 * CA rotation, pure: which CA signs the leaves and which CAs every member (and every client using the
 * published bundle) trusts, for each phase; and which phase changes are safe. A rotation from generation
 * g to g+1 is three `pulumi up` runs, each a config edit, so that clients can pick up the published
 * bundle and their new certificates between them:
 *   1. trust-both  new CA; members trust old + new (rolling restart: etcd reads its CA file only at
 *                  start); leaves still from the old CA; caBundlePem = old + new
 *   2. reissue     every leaf re-issued by the new CA (no restart: leaves are re-read per connection)
 *   3. (unset)     members trust the new CA only (rolling restart); the old CA leaves the state
 * Plain values only: this runs inside the record's provider as serialized code.
 */
import { CaRotationPhase } from "../settings";

/** The CA state the config asks for, as recorded. */
export interface CaState {
    generation: number;
    rotation: CaRotationPhase | "none";
}

/** What a phase means for the PKI and the hosts. */
export interface CaLayout {
    /** Generations whose CA resources exist. */
    generations: number[];
    /** The generation that signs every leaf certificate. */
    leafIssuer: number;
    /** The generations every member and client trusts (the CA bundle), oldest first. */
    trusted: number[];
}

export function caLayout(ca: CaState): CaLayout {
    if (ca.rotation === "none" || ca.generation < 2) return { generations: [ca.generation], leafIssuer: ca.generation, trusted: [ca.generation] };
    const old = ca.generation - 1;
    return { generations: [old, ca.generation], leafIssuer: ca.rotation === "trust-both" ? old : ca.generation, trusted: [old, ca.generation] };
}

const PHASE_NO: Record<CaState["rotation"], string> = { "trust-both": "1 of 3", reissue: "2 of 3", none: "3 of 3" };

/** What to do after this phase has run, in words. */
export function nextCaStep(ca: CaState): string {
    if (ca.rotation === "trust-both") return `give clients the new caBundlePem (both CAs), then set caRotation: reissue and run pulumi up`;
    if (ca.rotation === "reissue") return `give clients their new certificates (adminCertPem, apiserverCertPem, ...), then remove caRotation (pulumi config rm caRotation) and run pulumi up`;
    return "nothing: the rotation is complete";
}

export type CaChange =
    | { kind: "same" | "start" | "reissue" | "finish" | "abort" | "back-to-trust-both"; words: string[] }
    | { problem: string };

/**
 * The change from the recorded CA state to the one the config asks for. `keyAlgorithmChanged`: a new
 * key algorithm needs a new CA, so it is only accepted when a rotation starts (or is called off).
 */
export function caChange(previous: CaState, next: CaState, keyAlgorithmChanged: boolean): CaChange {
    const g = previous.generation;
    const same = previous.generation === next.generation && previous.rotation === next.rotation;
    const legalNext =
        previous.rotation === "none"
            ? `caGeneration: ${g + 1} with caRotation: trust-both`
            : previous.rotation === "trust-both"
              ? `caRotation: reissue (or caGeneration: ${g - 1} without caRotation to call the rotation off)`
              : `no caRotation (finish) or caRotation: trust-both (go back one phase)`;
    const refuse = (what: string): CaChange => ({
        problem:
            `caGeneration/caRotation: ${what}. A CA rotation goes one phase per pulumi up: trust-both, reissue, then unset caRotation. ` +
            `Recorded: generation ${g}${previous.rotation === "none" ? "" : `, phase ${previous.rotation}`}. Next allowed: ${legalNext}. Nothing was changed`,
    });
    let kind: Exclude<CaChange, { problem: string }>["kind"];
    if (same) kind = "same";
    else if (previous.rotation === "none" && next.generation === g + 1 && next.rotation === "trust-both") kind = "start";
    else if (previous.rotation === "trust-both" && next.generation === g && next.rotation === "reissue") kind = "reissue";
    else if (previous.rotation === "trust-both" && next.generation === g - 1 && next.rotation === "none") kind = "abort";
    else if (previous.rotation === "reissue" && next.generation === g && next.rotation === "none") kind = "finish";
    else if (previous.rotation === "reissue" && next.generation === g && next.rotation === "trust-both") kind = "back-to-trust-both";
    else if (previous.rotation === "none" && next.generation === g + 1) return refuse(`a rotation to generation ${next.generation} starts with caRotation: trust-both`);
    else return refuse(`${g}${previous.rotation === "none" ? "" : `/${previous.rotation}`} -> ${next.generation}${next.rotation === "none" ? "" : `/${next.rotation}`} is not a step of a rotation`);

    if (keyAlgorithmChanged && kind !== "start" && kind !== "abort") {
        return {
            problem:
                `keyAlgorithm: a new key algorithm needs a new CA; a deployed cluster gets one only by a CA rotation. ` +
                `Start one: bump caGeneration to ${g + (previous.rotation === "none" ? 1 : 0)} and set caRotation: trust-both together with keyAlgorithm. Nothing was changed`,
        };
    }
    const words: string[] = [];
    if (kind === "start") words.push(`CA rotation to generation ${next.generation}, phase ${PHASE_NO["trust-both"]} (trust-both): a new CA; every member trusts the old and the new CA; certificates stay as they are; caBundlePem holds both`);
    if (kind === "reissue") words.push(`CA rotation to generation ${next.generation}, phase ${PHASE_NO.reissue} (reissue): every certificate re-issued by the new CA, after checking that every member already trusts it`);
    if (kind === "finish") words.push(`CA rotation to generation ${next.generation}, phase ${PHASE_NO.none} (finish): members trust the new CA only; the old CA leaves the state; caBundlePem holds the new CA only`);
    if (kind === "abort") words.push(`CA rotation to generation ${g} called off: members trust generation ${next.generation} only again; its CA stays`);
    if (kind === "back-to-trust-both") words.push(`CA rotation to generation ${g}: back to phase ${PHASE_NO["trust-both"]}: certificates re-issued by the old CA (every member still trusts both)`);
    if (kind !== "same" && kind !== "abort") words.push(`next: ${nextCaStep(next)}`);
    if (kind === "same" && next.rotation !== "none") words.push(`CA rotation to generation ${next.generation} is in phase ${PHASE_NO[next.rotation]} (${next.rotation}); next: ${nextCaStep(next)}`);
    return { kind, words };
}

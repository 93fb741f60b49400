/**
 * Which member each line of the cluster's plan in words is about. The plan (components/plan/transition.ts)
 * writes one line per step: member steps start with `name: ` or `name (address): `; cluster-wide steps
 * (a new cluster, a restore, an upgrade, a CA rotation phase and its `next:` step) do not. Pure.
 */

export interface AttributedPlan {
    /** Cluster-wide lines, in order. */
    cluster: string[];
    /** Per member, its lines in order, without the member prefix. */
    byMember: Map<string, string[]>;
}

const NEW_CLUSTER = /^new cluster: (.+) bootstrap together \(etcd ([^)]+)\)$/;
const RESTORE = /^RESTORE from (.+?) \(.*?\):(?: every member \(([^)]*)\) stops at once| the new cluster (.+?) starts from it;)/;

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** The member a line is about, and the line without its prefix. */
function memberOfLine(line: string, names: string[]): { name: string; rest: string } | undefined {
    // Longest first, so that "etcd1" never claims a line about "etcd10".
    for (const name of [...names].sort((a, b) => b.length - a.length)) {
        const prefix = new RegExp(`^${escape(name)}(?: \\([^)]*\\))?: `).exec(line);
        if (prefix) return { name, rest: line.slice(prefix[0].length) };
    }
    return undefined;
}

/** `names`: every member the lines may be about (those in the config and those deployed before). */
export function attributePlanLines(lines: string[], names: string[]): AttributedPlan {
    const cluster: string[] = [];
    const byMember = new Map<string, string[]>();
    const add = (name: string, line: string) => byMember.set(name, [...(byMember.get(name) ?? []), line]);
    let previous = "";
    for (const line of lines) {
        // "next: ..." right after a CA rotation line is that rotation's next step, even with a member called "next".
        const owner = previous.startsWith("CA rotation") && line.startsWith("next: ") ? undefined : memberOfLine(line, names);
        previous = line;
        if (owner) {
            add(owner.name, owner.rest);
            continue;
        }
        cluster.push(line);
        // A new cluster and a restore have no member lines: each member they name gets its part.
        const founding = NEW_CLUSTER.exec(line);
        for (const n of founding?.[1].split(", ") ?? []) {
            if (!names.includes(n)) continue;
            const others = founding![1].split(", ").filter((o) => o !== n);
            add(n, `new cluster: a founding member, bootstraps together with ${others.join(", ") || "no other member"} (etcd ${founding![2]})`);
        }
        const restore = RESTORE.exec(line);
        for (const n of (restore?.[2] ?? restore?.[3])?.split(", ") ?? []) {
            if (!names.includes(n)) continue;
            add(n, restore![2] ? `RESTORE: stops with every other member; its data dir is moved aside and restored from ${restore![1]}; then it starts with the others` : `RESTORE: starts from ${restore![1]}`);
        }
    }
    return { cluster, byMember };
}

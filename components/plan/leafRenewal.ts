/**
 * When leaf certificates are due for renewal, pure. The record keeps a generation and when it was
 * issued; the leaf certificates are replaced whenever the generation changes. Renewal needs no restart:
 * etcd re-reads its leaf certificates on each connection.
 */

/** What the record keeps about the current leaf certificates. */
export interface LeafRenewal {
    /** Changes exactly when every leaf certificate must be re-issued for expiry. */
    generation: number;
    /** When the current leaf certificates were issued (ISO 8601). */
    issuedAt: string;
}

export interface LeafRenewalDecision {
    renewal: LeafRenewal;
    /** Set when this run renews because the certificates are within the window: when they expire. */
    renewingExpiry?: string;
}

const HOUR_MS = 3600 * 1000;

/**
 * `reissued`: the leaf certificates are re-issued anyway this run (new cluster, or a changed validity
 * or SAN list), so they count as issued now.
 */
export function decideLeafRenewal(previous: LeafRenewal | undefined, reissued: boolean, validityHours: number, renewBeforeHours: number, now: Date): LeafRenewalDecision {
    if (!previous || typeof previous.generation !== "number" || typeof previous.issuedAt !== "string") {
        return { renewal: { generation: 1, issuedAt: now.toISOString() } };
    }
    if (reissued) return { renewal: { generation: previous.generation, issuedAt: now.toISOString() } };
    const expiry = new Date(Date.parse(previous.issuedAt) + validityHours * HOUR_MS);
    if (now.getTime() >= expiry.getTime() - renewBeforeHours * HOUR_MS) {
        return { renewal: { generation: previous.generation + 1, issuedAt: now.toISOString() }, renewingExpiry: expiry.toISOString() };
    }
    return { renewal: previous };
}

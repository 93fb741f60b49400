/**
 * Runs an operation with a writer and a health poller going (a second before and after it), then checks
 * what every operation on a live cluster must keep: no acknowledged write lost, no write gap beyond
 * `maxGapMs`, at most `maxUnhealthy` members unhealthy at the same time. Prints the figures either way.
 */
import * as assert from "node:assert/strict";
import { assertNoLostWrites } from "./checks";
import { ClientCreds } from "./etcdctl";
import { HealthPoller, HealthReport } from "./healthPoller";
import { Writer, WriterReport } from "./writer";

export interface LoadOptions {
    label: string;
    bin: string;
    creds: ClientCreds;
    /** Key prefix of the writer's keys. */
    prefix: string;
    /** Endpoints the writer writes through. */
    writeVia: string;
    /** Endpoints the poller and the final read-back use (default: writeVia). */
    checkVia?: string;
    maxGapMs: number;
    /** The gap the operation aims for, printed next to the measured one. */
    targetGapMs?: number;
    minWrites?: number;
    maxUnhealthy?: number;
    /** A member whose only fault is a NOSPACE alarm counts as healthy (default false). */
    nospaceServes?: boolean;
}

export interface LoadResult<T> {
    result: T;
    /** Wall time of the operation, seconds. */
    took: number;
    writes: WriterReport;
    health: HealthReport;
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function underLoad<T>(o: LoadOptions, op: () => Promise<T>): Promise<LoadResult<T>> {
    const checkVia = o.checkVia ?? o.writeVia;
    const writer = new Writer(o.bin, o.writeVia, o.creds, o.prefix);
    const poller = new HealthPoller(o.bin, checkVia, o.creds, o.nospaceServes).start();
    writer.start();
    await pause(1000);
    const t0 = Date.now();
    let result: T;
    try {
        result = await op();
    } catch (e) {
        await writer.stop();
        await poller.stop();
        throw e;
    }
    const took = (Date.now() - t0) / 1000;
    await pause(1000);
    const health = await poller.stop();
    const writes = await writer.finish(checkVia);
    const target = o.targetGapMs === undefined ? "" : ` (target <= ${o.targetGapMs} ms)`;
    console.log(
        `${o.label}: ${took.toFixed(1)} s; longest write gap ${writes.longestGapMs} ms${target}; ` +
            `most members unhealthy at once: ${health.maxUnhealthy} ${JSON.stringify(health.worst)} in ${health.samples} samples` +
            (health.unreachable > 0 ? ` (${health.unreachable} without a member list)` : "") +
            (health.maxUnhealthy > 0 ? ` (${health.worstDetail})` : "") +
            (health.transient > 0 ? `; ${health.transient} samples with a member caught in a leadership hand-over, healthy when asked again (first ${health.transientDetail})` : ""),
    );
    assertNoLostWrites(writes, o.label, o.maxGapMs, o.minWrites ?? 5);
    const limit = o.maxUnhealthy ?? 1;
    assert.ok(health.maxUnhealthy <= limit, `${o.label}: ${health.maxUnhealthy} members unhealthy at the same time (${health.worstDetail}); at most ${limit} allowed`);
    return { result, took, writes, health };
}

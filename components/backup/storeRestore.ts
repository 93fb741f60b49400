/**
 * What `restoreFrom: backup:...` restores, found on the deployer before anything is registered: the
 * store's listing, the restore point the selector names (catalog.ts) and a check that this stack's
 * backup key opens the cluster's backups (its HEAD, a small authenticated object), so a wrong key fails
 * the preview instead of a host. The hosts download and check every object again before anything stops.
 */
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { StoreRestoreRequest } from "../restore/plan";
import { BackupSelector, chooseRestore } from "./catalog";
import { BackupAuthenticationError, BackupKeys, readHead, unsealObject } from "./keys";
import { BackupObject, headName, parseObjectKey } from "./objectNames";
import { BackupSettings } from "./settings";

// A RunError: Pulumi prints the message as a clean error, without a stack trace.
export class StoreRestoreError extends pulumi.RunError {
    constructor(message: string) {
        super(`restoreFrom: ${message}`);
        this.name = "StoreRestoreError";
    }
}

/** What the deployer needs of the store: its keys (relative to the prefix) with sizes, and one object's bytes. */
export interface StoreReader {
    list(prefix: string): Promise<{ key: string; size: number }[]>;
    /** Undefined when the object does not exist. */
    get(key: string): Promise<Buffer | undefined>;
}

/** The store and what restoreFrom says, not the objects: a backup:latest left set never restores again when newer backups arrive. */
export function storeRestoreId(store: string, selectorText: string): string {
    return createHash("sha256").update(`${store}\n${selectorText}`).digest("hex").slice(0, 16);
}

export async function inspectStoreRestore(b: BackupSettings, selectorText: string, selector: BackupSelector, keys: BackupKeys, store: StoreReader): Promise<StoreRestoreRequest> {
    let listing: { key: string; size: number }[];
    try {
        listing = await store.list("cluster-");
    } catch (e) {
        throw new StoreRestoreError(`cannot list ${b.store.url} (${(e as Error).message}); check backup.endpoint, its credentials and that this machine reaches the store`);
    }
    const objects = listing.map((o) => parseObjectKey(o.key, "", o.size)).filter((o): o is BackupObject => o !== undefined);
    const chain = chooseRestore(objects, selector, b.store.url);
    if ("problem" in chain) throw new StoreRestoreError(chain.problem);
    await checkKey(b, keys, store, chain.cluster, chain.objects);
    return {
        kind: "store",
        id: storeRestoreId(b.store.url, selectorText),
        selector: selectorText,
        store: b.store.url,
        cluster: chain.cluster,
        time: chain.time,
        revision: chain.revision,
        totalKey: chain.keys,
        size: chain.size,
        objects: chain.objects.map((o) => o.name),
    };
}

/** This stack's key must open the cluster's HEAD (or, without one, the smallest object of the chain). */
async function checkKey(b: BackupSettings, keys: BackupKeys, store: StoreReader, cluster: string, chain: BackupObject[]): Promise<void> {
    const head = headName(cluster);
    const fix = `the backups in ${b.store.url} were written with another key: set backup.encryptionKey (secret) to the backupEncryptionKey output of the stack that wrote them`;
    try {
        const bytes = await store.get(head);
        if (bytes) {
            readHead(keys, head, bytes);
            return;
        }
        const smallest = [...chain].sort((x, y) => x.size - y.size)[0];
        const obj = await store.get(smallest.name);
        if (!obj) throw new StoreRestoreError(`${smallest.name} is listed in ${b.store.url} but cannot be read`);
        unsealObject(keys, smallest.name, obj);
    } catch (e) {
        if (e instanceof BackupAuthenticationError) throw new StoreRestoreError(`${e.message}: ${fix}`);
        if (e instanceof StoreRestoreError) throw e;
        throw new StoreRestoreError(`cannot read ${head} from ${b.store.url}: ${(e as Error).message}`);
    }
}

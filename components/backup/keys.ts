/**
 * The backup keys and the object format host/etcd-backup.sh writes, on the deployer's side. One secret
 * (the stack's backup encryption key) yields two keys: a passphrase for `openssl enc` (AES-256-CTR, key
 * and IV from PBKDF2-SHA256 with a random salt per object) and an HMAC-SHA256 key for each object's tag
 * over its name and ciphertext. The hosts get the passphrase and the HMAC pads (key XOR ipad/opad, RFC
 * 2104), so that no key ever appears on a command line there.
 */
import { createDecipheriv, createHmac, pbkdf2Sync, timingSafeEqual } from "node:crypto";
import { gunzipSync } from "node:zlib";

const MAGIC = "etcd-pulumi-backup-v1";
const PBKDF2_ITERATIONS = 10000;

export interface BackupKeys {
    /** The `openssl enc -pass file:` passphrase (64 hex characters). */
    encryptionPass: string;
    /** The HMAC key (32 bytes). */
    macKey: Buffer;
}

export function deriveBackupKeys(secret: string): BackupKeys {
    const derive = (label: string) => createHmac("sha256", secret).update(label).digest();
    return { encryptionPass: derive("etcd-pulumi/backup/encryption/v1").toString("hex"), macKey: derive("etcd-pulumi/backup/authentication/v1") };
}

/** The two lines of the hosts' mac.pads file: the HMAC key padded to 64 bytes, XOR 0x36 and XOR 0x5c, in hex. */
export function macPads(macKey: Buffer): string {
    const block = Buffer.alloc(64);
    macKey.copy(block);
    const xor = (v: number) => Buffer.from(block.map((b) => b ^ v)).toString("hex");
    return `${xor(0x36)}\n${xor(0x5c)}\n`;
}

/** An object's tag: HMAC-SHA256 over the magic line, its name and its ciphertext. */
export function objectTag(macKey: Buffer, name: string, ciphertext: Buffer): Buffer {
    return createHmac("sha256", macKey).update(`${MAGIC}\n${name}\n`).update(ciphertext).digest();
}

export class BackupAuthenticationError extends Error {}

/** Checks an object's tag, then decrypts it, and gunzips a `.gz.enc` one (what the hosts do at restore, in memory). */
export function unsealObject(keys: BackupKeys, name: string, object: Buffer): Buffer {
    if (object.length <= 48) throw new BackupAuthenticationError(`${name}: ${object.length} bytes is too short to be a backup object`);
    const ciphertext = object.subarray(0, object.length - 32);
    if (!timingSafeEqual(objectTag(keys.macKey, name, ciphertext), object.subarray(object.length - 32))) {
        throw new BackupAuthenticationError(`${name} does not authenticate with this stack's backup key`);
    }
    if (ciphertext.subarray(0, 8).toString("latin1") !== "Salted__") throw new BackupAuthenticationError(`${name}: no openssl salt header`);
    const derived = pbkdf2Sync(keys.encryptionPass, ciphertext.subarray(8, 16), PBKDF2_ITERATIONS, 48, "sha256");
    const decipher = createDecipheriv("aes-256-ctr", derived.subarray(0, 32), derived.subarray(32, 48));
    const plain = Buffer.concat([decipher.update(ciphertext.subarray(16)), decipher.final()]);
    return name.endsWith(".gz.enc") ? gunzipSync(plain) : plain;
}

/** Checks a HEAD object (one JSON line, then its tag in hex) and returns the JSON. */
export function readHead(keys: BackupKeys, name: string, object: Buffer): { cluster: string; revision: number; object: string; time: string } {
    const text = object.toString("utf8");
    const nl = text.indexOf("\n");
    const body = text.slice(0, nl + 1);
    const tag = text.slice(nl + 1).trim();
    if (nl < 0 || !/^[0-9a-f]{64}$/.test(tag) || !timingSafeEqual(objectTag(keys.macKey, name, Buffer.from(body, "utf8")), Buffer.from(tag, "hex"))) {
        throw new BackupAuthenticationError(`${name} does not authenticate with this stack's backup key`);
    }
    return JSON.parse(body) as { cluster: string; revision: number; object: string; time: string };
}

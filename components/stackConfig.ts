/**
 * Turns a stack's raw config (what `pulumi config` holds, all strings) into EtcdClusterArgs. Pure: the
 * caller passes the values and a file reader. Every problem is reported at once with the key and the
 * fix, together with the validation problems of the args it could read; unknown keys get a "did you mean".
 */
import * as os from "node:os";
import * as path from "node:path";
import { EtcdClusterArgs, EtcdMemberArgs } from "./types";
import { EtcdConfigError, resolveSettings } from "./validate";
import { BACKUP_FIELDS, RETENTION_FIELDS } from "./backup/settings";
import { MONITORING_FIELDS } from "./monitoring/settings";
import { MAINTENANCE_FIELDS } from "./maintenance/settings";

type Kind = "string" | "integer" | "boolean" | "json" | "secret";

/** Every key the program understands, and how its value is read. */
export const STACK_CONFIG_KEYS: Record<string, Kind> = {
    members: "json",
    version: "string",
    arch: "string",
    binary: "json",
    clientPort: "integer",
    peerPort: "integer",
    metricsPort: "integer",
    dataDir: "string",
    walDir: "string",
    heartbeatInterval: "integer",
    electionTimeout: "integer",
    quotaBackendBytes: "integer",
    autoCompactionMode: "string",
    autoCompactionRetention: "string",
    maxRequestBytes: "integer",
    logLevel: "string",
    extraSans: "json",
    certValidityHours: "integer",
    certRenewBeforeHours: "integer",
    keyAlgorithm: "string",
    caGeneration: "integer",
    caRotation: "string",
    allowSmallCluster: "boolean",
    clusterToken: "string",
    allowEvenMembers: "boolean",
    purgeDataOnDestroy: "boolean",
    snapshotSchedule: "string",
    snapshotRetention: "integer",
    restoreFrom: "string",
    backup: "json",
    maintenance: "json",
    healthTimeoutSeconds: "integer",
    monitoring: "json",
    auth: "boolean",
    clients: "json",
    apiserverPrefix: "string",
    sshUser: "string",
    sshPrivateKey: "secret",
    sshPrivateKeyPath: "string",
    sshSudo: "boolean",
    sshBastion: "json",
    sshDialErrorLimit: "integer",
    sshPerDialTimeout: "integer",
};

const MEMBER_FIELDS = ["name", "address", "listenAddress", "sshHost", "sshPort", "sshUser", "hostKey", "replacement"];
const BINARY_FIELDS = ["path", "url", "sha256", "sha256sums"];
const BASTION_FIELDS = ["host", "port", "user", "hostKey"];
const CLIENT_FIELDS = ["name", "permissions"];
const PERMISSION_FIELDS = ["prefix", "key", "access"];

export function editDistance(a: string, b: string): number {
    const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)]);
    for (let j = 1; j <= b.length; j++) d[0][j] = j;
    for (let i = 1; i <= a.length; i++) {
        for (let j = 1; j <= b.length; j++) {
            d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
        }
    }
    return d[a.length][b.length];
}

/** The closest known name, if it is close enough to be a typo. */
export function didYouMean(key: string, known: string[]): string | undefined {
    let best: string | undefined;
    let bestScore = Infinity;
    for (const k of known) {
        const score = k.toLowerCase() === key.toLowerCase() ? 0 : editDistance(key.toLowerCase(), k.toLowerCase());
        if (score < bestScore) [best, bestScore] = [k, score];
    }
    return best !== undefined && bestScore <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

function unknownFields(obj: Record<string, unknown>, known: string[], at: string, problems: string[]): void {
    for (const f of Object.keys(obj)) {
        if (!known.includes(f)) {
            const hint = didYouMean(f, known);
            problems.push(`${at}.${f}: unknown field${hint ? `; did you mean "${hint}"?` : `; known fields: ${known.join(", ")}`}`);
        }
    }
}

export interface StackConfigInput {
    /** Project namespace of the keys, e.g. "etcd-pulumi". */
    namespace: string;
    /** All config values as Pulumi hands them over: "namespace:key" -> string. */
    values: Record<string, string>;
    /** The secret SSH key as a Pulumi secret, when sshPrivateKey is set. */
    secretPrivateKey?: unknown;
    /** Whether a key ("namespace:key") holds a secret (one or more `secure:` values); default: none is. */
    isSecret?: (key: string) => boolean;
    readFile: (p: string) => string;
}

/**
 * The args for EtcdCluster, or an EtcdConfigError listing, once, every problem: unknown keys, values of
 * the wrong kind, and everything validation of the readable values finds.
 */
export function argsFromStackConfig(input: StackConfigInput): EtcdClusterArgs {
    const { args, problems } = readStackConfig(input);
    try {
        resolveSettings(args);
    } catch (e) {
        if (!(e instanceof EtcdConfigError)) throw e;
        // A key already reported (unreadable value, missing SSH credentials) is not reported twice.
        const reported = new Set(problems.map(problemKey));
        if (args.ssh.privateKey === MISSING_KEY) reported.add("ssh");
        // A misspelt field ("acess: unknown field; did you mean "access"?") is the cause of "access: missing": not reported twice.
        for (const p of problems) {
            const typo = /^(\S*?)([^.[\s]+): unknown field; did you mean "([^"]+)"\?/.exec(p);
            if (typo) reported.add(`${typo[1]}${typo[3]}`);
        }
        // A problem is dropped when it or an enclosing key was reported: "maintenance" covers "maintenance.x", "maintenance.x" not "maintenance.y".
        problems.push(...e.problems.filter((p) => !enclosingKeys(problemKey(p)).some((k) => reported.has(k))));
    }
    if (problems.length > 0) throw new EtcdConfigError(problems);
    return args;
}

/** The key a problem is about: "etcd-pulumi:members: ..." -> "members", "members[0].name: ..." -> "members[0].name". */
function problemKey(problem: string): string {
    return problem.replace(/^[a-z0-9-]+:(?=[a-zA-Z])/, "").split(/[:\s]/)[0];
}

/** "members[0].name" -> ["members", "members[0]", "members[0].name"]. */
function enclosingKeys(key: string): string[] {
    return key.split(/(?=[.[])/).map((_, i, parts) => parts.slice(0, i + 1).join(""));
}

/** Stands in for an SSH key that could not be read (already reported), so validation goes on. */
const MISSING_KEY = "(missing)";

/**
 * `backup` as written in stack config: caBundlePath (a file on the deployer) becomes caBundle, and the
 * secrets must be stored as secrets (`pulumi config set --secret --path backup.secretAccessKey`).
 */
function readBackup(input: StackConfigInput, parsed: Record<string, unknown>, problems: string[]): void {
    const b = parsed.backup;
    if (b === undefined) return;
    if (typeof b !== "object" || b === null || Array.isArray(b)) {
        problems.push(`${input.namespace}:backup: must be an object with store, accessKeyId, secretAccessKey, ...`);
        return;
    }
    const backup = b as Record<string, unknown>;
    unknownFields(backup, BACKUP_FIELDS, "backup", problems);
    const retention = backup.retention;
    if (retention !== undefined && (typeof retention !== "object" || retention === null || Array.isArray(retention))) problems.push(`backup.retention: must be an object`);
    else if (retention !== undefined) unknownFields(retention as Record<string, unknown>, RETENTION_FIELDS, "backup.retention", problems);
    const secret = input.isSecret?.(`${input.namespace}:backup`) ?? false;
    for (const field of ["secretAccessKey", "encryptionKey"]) {
        if (backup[field] !== undefined && !secret) {
            problems.push(`backup.${field}: is stored in plaintext in the stack config; set it as a secret: pulumi config set --secret --path backup.${field} <value>`);
        }
    }
    if (backup.caBundlePath !== undefined) {
        const p = String(backup.caBundlePath);
        const file = p.startsWith("~/") ? path.join(os.homedir(), p.slice(2)) : p;
        try {
            backup.caBundle = input.readFile(file);
        } catch (e) {
            problems.push(`backup.caBundlePath: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); give the path of the PEM bundle that signed the store's certificate`);
        }
        delete backup.caBundlePath;
    }
}

/** The args as read from the stack config, with the problems reading found (no validation of values). */
export function readStackConfig(input: StackConfigInput): { args: EtcdClusterArgs; problems: string[] } {
    const problems: string[] = [];
    const known = Object.keys(STACK_CONFIG_KEYS);
    const raw: Record<string, string> = {};
    for (const [fullKey, value] of Object.entries(input.values)) {
        const [ns, ...rest] = fullKey.split(":");
        if (ns !== input.namespace) continue;
        const key = rest.join(":");
        if (!(key in STACK_CONFIG_KEYS)) {
            const hint = didYouMean(key, known);
            problems.push(`${input.namespace}:${key}: unknown config key${hint ? `; did you mean "${hint}"?` : ""} (run 'pulumi config rm ${key}' to drop it)`);
            continue;
        }
        raw[key] = value;
    }
    const parsed: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(raw)) {
        const kind = STACK_CONFIG_KEYS[key];
        const at = `${input.namespace}:${key}`;
        if (kind === "integer") {
            if (!/^-?\d+$/.test(value.trim())) problems.push(`${at}: ${JSON.stringify(value)} is not an integer`);
            else parsed[key] = Number(value);
        } else if (kind === "boolean") {
            if (value !== "true" && value !== "false") problems.push(`${at}: ${JSON.stringify(value)} must be true or false`);
            else parsed[key] = value === "true";
        } else if (kind === "json") {
            try {
                parsed[key] = JSON.parse(value);
            } catch {
                problems.push(`${at}: not valid structured config; write it as a YAML list/object in Pulumi.<stack>.yaml or 'pulumi config set --path'`);
            }
        } else if (kind === "string") {
            parsed[key] = value;
        }
    }

    const members = parsed.members;
    if (members !== undefined && !Array.isArray(members)) problems.push(`${input.namespace}:members: must be a list of { name, address } objects`);
    if (Array.isArray(members)) {
        members.forEach((m, i) => {
            if (typeof m === "object" && m !== null) unknownFields(m as Record<string, unknown>, MEMBER_FIELDS, `members[${i}]`, problems);
        });
    }
    if (Array.isArray(parsed.clients)) {
        parsed.clients.forEach((c, i) => {
            if (typeof c !== "object" || c === null || Array.isArray(c)) return;
            unknownFields(c as Record<string, unknown>, CLIENT_FIELDS, `clients[${i}]`, problems);
            const perms = (c as { permissions?: unknown }).permissions;
            if (!Array.isArray(perms)) return;
            perms.forEach((p, j) => {
                if (typeof p === "object" && p !== null && !Array.isArray(p)) unknownFields(p as Record<string, unknown>, PERMISSION_FIELDS, `clients[${i}].permissions[${j}]`, problems);
            });
        });
    }
    for (const [key, fields] of [["binary", BINARY_FIELDS], ["sshBastion", BASTION_FIELDS], ["monitoring", MONITORING_FIELDS], ["maintenance", MAINTENANCE_FIELDS]] as const) {
        const v = parsed[key];
        if (v === undefined) continue;
        if (typeof v !== "object" || v === null || Array.isArray(v)) problems.push(`${input.namespace}:${key}: must be an object`);
        else unknownFields(v as Record<string, unknown>, [...fields], key, problems);
    }

    readBackup(input, parsed, problems);

    let privateKey: unknown;
    if (raw.sshPrivateKey !== undefined && raw.sshPrivateKeyPath !== undefined) {
        problems.push(`sshPrivateKey and sshPrivateKeyPath are both set; keep one ('pulumi config rm sshPrivateKeyPath' or 'pulumi config rm sshPrivateKey')`);
    } else if (raw.sshPrivateKey !== undefined) {
        privateKey = input.secretPrivateKey;
    } else if (typeof parsed.sshPrivateKeyPath === "string") {
        const p = parsed.sshPrivateKeyPath.startsWith("~/") ? path.join(os.homedir(), parsed.sshPrivateKeyPath.slice(2)) : parsed.sshPrivateKeyPath;
        try {
            const text = input.readFile(p);
            if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) problems.push(`sshPrivateKeyPath: ${p} is not a PEM/OpenSSH private key`);
            else privateKey = text;
        } catch (e) {
            problems.push(`sshPrivateKeyPath: cannot read ${p} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); fix the path or set the key with 'pulumi config set --secret sshPrivateKey < KEYFILE'`);
        }
    } else {
        problems.push(`sshPrivateKey: missing SSH credentials; run 'pulumi config set --secret sshPrivateKey < KEYFILE' or 'pulumi config set sshPrivateKeyPath ~/.ssh/id_ed25519'`);
    }

    // Every key but the ssh* ones is named exactly as the EtcdClusterArgs field it sets.
    const { sshUser, sshSudo, sshBastion, sshDialErrorLimit, sshPerDialTimeout, sshPrivateKeyPath, ...cluster } = parsed;
    const args: EtcdClusterArgs = {
        ...(cluster as Omit<EtcdClusterArgs, "members" | "ssh">),
        members: Array.isArray(members) ? (members as EtcdMemberArgs[]) : [],
        ssh: {
            user: sshUser as string | undefined,
            privateKey: (privateKey as string | undefined) ?? MISSING_KEY,
            sudo: sshSudo as boolean | undefined,
            bastion: sshBastion as EtcdClusterArgs["ssh"]["bastion"],
            dialErrorLimit: sshDialErrorLimit as number | undefined,
            perDialTimeout: sshPerDialTimeout as number | undefined,
        },
    };
    return { args, problems };
}

/**
 * The authentication settings (`auth`, `clients`, `apiserverPrefix`), checked and defaulted. Runs inside
 * validate.ts before anything is registered; every problem names the field and the fix.
 */
import { MONITORING_CN } from "../monitoring/listener";
import { ADMIN_CN, APISERVER_CN } from "../pki";
import { PEER_CN } from "../render/config";
import { EtcdClientArgs } from "./types";
import { DEFAULT_APISERVER_PREFIX, MEMBER_CLIENT_CN_PREFIX, ROOT_USER } from "./names";

export type Access = "read" | "readwrite";

/** One grant: every key under a prefix, or one exact key. */
export interface PermissionSettings {
    kind: "prefix" | "key";
    value: string;
    access: Access;
}

export interface ClientSettings {
    /** The certificate's CN and the etcd user name. */
    name: string;
    permissions: PermissionSettings[];
}

export interface AuthSettings {
    /** etcd authentication on (`auth enable`). */
    enabled: boolean;
    /** The declared clients, in config order. */
    clients: ClientSettings[];
    /** The key prefix kube-apiserver's client may read and write (its --etcd-prefix plus "/"). */
    apiserverPrefix: string;
}

// A CN is at most 64 characters (X.509 ub-common-name); no ':' (etcdctl reads NAME:PASSWORD) or spaces.
const CLIENT_NAME = /^[a-z0-9]([a-z0-9._-]{0,62}[a-z0-9])?$/;
// Printable ASCII: keys travel base64-encoded to the host, but an operator reads them in `etcdctl role get`.
const PRINTABLE = /^[\x20-\x7e]+$/;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Why a client name is taken, or undefined when it is free. */
function reservedBecause(name: string, memberNames: string[]): string | undefined {
    if (name === ROOT_USER) return `it is etcd's root user, which the component creates for etcd and binds to no certificate`;
    if (name === ADMIN_CN) return `it is the admin certificate's CN (adminCertPem), which has the root role`;
    if (name === APISERVER_CN) return `it is the kube-apiserver certificate's CN (apiserverCertPem), configured with apiserverPrefix`;
    if (name === PEER_CN) return `it is the CN of every member's peer certificate`;
    if (name === MONITORING_CN) return `it is the CN of the monitoring certificate (monitoringCertPem), which needs no etcd user`;
    if (name.startsWith(MEMBER_CLIENT_CN_PREFIX)) return `names starting with "${MEMBER_CLIENT_CN_PREFIX}" are the members' own etcdctl certificates (root role)`;
    if (memberNames.includes(name)) return `it is the CN of member ${name}'s server certificate, which can act as a client too`;
    return undefined;
}

function permission(p: unknown, at: string, problems: string[]): PermissionSettings | undefined {
    if (!isRecord(p)) {
        problems.push(`${at}: must be an object like { prefix: "/app-a/", access: readwrite } or { key: "/app-a/config", access: read }`);
        return undefined;
    }
    const hasPrefix = p.prefix !== undefined;
    const hasKey = p.key !== undefined;
    if (hasPrefix === hasKey) {
        problems.push(`${at}: set exactly one of prefix (every key starting with it, e.g. "/app-a/") or key (one exact key), ${hasPrefix ? "not both" : "none is set"}`);
    }
    const kind: "prefix" | "key" = hasPrefix ? "prefix" : "key";
    const value = hasPrefix ? p.prefix : p.key;
    let ok = true;
    if (hasPrefix || hasKey) {
        if (typeof value !== "string" || value === "") {
            problems.push(`${at}.${kind}: must be a non-empty string, e.g. ${kind === "prefix" ? `"/app-a/"` : `"/app-a/config"`}; to give a client every key, give it the admin certificate instead`);
            ok = false;
        } else if (!PRINTABLE.test(value)) {
            problems.push(`${at}.${kind}: ${JSON.stringify(value)} contains characters other than printable ASCII; use letters, digits and punctuation such as "/app-a/"`);
            ok = false;
        }
    }
    if (p.access === undefined) {
        problems.push(`${at}.access: missing; set access: read (get and watch) or access: readwrite (also put, delete and transactions)`);
        ok = false;
    } else if (p.access !== "read" && p.access !== "readwrite") {
        problems.push(`${at}.access: ${JSON.stringify(p.access)} must be "read" or "readwrite"`);
        ok = false;
    }
    if (!ok || hasPrefix === hasKey) return undefined;
    return { kind, value: value as string, access: p.access as Access };
}

/** The authentication settings, pushing every problem found onto `problems`. */
export function resolveAuth(
    args: { auth?: unknown; clients?: unknown; apiserverPrefix?: unknown },
    memberNames: string[],
    problems: string[],
): AuthSettings {
    const enabled = args.auth ?? false;
    if (typeof enabled !== "boolean") problems.push(`auth: ${JSON.stringify(enabled)} must be true (etcd authentication on) or false (the default)`);
    const apiserverPrefix = args.apiserverPrefix ?? DEFAULT_APISERVER_PREFIX;
    if (typeof apiserverPrefix !== "string" || !/^\/[\x21-\x7e]*\/$/.test(apiserverPrefix) || apiserverPrefix === "/") {
        problems.push(
            `apiserverPrefix: ${JSON.stringify(apiserverPrefix)} must be kube-apiserver's --etcd-prefix followed by "/", e.g. "${DEFAULT_APISERVER_PREFIX}" (the default, for --etcd-prefix=/registry)`,
        );
    }
    const raw = args.clients ?? [];
    const clients: ClientSettings[] = [];
    if (!Array.isArray(raw)) {
        problems.push(`clients: must be a list like [{ name: "app-a", permissions: [{ prefix: "/app-a/", access: readwrite }] }]`);
        return { enabled: enabled === true, clients, apiserverPrefix: String(apiserverPrefix) };
    }
    const seen = new Set<string>();
    raw.forEach((c: unknown, i) => {
        const at = `clients[${i}]`;
        if (!isRecord(c)) {
            problems.push(`${at}: must be an object like { name: "app-a", permissions: [{ prefix: "/app-a/", access: readwrite }] }`);
            return;
        }
        const { name, permissions } = c as Partial<EtcdClientArgs> & Record<string, unknown>;
        let nameOk = typeof name === "string" && CLIENT_NAME.test(name);
        if (!nameOk) {
            problems.push(
                `${at}.name: ${JSON.stringify(name)} is not a valid client name (the certificate's CN and the etcd user name); use lowercase letters, ` +
                    `digits, '.', '_' and '-' (1-64 characters, starting and ending with a letter or digit), e.g. "app-a"`,
            );
        } else {
            const why = reservedBecause(name as string, memberNames);
            if (why) {
                problems.push(`${at}.name: "${name}" is taken: ${why}; give the client another name`);
                nameOk = false;
            } else if (seen.has(name as string)) {
                problems.push(`${at}.name: duplicate client "${name}"; each client needs its own name (merge their permissions into one entry)`);
                nameOk = false;
            }
            seen.add(name as string);
        }
        if (!Array.isArray(permissions) || permissions.length === 0) {
            problems.push(`${at}.permissions: ${nameOk ? `client "${name}" has` : "has"} no permissions; list at least one, e.g. [{ prefix: "/${nameOk ? name : "app-a"}/", access: readwrite }], or remove the client`);
            return;
        }
        const perms: PermissionSettings[] = [];
        const grants = new Set<string>();
        permissions.forEach((p, j) => {
            const r = permission(p, `${at}.permissions[${j}]`, problems);
            if (!r) return;
            const id = `${r.kind} ${r.value}`;
            if (grants.has(id)) problems.push(`${at}.permissions[${j}]: ${r.kind} ${JSON.stringify(r.value)} is listed twice; keep one entry with the access it needs`);
            grants.add(id);
            perms.push(r);
        });
        if (nameOk) clients.push({ name: name as string, permissions: perms });
    });
    return { enabled: enabled === true, clients, apiserverPrefix: String(apiserverPrefix) };
}

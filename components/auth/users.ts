/**
 * The etcd users the component manages, each with what it may do: pure, from the settings. With client
 * certificate authentication etcd takes a request's user from the certificate's CN, so each certificate
 * the CA issues is one user here.
 *
 * Why each built-in user has what it has (checked in etcd's source, v3.5.35 and v3.6.16):
 *  - root: etcd refuses `auth enable` without a user called root holding the root role. No certificate
 *    carries CN root, and it has no password, so nobody can act as it.
 *  - etcd-admin (the admin certificate): the root role; it is the operator's and the deployer's identity.
 *  - etcdctl-<member> (each member's own client certificate, used by every host script): the root role,
 *    because what the scripts do is admin-only in etcd: member add/remove/promote
 *    (checkMembershipOperationPermission -> IsAdminPermitted), snapshot, defragment, hashkv, move-leader,
 *    alarm disarm (authMaintenanceServer.isPermitted), compaction (kvServer.Compact -> isPermitted), and
 *    reading every key for backups. etcd has no narrower role for these: IsAdminPermitted means the
 *    role named root.
 *  - kube-apiserver-etcd-client: readwrite on its prefix (default /registry/), which holds every object,
 *    the /registry/health key its etcd health check reads, and the keys its leases are attached to.
 *    Status (its database size metric) and lease grants need no permission, only a certificate. Its
 *    compactor needs compaction, which etcd grants to root alone, so it is not given: with authentication
 *    on, run kube-apiserver with --etcd-compaction-interval=0 and let etcd compact itself
 *    (autoCompactionMode/autoCompactionRetention).
 */
import { ADMIN_CN, APISERVER_CN } from "../pki";
import { MEMBER_CLIENT_CN_PREFIX } from "./names";
import { AuthSettings, PermissionSettings } from "./settings";

export type UserKind = "admin" | "member" | "apiserver" | "client";

/** One user as the component wants it. Plain JSON: it is kept in the record of the deployment. */
export interface ManagedUser {
    name: string;
    kind: UserKind;
    /** For kind member: the member's name. */
    member?: string;
    /** Holds the root role (full access, admin operations). */
    root: boolean;
    /** What its own role grants (empty for root holders). */
    permissions: PermissionSettings[];
}

/** The authentication part of the record: what decides the plan in words of an auth change. */
export interface AuthRecord {
    enabled: boolean;
    /** Every managed user but root, in a fixed order: admin, members by name, apiserver, clients in config order. */
    users: ManagedUser[];
}

export function managedUsers(auth: AuthSettings, memberNames: string[]): ManagedUser[] {
    return [
        { name: ADMIN_CN, kind: "admin", root: true, permissions: [] },
        ...[...memberNames].sort().map((m): ManagedUser => ({ name: `${MEMBER_CLIENT_CN_PREFIX}${m}`, kind: "member", member: m, root: true, permissions: [] })),
        { name: APISERVER_CN, kind: "apiserver", root: false, permissions: [{ kind: "prefix", value: auth.apiserverPrefix, access: "readwrite" }] },
        ...auth.clients.map((c): ManagedUser => ({ name: c.name, kind: "client", root: false, permissions: c.permissions })),
    ];
}

export function authRecord(auth: AuthSettings, memberNames: string[]): AuthRecord {
    return { enabled: auth.enabled, users: managedUsers(auth, memberNames) };
}

/**
 * The plan in words of an authentication change, from the recorded users to the configured ones: pure,
 * plain values only (it runs inside the record's check, in the engine). Turning authentication on or off
 * on a running cluster is loud (the line starts with AUTHENTICATION and the component prints it as a
 * warning): it names who keeps what and who loses access.
 */
import { DEFAULT_APISERVER_PREFIX, roleOf } from "./names";
import { PermissionSettings } from "./settings";
import { AuthRecord, ManagedUser } from "./users";

const NONE: AuthRecord = { enabled: false, users: [] };

const grant = (p: PermissionSettings) => `${p.access} ${p.kind} ${p.value}`;
const grants = (u: ManagedUser) => u.permissions.map(grant).join(", ");
const permId = (p: PermissionSettings) => `${p.kind} ${p.value}`;
const list = (names: string[]) => names.join(", ");

/** "Full access (root role): ...; only what is granted: ..." for the users of a record. */
function whoHasWhat(r: AuthRecord): string {
    const admin = r.users.filter((u) => u.kind === "admin").map((u) => `${u.name} (the admin certificate)`);
    const members = r.users.filter((u) => u.kind === "member").map((u) => u.name);
    const root = [...admin, ...(members.length > 0 ? [`${list(members)} (the members' host scripts)`] : [])];
    const limited = r.users.filter((u) => !u.root).map((u) => `${u.name} (${grants(u)}${u.kind === "apiserver" ? "; run kube-apiserver with --etcd-compaction-interval=0: compaction is root-only" : ""})`);
    return `full access (root role): ${list(root)}; only what is granted: ${list(limited)}`;
}

const memberNames = (r: AuthRecord) => r.users.filter((u) => u.kind === "member").map((u) => u.member ?? u.name);

/** What changed in one user's grants: "+ read key /x", "- readwrite prefix /y/", "read -> readwrite prefix /z/". */
function grantChanges(before: ManagedUser, after: ManagedUser): string[] {
    const was = new Map(before.permissions.map((p) => [permId(p), p]));
    const now = new Map(after.permissions.map((p) => [permId(p), p]));
    const out: string[] = [];
    for (const [id, p] of now) {
        const old = was.get(id);
        if (!old) out.push(`+ ${grant(p)}`);
        else if (old.access !== p.access) out.push(`${old.access} -> ${p.access} ${id}`);
    }
    for (const [id, p] of was) if (!now.has(id)) out.push(`- ${grant(p)}`);
    return out;
}

/**
 * Whether a record's authentication is what a stack that never set auth, clients or apiserverPrefix has
 * (or a record from before authentication existed): a CA rotation compares records without it.
 */
export function authAtDefaults(a: AuthRecord | undefined): boolean {
    if (!a) return true;
    const apiserver = a.users.filter((u) => u.kind === "apiserver");
    return (
        !a.enabled &&
        !a.users.some((u) => u.kind === "client") &&
        apiserver.every((u) => u.permissions.length === 1 && u.permissions[0].kind === "prefix" && u.permissions[0].value === DEFAULT_APISERVER_PREFIX && u.permissions[0].access === "readwrite")
    );
}

/** `previous`: the recorded authentication (undefined for a cluster recorded before it existed); `deployed`: whether the cluster runs already. */
export function authWords(previous: AuthRecord | undefined, next: AuthRecord, deployed: boolean): string[] {
    const clients = next.users.filter((u) => u.kind === "client");
    if (!deployed) {
        if (next.enabled) return [`authentication on once the cluster has formed: ${whoHasWhat(next)}; any other certificate is refused`];
        if (clients.length === 0) return [];
        return [`clients ${list(clients.map((c) => c.name))}: certificates issued (CN = client name) and users prepared; authentication is off (auth: false), so etcd does not check their permissions`];
    }
    const prev = previous ?? NONE;
    const before = new Map(prev.users.map((u) => [u.name, u]));
    const after = new Map(next.users.map((u) => [u.name, u]));
    const removedClients = prev.users.filter((u) => u.kind === "client" && !after.has(u.name)).map((u) => u.name);
    const lines: string[] = [];
    if (!prev.enabled && next.enabled) {
        lines.push(
            `AUTHENTICATION ON for the running cluster: from this run on etcd checks every request against the user the client certificate's CN names. ` +
                `${whoHasWhat(next)}. LOSE ACCESS at once: every other certificate, e.g. the members' server certificates used as client certificates ` +
                `(CN ${list(memberNames(next))}), and any program that used one of these certificates for keys its user is not granted` +
                (removedClients.length > 0 ? `; clients removed in this run: ${list(removedClients)}` : ""),
        );
    } else if (prev.enabled && !next.enabled) {
        lines.push(`AUTHENTICATION OFF for the running cluster: etcd stops checking permissions, so every certificate from the cluster's CA gets full access to every key; users and roles stay for when it is turned on again`);
    }
    // Users of the built-in certificates only matter while authentication is on: they exist to keep working then.
    const enforced = prev.enabled && next.enabled;
    for (const u of next.users) {
        const old = before.get(u.name);
        if (!old) {
            if (u.kind === "client") lines.push(`client ${u.name}: new certificate (CN ${u.name}) and user with role ${roleOf(u.name)}: ${grants(u)}${next.enabled ? "" : "; not enforced while authentication is off"}`);
            else if (u.kind === "member" && enforced) lines.push(`${u.member}: user ${u.name} with the root role for its host scripts, created before it joins`);
            continue;
        }
        const changes = grantChanges(old, u);
        if (changes.length > 0) lines.push(`${u.kind === "client" ? `client ${u.name}` : u.name}: permissions ${changes.join("; ")}: applied at once, no restart`);
    }
    for (const u of prev.users) {
        if (after.has(u.name)) continue;
        if (u.kind === "client") {
            lines.push(
                next.enabled
                    ? `client ${u.name}: removed: its user and role are deleted, so its certificate is refused from now on, even unchanged; it leaves clientCertificates`
                    : `client ${u.name}: removed: its user, role and certificate are deleted; authentication is off, so a copy of its certificate keeps full access until it expires or the CA is rotated`,
            );
        } else if (u.kind === "member" && (prev.enabled || next.enabled)) {
            lines.push(`${u.member}: user ${u.name} deleted, so that member's etcdctl certificate is refused from now on`);
        }
    }
    return lines;
}

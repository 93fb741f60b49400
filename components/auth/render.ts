/**
 * What the auth steps send to the member they run on: the shipped host program (host/etcd-auth.sh and
 * host/role-perms.awk), its env file, the desired users and roles, and the admin's certificate and key,
 * all inside one script on the step's secret standard input. Pure, except for reading the shipped files.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { ADMIN_CN } from "../pki";
import { clientUrl } from "../render/config";
import { HostPaths } from "../render/paths";
import { envLine, script, shq } from "../render/shell";
import { ClusterSettings, MemberSettings } from "../settings";
import { AUTH_MARKER_ROLE, MANAGED_ROLE_PREFIX, ROOT_ROLE, ROOT_USER, roleOf } from "./names";
import { PermissionSettings } from "./settings";
import { ManagedUser } from "./users";

const SHIPPED = ["etcd-auth.sh", "role-perms.awk"] as const;
let shipped: Record<(typeof SHIPPED)[number], string> | undefined;
/** The host program, as the package ships it (scripts/build.sh copies host/ next to the compiled code). */
export function shippedAuthFiles(): Record<(typeof SHIPPED)[number], string> {
    shipped ??= Object.fromEntries(SHIPPED.map((f) => [f, fs.readFileSync(path.join(__dirname, "host", f), "utf8")])) as Record<(typeof SHIPPED)[number], string>;
    return shipped;
}

/** etcd's numbers for permission types (authpb.Permission_Type). */
const PERM_TYPE: Record<PermissionSettings["access"], number> = { read: 0, readwrite: 2 };

/** The end of the range of keys that start with `prefix`, as etcd computes it (clientv3.GetPrefixRangeEnd). */
export function prefixRangeEnd(prefix: string): Buffer {
    const bytes = Buffer.from(prefix, "utf8");
    for (let i = bytes.length - 1; i >= 0; i--) {
        if (bytes[i] < 0xff) {
            const end = Buffer.from(bytes.subarray(0, i + 1));
            end[i] += 1;
            return end;
        }
    }
    return Buffer.from([0]);
}

const b64 = (v: string | Buffer) => Buffer.from(v).toString("base64");

/** One `perm` line: TYPE KEY END as role-perms.awk prints what etcd holds. */
export function permLine(role: string, p: PermissionSettings): string {
    const end = p.kind === "prefix" ? b64(prefixRangeEnd(p.value)) : "-";
    return `perm ${role} ${PERM_TYPE[p.access]} ${b64(p.value)} ${end}`;
}

/** The `desired` file etcd-auth.sh reads: root, then every managed user with its own role and grants. */
export function renderDesiredAuth(users: ManagedUser[]): string {
    const lines = [`user ${ROOT_USER} ${ROOT_ROLE}`];
    for (const u of users) {
        const role = roleOf(u.name);
        lines.push(`role ${role}`, ...u.permissions.map((p) => permLine(role, p)), `user ${u.name} ${role}${u.root ? ` ${ROOT_ROLE}` : ""}`);
    }
    return `${lines.join("\n")}\n`;
}

export interface AuthStepValues {
    settings: ClusterSettings;
    /** The member the step runs on. */
    runner: MemberSettings;
    paths: HostPaths;
    /** Which step: its name in messages. */
    step: "auth" | "auth-after-bootstrap";
    users: ManagedUser[];
    /** The CAs to check the members with, and the admin's key pair (secret). */
    caBundle: string;
    adminCert: string;
    adminKey: string;
    /** A host that has never run etcd is part of a cluster being created: nothing to do yet (the first run of step auth). */
    skipOnNewHost: boolean;
}

export function renderAuthEnv(v: AuthStepValues): string {
    const s = v.settings;
    return [
        "# Managed by etcd-pulumi: settings of one run of etcd-auth (no secrets: those are files next to this one).",
        envLine("AUTH_HOST", v.runner.name),
        envLine("AUTH_STEP", v.step),
        envLine("AUTH_ENABLED", String(s.auth.enabled)),
        envLine("AUTH_ENDPOINTS", s.members.map((m) => clientUrl(m, s)).join(",")),
        envLine("AUTH_ETCDCTL", `${v.paths.binDir}/etcdctl`),
        envLine("AUTH_WAIT_SECONDS", s.healthTimeoutSeconds),
        envLine("AUTH_MANAGED_ROLE_PREFIX", MANAGED_ROLE_PREFIX),
        envLine("AUTH_MARKER_ROLE", AUTH_MARKER_ROLE),
        envLine("AUTH_ADMIN_USER", ADMIN_CN),
        envLine("AUTH_SKIP_ON_NEW_HOST", String(v.skipOnNewHost)),
        envLine("AUTH_INCARNATION_FILE", v.paths.incarnationFile),
        envLine("AUTH_MEMBER_CERT", v.paths.clientCert),
        envLine("AUTH_MEMBER_KEY", v.paths.clientKey),
        "",
    ].join("\n");
}

/**
 * The step's script: unpacks everything into a private temp dir (removed on exit), then runs the host
 * program. Every file travels base64-encoded, so no content can end the script early.
 */
export function authStepScript(v: AuthStepValues): string {
    const files: [string, string][] = [
        ...Object.entries(shippedAuthFiles()),
        ["auth.env", renderAuthEnv(v)],
        ["desired", renderDesiredAuth(v.users)],
        ["ca.crt", v.caBundle],
        ["admin.crt", v.adminCert],
        ["admin.key", v.adminKey],
    ];
    return script({ host: v.runner.name, step: v.step }, [
        `dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT`,
        ...files.map(([name, content]) => `printf '%s' ${shq(b64(content))} | base64 -d > "$dir/${name}"`),
        // "|| exit": the program names the host, the step and the cause itself; the ERR trap would add a second message.
        `bash "$dir/etcd-auth.sh" "$dir/auth.env" || exit $?`,
    ]);
}

/** The update action of the after-bootstrap step: the auth step before the service steps keeps users and roles in step from then on. */
export function afterBootstrapUpdateScript(runner: MemberSettings): string {
    return script({ host: runner.name, step: "auth-after-bootstrap" }, [`log "nothing to do: step auth, before the service steps, keeps users, roles and authentication in step with the config"`]);
}

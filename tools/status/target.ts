/**
 * What `npm run status` looks at, from the stack alone (pure): the deployed members and the admin client
 * from the stack's outputs, and how to reach each host over SSH from the stack's config, read exactly as
 * the stack program reads it (components/stackConfig.ts), so status dials the way `pulumi up` does.
 */
import { SshRoute } from "../../components/deployerSsh/clientConfig";
import { HostPaths, hostPaths } from "../../components/render/paths";
import { argsFromStackConfig } from "../../components/stackConfig";
import { resolveSettings } from "../../components/validate";

/** `pulumi stack output --json --show-secrets` and `pulumi config --json --show-secrets`, as parsed JSON. */
export interface StackView {
    outputs: Record<string, unknown>;
    config: Record<string, { value?: string; secret?: boolean }>;
}

export interface MemberTarget {
    name: string;
    address: string;
    clientUrl: string;
    /** How to reach the host; undefined when the stack's config no longer has this member (then no on-host column). */
    route?: SshRoute;
    sudo: boolean;
    /** Why there is no route, when there is none. */
    noRoute?: string;
}

export interface StatusTarget {
    stack: string;
    version: string;
    members: MemberTarget[];
    pems: { ca: string; adminCert: string; adminKey: string; apiserverCert?: string };
    privateKey: string;
    ssh: { attempts: number; connectTimeoutSeconds: number };
    certRenewBeforeHours: number;
    /** Off-host backups: configured (the stack config's `backup`), and its RPO in seconds. */
    backup: { configured: boolean; rpoSeconds: number };
    paths: HostPaths;
    /** Where the release archive for the hosts is, when the config names a local one (binary.path). */
    localArchive?: string;
    arch: string;
}

const NAMESPACE = "etcd-pulumi";

export class StatusInputError extends Error {}

function text(outputs: Record<string, unknown>, key: string, required = true): string {
    const v = outputs[key];
    if (typeof v === "string" && v !== "") return v;
    if (!required) return "";
    throw new StatusInputError(`the stack has no output ${key}: it was never deployed successfully (run pulumi up), or it is not an etcd-pulumi stack`);
}

export function statusTarget(stack: string, view: StackView, readFile: (p: string) => string): StatusTarget {
    const deployed = view.outputs.deployedMembers;
    const urls = view.outputs.clientUrls;
    if (!Array.isArray(deployed) || !Array.isArray(urls) || deployed.length === 0) {
        throw new StatusInputError(`the stack ${stack} has no deployedMembers/clientUrls outputs: it was never deployed successfully (run pulumi up first)`);
    }
    const values: Record<string, string> = {};
    for (const [k, v] of Object.entries(view.config)) if (typeof v?.value === "string") values[k] = v.value;
    const secretKey = values[`${NAMESPACE}:sshPrivateKey`];
    // isSecret: components/stackConfig.ts checks that secrets in `backup` are stored as secrets (where it knows `backup`).
    const input = { namespace: NAMESPACE, values, secretPrivateKey: secretKey, readFile, isSecret: (key: string) => view.config[key]?.secret === true };
    const args = argsFromStackConfig(input);
    const s = resolveSettings(args);
    const members: MemberTarget[] = (deployed as { name: string; address: string }[]).map((d, i) => {
        const m = s.members.find((x) => x.name === d.name && x.address === d.address);
        const clientUrl = String(urls[i] ?? `https://${d.address}:${s.clientPort}`);
        if (!m) return { name: d.name, address: d.address, clientUrl, sudo: false, noRoute: "not in the stack's config as deployed (config changed since the last up)" };
        const endpoint = (host: string, port: number, user: string, hostKey?: string) => ({ host, port, user, ...(hostKey ? { hostKey } : {}) });
        return {
            name: d.name,
            address: d.address,
            clientUrl,
            sudo: m.sudo,
            route: { target: endpoint(m.sshHost, m.sshPort, m.sshUser, m.hostKey), ...(s.bastion ? { bastion: endpoint(s.bastion.host, s.bastion.port, s.bastion.user, s.bastion.hostKey) } : {}) },
        };
    });
    const backupRaw = values[`${NAMESPACE}:backup`];
    let rpoSeconds = 30;
    if (backupRaw) {
        try {
            const b = JSON.parse(backupRaw) as { rpoSeconds?: unknown };
            if (typeof b.rpoSeconds === "number") rpoSeconds = b.rpoSeconds;
        } catch {
            /* the stack program reports a malformed backup setting */
        }
    }
    return {
        stack,
        version: text(view.outputs, "etcdVersion"),
        members,
        pems: { ca: text(view.outputs, "caBundlePem"), adminCert: text(view.outputs, "adminCertPem"), adminKey: text(view.outputs, "adminKeyPem"), apiserverCert: text(view.outputs, "apiserverCertPem", false) || undefined },
        privateKey: String(args.ssh.privateKey),
        ssh: { attempts: s.dialErrorLimit, connectTimeoutSeconds: s.perDialTimeout },
        certRenewBeforeHours: s.certRenewBeforeHours,
        backup: { configured: backupRaw !== undefined, rpoSeconds },
        paths: hostPaths(s.dataDir, s.walDir),
        localArchive: s.binary.kind === "local" ? s.binary.location : undefined,
        arch: s.arch,
    };
}

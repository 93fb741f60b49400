/**
 * The OpenSSH client configuration the deployer uses when it reaches a host itself (clean-up of a leaving
 * host, `npm run status`), rendered purely from the same settings the command provider's connections are
 * made of: one target, optionally through one bastion, a pinned host key checked exactly, batch mode (never
 * a prompt), a bounded dial, no agent, no forwarding, and nothing read from the user's own ssh config.
 */

/** One SSH endpoint (a member host or the bastion). */
export interface SshEndpoint {
    host: string;
    port: number;
    user: string;
    /** authorized_keys style line ("ssh-ed25519 AAAA..."); without it the host key is not checked (as the command provider does). */
    hostKey?: string;
}

/** How to reach a host: directly, or through a bastion. */
export interface SshRoute {
    target: SshEndpoint;
    bastion?: SshEndpoint;
}

/** Where the rendered files and the private key are put (a private temp dir of the caller). */
export interface SshClientFiles {
    identityFile: string;
    knownHostsFile: string;
}

/** The name the rendered config gives the target (`ssh -F <config> <TARGET_ALIAS> ...`). */
export const TARGET_ALIAS = "etcd-pulumi-target";
const BASTION_ALIAS = "etcd-pulumi-bastion";

/** ssh_config values are quoted; a value that could break out of its quotes is refused (validated settings never hold one). */
function quoted(value: string | number): string {
    const v = String(value);
    if (/["\n\r\\]/.test(v) || v === "") throw new Error(`ssh client config: refusing the value ${JSON.stringify(v)}`);
    return `"${v}"`;
}

/** The known_hosts line for a pinned key: key type and base64 only (an authorized_keys comment is dropped). */
export function knownHostsLine(alias: string, hostKey: string): string {
    const [type, key] = hostKey.trim().split(/\s+/);
    if (!type || !key) throw new Error(`hostKey ${JSON.stringify(hostKey)} is not an authorized_keys style line`);
    return `${alias} ${type} ${key}`;
}

function hostBlock(alias: string, e: SshEndpoint, files: SshClientFiles, proxyJump?: string): string[] {
    return [
        `Host ${alias}`,
        `  HostName ${quoted(e.host)}`,
        `  Port ${quoted(e.port)}`,
        `  User ${quoted(e.user)}`,
        // The pinned key is looked up under the alias, so the address the connection goes to cannot matter.
        `  HostKeyAlias ${alias}`,
        ...(e.hostKey
            ? [`  StrictHostKeyChecking yes`, `  UserKnownHostsFile ${quoted(files.knownHostsFile)}`]
            : [`  StrictHostKeyChecking no`, `  UserKnownHostsFile /dev/null`]),
        ...(proxyJump ? [`  ProxyJump ${proxyJump}`] : []),
    ];
}

/**
 * The config file (for `ssh -F`) and the known_hosts file for one route. `connectTimeoutSeconds` bounds
 * each dial (the stack's sshPerDialTimeout); the caller bounds the attempts.
 */
export function renderSshClientConfig(route: SshRoute, files: SshClientFiles, connectTimeoutSeconds: number): { config: string; knownHosts: string } {
    const blocks = [...hostBlock(TARGET_ALIAS, route.target, files, route.bastion ? BASTION_ALIAS : undefined), ...(route.bastion ? hostBlock(BASTION_ALIAS, route.bastion, files) : [])];
    const common = [
        `Host *`,
        `  IdentityFile ${quoted(files.identityFile)}`,
        `  IdentitiesOnly yes`,
        `  IdentityAgent none`,
        `  BatchMode yes`,
        `  PasswordAuthentication no`,
        `  KbdInteractiveAuthentication no`,
        `  GlobalKnownHostsFile /dev/null`,
        `  UpdateHostKeys no`,
        `  ConnectTimeout ${Math.max(1, Math.round(connectTimeoutSeconds))}`,
        `  ConnectionAttempts 1`,
        // A host that dies mid-session is noticed within about 15 s.
        `  ServerAliveInterval 5`,
        `  ServerAliveCountMax 3`,
        `  ControlMaster no`,
        `  ControlPath none`,
        `  ForwardAgent no`,
        `  ClearAllForwardings yes`,
        `  LogLevel ERROR`,
    ];
    const knownHosts = [
        ...(route.target.hostKey ? [knownHostsLine(TARGET_ALIAS, route.target.hostKey)] : []),
        ...(route.bastion?.hostKey ? [knownHostsLine(BASTION_ALIAS, route.bastion.hostKey)] : []),
    ];
    return { config: `${[...blocks, ...common].join("\n")}\n`, knownHosts: knownHosts.length ? `${knownHosts.join("\n")}\n` : "" };
}

/**
 * Validation of EtcdClusterArgs: runs before any resource is registered (its only I/O: a restoreFrom file must exist), reports every problem at
 * once, each naming the field and the fix.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as pulumi from "@pulumi/pulumi";
import * as path from "node:path";
import { isIP } from "node:net";
import { resolveAuth } from "./auth/settings";
import { EtcdClusterArgs, EtcdMemberArgs } from "./types";
import { resolveBackupSettings } from "./backup/settings";
import { parseBackupSelector } from "./backup/catalog";
import { resolveMaintenanceSettings } from "./maintenance/settings";
import {
    BinarySourceSettings,
    ClusterSettings,
    DEFAULT_ETCD_VERSION,
    MemberSettings,
    releaseArchiveName,
} from "./settings";
import { resolveMonitoringSettings } from "./monitoring/settings";

// A RunError: Pulumi prints the list once, as a clean error without a stack trace.
export class EtcdConfigError extends pulumi.RunError {
    constructor(readonly problems: string[]) {
        super(`invalid etcd cluster configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
        this.name = "EtcdConfigError";
    }
}

const MEMBER_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const DNS_NAME = /^(?=.{1,253}$)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;
const VERSION = /^(\d+)\.(\d+)\.(\d+)$/;
const SHA256 = /^[0-9a-f]{64}$/;
const EIGHT_GIB = 8 * 1024 * 1024 * 1024;
const ARCHES = ["amd64", "arm64", "ppc64le", "s390x"];
const LOG_LEVELS = ["debug", "info", "warn", "error"];

export function isValidAddress(value: string): boolean {
    return isIP(value) !== 0 || (DNS_NAME.test(value) && !/^[0-9.]+$/.test(value));
}

function expandHome(p: string): string {
    return p.startsWith("~/") ? path.join(os.homedir(), p.slice(2)) : p;
}

/** Substitute `{version}` and `{arch}` in a binary source template. */
export function substitute(template: string, version: string, arch: string): string {
    return template.replace(/\{version\}/g, version).replace(/\{arch\}/g, arch);
}

function isPort(v: unknown): v is number {
    return typeof v === "number" && Number.isInteger(v) && v >= 1 && v <= 65535;
}

function checkMember(m: EtcdMemberArgs, i: number, problems: string[]): void {
    const at = `members[${i}]`;
    if (typeof m !== "object" || m === null) {
        problems.push(`${at}: must be an object like { name: "etcd1", address: "10.0.0.11" }`);
        return;
    }
    if (typeof m.name !== "string" || !MEMBER_NAME.test(m.name)) {
        problems.push(
            `${at}.name: ${JSON.stringify(m.name)} is not a valid member name; use lowercase letters, digits and ` +
                `'-' (1-63 characters, starting and ending with a letter or digit), e.g. "etcd1"`,
        );
    }
    if (typeof m.address !== "string" || !isValidAddress(m.address)) {
        problems.push(`${at}.address: ${JSON.stringify(m.address)} is not a valid IP address or DNS name; use e.g. "10.0.0.11" or "etcd1.example.com"`);
    }
    if (m.listenAddress !== undefined && (typeof m.listenAddress !== "string" || isIP(m.listenAddress) === 0)) {
        problems.push(`${at}.listenAddress: ${JSON.stringify(m.listenAddress)} must be an IP address the host owns (or 0.0.0.0)`);
    }
    if (m.sshHost !== undefined && (typeof m.sshHost !== "string" || !isValidAddress(m.sshHost))) {
        problems.push(`${at}.sshHost: ${JSON.stringify(m.sshHost)} is not a valid IP address or DNS name`);
    }
    if (m.sshPort !== undefined && !isPort(m.sshPort)) {
        problems.push(`${at}.sshPort: ${JSON.stringify(m.sshPort)} is not a port; use an integer 1-65535 (default 22)`);
    }
    if (m.sshUser !== undefined && (typeof m.sshUser !== "string" || !/^[a-z_][a-z0-9_-]*$/.test(m.sshUser))) {
        problems.push(`${at}.sshUser: ${JSON.stringify(m.sshUser)} is not a valid user name`);
    }
    if (m.hostKey !== undefined && (typeof m.hostKey !== "string" || !/^(ssh-|ecdsa-)\S+ \S+/.test(m.hostKey))) {
        problems.push(`${at}.hostKey: must be an authorized_keys style line such as "ssh-ed25519 AAAA..." (see ssh-keyscan)`);
    }
    if (m.replacement !== undefined && (typeof m.replacement !== "number" || !Number.isInteger(m.replacement) || m.replacement < 0)) {
        problems.push(`${at}.replacement: ${JSON.stringify(m.replacement)} must be a whole number (0, 1, 2, ...); bump it by one to replace the member`);
    }
}

function duplicates(values: string[]): string[] {
    const seen = new Set<string>();
    const dup = new Set<string>();
    for (const v of values) {
        if (seen.has(v)) dup.add(v);
        seen.add(v);
    }
    return [...dup];
}

function binarySource(args: EtcdClusterArgs, version: string, arch: string, problems: string[]): BinarySourceSettings {
    const b = args.binary ?? {};
    const sub = (t: string) => substitute(t, version, arch);
    if (b.sha256 !== undefined && !SHA256.test(String(b.sha256).toLowerCase())) {
        problems.push(`binary.sha256: must be 64 hex characters (the output of sha256sum for the archive)`);
    }
    if (b.path !== undefined && b.url !== undefined) {
        problems.push(`binary: set either binary.path (local archive) or binary.url (mirror), not both`);
    }
    const checksum = { sha256: b.sha256?.toLowerCase(), sha256sums: b.sha256sums === undefined ? undefined : expandHome(sub(b.sha256sums)) };
    if (b.path !== undefined || b.url !== undefined) {
        if (b.sha256 === undefined && b.sha256sums === undefined) {
            problems.push(
                `binary: a ${b.path !== undefined ? "local archive (binary.path)" : "mirror (binary.url)"} needs a checksum; ` +
                    `set binary.sha256 to the archive's SHA-256 or binary.sha256sums to its SHA256SUMS file`,
            );
        }
        if (b.path !== undefined) return { kind: "local", location: expandHome(sub(b.path)), ...checksum };
        if (!/^https?:\/\//.test(String(b.url))) problems.push(`binary.url: must be an http(s) URL`);
        return { kind: "mirror", location: sub(String(b.url)), ...checksum };
    }
    const base = `https://github.com/etcd-io/etcd/releases/download/v${version}`;
    return {
        kind: "official",
        location: `${base}/${releaseArchiveName(version, arch)}`,
        sha256: checksum.sha256,
        sha256sums: checksum.sha256 === undefined ? (checksum.sha256sums ?? `${base}/SHA256SUMS`) : undefined,
    };
}

/** restoreFrom: an existing, non-empty file on the deployer (its content is checked by restoreSource.ts). */
function restoreSourcePath(value: unknown, problems: string[]): string | undefined {
    if (typeof value !== "string" || value.trim() === "") {
        problems.push(`restoreFrom: must be the path of a snapshot file on this machine (written by etcdctl snapshot save), or unset`);
        return undefined;
    }
    const file = path.resolve(expandHome(value));
    let st: fs.Stats;
    try {
        st = fs.statSync(file);
    } catch {
        problems.push(`restoreFrom: ${file} does not exist; copy the snapshot to restore there (e.g. from /var/lib/etcd-backups/scheduled/ on a member) or unset restoreFrom`);
        return undefined;
    }
    if (!st.isFile() || st.size === 0) problems.push(`restoreFrom: ${file} is ${st.isFile() ? "empty" : "not a file"}; point it at a snapshot file written by etcdctl snapshot save`);
    return file;
}

/** Validate args and fill in defaults. Throws EtcdConfigError listing every problem. */
export function resolveSettings(args: EtcdClusterArgs): ClusterSettings {
    const problems: string[] = [];
    const members = Array.isArray(args.members) ? args.members : [];
    if (!Array.isArray(args.members) || members.length === 0) {
        problems.push(`members: no members; list at least 3, e.g. [{ name: "etcd1", address: "10.0.0.11" }, ...]`);
    }
    members.forEach((m, i) => checkMember(m, i, problems));
    if (members.length > 0 && members.length % 2 === 0 && !args.allowEvenMembers) {
        problems.push(
            `members: ${members.length} members is an even count, which tolerates no more failures than ` +
                `${members.length - 1}; use an odd count (3, 5, 7) or set allowEvenMembers: true`,
        );
    }
    for (const d of duplicates(members.map((m) => m?.name))) problems.push(`members: duplicate name "${d}"; member names must be unique`);
    for (const d of duplicates(members.map((m) => m?.address))) problems.push(`members: duplicate address "${d}"; each member needs its own host`);

    const version = args.version ?? DEFAULT_ETCD_VERSION;
    const vm = VERSION.exec(String(version));
    if (!vm) {
        problems.push(`version: ${JSON.stringify(version)} is not an etcd release version; use MAJOR.MINOR.PATCH such as "${DEFAULT_ETCD_VERSION}" (no leading "v")`);
    } else if (vm[1] !== "3" || Number(vm[2]) < 5) {
        problems.push(`version: etcd ${version} is not supported; use 3.5.x or newer (default ${DEFAULT_ETCD_VERSION})`);
    }
    const arch = args.arch ?? "amd64";
    if (!ARCHES.includes(arch)) problems.push(`arch: ${JSON.stringify(arch)} is not one of ${ARCHES.join(", ")}`);

    const clientPort = args.clientPort ?? 2379;
    const peerPort = args.peerPort ?? 2380;
    const metricsPort = args.metricsPort ?? 2381;
    for (const [field, v] of [["clientPort", clientPort], ["peerPort", peerPort], ["metricsPort", metricsPort]] as const) {
        if (!isPort(v)) problems.push(`${field}: ${JSON.stringify(v)} is not a port; use an integer 1-65535`);
    }
    if (new Set([clientPort, peerPort, metricsPort]).size !== 3) problems.push(`clientPort, peerPort and metricsPort must all differ`);

    const dataDir = args.dataDir ?? "/var/lib/etcd";
    const absolute = (field: string, v: string | undefined) => {
        if (v !== undefined && (typeof v !== "string" || !v.startsWith("/") || v.includes("..") || /[\s'"\\$`]/.test(v) || v === "/")) {
            problems.push(`${field}: ${JSON.stringify(v)} must be an absolute path without spaces, quotes or "..", e.g. "/var/lib/etcd"`);
        }
    };
    absolute("dataDir", dataDir);
    absolute("walDir", args.walDir);
    if (args.walDir !== undefined && (args.walDir === dataDir || args.walDir.startsWith(`${dataDir}/member`))) {
        problems.push(`walDir: must not be the data dir or inside ${dataDir}/member; use a separate disk path such as "/var/lib/etcd-wal"`);
    }

    const heartbeatInterval = args.heartbeatInterval ?? 100;
    const electionTimeout = args.electionTimeout ?? 1000;
    const positiveInt = (field: string, v: unknown) => {
        if (typeof v !== "number" || !Number.isInteger(v) || v <= 0) problems.push(`${field}: ${JSON.stringify(v)} must be a positive integer`);
    };
    positiveInt("heartbeatInterval", heartbeatInterval);
    positiveInt("electionTimeout", electionTimeout);
    if (electionTimeout < 5 * heartbeatInterval) {
        problems.push(
            `electionTimeout: ${electionTimeout} ms is less than 5x heartbeatInterval (${heartbeatInterval} ms); ` +
                `set electionTimeout to at least ${5 * heartbeatInterval} (10x is usual)`,
        );
    }
    if (electionTimeout > 50000) problems.push(`electionTimeout: ${electionTimeout} ms is above etcd's limit of 50000 ms`);

    const quotaBackendBytes = args.quotaBackendBytes ?? 2 * 1024 * 1024 * 1024;
    positiveInt("quotaBackendBytes", quotaBackendBytes);
    if (quotaBackendBytes > EIGHT_GIB) {
        problems.push(`quotaBackendBytes: ${quotaBackendBytes} is over 8 GiB (${EIGHT_GIB}), etcd's suggested maximum; use at most ${EIGHT_GIB}`);
    }
    const autoCompactionMode = args.autoCompactionMode ?? "periodic";
    if (autoCompactionMode !== "periodic" && autoCompactionMode !== "revision") {
        problems.push(`autoCompactionMode: ${JSON.stringify(autoCompactionMode)} must be "periodic" or "revision"`);
    }
    const autoCompactionRetention = String(args.autoCompactionRetention ?? (autoCompactionMode === "revision" ? "10000" : "1h"));
    if (autoCompactionMode === "revision" ? !/^\d+$/.test(autoCompactionRetention) : !/^(\d+|(\d+h)?(\d+m)?(\d+s)?)$/.test(autoCompactionRetention) || autoCompactionRetention === "") {
        problems.push(`autoCompactionRetention: ${JSON.stringify(autoCompactionRetention)} does not fit mode ${autoCompactionMode} (periodic: e.g. "1h", "30m"; revision: e.g. "10000")`);
    }
    const maxRequestBytes = args.maxRequestBytes ?? 1572864;
    positiveInt("maxRequestBytes", maxRequestBytes);
    const logLevel = args.logLevel ?? "info";
    if (!LOG_LEVELS.includes(logLevel)) problems.push(`logLevel: ${JSON.stringify(logLevel)} must be one of ${LOG_LEVELS.join(", ")}`);
    const extraSans = args.extraSans ?? [];
    if (!Array.isArray(extraSans)) problems.push(`extraSans: must be a list of IP addresses or DNS names`);
    else extraSans.forEach((s, i) => { if (typeof s !== "string" || !isValidAddress(s)) problems.push(`extraSans[${i}]: ${JSON.stringify(s)} is not an IP address or DNS name`); });
    const certValidityHours = args.certValidityHours ?? 24 * 365 * 5;
    positiveInt("certValidityHours", certValidityHours);
    const certRenewBeforeHours = args.certRenewBeforeHours ?? 720;
    positiveInt("certRenewBeforeHours", certRenewBeforeHours);
    if (certRenewBeforeHours >= certValidityHours) {
        problems.push(
            `certRenewBeforeHours: ${certRenewBeforeHours} h is not less than certValidityHours (${certValidityHours} h), so every pulumi up would ` +
                `renew the certificates; set it lower (e.g. ${Math.max(1, Math.floor(certValidityHours / 4))})`,
        );
    }
    const keyAlgorithm = args.keyAlgorithm ?? "ECDSA";
    if (keyAlgorithm !== "ECDSA" && keyAlgorithm !== "RSA") problems.push(`keyAlgorithm: ${JSON.stringify(keyAlgorithm)} must be "ECDSA" (P-256) or "RSA"`);
    const caGeneration = args.caGeneration ?? 1;
    if (typeof caGeneration !== "number" || !Number.isInteger(caGeneration) || caGeneration < 1) {
        problems.push(`caGeneration: ${JSON.stringify(caGeneration)} must be a whole number of at least 1 (default 1)`);
    }
    const caRotation = args.caRotation;
    if (caRotation !== undefined && caRotation !== "trust-both" && caRotation !== "reissue") {
        problems.push(`caRotation: ${JSON.stringify(caRotation)} must be "trust-both" or "reissue", or unset to finish a rotation`);
    }
    if (caRotation !== undefined && caGeneration === 1) {
        problems.push(`caRotation: a rotation moves to a new CA generation; set caGeneration to 2 (one more than the current) together with caRotation: trust-both`);
    }
    if (args.clusterToken !== undefined && (typeof args.clusterToken !== "string" || !/^[A-Za-z0-9._-]{8,128}$/.test(args.clusterToken))) {
        problems.push(`clusterToken: must be 8-128 characters of letters, digits, '.', '_' or '-' and unique per cluster`);
    }

    const ssh = args.ssh;
    let sshUser = "root";
    if (!ssh || typeof ssh !== "object") {
        problems.push(`ssh: missing SSH settings; set sshPrivateKey (secret) or sshPrivateKeyPath`);
    } else {
        sshUser = ssh.user ?? "root";
        if (typeof sshUser !== "string" || !/^[a-z_][a-z0-9_-]*$/.test(sshUser)) problems.push(`ssh.user: ${JSON.stringify(sshUser)} is not a valid user name`);
        if (ssh.privateKey === undefined || ssh.privateKey === null || ssh.privateKey === "") {
            problems.push(`ssh.privateKey: missing SSH credentials; set sshPrivateKey with 'pulumi config set --secret sshPrivateKey < key' or sshPrivateKeyPath`);
        }
        if (ssh.dialErrorLimit !== undefined) positiveInt("ssh.dialErrorLimit", ssh.dialErrorLimit);
        if (ssh.perDialTimeout !== undefined) positiveInt("ssh.perDialTimeout", ssh.perDialTimeout);
        if (ssh.bastion !== undefined) {
            if (typeof ssh.bastion.host !== "string" || !isValidAddress(ssh.bastion.host)) problems.push(`ssh.bastion.host: must be an IP address or DNS name`);
            if (ssh.bastion.port !== undefined && !isPort(ssh.bastion.port)) problems.push(`ssh.bastion.port: must be an integer 1-65535`);
        }
    }
    const binary = binarySource(args, String(version), arch, problems);
    const snapshotSchedule = args.snapshotSchedule ?? "hourly";
    if (typeof snapshotSchedule !== "string" || !/^[A-Za-z0-9*:,./~ -]{1,100}$/.test(snapshotSchedule)) {
        problems.push(`snapshotSchedule: ${JSON.stringify(snapshotSchedule)} is not a systemd OnCalendar expression; use e.g. "hourly", "daily" or "*-*-* 00/6:00:00"`);
    }
    const snapshotRetention = args.snapshotRetention ?? 24;
    if (typeof snapshotRetention !== "number" || !Number.isInteger(snapshotRetention) || snapshotRetention < 1 || snapshotRetention > 10000) {
        problems.push(`snapshotRetention: ${JSON.stringify(snapshotRetention)} must be a whole number of snapshots to keep, 1-10000 (default 24)`);
    }
    const backup = resolveBackupSettings(args.backup, problems);
    let restoreFrom: string | undefined;
    let restoreFromBackup: ClusterSettings["restoreFromBackup"];
    if (typeof args.restoreFrom === "string" && args.restoreFrom.startsWith("backup:")) {
        const selector = parseBackupSelector(args.restoreFrom);
        if ("problem" in selector) problems.push(`restoreFrom: ${selector.problem}`);
        else restoreFromBackup = { selector, text: args.restoreFrom };
        if (args.backup === undefined) problems.push(`restoreFrom: ${args.restoreFrom} restores from the backup store, but backup is not set; set backup (the store the backups are in, with its credentials)`);
    } else if (args.restoreFrom !== undefined) {
        restoreFrom = restoreSourcePath(args.restoreFrom, problems);
    }
    const maintenance = resolveMaintenanceSettings(args.maintenance, problems);
    const healthTimeoutSeconds = args.healthTimeoutSeconds ?? 120;
    positiveInt("healthTimeoutSeconds", healthTimeoutSeconds);
    const monitoring = resolveMonitoringSettings(args.monitoring, { clientPort, peerPort, metricsPort }, problems);
    const auth = resolveAuth(args, members.map((m) => m?.name), problems);

    if (problems.length > 0) throw new EtcdConfigError(problems);

    const resolvedMembers: MemberSettings[] = members.map((m) => ({
        name: m.name,
        address: m.address,
        addressIsIp: isIP(m.address) !== 0,
        listenAddress: m.listenAddress ?? (isIP(m.address) !== 0 ? m.address : "0.0.0.0"),
        sshHost: m.sshHost ?? m.address,
        sshPort: m.sshPort ?? 22,
        sshUser: m.sshUser ?? sshUser,
        sudo: ssh.sudo ?? (m.sshUser ?? sshUser) !== "root",
        hostKey: m.hostKey,
        replacement: m.replacement ?? 0,
    }));
    return {
        members: resolvedMembers,
        version,
        arch,
        binary,
        clientPort,
        peerPort,
        metricsPort,
        dataDir,
        walDir: args.walDir,
        heartbeatInterval,
        electionTimeout,
        quotaBackendBytes,
        autoCompactionMode: autoCompactionMode as "periodic" | "revision",
        autoCompactionRetention,
        maxRequestBytes,
        logLevel: logLevel as ClusterSettings["logLevel"],
        extraSans,
        certValidityHours,
        certRenewBeforeHours,
        keyAlgorithm: keyAlgorithm as "ECDSA" | "RSA",
        caGeneration,
        caRotation: caRotation as ClusterSettings["caRotation"],
        allowSmallCluster: args.allowSmallCluster ?? false,
        allowEvenMembers: args.allowEvenMembers ?? false,
        clusterToken: args.clusterToken,
        sshUser,
        dialErrorLimit: ssh.dialErrorLimit ?? 4,
        perDialTimeout: ssh.perDialTimeout ?? 10,
        bastion: ssh.bastion
            ? { host: ssh.bastion.host, port: ssh.bastion.port ?? 22, user: ssh.bastion.user ?? sshUser, hostKey: ssh.bastion.hostKey }
            : undefined,
        purgeDataOnDestroy: args.purgeDataOnDestroy ?? false,
        snapshotSchedule,
        snapshotRetention,
        restoreFrom,
        restoreFromBackup,
        backup,
        maintenance,
        healthTimeoutSeconds,
        ...(monitoring ? { monitoring } : {}),
        auth,
        cacheDir: args.cacheDir ?? path.join(process.env.ETCD_PULUMI_CACHE ?? path.join(os.homedir(), ".cache", "etcd-pulumi"), "downloads"),
    };
}

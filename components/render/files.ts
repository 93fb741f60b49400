/** What the files step writes on a member host, and the standard-input bundle that carries it. */
import { HostPaths } from "./paths";
import { renderStartInputsTool } from "./startInputs";

export interface HostFile {
    path: string;
    /** Octal mode, e.g. "0600". */
    mode: string;
    /** "user:group". */
    owner: string;
    content: string;
}

/** The contents the files step needs; keys are secrets and travel only on standard input. */
export interface MemberFileContents {
    config: string;
    unit: string;
    profile: string;
    caCert: string;
    serverCert: string;
    serverKey: string;
    peerCert: string;
    peerKey: string;
    clientCert: string;
    clientKey: string;
    /** Scheduled snapshot: script, service and timer (scheduledSnapshot.ts). */
    snapshotTool: string;
    snapshotService: string;
    snapshotTimer: string;
}

/** The member's own files, then `extra` (e.g. the backup's, backup/hostFiles.ts, and the maintenance job's, maintenance/hostFiles.ts). */
export function memberFiles(paths: HostPaths, c: MemberFileContents, extra: HostFile[] = []): HostFile[] {
    const cert = (path: string, content: string): HostFile => ({ path, mode: "0644", owner: "etcd:etcd", content });
    const key = (path: string, content: string): HostFile => ({ path, mode: "0600", owner: "etcd:etcd", content });
    return [
        { path: paths.configFile, mode: "0640", owner: "root:etcd", content: c.config },
        { path: paths.unitFile, mode: "0644", owner: "root:root", content: c.unit },
        { path: paths.profileFile, mode: "0644", owner: "root:root", content: c.profile },
        { path: paths.startInputsTool, mode: "0755", owner: "root:root", content: renderStartInputsTool(paths) },
        { path: paths.snapshotTool, mode: "0755", owner: "root:root", content: c.snapshotTool },
        { path: paths.snapshotService, mode: "0644", owner: "root:root", content: c.snapshotService },
        { path: paths.snapshotTimer, mode: "0644", owner: "root:root", content: c.snapshotTimer },
        cert(paths.caCert, c.caCert),
        cert(paths.serverCert, c.serverCert),
        key(paths.serverKey, c.serverKey),
        cert(paths.peerCert, c.peerCert),
        key(paths.peerKey, c.peerKey),
        cert(paths.clientCert, c.clientCert),
        key(paths.clientKey, c.clientKey),
        ...extra,
    ];
}

/** Every path the files step owns (for its delete; the backup's files are removed by backup/hostLines.ts). */
export function memberFilePaths(paths: HostPaths): string[] {
    return [paths.configFile, paths.unitFile, paths.profileFile, paths.startInputsTool, paths.snapshotTool, paths.snapshotService, paths.snapshotTimer, paths.caCert, paths.serverCert, paths.serverKey, paths.peerCert, paths.peerKey, paths.clientCert, paths.clientKey];
}

/** One line per file: `PATH MODE OWNER BASE64`. Paths and owners never contain spaces (validated). */
export function renderFileBundle(files: HostFile[]): string {
    return files.map((f) => `${f.path} ${f.mode} ${f.owner} ${Buffer.from(f.content, "utf8").toString("base64")}\n`).join("");
}

/**
 * The config as a running member sees it: without the bootstrap-only `initial-cluster*` keys, which etcd
 * reads only when its data dir is empty. Adding a member changes every member's initial-cluster, and
 * that must not restart anyone.
 */
export function runtimeConfig(config: string): string {
    return config
        .split("\n")
        .filter((l) => !/^initial-cluster(-token|-state)?:/.test(l))
        .join("\n");
}

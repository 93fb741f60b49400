/** Where things live on a host. Every script and rendered file takes its paths from here. */
export interface HostPaths {
    configDir: string;
    configFile: string;
    pkiDir: string;
    caCert: string;
    serverCert: string;
    serverKey: string;
    peerCert: string;
    peerKey: string;
    clientCert: string;
    clientKey: string;
    unitFile: string;
    profileFile: string;
    installRoot: string;
    binDir: string;
    /** Where the release archive is uploaded, relative to the SSH user's home directory. */
    stagingDir: string;
    /** etcd-pulumi's own helpers on the host. */
    toolDir: string;
    /** Prints / records what etcd reads at start (see startInputs.ts). */
    startInputsTool: string;
    /** What the running etcd was started with; on tmpfs, written by the unit's ExecStartPre. */
    startedWith: string;
    /** The scheduled snapshot: its script, service and timer (render/scheduledSnapshot.ts). */
    snapshotTool: string;
    snapshotService: string;
    snapshotTimer: string;
    /** Which incarnation of the member this host's data belongs to (plan/bootstrap.ts); kept with the data. */
    incarnationFile: string;
    dataDir: string;
    walDir?: string;
}

/** See HostPaths.incarnationFile. */
export const INCARNATION_FILE = "/var/lib/etcd-pulumi/incarnation";

export function hostPaths(dataDir: string, walDir?: string): HostPaths {
    const configDir = "/etc/etcd";
    const pkiDir = `${configDir}/pki`;
    return {
        configDir,
        configFile: `${configDir}/etcd.conf.yml`,
        pkiDir,
        caCert: `${pkiDir}/ca.crt`,
        serverCert: `${pkiDir}/server.crt`,
        serverKey: `${pkiDir}/server.key`,
        peerCert: `${pkiDir}/peer.crt`,
        peerKey: `${pkiDir}/peer.key`,
        clientCert: `${pkiDir}/etcdctl.crt`,
        clientKey: `${pkiDir}/etcdctl.key`,
        unitFile: "/etc/systemd/system/etcd.service",
        profileFile: "/etc/profile.d/etcdctl.sh",
        installRoot: "/opt/etcd",
        binDir: "/usr/local/bin",
        stagingDir: ".cache/etcd-pulumi",
        toolDir: "/usr/local/lib/etcd-pulumi",
        startInputsTool: "/usr/local/lib/etcd-pulumi/start-inputs",
        startedWith: "/run/etcd-pulumi/started-with",
        incarnationFile: INCARNATION_FILE,
        snapshotTool: "/usr/local/lib/etcd-pulumi/snapshot",
        snapshotService: "/etc/systemd/system/etcd-snapshot.service",
        snapshotTimer: "/etc/systemd/system/etcd-snapshot.timer",
        dataDir,
        walDir,
    };
}

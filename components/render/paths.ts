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
    stagingDir: string;
    dataDir: string;
    walDir?: string;
}

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
        stagingDir: "/var/tmp/etcd-pulumi",
        dataDir,
        walDir,
    };
}

/** The hardened systemd unit that runs etcd. */
import { ClusterSettings } from "../settings";
import { HostPaths } from "./paths";

export function renderUnit(s: ClusterSettings, paths: HostPaths): string {
    const writable = [s.dataDir, ...(s.walDir ? [s.walDir] : [])].join(" ");
    return `# Managed by etcd-pulumi.
[Unit]
Description=etcd distributed key-value store (managed by etcd-pulumi)
Documentation=https://etcd.io/docs/
After=network-online.target
Wants=network-online.target

[Service]
Type=notify
User=etcd
Group=etcd
# "+": runs as root, outside the sandbox, to record on tmpfs what this start of etcd reads.
ExecStartPre=+${paths.startInputsTool} record
ExecStart=${paths.binDir}/etcd --config-file=${paths.configFile}
Restart=on-failure
RestartSec=5s
TimeoutStartSec=300
LimitNOFILE=65536
UMask=0077
NoNewPrivileges=yes
ProtectSystem=strict
ReadWritePaths=${writable}
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectControlGroups=yes
RestrictSUIDSGID=yes
RestrictRealtime=yes
LockPersonality=yes
CapabilityBoundingSet=
AmbientCapabilities=
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK
SystemCallArchitectures=native

[Install]
WantedBy=multi-user.target
`;
}

/** The etcdctl environment profile for operators logged in on a member host. */
import { ClusterSettings } from "../settings";
import { HostPaths } from "./paths";
import { shq } from "./shell";

export function renderEtcdctlProfile(s: ClusterSettings, paths: HostPaths): string {
    return [
        "# Managed by etcd-pulumi: etcdctl talks to the local member over TLS with this host's client certificate.",
        "# The key is readable by root and etcd only: run etcdctl as root (sudo -i) or as etcd.",
        `export ETCDCTL_ENDPOINTS=${shq(`https://127.0.0.1:${s.clientPort}`)}`,
        `export ETCDCTL_CACERT=${shq(paths.caCert)}`,
        `export ETCDCTL_CERT=${shq(paths.clientCert)}`,
        `export ETCDCTL_KEY=${shq(paths.clientKey)}`,
        "",
    ].join("\n");
}

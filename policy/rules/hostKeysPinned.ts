import { isProdStack } from "./prodStack";
import { ClusterRule } from "./rule";

const keyHint = (host: string) => `the "ssh-ed25519 AAAA..." part of \`ssh-keyscan -t ed25519 ${host}\`, checked out of band`;

export const hostKeysPinned: ClusterRule = {
    name: "etcd-host-keys-pinned",
    description: "Every member and the bastion have their SSH host key pinned (mandatory on prod* stacks, advisory elsewhere).",
    // An unpinned key trusts whatever answers on the address: a hard stop where the data is real.
    level: (stack) => (isProdStack(stack) ? "mandatory" : "advisory"),
    violations(cluster) {
        const found = cluster.members
            .filter((m) => !m.hostKeyPinned)
            .map((m) => `member ${m.name} (${m.sshHost}): hostKey is not pinned, so the deployer accepts any SSH host key there. Fix: set members[].hostKey of ${m.name} to ${keyHint(m.sshHost)}`);
        if (cluster.bastion && !cluster.bastion.hostKeyPinned) {
            found.push(`sshBastion (${cluster.bastion.host}): hostKey is not pinned, so the deployer accepts any SSH host key there. Fix: set sshBastion.hostKey (ssh.bastion.hostKey in EtcdClusterArgs) to ${keyHint(cluster.bastion.host)}`);
        }
        return found;
    },
};

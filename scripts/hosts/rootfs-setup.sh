#!/bin/sh
# Runs INSIDE the freshly debootstrapped base rootfs (via chroot), once, right after debootstrap.
# Everything here is shared by all test hosts (of every host set); per-host state (hostname,
# /etc/hosts, machine-id, SSH host key, authorized keys) is written by scripts/hosts.sh into each
# host's overlay instead.
# Argument 1: the highest host number the harness supports (for /etc/hosts).
set -eu
max_hosts="${1:-7}"

# No host keys in the shared image: every host gets its own, generated into its overlay.
rm -f /etc/ssh/ssh_host_*
cat > /etc/ssh/sshd_config.d/etcd-pulumi.conf <<'EOF'
# etcd-pulumi test host: key-only root/deploy logins, one ed25519 host key per host.
HostKey /etc/ssh/ssh_host_ed25519_key
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UseDNS no
MaxStartups 100:30:200
MaxSessions 100
EOF

# Unique per host: empty here, so a host never inherits the image's identity.
: > /etc/machine-id
rm -f /var/lib/dbus/machine-id
ln -s /etc/machine-id /var/lib/dbus/machine-id
echo "etcd-pulumi-base" > /etc/hostname

# Names of all possible test hosts of host set 0. A fallback only: scripts/hosts.sh writes each
# host's /etc/hosts into its overlay at every boot, with its own set's addresses.
{
  echo "127.0.0.1 localhost"
  echo "::1 localhost ip6-localhost ip6-loopback"
  echo "172.30.213.1 etcdp-gw"
  i=1
  while [ "$i" -le "$max_hosts" ]; do
    echo "172.30.213.$((10 + i)) etcd$i"
    i=$((i + 1))
  done
} > /etc/hosts

# The hosts can reach nothing but each other and this machine: no resolver.
echo "# etcd-pulumi test host: no DNS, names come from /etc/hosts" > /etc/resolv.conf

# Non-root user for sudo-mode tests.
if ! id deploy >/dev/null 2>&1; then
  useradd --create-home --shell /bin/bash --user-group deploy
fi
usermod -p '*' deploy # no password: key login only
echo "deploy ALL=(ALL) NOPASSWD:ALL" > /etc/sudoers.d/deploy
chmod 0440 /etc/sudoers.d/deploy

# Nothing that would try the network or burn CPU in the background.
for unit in apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer \
  e2scrub_reap.service fstrim.timer getty@tty1.service; do
  ln -sf /dev/null "/etc/systemd/system/$unit"
done
rm -f /etc/systemd/system/timers.target.wants/apt-daily.timer \
  /etc/systemd/system/timers.target.wants/apt-daily-upgrade.timer \
  /etc/systemd/system/timers.target.wants/dpkg-db-backup.timer \
  /etc/systemd/system/timers.target.wants/e2scrub_all.timer \
  /etc/systemd/system/timers.target.wants/fstrim.timer \
  /etc/systemd/system/multi-user.target.wants/e2scrub_reap.service \
  /etc/systemd/system/getty.target.wants/getty@tty1.service

apt-get clean
rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/*.log /tmp/* /var/tmp/*

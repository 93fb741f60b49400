#!/usr/bin/env bash
# Between benchmark runs: remove what the baseline or the component put on a test host, so the next fresh
# deploy finds a host as it was booted (the hosts stay up and settled). Runs on the host, as root.
set -euo pipefail
systemctl stop etcd.service 'etcd-*.timer' 'etcd-*.service' >/dev/null 2>&1 || true
systemctl disable etcd.service 'etcd-*.timer' >/dev/null 2>&1 || true
rm -rf /var/lib/etcd /var/lib/etcd-* /etc/etcd /etc/etcd-pulumi /opt/etcd /opt/etcd-v* /usr/local/lib/etcd-pulumi \
  /usr/local/bin/etcd /usr/local/bin/etcdctl /usr/local/bin/etcdutl /etc/profile.d/etcdctl.sh /run/etcd-pulumi \
  /etc/systemd/system/etcd.service /etc/systemd/system/etcd-*.service /etc/systemd/system/etcd-*.timer \
  /root/.cache/etcd-pulumi
systemctl daemon-reload

#!/usr/bin/env bash
# The rolling-restart baseline: what a careful operator's script does to change one setting on a running
# cluster deployed by baseline-deploy.sh, one member at a time: the cluster healthy, leadership handed
# over when this member leads, the setting edited, etcd restarted (Type=notify: returns once it serves),
# the member healthy again, then the next one. One SSH session per member, sequentially.
# Usage: baseline-rolling-restart.sh SSH_KEY LOG_LEVEL NAME=ADDRESS...   (exit 0 = every member restarted)
set -euo pipefail
key="$1" level="$2"
shift 2
ssh_opts=(-i "$key" -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o ConnectTimeout=5)
for m in "$@"; do
  addr="${m#*=}"
  ssh "${ssh_opts[@]}" "root@$addr" bash -s -- "$level" <<'EOS' || { echo "baseline: restarting $m failed" >&2; exit 1; }
set -euo pipefail
level="$1"
e() { /usr/local/bin/etcdctl --cacert=/etc/etcd/pki/ca.crt --cert=/etc/etcd/pki/etcdctl.crt --key=/etc/etcd/pki/etcdctl.key --endpoints=https://127.0.0.1:2379 --dial-timeout=1s --command-timeout=3s "$@"; }
e endpoint health --cluster >/dev/null
st=$(e endpoint status -w json)
me=$(printf '%s' "$st" | grep -o '"member_id":[0-9]*' | cut -d: -f2); leader=$(printf '%s' "$st" | grep -o '"leader":[0-9]*' | cut -d: -f2)
if [ "$me" = "$leader" ]; then
  to=$(e member list -w simple | awk -F', ' -v me="$(hostname)" '$3 != me && $2 == "started" { print $1; exit }')
  [ -z "$to" ] || e move-leader "$to" >/dev/null
fi
sed -i '/^log-level:/d' /etc/etcd/etcd.conf.yml && echo "log-level: $level" >> /etc/etcd/etcd.conf.yml
systemctl restart etcd.service
for _ in $(seq 1 300); do if e endpoint health >/dev/null 2>&1; then exit 0; fi; sleep 0.1; done
echo "not healthy after restart" >&2; exit 1
EOS
done

#!/usr/bin/env bash
# End-to-end check of the test-host harness (scripts/hosts.sh). Needs root; leaves nothing behind
# (it ends with 'down'). Usage: bash scripts/hosts/selftest.sh
# It uses (and first takes down) the host set ETCD_PULUMI_HOST_SET names (default 0), and only that one.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
HOSTS="$HERE/../hosts.sh"
# shellcheck source-path=SCRIPTDIR source=../env.sh
source "$HERE/../env.sh"

say() { printf '[selftest] %s\n' "$*" >&2; }
fail() {
  printf '[selftest] FAIL: %s\n' "$*" >&2
  exit 1
}
json() { python3 -c "import json,sys; d=json.load(sys.stdin); $1"; }
# This host set's names and paths (hosts.sh info): nothing below names an address or a path itself.
info="$(bash "$HOSTS" info)"
field() { json "print(d['$1'])" <<<"$info"; }
SET="$(field hostSet)"
KEY="$(field sshKeyPath)"
KNOWN="$(field knownHostsPath)"
INVENTORY="$(field inventoryPath)"
RUN="$(field runDir)"
GATEWAY="$(field gateway)"
NETNS_PREFIX="$(field netnsPrefix)"
VETH_PREFIX="$(field vethPrefix)"
BRIDGE="$(field bridge)"
CGROUP="$(field cgroup)"
addr() { json "print([h['address'] for h in d['hosts'] if h['name'] == '$1'][0])" <"$INVENTORY"; }
on() { # on USER ADDR CMD...
  local user="$1" addr="$2"
  shift 2
  ssh -i "$KEY" -o BatchMode=yes -o ConnectTimeout=3 -o StrictHostKeyChecking=yes \
    -o UserKnownHostsFile="$KNOWN" -o GlobalKnownHostsFile=/dev/null -o LogLevel=ERROR \
    "$user@$addr" "$@"
}
leftovers() { # of this host set only
  local out=""
  out+="$(ip netns list 2>/dev/null | grep "^$NETNS_PREFIX" || true)"
  out+="$(ip -o link show 2>/dev/null | grep -F -e "$BRIDGE:" -e "$VETH_PREFIX" || true)"
  out+="$(grep -F -e "$RUN/" -e "$RUN " /proc/self/mounts || true)"
  out+="$(pgrep -a systemd-nspawn | grep -F -- "--directory=$RUN/" || true)"
  out+="$(find /sys/fs/cgroup -maxdepth 2 -name "$CGROUP" 2>/dev/null || true)"
  printf '%s' "$out"
}
say "host set $SET ($(field subnet), bridge $BRIDGE)"

trap 'say "cleaning up"; bash "$HOSTS" down >/dev/null 2>&1 || true' EXIT

bash "$HOSTS" down >/dev/null

say "up 3"
t0=$(date +%s.%N)
inv="$(bash "$HOSTS" up 3)"
say "up 3 took $(echo "$(date +%s.%N) - $t0" | bc 2>/dev/null || echo '?')s"
[ "$(json 'print(len(d["hosts"]))' <<<"$inv")" = 3 ] || fail "inventory does not list 3 hosts"
[ "$(json 'print(all(h["running"] for h in d["hosts"]))' <<<"$inv")" = True ] || fail "not all running"
cmp -s <(printf '%s\n' "$inv") "$INVENTORY" || fail "stdout differs from $INVENTORY"
A1="$(addr etcd1)" A2="$(addr etcd2)" A3="$(addr etcd3)"

ids=""
for k in 1 2 3; do
  a="$(addr "etcd$k")"
  [ "$(on root "$a" hostname)" = "etcd$k" ] || fail "etcd$k: wrong hostname"
  [ "$(on root "$a" systemctl is-system-running)" = running ] || fail "etcd$k: system not 'running'"
  [ "$(on deploy "$a" sudo -n id -un)" = root ] || fail "etcd$k: deploy cannot sudo"
  for peer in etcd1 etcd2 etcd3; do # by name: /etc/hosts names this set's addresses
    [ "$(on root "$a" getent hosts "$peer" | awk '{ print $1 }')" = "$(addr "$peer")" ] || fail "etcd$k: /etc/hosts does not name $peer's address"
  done
  for peer in etcd1 etcd2 etcd3 "$GATEWAY"; do
    on root "$a" ping -c1 -W2 "$peer" >/dev/null || fail "etcd$k cannot ping $peer"
  done
  if on root "$a" timeout 3 curl -sS -m 2 -o /dev/null http://192.0.2.1/ 2>/dev/null; then fail "etcd$k reaches outside"; fi
  ids+="$(on root "$a" cat /etc/machine-id) "
done
[ "$(tr ' ' '\n' <<<"$ids" | sed '/^$/d' | sort -u | wc -l)" = 3 ] || fail "machine-ids not unique: $ids"
say "ssh root+deploy/sudo, hostnames, machine-ids, ping mesh, no outside route: ok"

say "notify service with sandboxing, useradd --system, fsync, sftp"
on root "$A1" bash -s <<'EOF' || fail "notify service test"
set -euo pipefail
useradd --system --no-create-home --home-dir /var/lib/selftest --shell /usr/sbin/nologin selftest
install -d -o selftest -g selftest /var/lib/selftest
cat >/etc/systemd/system/selftest.service <<'UNIT'
[Unit]
Description=harness self-test (notify + sandboxing like the etcd unit)
[Service]
Type=notify
NotifyAccess=all
User=selftest
ExecStart=/bin/bash -c 'echo ok > /var/lib/selftest/f && sync -d /var/lib/selftest/f && systemd-notify --ready && exec sleep infinity'
ProtectSystem=full
ProtectHome=true
PrivateTmp=true
PrivateDevices=true
NoNewPrivileges=true
ProtectKernelTunables=true
ProtectKernelModules=true
ProtectKernelLogs=true
ProtectControlGroups=true
ProtectClock=true
ProtectHostname=true
RestrictNamespaces=true
RestrictRealtime=true
RestrictSUIDSGID=true
LockPersonality=true
MemoryDenyWriteExecute=true
SystemCallArchitectures=native
SystemCallFilter=@system-service
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6
CapabilityBoundingSet=
ReadWritePaths=/var/lib/selftest
LimitNOFILE=40000
TimeoutStartSec=20
UNIT
systemctl daemon-reload
systemctl start selftest.service
systemctl is-active --quiet selftest.service
grep -q ok /var/lib/selftest/f
systemctl stop selftest.service
rm /etc/systemd/system/selftest.service
systemctl daemon-reload
userdel selftest
rm -rf /var/lib/selftest
dd if=/dev/zero of=/var/lib/selftest-fsync bs=4k count=16 oflag=dsync status=none
rm /var/lib/selftest-fsync
EOF
printf 'put /etc/hostname /tmp/selftest-sftp\nrm /tmp/selftest-sftp\n' |
  sftp -b - -i "$KEY" -o BatchMode=yes -o UserKnownHostsFile="$KNOWN" \
    -o GlobalKnownHostsFile=/dev/null -o LogLevel=ERROR "root@$A1" >/dev/null || fail "sftp"
say "ok"

say "stop/start etcd2 keeps files, machine-id and host key"
on root "$A2" 'echo kept > /var/lib/selftest-marker && sync'
key1="$(grep '^etcd2,' "$KNOWN")"
mid1="$(on root "$A2" cat /etc/machine-id)"
inv="$(bash "$HOSTS" stop etcd2)"
[ "$(json 'print([h["running"] for h in d["hosts"] if h["name"]=="etcd2"][0])' <<<"$inv")" = False ] || fail "etcd2 still running"
if on root "$A2" true 2>/dev/null; then fail "stopped etcd2 answers"; fi
bash "$HOSTS" start etcd2 >/dev/null
[ "$(on root "$A2" cat /var/lib/selftest-marker)" = kept ] || fail "file lost"
[ "$(on root "$A2" cat /etc/machine-id)" = "$mid1" ] || fail "machine-id changed"
[ "$(grep '^etcd2,' "$KNOWN")" = "$key1" ] || fail "host key changed"
say "ok"

say "isolate/heal etcd3"
inv="$(bash "$HOSTS" isolate etcd3)"
[ "$(json 'print([h["isolated"] for h in d["hosts"] if h["name"]=="etcd3"][0])' <<<"$inv")" = True ] || fail "not isolated in inventory"
if on root "$A1" ping -c1 -W2 "$A3" >/dev/null; then fail "etcd1 still reaches isolated etcd3"; fi
if on root "$A3" true 2>/dev/null; then fail "isolated etcd3 answers"; fi
bash "$HOSTS" heal etcd3 >/dev/null
on root "$A1" ping -c1 -W2 "$A3" >/dev/null || fail "etcd3 unreachable after heal"
say "ok"

say "up 5 keeps etcd1..3, adds etcd4, etcd5"
pid1="$(cat "$RUN/etcd1/nspawn.pid")"
inv="$(bash "$HOSTS" up 5)"
[ "$(json 'print(" ".join(h["name"] for h in d["hosts"] if h["running"]))' <<<"$inv")" = "etcd1 etcd2 etcd3 etcd4 etcd5" ] || fail "up 5"
[ "$(cat "$RUN/etcd1/nspawn.pid")" = "$pid1" ] || fail "etcd1 was restarted"
on root "$(addr etcd5)" ping -c1 -W2 etcd1 >/dev/null || fail "etcd5 cannot ping etcd1"
say "ok"

say "down"
bash "$HOSTS" down >/dev/null
bash "$HOSTS" down >/dev/null # idempotent
left="$(leftovers)"
[ -z "$left" ] || fail "left behind: $left"
[ "$(bash "$HOSTS" inventory | json 'print(len(d["hosts"]))')" = 0 ] || fail "inventory not empty"
trap - EXIT
say "PASS"

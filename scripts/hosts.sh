#!/usr/bin/env bash
# Local test hosts for etcd-pulumi: Debian bookworm machines booted with systemd-nspawn, each with
# systemd as PID 1, sshd, its own network namespace on a private bridge, and its own overlay on one
# shared, cached base rootfs.
#
#   bash scripts/hosts.sh up [N]        boot etcd1..etcdN (default 3, max 7); prints inventory JSON
#   bash scripts/hosts.sh down          remove every host, netns, veth, bridge, overlay, mount (of this set)
#   bash scripts/hosts.sh stop NAME     power off one host (its disk is kept)
#   bash scripts/hosts.sh start NAME    boot one (existing) host again
#   bash scripts/hosts.sh isolate NAME  cut its network (detach its veth from the bridge)
#   bash scripts/hosts.sh heal NAME     restore its network
#   bash scripts/hosts.sh ls            inventory JSON with running/isolated state (+ table on stderr)
#   bash scripts/hosts.sh inventory     inventory JSON, changes nothing
#   bash scripts/hosts.sh info          this host set's names and paths as JSON, changes nothing
#
# Host sets: ETCD_PULUMI_HOST_SET=k (0..5, default 0) picks one of six independent sets of hosts, so
# several test runs can use this machine at once. Set 0 is 172.30.213.0/24 on bridge etcdpbr0, set k
# is 172.30.(213+k).0/24 on etcdpbr<k>, with its own namespaces, veths, cgroups, overlays, inventory,
# known_hosts and lock; the sets' bridges are not connected. Every command acts on its own set only.
# The base rootfs and the SSH key are shared by all sets.
#
# Only JSON goes to stdout; progress goes to stderr, prefixed "[hosts]".
# Tunables (environment): ETCD_PULUMI_HOST_SET, HOSTS_BOOT_TIMEOUT (seconds, default 90), HOSTS_DEBIAN_MIRROR.
set -euo pipefail

HOSTS_SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=env.sh
source "$HOSTS_SCRIPT_DIR/env.sh"

readonly MAX_HOSTS=7
readonly MAX_HOST_SET=5
HOST_SET="${ETCD_PULUMI_HOST_SET:-0}"
if ! [[ "$HOST_SET" =~ ^[0-9]$ ]] || [ "$HOST_SET" -gt "$MAX_HOST_SET" ]; then
  printf '[hosts] ERROR: ETCD_PULUMI_HOST_SET must be a host set number from 0 to %s (got '"'"'%s'"'"')\n' "$MAX_HOST_SET" "$HOST_SET" >&2
  exit 1
fi
readonly HOST_SET
readonly BASE_VERSION="1"        # bump when scripts/hosts/rootfs-setup.sh changes
# the brief's list, plus iputils-ping so hosts can ping each other in tests
readonly PACKAGES="systemd,systemd-sysv,dbus,openssh-server,sudo,iproute2,procps,ca-certificates,tar,gzip,curl,less,iputils-ping"

# Shared by every host set: the cached base rootfs and the SSH key (and the lock that guards them).
HOSTS_DIR="$ETCD_PULUMI_CACHE/hosts"
ROOTFS="$HOSTS_DIR/rootfs-bookworm"
SSH_KEY="$HOSTS_DIR/id_ed25519"
SHARED_LOCK="$HOSTS_DIR/.rootfs.lock"
BOOT_TIMEOUT="${HOSTS_BOOT_TIMEOUT:-90}"

# Per host set. Set 0 keeps the harness's original names and paths. Interface names stay <= 15
# characters (etcdpv3-etcd7 is 13).
if [ "$HOST_SET" = 0 ]; then
  readonly SUBNET_PREFIX="172.30.213"
  readonly BRIDGE="etcdpbr0"
  readonly NETNS_PREFIX="etcdp-"  # network namespace: etcdp-etcd1
  readonly VETH_PREFIX="etcdpv-"  # host side of the veth pair: etcdpv-etcd1 (inside it is eth0)
  readonly CGROUP_NAME="etcd-pulumi-hosts"
  SET_DIR="$HOSTS_DIR"
else
  readonly SUBNET_PREFIX="172.30.$((213 + HOST_SET))"
  readonly BRIDGE="etcdpbr$HOST_SET"
  readonly NETNS_PREFIX="etcdp$HOST_SET-"  # etcdp1-etcd1
  readonly VETH_PREFIX="etcdpv$HOST_SET-"  # etcdpv1-etcd1
  readonly CGROUP_NAME="etcd-pulumi-hosts-$HOST_SET"
  SET_DIR="$HOSTS_DIR/set$HOST_SET"
fi
readonly BRIDGE_CIDR="$SUBNET_PREFIX.1/24"
# MACs: 02:e7:cd:d5:<set>0:01 for the bridge, 02:e7:cd:d5:<set>1:<host> for a host's eth0
readonly MAC_PREFIX="02:e7:cd:d5:${HOST_SET}"
RUN_DIR="$SET_DIR/run"
KNOWN_HOSTS="$SET_DIR/known_hosts"
INVENTORY="$SET_DIR/inventory.json"
SET_LOCK="$SET_DIR/.lock"

log() { printf '[hosts] %s\n' "$*" >&2; }
die() {
  printf '[hosts] ERROR: %s\n' "$*" >&2
  exit 1
}

usage() {
  cat >&2 <<'EOF'
[hosts] usage: bash scripts/hosts.sh <command>
[hosts]   up [N]         boot hosts etcd1..etcdN (default 3, max 7), print inventory JSON
[hosts]   down           remove every host, namespace, veth, bridge, overlay and mount of this set
[hosts]   stop NAME      power off one host, keep its disk
[hosts]   start NAME     boot one host again
[hosts]   isolate NAME   cut one host's network (it keeps running)
[hosts]   heal NAME      restore one host's network
[hosts]   ls             inventory JSON with running/isolated state (table on stderr)
[hosts]   inventory      inventory JSON, changes nothing
[hosts]   info           this host set's names and paths as JSON, changes nothing
[hosts] ETCD_PULUMI_HOST_SET=0..5 (default 0) picks an independent set of hosts (172.30.(213+set).0/24).
EOF
}

# ---------------------------------------------------------------------------------------------
# Preflight
# ---------------------------------------------------------------------------------------------

check_platform() {
  [ "$(uname -s)" = "Linux" ] || die "these test hosts need Linux (systemd-nspawn, network namespaces, overlayfs); this is $(uname -s). Run the tests on a Linux machine or VM."
  [ "${1:-}" = "read-only" ] || [ "$(id -u)" = "0" ] || die "must run as root (it creates network namespaces, a bridge, overlay mounts and containers). Re-run with sudo: sudo npm run hosts -- ${HOSTS_CMD:-up}"
  case "$ETCD_PULUMI_CACHE" in
    /*) ;;
    *) die "ETCD_PULUMI_CACHE must be an absolute path (got '$ETCD_PULUMI_CACHE')" ;;
  esac
  case "$ETCD_PULUMI_CACHE" in
    *[,:\ ]*) die "ETCD_PULUMI_CACHE may not contain ',', ':' or spaces (overlayfs mount options); got '$ETCD_PULUMI_CACHE'" ;;
  esac
}

# command -> Debian package providing it
declare -A TOOL_PACKAGE=(
  [systemd-nspawn]=systemd-container
  [debootstrap]=debootstrap
  [ip]=iproute2
  [ssh]=openssh-client
  [ssh-keygen]=openssh-client
  [setsid]=util-linux
  [flock]=util-linux
  [findmnt]=util-linux
  [mountpoint]=util-linux
  [mount]=mount
  [chroot]=coreutils
)

ensure_tools() {
  local missing=() pkgs=() tool pkg
  for tool in "${!TOOL_PACKAGE[@]}"; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  for tool in "${missing[@]}"; do
    pkg="${TOOL_PACKAGE[$tool]}"
    case " ${pkgs[*]-} " in *" $pkg "*) ;; *) pkgs+=("$pkg") ;; esac
  done
  command -v apt-get >/dev/null 2>&1 ||
    die "missing tools: ${missing[*]} and no apt-get to install them. Install the packages ${pkgs[*]} (Debian/Ubuntu names) and re-run."
  log "installing missing tools (${missing[*]}): apt-get install ${pkgs[*]}"
  local aptlog="$HOSTS_DIR/apt.log"
  if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then
    log "apt package lists are empty: apt-get update"
    apt-get update >"$aptlog" 2>&1 || true
  fi
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${pkgs[@]}" >>"$aptlog" 2>&1; then
    log "install failed; refreshing package lists and retrying"
    apt-get update >>"$aptlog" 2>&1 || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${pkgs[@]}" >>"$aptlog" 2>&1 ||
      die "could not install ${pkgs[*]} (see $aptlog). Install them yourself (apt-get install ${pkgs[*]}) and re-run."
  fi
  for tool in "${missing[@]}"; do
    command -v "$tool" >/dev/null 2>&1 || die "'$tool' still missing after installing ${pkgs[*]}; install it and re-run."
  done
}

check_kernel() {
  if ! grep -qw overlay /proc/filesystems; then
    modprobe overlay 2>/dev/null || true
    grep -qw overlay /proc/filesystems || die "the kernel has no overlayfs (needed for per-host disks); load it with 'modprobe overlay'."
  fi
  [ -n "$(cgroup_roots)" ] || die "no cgroup hierarchy mounted at /sys/fs/cgroup (systemd inside the hosts needs one); mount cgroup2 on /sys/fs/cgroup."
  # Each host's systemd takes inotify instances; with several sets up the kernel's default (128) runs out
  # and containers fail to boot ("Too many open files").
  local inotify
  inotify=$(cat /proc/sys/fs/inotify/max_user_instances 2>/dev/null || echo 1024)
  if [ "$inotify" -lt 1024 ]; then sysctl -qw fs.inotify.max_user_instances=1024 2>/dev/null || log "warning: fs.inotify.max_user_instances is $inotify; raise it if hosts fail to boot"; fi
}

# One lock per host set for every command, so parallel calls (CI) on a set don't race, while other
# sets go on undisturbed. Children must not inherit fd 9.
take_lock() {
  mkdir -p "$SET_DIR"
  exec 9>"$SET_LOCK"
  flock -w 600 9 || die "another 'hosts.sh' holds $SET_LOCK for 10 minutes; giving up"
}

# A second lock, shared by every set, for what the sets share: installing tools, the SSH key, the
# base rootfs, and mounting overlays on it (so that no set rebuilds the rootfs under another one's
# new host). Taken after the set's lock, never before; held only while hosts are being created.
take_shared_lock() {
  mkdir -p "$HOSTS_DIR"
  exec 8>"$SHARED_LOCK"
  flock -w 900 8 || die "another 'hosts.sh' holds $SHARED_LOCK (the shared base rootfs) for 15 minutes; giving up"
}
release_shared_lock() { exec 8>&-; }

# ---------------------------------------------------------------------------------------------
# Names and paths
# ---------------------------------------------------------------------------------------------

host_index() { # etcd3 -> 3
  case "$1" in
    etcd[1-9]) local k="${1#etcd}"; [ "$k" -le "$MAX_HOSTS" ] && { echo "$k"; return 0; } ;;
  esac
  return 1
}
valid_name() { host_index "$1" >/dev/null 2>&1 || die "unknown host '$1' (hosts are etcd1..etcd$MAX_HOSTS)"; }
host_addr() { echo "$SUBNET_PREFIX.$((10 + $(host_index "$1")))"; }
host_dir() { echo "$RUN_DIR/$1"; }
# systemd-nspawn's machine name (its hostname inside is always the host name): unique across sets
host_machine() { if [ "$HOST_SET" = 0 ]; then echo "$1"; else echo "$NETNS_PREFIX$1"; fi; }
host_netns() { echo "$NETNS_PREFIX$1"; }
host_veth() { echo "$VETH_PREFIX$1"; }
host_exists() { [ -d "$RUN_DIR/$1/upper" ]; }

existing_hosts() {
  local k
  for k in $(seq 1 "$MAX_HOSTS"); do
    if host_exists "etcd$k"; then echo "etcd$k"; fi
  done
}

# Whether any host of any set has a disk (an overlay on the shared rootfs).
any_set_has_hosts() {
  compgen -G "$HOSTS_DIR/run/etcd*/upper" >/dev/null || compgen -G "$HOSTS_DIR/set*/run/etcd*/upper" >/dev/null
}

# ---------------------------------------------------------------------------------------------
# cgroups: every container runs in its own cgroup (in each relevant hierarchy), because PID 1 here
# is not systemd: nothing would give nspawn a unit/scope (--keep-unit --register=no), and otherwise
# the container's systemd would take over this machine's root cgroup.
# ---------------------------------------------------------------------------------------------

# Mount points of the hierarchies systemd needs: the cgroup2 one and the v1 "name=systemd" one.
cgroup_roots() {
  awk '$3 == "cgroup2" && $2 ~ "^/sys/fs/cgroup" { print $2 }
       $3 == "cgroup" && $4 ~ /(^|,)name=systemd(,|$)/ { print $2 }' /proc/self/mounts
}

host_cgroups() { # existing-or-not cgroup dirs of one host
  local root
  for root in $(cgroup_roots); do echo "$root/$CGROUP_NAME/$1"; done
}

# Every pid in a cgroup subtree.
cgroup_pids() {
  local dir="$1"
  [ -d "$dir" ] || return 0
  find "$dir" -name cgroup.procs -type f -exec cat {} + 2>/dev/null || true
}

remove_cgroup_tree() {
  local dir="$1"
  [ -d "$dir" ] || return 0
  find "$dir" -depth -type d -exec rmdir {} + 2>/dev/null || true
}

kill_cgroup_tree() {
  local dir="$1" pid
  [ -d "$dir" ] || return 0
  if [ -f "$dir/cgroup.kill" ]; then echo 1 >"$dir/cgroup.kill" 2>/dev/null || true; fi
  for pid in $(cgroup_pids "$dir"); do kill -KILL "$pid" 2>/dev/null || true; done
}

# ---------------------------------------------------------------------------------------------
# Processes and state
# ---------------------------------------------------------------------------------------------

# Pid of the host's systemd-nspawn if it is running.
host_pid() {
  local name="$1" pidfile pid
  pidfile="$(host_dir "$name")/nspawn.pid"
  [ -f "$pidfile" ] || return 1
  pid="$(cat "$pidfile" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [ -r "/proc/$pid/cmdline" ] || return 1
  # this set's nspawn for this host: its machine name and its own overlay (unique across sets)
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "^systemd-nspawn " || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null |
    grep -qF -- " --machine=$(host_machine "$name") --directory=$(host_dir "$name")/merged " || return 1
  echo "$pid"
}
host_running() { host_pid "$1" >/dev/null; }
host_isolated() { [ -f "$(host_dir "$1")/isolated" ]; }

host_key_pub() { # "ssh-ed25519 AAAA..." without the comment
  local f
  f="$(host_dir "$1")/upper/etc/ssh/ssh_host_ed25519_key.pub"
  [ -f "$f" ] && awk '{ print $1 " " $2 }' "$f"
}

console_tail() {
  local log
  log="$(host_dir "$1")/console.log"
  [ -f "$log" ] || { echo "(no console log at $log)"; return 0; }
  # strip ANSI colours so the error is readable in CI logs
  tail -n "${2:-25}" "$log" | sed -e 's/\x1b\[[0-9;]*[a-zA-Z]//g' -e 's/^/    /'
}

is_mounted() { mountpoint -q "$1" 2>/dev/null; }

# All mount points at or below a directory, deepest first.
mounts_below() {
  local dir="$1"
  awk -v d="$dir" '{ gsub(/\\040/, " ", $2); if ($2 == d || index($2, d "/") == 1) print $2 }' /proc/self/mounts | sort -r
}

umount_below() {
  local dir="$1" m
  while read -r m; do
    [ -n "$m" ] || continue
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || log "warning: could not unmount $m"
  done < <(mounts_below "$dir")
}

json_str() { # JSON string literal
  local s="$1"
  s="${s//\\/\\\\}"
  s="${s//\"/\\\"}"
  printf '"%s"' "$s"
}

# The inventory (live state). $1 = "write" to also refresh inventory.json and known_hosts.
inventory_json() {
  local name first=1 key running isolated out tmp
  out="{\"hostSet\": $HOST_SET, \"subnet\": \"$SUBNET_PREFIX.0/24\", \"gateway\": \"$SUBNET_PREFIX.1\", \"sshKeyPath\": $(json_str "$SSH_KEY"), \"sshUser\": \"root\", \"sudoUser\": \"deploy\", \"knownHostsPath\": $(json_str "$KNOWN_HOSTS"), \"hosts\": ["
  for name in $(existing_hosts); do
    key="$(host_key_pub "$name" || true)"
    running=false; host_running "$name" && running=true
    isolated=false; host_isolated "$name" && isolated=true
    [ "$first" = 1 ] || out+=","
    first=0
    out+=$'\n'"  {\"name\": \"$name\", \"address\": \"$(host_addr "$name")\", \"sshPort\": 22, \"hostKey\": $(json_str "$key"), \"running\": $running, \"isolated\": $isolated}"
  done
  [ "$first" = 1 ] || out+=$'\n'
  out+="]}"
  if [ "${1:-}" = "write" ]; then
    mkdir -p "$SET_DIR"
    tmp="$(mktemp "$INVENTORY.XXXXXX")"
    printf '%s\n' "$out" >"$tmp"
    mv -f "$tmp" "$INVENTORY"
    tmp="$(mktemp "$KNOWN_HOSTS.XXXXXX")"
    for name in $(existing_hosts); do
      key="$(host_key_pub "$name" || true)"
      [ -z "$key" ] || printf '%s,%s %s\n' "$name" "$(host_addr "$name")" "$key" >>"$tmp"
    done
    mv -f "$tmp" "$KNOWN_HOSTS"
  fi
  printf '%s\n' "$out"
}

# ---------------------------------------------------------------------------------------------
# Cached pieces: SSH key, base rootfs
# ---------------------------------------------------------------------------------------------

ensure_ssh_key() {
  if [ ! -f "$SSH_KEY" ] || [ ! -f "$SSH_KEY.pub" ]; then
    log "generating SSH key $SSH_KEY"
    rm -f "$SSH_KEY" "$SSH_KEY.pub"
    ssh-keygen -q -t ed25519 -N '' -C "etcd-pulumi-test-hosts" -f "$SSH_KEY"
  fi
  chmod 600 "$SSH_KEY"
}

debian_mirror() {
  if [ -n "${HOSTS_DEBIAN_MIRROR:-}" ]; then echo "$HOSTS_DEBIAN_MIRROR"; return; fi
  local f m
  # deb822 .sources: the URIs of a stanza whose Suites has plain "bookworm"
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    m="$(awk '
      /^[[:space:]]*$/ { if (uri != "" && suite) { print uri; exit } uri = ""; suite = 0; next }
      tolower($1) == "uris:" { uri = $2 }
      tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i == "bookworm") suite = 1 }
      END { if (uri != "" && suite) print uri }' "$f" | head -n 1)"
    if [ -n "$m" ]; then echo "$m"; return; fi
  done
  # one-line format: deb [opts] URI bookworm main
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    m="$(sed -e 's/\[[^]]*\]//' "$f" | awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }')"
    if [ -n "$m" ]; then echo "$m"; return; fi
  done
  echo "http://deb.debian.org/debian"
}

ensure_rootfs() {
  local stamp="$ROOTFS/.etcd-pulumi-base"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$BASE_VERSION" ]; then return 0; fi
  if [ -f "$stamp" ] && any_set_has_hosts; then
    log "base rootfs is version $(cat "$stamp"), harness wants $BASE_VERSION; keeping it until every host set is 'down' (hosts exist)"
    return 0
  fi
  local partial="$ROOTFS.partial" mirror t0
  if [ ! -f "$ROOTFS/.debootstrap-done" ]; then
    mirror="$(debian_mirror)"
    log "debootstrapping Debian bookworm (once) from $mirror into $ROOTFS (about a minute)"
    t0=$SECONDS
    umount_below "$partial"
    rm -rf --one-file-system "$partial"
    mkdir -p "$partial"
    if ! debootstrap --variant=minbase --include="$PACKAGES" bookworm "$partial" "$mirror" \
      >"$HOSTS_DIR/debootstrap.log" 2>&1; then
      umount_below "$partial"
      tail -n 15 "$HOSTS_DIR/debootstrap.log" | sed 's/^/[hosts]   /' >&2
      die "debootstrap failed (full log: $HOSTS_DIR/debootstrap.log). Check that $mirror is reachable, or set HOSTS_DEBIAN_MIRROR."
    fi
    umount_below "$partial"
    touch "$partial/.debootstrap-done"
    rm -rf --one-file-system "$ROOTFS"
    mv "$partial" "$ROOTFS"
    log "debootstrap done in $((SECONDS - t0))s"
  fi
  log "configuring base rootfs (v$BASE_VERSION)"
  cp "$HOSTS_SCRIPT_DIR/hosts/rootfs-setup.sh" "$ROOTFS/tmp/etcd-pulumi-rootfs-setup.sh"
  chroot "$ROOTFS" /bin/sh /tmp/etcd-pulumi-rootfs-setup.sh "$MAX_HOSTS" >>"$HOSTS_DIR/debootstrap.log" 2>&1 ||
    die "configuring the base rootfs failed (log: $HOSTS_DIR/debootstrap.log)"
  rm -f "$ROOTFS/tmp/etcd-pulumi-rootfs-setup.sh"
  echo "$BASE_VERSION" >"$stamp"
}

# ---------------------------------------------------------------------------------------------
# Network: one bridge per host set in the root namespace, one netns + veth per host. No routes, no
# NAT, no forwarding: the hosts reach each other and their set's .1 (this machine), nothing else (not
# another set's hosts: the bridges are not connected and the hosts have no route off their /24).
# ---------------------------------------------------------------------------------------------

ensure_bridge() {
  if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
    if ip -o route show to "$SUBNET_PREFIX.0/24" | grep -q .; then
      die "$SUBNET_PREFIX.0/24 is already routed on this machine ($(ip -o route show to "$SUBNET_PREFIX.0/24")); remove that first"
    fi
    log "creating bridge $BRIDGE ($BRIDGE_CIDR)"
    # fixed MAC: otherwise the bridge takes the lowest port MAC, which changes as hosts come and go
    ip link add "$BRIDGE" address "${MAC_PREFIX}0:01" type bridge stp_state 0 forward_delay 0
  fi
  ip addr replace "$BRIDGE_CIDR" dev "$BRIDGE"
  ip link set "$BRIDGE" up
}

ensure_host_net() {
  local name="$1" ns veth
  ns="$(host_netns "$name")"
  veth="$(host_veth "$name")"
  if ! mountpoint -q /run/netns && [ ! -f "$HOSTS_DIR/.created-run-netns" ]; then
    touch "$HOSTS_DIR/.created-run-netns" # so 'down' may undo ip-netns' own /run/netns mount
  fi
  [ -e "/run/netns/$ns" ] || ip netns add "$ns"
  if ! ip -n "$ns" link show eth0 >/dev/null 2>&1; then
    ip link del "$veth" 2>/dev/null || true
    ip link add "$veth" type veth peer name eth0 netns "$ns" \
      address "$(printf '%s1:%02x' "$MAC_PREFIX" "$(host_index "$name")")"
  fi
  ip -n "$ns" link set lo up
  ip -n "$ns" addr replace "$(host_addr "$name")/24" dev eth0
  ip -n "$ns" link set eth0 up
  if host_isolated "$name"; then
    ip link set "$veth" nomaster
  else
    ip link set "$veth" master "$BRIDGE"
  fi
  ip link set "$veth" up
}

remove_host_net() {
  local name="$1" ns veth
  ns="$(host_netns "$name")"
  veth="$(host_veth "$name")"
  ip link del "$veth" 2>/dev/null || true
  if [ -e "/run/netns/$ns" ]; then ip netns del "$ns" 2>/dev/null || log "warning: could not delete netns $ns"; fi
}

# ---------------------------------------------------------------------------------------------
# One host
# ---------------------------------------------------------------------------------------------

# Mount the overlay and (re)write the per-host files into it.
prepare_host_disk() {
  local name="$1" dir merged home uid gid
  dir="$(host_dir "$name")"
  merged="$dir/merged"
  mkdir -p "$dir/upper" "$dir/work" "$merged"
  if is_mounted "$merged"; then umount "$merged"; fi
  mount -t overlay overlay -o "lowerdir=$ROOTFS,upperdir=$dir/upper,workdir=$dir/work" "$merged"

  echo "$name" >"$merged/etc/hostname"
  # the names of this set's hosts (the base rootfs's /etc/hosts is set 0's)
  {
    echo "127.0.0.1 localhost"
    echo "::1 localhost ip6-localhost ip6-loopback"
    echo "$SUBNET_PREFIX.1 etcdp-gw"
    local k
    for k in $(seq 1 "$MAX_HOSTS"); do echo "$SUBNET_PREFIX.$((10 + k)) etcd$k"; done
  } >"$merged/etc/hosts"
  if [ ! -s "$merged/etc/machine-id" ]; then
    od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$merged/etc/machine-id"
    echo >>"$merged/etc/machine-id"
  fi
  if [ ! -s "$merged/etc/ssh/ssh_host_ed25519_key" ]; then
    rm -f "$merged/etc/ssh/ssh_host_ed25519_key" "$merged/etc/ssh/ssh_host_ed25519_key.pub"
    ssh-keygen -q -t ed25519 -N '' -C "root@$name" -f "$merged/etc/ssh/ssh_host_ed25519_key"
  fi
  # root and deploy accept the harness key (refreshed on every start)
  install -d -m 700 -o 0 -g 0 "$merged/root/.ssh"
  install -m 600 -o 0 -g 0 "$SSH_KEY.pub" "$merged/root/.ssh/authorized_keys"
  home="$merged/home/deploy"
  uid="$(stat -c %u "$home")"
  gid="$(stat -c %g "$home")"
  install -d -m 700 -o "$uid" -g "$gid" "$home/.ssh"
  install -m 600 -o "$uid" -g "$gid" "$SSH_KEY.pub" "$home/.ssh/authorized_keys"
}

launch_host() {
  local name="$1" dir cg
  dir="$(host_dir "$name")"
  local -a cgs=()
  for cg in $(host_cgroups "$name"); do
    remove_cgroup_tree "$cg" # stale leftovers of a crashed run
    mkdir -p "$cg"
    cgs+=("$cg")
  done
  local -a args=(
    --boot                         # systemd as PID 1
    --machine="$(host_machine "$name")" # etcd1 in set 0, etcdp1-etcd1 in set 1 (see host_pid)
    --directory="$dir/merged"      # the overlay we mounted: shared lower rootfs + per-host upper
    --hostname="$name"             # etcd1 in every set
    --register=no --keep-unit      # no systemd/machined on this machine: allocate/register nothing
    --network-namespace-path="/run/netns/$(host_netns "$name")"
    --private-users=no             # plain root: overlay files keep real uids, no shifting
    --console=read-only            # boot output -> console.log, never reads stdin
    --resolv-conf=off --timezone=off --link-journal=no
  )
  if [ -s "$dir/console.log" ]; then mv -f "$dir/console.log" "$dir/console.log.prev"; fi
  : >"$dir/console.log"
  rm -f "$dir/nspawn.pid"
  # setsid: own session, so the container outlives this script and its terminal/CI step.
  # The launched shell moves itself into the host's cgroups, records its pid, then becomes nspawn.
  # shellcheck disable=SC2016
  local inner='pidfile="$1"; n="$2"; shift 2
    while [ "$n" -gt 0 ]; do echo "$$" >"$1/cgroup.procs"; shift; n=$((n - 1)); done
    echo "$$" >"$pidfile"
    exec "$@"'
  (
    # hold none of the caller's descriptors (the harness lock, a test runner's pipes), so that
    # whoever waits for this script's output gets EOF when it exits
    for fd in /proc/"$BASHPID"/fd/*; do
      fd="${fd##*/}"
      if [ "$fd" -gt 2 ]; then eval "exec $fd>&-" 2>/dev/null || true; fi
    done
    exec setsid bash -c "$inner" hosts-launch "$dir/nspawn.pid" "${#cgs[@]}" "${cgs[@]}" \
      systemd-nspawn "${args[@]}" </dev/null >>"$dir/console.log" 2>&1
  ) &
  # wait until the pid file names a running systemd-nspawn
  local waited=0
  while ! host_running "$name"; do
    if [ "$waited" -ge 100 ]; then
      log "ERROR: systemd-nspawn for $name did not start. Last console lines ($dir/console.log):"
      console_tail "$name" >&2
      exit 1
    fi
    sleep 0.05
    waited=$((waited + 1))
  done
}

start_host() { # boot one host (creating its disk on first use); no wait
  local name="$1"
  if host_running "$name"; then return 0; fi
  if host_exists "$name"; then log "starting $name"; else log "creating $name ($(host_addr "$name"))"; fi
  ensure_host_net "$name"
  prepare_host_disk "$name"
  launch_host "$name"
}

stop_host() { # orderly power-off, then force; keeps the disk and the netns
  local name="$1" pid dir cg waited=0
  dir="$(host_dir "$name")"
  if pid="$(host_pid "$name")"; then
    [ "${2:-}" = "quiet" ] || log "stopping $name"
    kill -TERM "$pid" 2>/dev/null || true # nspawn forwards this as SIGRTMIN+3 (halt) to the container's systemd
    while kill -0 "$pid" 2>/dev/null && [ "$waited" -lt 300 ]; do
      sleep 0.1
      waited=$((waited + 1))
    done
    if kill -0 "$pid" 2>/dev/null; then
      log "$name did not shut down within 30s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  for cg in $(host_cgroups "$name"); do kill_cgroup_tree "$cg"; done
  # wait for killed processes to be gone before unmounting
  for cg in $(host_cgroups "$name"); do
    waited=0
    while [ -n "$(cgroup_pids "$cg")" ] && [ "$waited" -lt 50 ]; do sleep 0.1; waited=$((waited + 1)); done
    remove_cgroup_tree "$cg"
  done
  rm -f "$dir/nspawn.pid"
  umount_below "$dir"
  # a powered-off machine doesn't answer at all (not even with "connection refused")
  ip link set "$(host_veth "$name")" down 2>/dev/null || true
}

ssh_ok() { # root SSH answers, with the host key pinned
  ssh -i "$SSH_KEY" -o BatchMode=yes -o ConnectTimeout=2 -o StrictHostKeyChecking=yes \
    -o UserKnownHostsFile="$KNOWN_HOSTS" -o GlobalKnownHostsFile=/dev/null -o LogLevel=ERROR \
    "root@$(host_addr "$1")" true </dev/null >/dev/null 2>&1
}

# Wait until root SSH answers on every named host, or fail naming the host.
wait_for_ssh() {
  local deadline=$((SECONDS + BOOT_TIMEOUT)) name pending=("$@") next=() t0=$SECONDS
  [ "${#pending[@]}" -gt 0 ] || return 0
  log "waiting for SSH on ${pending[*]} (up to ${BOOT_TIMEOUT}s)"
  while [ "${#pending[@]}" -gt 0 ]; do
    next=()
    for name in "${pending[@]}"; do
      if ! host_running "$name"; then
        log "ERROR: $name ($(host_addr "$name")): systemd-nspawn exited while booting. Last console lines ($(host_dir "$name")/console.log):"
        console_tail "$name" >&2
        exit 1
      fi
      if ssh_ok "$name"; then
        log "$name answers SSH ($((SECONDS - t0))s)"
      else
        next+=("$name")
      fi
    done
    pending=("${next[@]+"${next[@]}"}")
    [ "${#pending[@]}" -gt 0 ] || break
    if [ "$SECONDS" -ge "$deadline" ]; then
      for name in "${pending[@]}"; do
        log "ERROR: $name ($(host_addr "$name")) did not answer SSH within ${BOOT_TIMEOUT}s. Last console lines ($(host_dir "$name")/console.log):"
        console_tail "$name" >&2
      done
      exit 1
    fi
    sleep 0.5
  done
}

# ---------------------------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------------------------

cmd_up() {
  local n="${1:-3}" k name t0=$SECONDS
  if ! [[ "$n" =~ ^[0-9]+$ ]] || [ "$n" -lt 1 ] || [ "$n" -gt "$MAX_HOSTS" ]; then
    die "up takes a host count from 1 to $MAX_HOSTS (got '$n')"
  fi
  [ "$HOST_SET" = 0 ] || log "host set $HOST_SET: $SUBNET_PREFIX.0/24 on $BRIDGE"
  take_shared_lock
  ensure_tools
  check_kernel
  ensure_ssh_key
  ensure_rootfs
  ensure_bridge
  local -a wait=()
  for k in $(seq 1 "$n"); do
    name="etcd$k"
    if host_running "$name"; then
      log "$name already running"
      continue
    fi
    start_host "$name"
    if host_isolated "$name"; then log "$name is isolated: not waiting for SSH"; else wait+=("$name"); fi
  done
  release_shared_lock
  inventory_json write >/dev/null # known_hosts now has the new host keys
  wait_for_ssh "${wait[@]+"${wait[@]}"}"
  log "up $n done in $((SECONDS - t0))s"
  inventory_json write
}

cmd_start() {
  local name="$1"
  host_exists "$name" || die "$name does not exist; create it with 'up $(host_index "$name")'"
  take_shared_lock
  ensure_tools
  check_kernel
  ensure_ssh_key
  ensure_bridge
  if host_running "$name"; then
    release_shared_lock
    log "$name already running"
  else
    start_host "$name"
    release_shared_lock
    inventory_json write >/dev/null
    if host_isolated "$name"; then log "$name is isolated: not waiting for SSH"; else wait_for_ssh "$name"; fi
  fi
  inventory_json write
}

cmd_stop() {
  local name="$1"
  host_exists "$name" || die "$name does not exist"
  if host_running "$name"; then stop_host "$name"; else log "$name is not running"; umount_below "$(host_dir "$name")"; fi
  inventory_json write
}

cmd_isolate() {
  local name="$1"
  host_exists "$name" || die "$name does not exist"
  touch "$(host_dir "$name")/isolated"
  if ip link show "$(host_veth "$name")" >/dev/null 2>&1; then
    ip link set "$(host_veth "$name")" nomaster
  fi
  log "$name isolated (veth $(host_veth "$name") detached from $BRIDGE)"
  inventory_json write
}

cmd_heal() {
  local name="$1"
  host_exists "$name" || die "$name does not exist"
  rm -f "$(host_dir "$name")/isolated"
  if ip link show "$(host_veth "$name")" >/dev/null 2>&1; then
    ensure_bridge
    ip link set "$(host_veth "$name")" master "$BRIDGE"
    ip link set "$(host_veth "$name")" up
  fi
  log "$name healed (veth $(host_veth "$name") back on $BRIDGE)"
  # if it was (re)started while isolated, sshd may still be coming up: give it a moment
  if host_running "$name" && ! ssh_ok "$name"; then
    local deadline=$((SECONDS + 30))
    while [ "$SECONDS" -lt "$deadline" ] && ! ssh_ok "$name"; do sleep 0.5; done
    ssh_ok "$name" || log "warning: $name is back on the network but does not answer SSH"
  fi
  inventory_json write
}

cmd_ls() {
  local name state
  [ "$HOST_SET" = 0 ] || log "host set $HOST_SET ($SUBNET_PREFIX.0/24)"
  if [ -z "$(existing_hosts)" ]; then log "no hosts (run: npm run hosts -- up)"; fi
  for name in $(existing_hosts); do
    state="stopped"; host_running "$name" && state="running"
    host_isolated "$name" && state="$state,isolated"
    log "$(printf '%-6s %-15s %s' "$name" "$(host_addr "$name")" "$state")"
  done
  inventory_json
}

cmd_down() {
  local name root dir pid k
  local -a names=()
  for k in $(seq 1 "$MAX_HOSTS"); do names+=("etcd$k"); done
  # 1. orderly shutdown of everything running, in parallel
  for name in "${names[@]}"; do
    if pid="$(host_pid "$name")"; then
      log "stopping $name"
      kill -TERM "$pid" 2>/dev/null || true
    fi
  done
  for name in "${names[@]}"; do
    if host_running "$name" || [ -d "$(host_dir "$name")" ] || [ -e "/run/netns/$(host_netns "$name")" ]; then
      stop_host "$name" quiet
    fi
  done
  # 2. anything left in our cgroups (e.g. a pid file was lost)
  for root in $(cgroup_roots); do
    if [ -d "$root/$CGROUP_NAME" ]; then
      kill_cgroup_tree "$root/$CGROUP_NAME"
      sleep 0.2
      remove_cgroup_tree "$root/$CGROUP_NAME"
    fi
  done
  # 3. mounts, disks, network
  umount_below "$RUN_DIR"
  for name in "${names[@]}"; do
    remove_host_net "$name"
    dir="$(host_dir "$name")"
    if [ -d "$dir" ]; then
      is_mounted "$dir/merged" && die "$dir/merged is still mounted; not deleting it"
      rm -rf --one-file-system "$dir"
    fi
  done
  if ip link show "$BRIDGE" >/dev/null 2>&1; then
    log "removing bridge $BRIDGE"
    ip link del "$BRIDGE"
  fi
  # ip-netns mounts /run/netns on first use; undo that if we caused it and nothing else uses it
  # (another host set's namespaces included: then the last set's 'down' does it)
  if [ -f "$HOSTS_DIR/.created-run-netns" ]; then
    if mountpoint -q /run/netns && [ -z "$(ls -A /run/netns 2>/dev/null)" ]; then
      umount /run/netns 2>/dev/null || true
      rmdir /run/netns 2>/dev/null || true
    fi
    mountpoint -q /run/netns || rm -f "$HOSTS_DIR/.created-run-netns"
  fi
  if [ -d "$RUN_DIR" ]; then rmdir "$RUN_DIR" 2>/dev/null || true; fi
  if [ -d "$SET_DIR" ]; then inventory_json write >/dev/null; fi
  if [ "$HOST_SET" = 0 ]; then log "down: no hosts left"; else log "down: no hosts left in host set $HOST_SET"; fi
}

cmd_info() { # what identifies this set on the machine (for tests and for cleaning up by hand)
  printf '{"hostSet": %s, "subnet": "%s", "gateway": "%s", "bridge": "%s", "netnsPrefix": "%s", "vethPrefix": "%s", "machinePrefix": "%s", "cgroup": "%s", "runDir": %s, "inventoryPath": %s, "knownHostsPath": %s, "lockPath": %s, "sshKeyPath": %s, "rootfs": %s, "rootfsLockPath": %s}\n' \
    "$HOST_SET" "$SUBNET_PREFIX.0/24" "$SUBNET_PREFIX.1" "$BRIDGE" "$NETNS_PREFIX" "$VETH_PREFIX" "$(host_machine "")" "$CGROUP_NAME" \
    "$(json_str "$RUN_DIR")" "$(json_str "$INVENTORY")" "$(json_str "$KNOWN_HOSTS")" "$(json_str "$SET_LOCK")" \
    "$(json_str "$SSH_KEY")" "$(json_str "$ROOTFS")" "$(json_str "$SHARED_LOCK")"
}

main() {
  HOSTS_CMD="${1:-}"
  [ -n "$HOSTS_CMD" ] || { usage; exit 2; }
  shift
  case "$HOSTS_CMD" in
    -h | --help | help) usage; exit 0 ;;
  esac
  case "$HOSTS_CMD" in
    ls | inventory | info) check_platform read-only ;;
    *) check_platform ;;
  esac
  case "$HOSTS_CMD" in
    up)
      [ "$#" -le 1 ] || die "usage: up [N]"
      take_lock
      cmd_up "$@"
      ;;
    down)
      take_lock
      cmd_down
      ;;
    stop | start | isolate | heal)
      [ "$#" -eq 1 ] || die "usage: $HOSTS_CMD NAME (etcd1..etcd$MAX_HOSTS)"
      valid_name "$1"
      take_lock
      "cmd_$HOSTS_CMD" "$1"
      ;;
    ls)
      cmd_ls
      ;;
    inventory)
      inventory_json
      ;;
    info)
      cmd_info
      ;;
    *)
      usage
      die "unknown command '$HOSTS_CMD'"
      ;;
  esac
}

main "$@"

#!/usr/bin/env bash
# The benchmark's baseline: a hand-written, parallel-SSH deploy of the same secure etcd cluster the
# component builds (per-member server/peer/client certificates from one CA, TLS everywhere with client
# and peer certificate auth, peer CN pinned, metrics on loopback, Type=notify unit as user etcd), done as
# fast as a careful operator's script can: certificates made locally in parallel, then ONE SSH session per
# member (archive, certificates, config and unit in one tar stream, installed and started --no-block),
# all members at once, then a poll until every member is healthy over mTLS.
# Usage: baseline-deploy.sh ARCHIVE SSH_KEY NAME=ADDRESS...   (prints nothing but errors; exit 0 = healthy)
# BASELINE_KEEP_PKI=DIR keeps the CA and an admin client certificate there (ca.crt, admin.crt, admin.key).
set -euo pipefail
archive="$1" key="$2"
shift 2
members=("$@")
version="$(basename "$archive" | sed -E 's/^etcd-v([0-9.]+)-linux-amd64\.tar\.gz$/\1/')"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
die() { echo "baseline: $*" >&2; exit 1; }

# --- PKI (ECDSA P-256), all members in parallel --------------------------------------------------
openssl ecparam -name prime256v1 -genkey -noout -out "$work/ca.key" 2>/dev/null
openssl req -x509 -new -key "$work/ca.key" -subj "/O=baseline/CN=baseline etcd CA" -days 1825 -out "$work/ca.crt" 2>/dev/null
issue() { # dir name cn sans usage
  local dir="$1" name="$2" cn="$3" sans="$4" usage="$5"
  openssl ecparam -name prime256v1 -genkey -noout -out "$dir/$name.key" 2>/dev/null
  openssl req -new -key "$dir/$name.key" -subj "/O=baseline/CN=$cn" -out "$dir/$name.csr" 2>/dev/null
  printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=%s\n%s' "$usage" "${sans:+subjectAltName=$sans}" >"$dir/$name.ext"
  openssl x509 -req -in "$dir/$name.csr" -CA "$work/ca.crt" -CAkey "$work/ca.key" -set_serial "0x$(openssl rand -hex 16)" -days 1825 -extfile "$dir/$name.ext" -out "$dir/$name.crt" 2>/dev/null
  rm -f "$dir/$name.csr" "$dir/$name.ext"
}
initial=""
pids=()
for m in "${members[@]}"; do initial="${initial:+$initial,}${m%%=*}=https://${m#*=}:2380"; done
for m in "${members[@]}"; do
  (
    name="${m%%=*}" addr="${m#*=}" dir="$work/$name"
    mkdir -p "$dir"
    issue "$dir" server "$name" "IP:$addr,IP:127.0.0.1,DNS:localhost" serverAuth,clientAuth
    issue "$dir" peer etcd-peer "IP:$addr" serverAuth,clientAuth
    issue "$dir" etcdctl "etcdctl-$name" "" clientAuth
    cp "$work/ca.crt" "$dir/ca.crt"
    cat >"$dir/etcd.conf.yml" <<EOF
name: $name
data-dir: /var/lib/etcd
listen-peer-urls: https://$addr:2380
listen-client-urls: https://$addr:2379,https://127.0.0.1:2379
listen-metrics-urls: http://127.0.0.1:2381
initial-advertise-peer-urls: https://$addr:2380
advertise-client-urls: https://$addr:2379
initial-cluster: $initial
initial-cluster-token: baseline-$$
initial-cluster-state: new
strict-reconfig-check: true
pre-vote: true
logger: zap
log-outputs: [stderr]
tls-min-version: TLS1.2
cipher-suites: [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256]
client-transport-security: {cert-file: /etc/etcd/pki/server.crt, key-file: /etc/etcd/pki/server.key, client-cert-auth: true, trusted-ca-file: /etc/etcd/pki/ca.crt}
peer-transport-security: {cert-file: /etc/etcd/pki/peer.crt, key-file: /etc/etcd/pki/peer.key, client-cert-auth: true, trusted-ca-file: /etc/etcd/pki/ca.crt, allowed-cn: [etcd-peer]}
EOF
    cat >"$dir/etcd.service" <<EOF
[Unit]
Description=etcd (baseline)
After=network-online.target
[Service]
Type=notify
User=etcd
ExecStart=/usr/local/bin/etcd --config-file=/etc/etcd/etcd.conf.yml
Restart=on-failure
LimitNOFILE=65536
ProtectSystem=strict
ReadWritePaths=/var/lib/etcd
NoNewPrivileges=yes
[Install]
WantedBy=multi-user.target
EOF
    cat >"$dir/install.sh" <<'EOF'
set -euo pipefail
src="$(dirname "$0")"
getent passwd etcd >/dev/null || useradd --system --home-dir /var/lib/etcd --no-create-home --shell /usr/sbin/nologin etcd
install -d -m 0700 -o etcd -g etcd /var/lib/etcd
install -d -m 0750 -o root -g etcd /etc/etcd/pki
tar -xzf "$src"/etcd-*.tar.gz -C /opt --no-same-owner
ln -sfn /opt/etcd-v*-linux-amd64/etcd /usr/local/bin/etcd
ln -sfn /opt/etcd-v*-linux-amd64/etcdctl /usr/local/bin/etcdctl
install -m 0640 -o root -g etcd "$src/etcd.conf.yml" /etc/etcd/etcd.conf.yml
install -m 0644 -o etcd -g etcd "$src"/*.crt /etc/etcd/pki/
install -m 0600 -o etcd -g etcd "$src"/*.key /etc/etcd/pki/
install -m 0644 "$src/etcd.service" /etc/systemd/system/etcd.service
systemctl daemon-reload
systemctl enable --now --no-block etcd.service >/dev/null 2>&1
EOF
    ln "$archive" "$dir/" 2>/dev/null || cp "$archive" "$dir/"
  ) &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || die "preparing a member's files failed"; done

# --- one SSH session per member, all at once -------------------------------------------------
ssh_opts=(-i "$key" -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o ConnectTimeout=5)
pids=()
for m in "${members[@]}"; do
  name="${m%%=*}" addr="${m#*=}"
  tar -C "$work/$name" -cf - . | ssh "${ssh_opts[@]}" "root@$addr" 'd=$(mktemp -d) && tar -xf - -C "$d" && bash "$d/install.sh"; rc=$?; rm -rf "$d"; exit $rc' &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || die "a member failed to install"; done

# --- wait for mTLS health of every member ----------------------------------------------------
first="${members[0]#*=}"
etcdctl="$work/etcdctl"
tar -xzf "$archive" -C "$work" --strip-components=1 "etcd-v$version-linux-amd64/etcdctl"
issue "$work" admin etcd-admin "" clientAuth
endpoints=""
for m in "${members[@]}"; do endpoints="${endpoints:+$endpoints,}https://${m#*=}:2379"; done
for _ in $(seq 1 300); do
  if "$etcdctl" --endpoints="$endpoints" --cacert="$work/ca.crt" --cert="$work/admin.crt" --key="$work/admin.key" --dial-timeout=1s --command-timeout=2s endpoint health >/dev/null 2>&1; then
    if [ -n "${BASELINE_KEEP_PKI:-}" ]; then mkdir -p "$BASELINE_KEEP_PKI" && cp "$work/ca.crt" "$work/admin.crt" "$work/admin.key" "$BASELINE_KEEP_PKI/"; fi
    exit 0
  fi
  sleep 0.2
done
die "cluster not healthy within 60 s (first member $first)"

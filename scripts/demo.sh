#!/usr/bin/env bash
# `npm run demo`: on a fresh clone, set up what is missing, boot the 3 local test hosts, `pulumi up` the
# dev stack, and print the cluster's endpoint status and member list. Re-running changes nothing.
set -euo pipefail
# shellcheck source=scripts/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ETCD_PULUMI_ROOT"
say() { echo "[demo] $*" >&2; }
if [ "${ETCD_PULUMI_HOST_SET:-0}" != 0 ]; then
  say "the dev stack (Pulumi.dev.yaml) names the hosts of the default host set 0, not of ETCD_PULUMI_HOST_SET=$ETCD_PULUMI_HOST_SET; run the demo without it"
  exit 1
fi

bash scripts/setup.sh
say "booting the local test hosts"
bash scripts/hosts.sh up 3 >/dev/null
p() { bash scripts/pulumi.sh "$@"; }
p stack select dev >/dev/null 2>&1 || p stack init dev >/dev/null
say "pulumi up (dev stack)"
p up --yes --skip-preview --stack dev

creds="$ETCD_PULUMI_ROOT/.state/dev-client"
install -d -m 0700 "$creds"
p stack output caCertPem --stack dev > "$creds/ca.crt"
p stack output adminCertPem --stack dev > "$creds/admin.crt"
(umask 077 && p stack output adminKeyPem --show-secrets --stack dev > "$creds/admin.key")
endpoints=$(p stack output clientEndpoints --stack dev)
version=$(p stack output etcdVersion --stack dev)
etcdctl_bin="$ETCD_PULUMI_CACHE/etcdctl-v$version/etcdctl"
if [ ! -x "$etcdctl_bin" ]; then
  mkdir -p "$(dirname "$etcdctl_bin")"
  tar -xzf "$ETCD_RELEASES_DIR/v$version/etcd-v$version-linux-amd64.tar.gz" -C "$(dirname "$etcdctl_bin")" --strip-components=1 "etcd-v$version-linux-amd64/etcdctl"
fi
ctl() { "$etcdctl_bin" --endpoints="$endpoints" --cacert="$creds/ca.crt" --cert="$creds/admin.crt" --key="$creds/admin.key" "$@"; }
echo
echo "endpoint status:"
ctl endpoint status -w table
echo "member list:"
ctl member list -w table
echo
say "admin client credentials are in $creds; try: $etcdctl_bin --endpoints=$endpoints --cacert=$creds/ca.crt --cert=$creds/admin.crt --key=$creds/admin.key get --prefix /"

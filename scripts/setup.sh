#!/usr/bin/env bash
# `npm run setup`: everything the project needs on this machine, idempotent. A second run changes
# nothing and takes seconds.
#   1. Node >= 22 (from the npm registry's `node` package) into the cache
#   2. npm dependencies (npm ci when package-lock.json changed), the policy pack's too (policy/)
#   3. Pulumi CLI, language host and the command/tls/random plugins (scripts/setup-pulumi.sh)
#   4. etcd release archives for tests (scripts/setup-etcd.sh)
#   5. actionlint, the workflow linter the unit tests run (scripts/setup-actionlint.sh)
#   6. versitygw, the S3-compatible server the backup tests run (scripts/setup-s3.sh)
set -euo pipefail
# shellcheck source=scripts/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
say() { echo "[setup] $*" >&2; }
die() { echo "[setup] ERROR: $*" >&2; exit 1; }

[ "$(uname -s)" = "Linux" ] || die "this project runs on Linux (found $(uname -s))"
command -v npm >/dev/null || die "npm not found: install Node.js and npm (any version; Node $NODE_VERSION is fetched from the npm registry), e.g. 'apt-get install -y nodejs npm'"
mkdir -p "$ETCD_PULUMI_CACHE"

# 1. Node
if [ "$("$ETCD_PULUMI_NODE_BIN/node" --version 2>/dev/null || true)" != "v$NODE_VERSION" ]; then
  say "installing Node $NODE_VERSION from the npm registry into $ETCD_PULUMI_CACHE/node"
  mkdir -p "$ETCD_PULUMI_CACHE/node"
  npm install --prefix "$ETCD_PULUMI_CACHE/node" --no-audit --no-fund --loglevel=error "node@$NODE_VERSION" >&2
  [ "$("$ETCD_PULUMI_NODE_BIN/node" --version)" = "v$NODE_VERSION" ] || die "node $NODE_VERSION did not install"
fi

# 2. npm dependencies
cd "$ETCD_PULUMI_ROOT"
lock_sum=$(sha256sum package-lock.json | cut -d' ' -f1)
stamp="$ETCD_PULUMI_ROOT/node_modules/.etcd-pulumi-lock"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$lock_sum" ]; then
  say "installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error >&2
  echo "$lock_sum" > "$stamp"
fi

# 2b. the policy pack's own dependencies (policy/, run by the CLI from its own node_modules)
policy_sum=$(sha256sum policy/package-lock.json | cut -d' ' -f1)
policy_stamp="$ETCD_PULUMI_ROOT/policy/node_modules/.etcd-pulumi-lock"
if [ ! -f "$policy_stamp" ] || [ "$(cat "$policy_stamp")" != "$policy_sum" ]; then
  say "installing the policy pack's npm dependencies (npm ci in policy/)"
  (cd policy && npm ci --no-audit --no-fund --loglevel=error >&2)
  echo "$policy_sum" > "$policy_stamp"
fi

# 3. etcd archives
bash "$ETCD_PULUMI_ROOT/scripts/setup-etcd.sh"

# 4. Pulumi toolchain. With --allow-missing-pulumi (used by `npm test`), a toolchain that cannot be had
# here is recorded in $PULUMI_UNAVAILABLE_FILE instead of failing: the tests that need the Pulumi engine
# then report themselves SKIPPED with that reason, and everything else still runs.
mkdir -p "$(dirname "$PULUMI_UNAVAILABLE_FILE")"
if pulumi_log=$(bash "$ETCD_PULUMI_ROOT/scripts/setup-pulumi.sh" 2>&1); then
  rm -f "$PULUMI_UNAVAILABLE_FILE"
  say "ready: node $(node --version), pulumi $(pulumi version), etcd archives in $ETCD_RELEASES_DIR"
  # Optional language hosts (the YAML and Go consumers): missing ones only skip their tests.
  if [ -s "$PULUMI_LANGUAGES_UNAVAILABLE_FILE" ]; then
    while IFS= read -r line; do say "WARNING: $line; its consumer's test will be reported as skipped"; done < "$PULUMI_LANGUAGES_UNAVAILABLE_FILE"
  fi
else
  printf '%s\n' "$pulumi_log" >&2
  if [ "${1:-}" = "--allow-missing-pulumi" ]; then
    printf '%s\n' "$pulumi_log" | grep -v '^\[setup-pulumi\] \(using\|resolving\|get\.pulumi\.com\)' > "$PULUMI_UNAVAILABLE_FILE"
    say "WARNING: the Pulumi toolchain is NOT available; tests needing the Pulumi engine will be reported as skipped"
  else
    die "the Pulumi toolchain is not available (see above); npm run demo and the Pulumi end-to-end tests need it"
  fi
fi

# 5. actionlint
bash "$ETCD_PULUMI_ROOT/scripts/setup-actionlint.sh" || die "actionlint could not be installed (see above)"

# 6. versitygw. Only the tests need it (not the demo): when it cannot be built here, the reason is recorded in
# $VERSITYGW_UNAVAILABLE_FILE and the suites that need an S3 server report themselves SKIPPED with it.
mkdir -p "$(dirname "$VERSITYGW_UNAVAILABLE_FILE")"
s3_log=$(mktemp)
if bash "$ETCD_PULUMI_ROOT/scripts/setup-s3.sh" 2>&1 | tee "$s3_log" >&2; then
  rm -f "$VERSITYGW_UNAVAILABLE_FILE"
else
  grep 'UNAVAILABLE' "$s3_log" > "$VERSITYGW_UNAVAILABLE_FILE" || tail -n 20 "$s3_log" > "$VERSITYGW_UNAVAILABLE_FILE"
  say "WARNING: versitygw is NOT available; the tests needing an S3 server will be reported as skipped (see $VERSITYGW_UNAVAILABLE_FILE)"
fi
rm -f "$s3_log"

#!/usr/bin/env bash
# `npm test`: the whole suite, unit AND end-to-end, doing whatever setup is missing first
# (node, npm dependencies, Pulumi toolchain, etcd archives). The end-to-end tests boot the local test
# hosts themselves and tear them down at the end. `npm test -- unit` or `-- e2e` runs one half.
set -euo pipefail
# shellcheck source=scripts/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ETCD_PULUMI_ROOT"
what="${1:-all}"

bash scripts/setup.sh --allow-missing-pulumi
echo "[test] type-check and compile" >&2
tsc -p tsconfig.json
echo "[test] lint" >&2
eslint .

files=()
case "$what" in
  unit) files=(dist/test/unit/*.test.js) ;;
  e2e) files=(dist/test/e2e/*.test.js) ;;
  all) files=(dist/test/unit/*.test.js dist/test/e2e/*.test.js) ;;
  *) echo "[test] unknown suite '$what' (use unit, e2e or nothing for all)" >&2; exit 2 ;;
esac
if [ "$what" != "unit" ] && [ "$(id -u)" != "0" ]; then
  echo "[test] the end-to-end tests boot local test hosts and need root (run as root or with sudo)" >&2
  exit 1
fi
# One file at a time: the e2e files share the local test hosts.
exec node --test --test-concurrency=1 --test-reporter=spec "${files[@]}"

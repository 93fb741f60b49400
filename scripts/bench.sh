#!/usr/bin/env bash
# `npm run bench`: prints the performance figures measured on this machine (not a test).
set -euo pipefail
# shellcheck source=scripts/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ETCD_PULUMI_ROOT"
bash scripts/setup.sh --allow-missing-pulumi
bash scripts/build.sh
if [ -f "$PULUMI_UNAVAILABLE_FILE" ]; then
  echo "[bench] the Pulumi toolchain is not installed here: only the baseline can be measured; see $PULUMI_UNAVAILABLE_FILE" >&2
fi
node dist/bench/deploy-bench.js

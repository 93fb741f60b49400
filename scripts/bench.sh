#!/usr/bin/env bash
# `npm run bench`: prints the performance figures measured on this machine (not a test).
#   npm run bench              every benchmark
#   npm run bench -- deploy    deploy, no-op, preview and rolling restart next to the hand-written baselines
#   npm run bench -- backup    the off-host backup's uploads and restore next to their floors
set -euo pipefail
# shellcheck source=scripts/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ETCD_PULUMI_ROOT"
bash scripts/setup.sh --allow-missing-pulumi
bash scripts/build.sh
if [ -f "$PULUMI_UNAVAILABLE_FILE" ]; then
  echo "[bench] the Pulumi toolchain is not installed here: only the baseline can be measured; see $PULUMI_UNAVAILABLE_FILE" >&2
fi
what="${1:-all}"
case "$what" in
  deploy | backup) node "dist/bench/$what-bench.js" ;;
  all) node dist/bench/deploy-bench.js && node dist/bench/backup-bench.js ;;
  *) echo "[bench] unknown benchmark '$what' (deploy, backup, or nothing for all)" >&2; exit 2 ;;
esac

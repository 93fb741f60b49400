#!/usr/bin/env bash
# `npm run build`: type-check and compile (tsc), then copy the host programs that ship with the package
# (components/**/host/: shell and awk files run on the etcd hosts) next to the compiled code in dist/,
# where the components read them. The stack program runs compiled (Pulumi.yaml main: dist/index.js).
#   --if-stale   do nothing when no source is newer than the last build (what scripts/pulumi.sh runs)
set -euo pipefail
# shellcheck source=scripts/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ETCD_PULUMI_ROOT"
stamp=dist/.build-stamp
# A copy of the compiled program without its sources (e.g. a test's project directory) has nothing to build.
if [ "${1:-}" = --if-stale ] && [ ! -f tsconfig.json ]; then exit 0; fi
if [ "${1:-}" = --if-stale ] && [ -f "$stamp" ] &&
  [ -z "$(find index.ts components tools bench test policy/rules tsconfig.json package.json -newer "$stamp" \( -name '*.ts' -o -name '*.sh' -o -name '*.awk' -o -name '*.json' \) -not -path '*/node_modules/*' -print -quit)" ]; then
  exit 0
fi
tsc -p tsconfig.json
while IFS= read -r dir; do
  mkdir -p "dist/$dir"
  find "$dir" -maxdepth 1 -type f \( -name '*.sh' -o -name '*.awk' \) -exec cp -p {} "dist/$dir/" \;
done < <(find components -type d -name host -not -path '*/node_modules/*')
touch "$stamp"

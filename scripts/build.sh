#!/usr/bin/env bash
# `npm run build`: type-check and compile (tsc), then copy the host programs that ship with the package
# (components/**/host/: shell and awk files run on the etcd hosts) next to the compiled code in dist/,
# where the components read them.
set -euo pipefail
# shellcheck source=scripts/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ETCD_PULUMI_ROOT"
tsc -p tsconfig.json
while IFS= read -r dir; do
  mkdir -p "dist/$dir"
  find "$dir" -maxdepth 1 -type f \( -name '*.sh' -o -name '*.awk' \) -exec cp -p {} "dist/$dir/" \;
done < <(find components -type d -name host -not -path '*/node_modules/*')

#!/usr/bin/env bash
# `npm run status -- STACK [--backup-max-age SECONDS]`: one look at a deployed cluster. Reads the stack's
# outputs and config with the project's CLI (state in ./.state unless PULUMI_BACKEND_URL is set, like
# `npm run pulumi`), asks every member over TLS from here and reads its host's records over SSH, prints a
# table and what needs attention. Exit 0: all well; 1: something needs attention; 2: the stack cannot be read.
set -euo pipefail
# shellcheck source=scripts/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ETCD_PULUMI_ROOT"
stack="${1:-}"
if [ -z "$stack" ] || [ "${stack#-}" != "$stack" ]; then
  echo "usage: npm run status -- STACK [--backup-max-age SECONDS]   (stacks: $(printf '%s\n' Pulumi.*.yaml | sed 's/^Pulumi\.\(.*\)\.yaml$/\1/' | paste -sd' '))" >&2
  exit 2
fi
local_state="file://$ETCD_PULUMI_ROOT/.state"
export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-$local_state}"
if [ "$PULUMI_BACKEND_URL" = "$local_state" ]; then
  mkdir -p "$ETCD_PULUMI_ROOT/.state"
  if [ -z "${PULUMI_CONFIG_PASSPHRASE:-}" ] && [ -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
    # The same default as scripts/pulumi.sh, for the local dev state only.
    export PULUMI_CONFIG_PASSPHRASE="${ETCD_PULUMI_DEV_PASSPHRASE:-etcd-pulumi-local-dev}"
  fi
fi
# Transpile only, like Pulumi runs the program: `npm run build` / `npm test` type-check.
TS_NODE_TRANSPILE_ONLY=true exec node -r ts-node/register tools/status/main.ts "$@"

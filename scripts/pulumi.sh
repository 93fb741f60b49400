#!/usr/bin/env bash
# `npm run pulumi -- ARGS`: the real Pulumi CLI with the project's toolchain, a local state backend
# (unless PULUMI_BACKEND_URL is set, e.g. to a shared postgres://) and, for that local state only, a
# default passphrase.
set -euo pipefail
# shellcheck source=scripts/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ETCD_PULUMI_ROOT"
local_state="file://$ETCD_PULUMI_ROOT/.state"
export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-$local_state}"
if [ "$PULUMI_BACKEND_URL" = "$local_state" ]; then
  mkdir -p "$ETCD_PULUMI_ROOT/.state"
  if [ -z "${PULUMI_CONFIG_PASSPHRASE:-}" ] && [ -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
    # Only the throwaway dev stack on local test hosts may use this. Shared state never gets it: a team's
    # stacks are encrypted with the team's passphrase, and without one Pulumi asks for it.
    export PULUMI_CONFIG_PASSPHRASE="${ETCD_PULUMI_DEV_PASSPHRASE:-etcd-pulumi-local-dev}"
  fi
fi
# The stack program runs compiled (Pulumi.yaml main: dist/index.js): rebuild it when a source changed.
bash "$ETCD_PULUMI_ROOT/scripts/build.sh" --if-stale >&2
exec pulumi "$@"

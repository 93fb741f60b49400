#!/usr/bin/env bash
# `npm run pulumi -- ARGS`: the real Pulumi CLI with the project's toolchain, a local state backend
# (unless PULUMI_BACKEND_URL is set) and, for the local dev stack only, a default passphrase.
set -euo pipefail
# shellcheck source=scripts/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ETCD_PULUMI_ROOT"
export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$ETCD_PULUMI_ROOT/.state}"
mkdir -p "$ETCD_PULUMI_ROOT/.state"
if [ -z "${PULUMI_CONFIG_PASSPHRASE:-}" ] && [ -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
  # Only the throwaway dev stack on local test hosts may use this; set your own for anything else.
  export PULUMI_CONFIG_PASSPHRASE="${ETCD_PULUMI_DEV_PASSPHRASE:-etcd-pulumi-local-dev}"
fi
exec pulumi "$@"

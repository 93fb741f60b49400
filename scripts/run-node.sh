#!/usr/bin/env bash
# Run a command with the project's toolchain (node >= 22, local node_modules/.bin, pulumi) first on PATH.
set -euo pipefail
# shellcheck source=scripts/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
exec "$@"

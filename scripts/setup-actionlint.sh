#!/usr/bin/env bash
# actionlint at the pinned version ($ACTIONLINT_VERSION, scripts/env.sh) into $ACTIONLINT_BIN, built with
# `go install` from the Go module proxy. The unit tests lint .github/workflows with it. Idempotent: nothing
# happens when that version is already there.
set -euo pipefail
# shellcheck source=scripts/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
say() { echo "[setup-actionlint] $*" >&2; }
installed() { [ -x "$ACTIONLINT_BIN" ] && [ "$("$ACTIONLINT_BIN" -version 2>/dev/null | head -n1)" = "v$ACTIONLINT_VERSION" ]; }

installed && exit 0
if ! command -v go >/dev/null 2>&1; then
  say "ERROR: Go is not installed, and actionlint (the workflow linter the unit tests run) is built with it." \
    "Install Go >= 1.26 for linux-amd64 (the tarball from https://go.dev/dl/ unpacked into /usr/local/go) and re-run."
  exit 1
fi
say "building actionlint v$ACTIONLINT_VERSION from the Go module proxy into $(dirname "$ACTIONLINT_BIN")"
mkdir -p "$(dirname "$ACTIONLINT_BIN")"
if ! GOBIN="$(dirname "$ACTIONLINT_BIN")" GOTOOLCHAIN=local GOWORK=off CGO_ENABLED=0 GOFLAGS=-buildvcs=false \
  go install "github.com/rhysd/actionlint/cmd/actionlint@v$ACTIONLINT_VERSION" >&2; then
  say "ERROR: 'go install github.com/rhysd/actionlint/cmd/actionlint@v$ACTIONLINT_VERSION' failed (is $(go env GOPROXY) reachable?)"
  exit 1
fi
installed || { say "ERROR: $ACTIONLINT_BIN does not report v$ACTIONLINT_VERSION"; exit 1; }

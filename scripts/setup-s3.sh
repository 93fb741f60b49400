#!/usr/bin/env bash
# versitygw, the S3-compatible server the backup tests run against (Apache-2.0), at the pinned version
# ($VERSITYGW_VERSION, scripts/env.sh) into $VERSITYGW_BIN, built with `go install` from the Go module proxy.
# Idempotent: nothing happens when that version is already there. Otherwise it exits 1 naming what is
# missing; scripts/setup.sh records that in $VERSITYGW_UNAVAILABLE_FILE and the S3 suites skip with it.
set -euo pipefail
# shellcheck source=scripts/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
say() { echo "[setup-s3] $*" >&2; }
module="github.com/versity/versitygw"
# `go install` leaves versitygw's version string at "git"; the build stamps the pinned one (checked against
# the module's build info right after the build), so `--version` says which release this binary is.
reported_version() { "$VERSITYGW_BIN" --version 2>/dev/null | awk -F': *' '$1 ~ /^Version/ { print $2; exit }'; }
installed() { [ -x "$VERSITYGW_BIN" ] && [ "$(reported_version)" = "v$VERSITYGW_VERSION" ]; }

installed && exit 0
if ! command -v go >/dev/null 2>&1; then
  say "UNAVAILABLE: versitygw v$VERSITYGW_VERSION (the S3 server the backup tests run) is not in $(dirname "$VERSITYGW_BIN")," \
    "and Go, which builds it from the Go module proxy, is not installed." \
    "Install Go >= 1.25 for linux-amd64 (the tarball from https://go.dev/dl/ unpacked into /usr/local/go) and re-run."
  exit 1
fi
say "building versitygw v$VERSITYGW_VERSION from the Go module proxy into $(dirname "$VERSITYGW_BIN")"
mkdir -p "$(dirname "$VERSITYGW_BIN")"
if ! GOBIN="$(dirname "$VERSITYGW_BIN")" GOTOOLCHAIN=local GOWORK=off CGO_ENABLED=0 GOFLAGS=-buildvcs=false \
  go install -ldflags="-X=main.Version=v$VERSITYGW_VERSION" "$module/cmd/versitygw@v$VERSITYGW_VERSION" >&2; then
  say "UNAVAILABLE: versitygw v$VERSITYGW_VERSION: 'go install $module/cmd/versitygw@v$VERSITYGW_VERSION' failed (is $(go env GOPROXY) reachable?)"
  exit 1
fi
built_from=$(go version -m "$VERSITYGW_BIN" | awk '$1 == "mod" { print $2 " " $3; exit }')
if [ "$built_from" != "$module v$VERSITYGW_VERSION" ]; then
  say "UNAVAILABLE: versitygw v$VERSITYGW_VERSION: $VERSITYGW_BIN was built from '$built_from', not $module v$VERSITYGW_VERSION"
  rm -f "$VERSITYGW_BIN"
  exit 1
fi
installed || { say "UNAVAILABLE: versitygw v$VERSITYGW_VERSION: $VERSITYGW_BIN reports '$(reported_version)'"; exit 1; }

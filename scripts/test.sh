#!/usr/bin/env bash
# `npm test`: the whole suite, unit AND end-to-end, doing whatever setup is missing first
# (node, npm dependencies, Pulumi toolchain, etcd archives). The end-to-end tests boot the local test
# hosts themselves and tear them down at the end. `npm test -- unit` or `-- e2e` runs one half.
set -euo pipefail
# shellcheck source=scripts/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ETCD_PULUMI_ROOT"
what="${1:-all}"

bash scripts/setup.sh --allow-missing-pulumi
echo "[test] type-check and compile" >&2
bash scripts/build.sh
tsc -p policy/tsconfig.json
echo "[test] lint" >&2
eslint .

files=()
case "$what" in
  unit) files=(dist/test/unit/*.test.js) ;;
  e2e) files=(dist/test/e2e/*.test.js) ;;
  all) files=(dist/test/unit/*.test.js dist/test/e2e/*.test.js) ;;
  *) echo "[test] unknown suite '$what' (use unit, e2e or nothing for all)" >&2; exit 2 ;;
esac
if [ "$what" != "unit" ] && [ "$(id -u)" != "0" ]; then
  echo "[test] the end-to-end tests boot local test hosts and need root (run as root or with sudo)" >&2
  exit 1
fi
# Tools the tests use on this machine (besides what the host harness installs itself): the unit tests run
# the hosts' S3 client (bash, curl, openssl) against versitygw and lint it with shellcheck.
missing=()
for t in openssl:openssl curl:curl shellcheck:shellcheck; do
  command -v "${t%%:*}" >/dev/null 2>&1 || missing+=("${t#*:}")
done
if [ "$what" != "unit" ]; then
  for t in python3:python3 scp:openssh-client; do
    command -v "${t%%:*}" >/dev/null 2>&1 || missing+=("${t#*:}")
  done
  # test/e2e/postgres-backend.test.ts starts its own throwaway server from Debian's binaries.
  compgen -G '/usr/lib/postgresql/*/bin/pg_ctl' >/dev/null || missing+=(postgresql)
fi
if [ "${#missing[@]}" -gt 0 ]; then
  echo "[test] installing ${missing[*]} for the tests" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null 2>&1 ||
    { apt-get update >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null; } ||
    { echo "[test] could not install ${missing[*]}: install them (apt-get install ${missing[*]}) and re-run" >&2; exit 1; }
fi
# Debian's Prometheus (it brings promtool) and openssl, for every suite: the unit tests check and test the
# rendered alert rules with promtool (and read certificates openssl made); test/e2e/monitoring.test.ts runs
# Prometheus itself against the members. Its service is not started: the tests run their own on 127.0.0.1.
monitoring_missing=()
{ command -v promtool && command -v prometheus; } >/dev/null 2>&1 || monitoring_missing+=(prometheus)
command -v openssl >/dev/null 2>&1 || monitoring_missing+=(openssl)
if [ "${#monitoring_missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" != "0" ]; then
    echo "[test] ${monitoring_missing[*]} missing: install them (apt-get install --no-install-recommends ${monitoring_missing[*]}) and re-run" >&2
    exit 1
  fi
  echo "[test] installing ${monitoring_missing[*]} for the monitoring tests" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${monitoring_missing[@]}" >/dev/null 2>&1 ||
    { apt-get update >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${monitoring_missing[@]}" >/dev/null; } ||
    { echo "[test] could not install ${monitoring_missing[*]}: install them (apt-get install ${monitoring_missing[*]}) and re-run" >&2; exit 1; }
  # The package enables a system-wide Prometheus on :9090 where systemd runs; the tests need none of it.
  if [ -d /run/systemd/system ]; then systemctl disable --now prometheus.service >/dev/null 2>&1 || true; fi
fi
# One file at a time: the e2e files share the local test hosts. The spec report goes to the terminal;
# a TAP copy gives the closing "N passed, N failed, N skipped" line.
tap=$(mktemp)
trap 'rm -f "$tap"' EXIT
rc=0
node --test --test-concurrency=1 --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination="$tap" "${files[@]}" || rc=$?
count() { awk -v k="# $1" '$1" "$2 == k { n = $3 } END { print n + 0 }' "$tap"; }
echo "$(count pass) passed, $(count fail) failed, $(count skipped) skipped"
exit "$rc"

#!/usr/bin/env bash
# `npm run preview -- STACK [more pulumi preview flags]`: the pull-request check, locally. Runs `pulumi preview`
# on STACK through scripts/pulumi.sh (the project's toolchain; state in ./.state unless PULUMI_BACKEND_URL is
# set), with the policy pack in policy/ when there is one, and prints a summary built from the engine's
# events: per member what `pulumi up` would do, the cluster-wide steps, refusals, then the policy results.
# Pulumi's own output goes to stderr, the summary to stdout. Exits 1 when the preview fails or is refused or
# a mandatory policy is violated.
set -euo pipefail
# shellcheck source=scripts/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ETCD_PULUMI_ROOT"
stack="${1:-}"
if [ -z "$stack" ] || [ "${stack#-}" != "$stack" ]; then
  echo "usage: npm run preview -- STACK [more pulumi preview flags]   (stacks: $(ls Pulumi.*.yaml 2>/dev/null | sed 's/^Pulumi\.\(.*\)\.yaml$/\1/' | paste -sd' '))" >&2
  exit 2
fi
shift

policy=()
if [ -f policy/PulumiPolicy.yaml ]; then policy=(--policy-pack policy); fi
events="$(mktemp)"
trap 'rm -f "$events"' EXIT
rc=0
# --event-log writes the engine's event stream (what the Automation API's onEvent gets); the CLI offers the
# flag when PULUMI_DEBUG_COMMANDS is set, as the Automation API sets it.
PULUMI_DEBUG_COMMANDS=true bash scripts/pulumi.sh preview --stack "$stack" --event-log "$events" "${policy[@]}" "$@" >&2 || rc=$?
echo >&2
summary_rc=0
# Compiled, like the stack program (scripts/pulumi.sh rebuilt a stale build above).
node dist/tools/preview-summary/main.js "$events" || summary_rc=$?
if [ "$rc" -ne 0 ] || [ "$summary_rc" -ne 0 ]; then exit 1; fi

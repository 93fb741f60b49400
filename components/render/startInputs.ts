/**
 * The host helper that knows what etcd reads at start: its config (without the bootstrap-only
 * `initial-cluster*` keys, which etcd ignores once it has data), the unit, the trusted CA bundle and the
 * binary. The unit runs `record` before every start (ExecStartPre, so systemd's own restarts count too);
 * the service step runs `changed` to decide whether the running etcd needs a restart, and why.
 */
import { createHash } from "node:crypto";
import { runtimeConfig } from "./files";
import { HostPaths } from "./paths";
import { shq } from "./shell";

export function renderStartInputsTool(paths: HostPaths): string {
    return `#!/bin/bash
# Managed by etcd-pulumi. What etcd reads at start, one "NAME HASH" line per input.
#   record   save it as what the starting etcd uses (the unit's ExecStartPre)
#   current  print it for the files as they are now
#   changed  print the names that differ from what the running etcd was started with (all if unknown)
set -uo pipefail
started=${shq(paths.startedWith)}
h() { sha256sum | cut -c1-16; }
current() {
  echo "config $(grep -v '^initial-cluster' ${shq(paths.configFile)} | h)"
  echo "unit $(h < ${shq(paths.unitFile)})"
  echo "ca $(h < ${shq(paths.caCert)})"
  echo "binary $(h < "$(readlink -f ${shq(`${paths.binDir}/etcd`)})")"
}
case "\${1:-}" in
  record)
    mkdir -p "$(dirname "$started")" && current > "$started.tmp" && mv -f "$started.tmp" "$started"
    exit 0 ;;  # never keep etcd from starting
  current) current ;;
  changed)
    if [ ! -s "$started" ]; then echo "config,unit,ca,binary"; exit 0; fi
    { diff <(current) "$started" || true; } | awk '/^[<>]/ { print $2 }' | sort -u | paste -sd, - ;;
  *) echo "usage: $0 record|current|changed" >&2; exit 2 ;;
esac
`;
}

/**
 * What the service step's text carries about etcd's start inputs, so that the step runs again when one
 * of them changes. The host then decides whether to restart (it compares what the running etcd was
 * started with); a change of anything else re-runs the step at worst, and never restarts etcd.
 */
export function startInputsComment(parts: { config: string; unit: string; caCert: string; binarySha256: string }): string {
    const h = (v: string) => createHash("sha256").update(v).digest("hex").slice(0, 16);
    return `# etcd start inputs: config ${h(runtimeConfig(parts.config))} unit ${h(parts.unit)} ca ${h(parts.caCert)} binary ${parts.binarySha256.slice(0, 16)}`;
}

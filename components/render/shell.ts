/** Shell quoting and the common preamble of every script run on a host. */

/** Quote a value for POSIX shells: the result is always a single word, whatever the value holds. */
export function shq(value: string | number): string {
    return `'${String(value).replace(/'/g, `'"'"'`)}'`;
}

/** Identifies a script in failure messages: which host, which step. */
export interface ScriptContext {
    host: string;
    step: string;
}

/**
 * Header of every host script: strict mode, and an error trap that names the host and the step, so a
 * failure in `pulumi up` says where it happened.
 */
export function preamble(ctx: ScriptContext): string {
    const where = `etcd-pulumi: [${ctx.host}] step ${ctx.step}`;
    return [
        "set -euo pipefail",
        "umask 077",
        `ETCD_PULUMI_WHERE=${shq(where)}`,
        `trap 'rc=$?; echo "$ETCD_PULUMI_WHERE failed (exit $rc) at line $LINENO: $BASH_COMMAND" >&2; exit $rc' ERR`,
        `fail() { echo "$ETCD_PULUMI_WHERE: $*" >&2; exit 1; }`,
        `log() { echo "[$ETCD_PULUMI_WHERE] $*"; }`,
    ].join("\n");
}

/** Build a complete script from a context and body lines. */
export function script(ctx: ScriptContext, body: string[]): string {
    return `${preamble(ctx)}\n${body.join("\n")}\n`;
}

/**
 * The command line that runs `body` on the host: bash, optionally through `sudo -n` (never prompts: a
 * user without passwordless sudo fails at once with sudo's message). Standard input stays free for data.
 */
export function remoteInvocation(body: string, sudo: boolean): string {
    const run = `/bin/bash -c ${shq(body)}`;
    return sudo ? `sudo -n ${run}` : run;
}

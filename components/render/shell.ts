/** Shell quoting and the common preamble of every script run on a host. */

/** Quote a value for POSIX shells: the result is always a single word, whatever the value holds. */
export function shq(value: string | number): string {
    return `'${String(value).replace(/'/g, `'"'"'`)}'`;
}

/** One `NAME=value` line of an env file the host programs source (the value single-quoted for bash). */
export const envLine = (name: string, value: string | number): string => `${name}=${shq(value)}`;

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

/** Marks where one action's script starts and ends in a step's standard input (see stepStdin). */
const ACTION_MARK = "#!etcd-pulumi";
const END_MARK = "#!etcd-pulumi end";

/**
 * A step's scripts travel on standard input, one section per action (create, update, delete...), so
 * the command text stays short and constant: a failing step's error shows the host, the step and its
 * output, not a 40-line script quoted three times. Secrets a script embeds stay in (secret) stdin.
 */
export function stepStdin(actions: Record<string, string>): string {
    return Object.entries(actions)
        .map(([action, body]) => `${ACTION_MARK} ${action}\n${body.endsWith("\n") ? body : `${body}\n`}${END_MARK}\n`)
        .join("");
}

/**
 * The command line that runs one action of a step whose scripts arrive on stdin (stepStdin): the
 * action's section is saved to a private temp file and run by bash with stdin closed, so nothing in
 * the script can swallow the rest of it. Through `sudo -n` for non-root users (never prompts). `label`
 * (e.g. "etcd1/service") becomes $0 and so appears in every error message.
 */
export function stepInvocation(label: string, action: string, sudo: boolean): string {
    if (!/^[A-Za-z0-9._/-]+$/.test(label) || !/^[a-z-]+$/.test(action)) throw new Error(`bad step label ${label} / action ${action}`);
    // Kept short: the provider quotes this text in every error message.
    const body =
        `f=$(mktemp)||exit;trap "rm -f $f" 0;sed -n "/^${ACTION_MARK} $1\\$/,/^${END_MARK}\\$/p">$f;` +
        `[ -s $f ]||{ echo "etcd-pulumi: no $1 script on stdin for $0">&2;exit 2;};/bin/bash $f </dev/null`;
    const run = `/bin/bash -c ${shq(body)} etcd-pulumi:${label} ${action}`;
    return sudo ? `sudo -n ${run}` : run;
}

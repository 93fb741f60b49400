/**
 * Whether the real tools some suites need are installed: the Pulumi toolchain, and versitygw (the S3 server
 * of the backup tests). When setup could not install one (it records the reason in PULUMI_UNAVAILABLE_FILE
 * or VERSITYGW_UNAVAILABLE_FILE), the suites that need it are reported as SKIPPED with that reason: visible
 * in every test report, never silent.
 */
import * as fs from "node:fs";
import { describe, test } from "node:test";

export function pulumiUnavailable(): string | undefined {
    const file = process.env.PULUMI_UNAVAILABLE_FILE;
    if (!file) return "PULUMI_UNAVAILABLE_FILE is not set: run the tests through `npm test` (scripts/test.sh)";
    if (!fs.existsSync(file)) return undefined;
    const reason = fs.readFileSync(file, "utf8").trim();
    const summary = reason.split("\n").filter((l) => /UNAVAILABLE/.test(l)).map((l) => l.replace(/^\[setup-pulumi\]\s*/, ""));
    return `the real Pulumi toolchain could not be installed on this machine (${summary.join("; ") || reason}); see ${file}`;
}

/**
 * Why an optional language host (`yaml`, `go`: the multi-language consumers) cannot be used here, or
 * undefined: the toolchain's reason, setup's line for it (PULUMI_LANGUAGES_UNAVAILABLE_FILE), or its
 * binary missing next to the CLI.
 */
export function languageHostUnavailable(lang: string): string | undefined {
    const core = pulumiUnavailable();
    if (core) return core;
    const file = process.env.PULUMI_LANGUAGES_UNAVAILABLE_FILE;
    const line = file && fs.existsSync(file) ? fs.readFileSync(file, "utf8").split("\n").find((l) => l.startsWith(`pulumi-language-${lang} `)) : undefined;
    if (line) return `${line} (scripts/setup-pulumi.sh; see ${file})`;
    const bin = process.env.ETCD_PULUMI_PULUMI_BIN;
    if (!bin || !fs.existsSync(`${bin}/pulumi-language-${lang}`)) return `pulumi-language-${lang} is not in ${bin ?? "ETCD_PULUMI_PULUMI_BIN (unset)"}: run npm run setup`;
    return undefined;
}

/**
 * Whether versitygw, the S3-compatible server of the backup tests, is installed. When setup could not build
 * it (the reason is in VERSITYGW_UNAVAILABLE_FILE), or it is missing, the suites that need it are SKIPPED
 * with that reason.
 */
export function s3ServerUnavailable(): string | undefined {
    const file = process.env.VERSITYGW_UNAVAILABLE_FILE;
    if (!file) return "VERSITYGW_UNAVAILABLE_FILE is not set: run the tests through `npm test` (scripts/test.sh)";
    if (fs.existsSync(file)) {
        const reason = fs.readFileSync(file, "utf8").trim();
        const summary = reason.split("\n").filter((l) => /UNAVAILABLE/.test(l)).map((l) => l.replace(/^\[setup-s3\]\s*(UNAVAILABLE:\s*)?/, ""));
        return `versitygw (the S3 server these tests run) could not be built on this machine (${summary.join("; ") || reason}); see ${file}`;
    }
    const bin = process.env.VERSITYGW_BIN;
    if (!bin || !fs.existsSync(bin)) return `versitygw is not installed at ${bin}: run \`npm run setup\` (scripts/setup-s3.sh)`;
    return undefined;
}

/**
 * Declare a suite that needs what `reason` says is missing (undefined: nothing is). Then it becomes one test
 * reported as SKIPPED with the reason, so the test summary counts it.
 */
export function suiteNeeding(reason: string | undefined, name: string, options: { timeout: number }, body: () => void): void {
    if (reason) test(name, { skip: reason }, () => undefined);
    else describe(name, options, body);
}

/** A suite that needs the Pulumi engine. */
export function pulumiSuite(name: string, options: { timeout: number }, body: () => void): void {
    suiteNeeding(pulumiUnavailable(), name, options, body);
}

/** A suite that needs an S3 server (test/support/s3Server.ts). */
export function s3Suite(name: string, options: { timeout: number }, body: () => void): void {
    suiteNeeding(s3ServerUnavailable(), name, options, body);
}

/** The environment every Automation API stack in the tests runs with: local state, no downloads, pinned plugins only. */
export function automationEnv(stateDir: string, passphrase: string): Record<string, string> {
    return engineEnv(`file://${stateDir}`, passphrase);
}

/** The same environment with the state in any backend (`file://`, `postgres://`, ...). */
export function engineEnv(backendUrl: string, passphrase: string): Record<string, string> {
    return {
        PULUMI_BACKEND_URL: backendUrl,
        PULUMI_CONFIG_PASSPHRASE: passphrase,
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        PULUMI_IGNORE_AMBIENT_PLUGINS: "true",
        PULUMI_NODEJS_TRANSPILE_ONLY: "true",
    };
}

/**
 * Whether the real Pulumi toolchain is installed. When setup could not install it (it records the reason
 * in PULUMI_UNAVAILABLE_FILE), the suites that need the engine are reported as SKIPPED with that reason:
 * visible in every test report, never silent.
 */
import * as fs from "node:fs";

export function pulumiUnavailable(): string | undefined {
    const file = process.env.PULUMI_UNAVAILABLE_FILE;
    if (!file) return "PULUMI_UNAVAILABLE_FILE is not set: run the tests through `npm test` (scripts/test.sh)";
    if (!fs.existsSync(file)) return undefined;
    const reason = fs.readFileSync(file, "utf8").trim();
    return `the Pulumi toolchain is not installed on this machine: ${reason.split("\n").filter((l) => /403|UNAVAILABLE|cannot|ERROR/.test(l)).join(" | ") || reason}`;
}

/**
 * `npm run status -- STACK [--backup-max-age SECONDS]` (scripts/status.sh runs it with the project's
 * toolchain and state backend): one table of the deployed members and a verdict. Exit 0 when all is well,
 * 1 when something needs attention (each finding printed), 2 when the stack cannot be read.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { EtcdConfigError } from "../../components/validate";
import { findEtcdctl, observe } from "./probe";
import { renderStatus } from "./table";
import { StackView, statusTarget, StatusInputError } from "./target";
import { attention, defaultBackupMaxAgeSeconds } from "./verdict";

function usage(message: string): never {
    console.error(`${message}\nusage: npm run status -- STACK [--backup-max-age SECONDS]`);
    process.exit(2);
}

function pulumiJson(args: string[]): unknown {
    // Secrets stay in this process: the admin key goes to a private temp file for etcdctl, the SSH key to ssh's.
    return JSON.parse(execFileSync("pulumi", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 * 1024 * 1024 }));
}

async function main(): Promise<number> {
    const argv = process.argv.slice(2);
    const stack = argv.find((a, i) => !a.startsWith("-") && argv[i - 1] !== "--backup-max-age");
    if (!stack) usage("no stack given");
    const ageArg = argv.indexOf("--backup-max-age");
    const backupMaxAge = ageArg >= 0 ? Number(argv[ageArg + 1]) : undefined;
    if (backupMaxAge !== undefined && !(backupMaxAge > 0)) usage("--backup-max-age takes a number of seconds");
    let view: StackView;
    try {
        view = {
            outputs: pulumiJson(["stack", "output", "--stack", stack, "--json", "--show-secrets"]) as StackView["outputs"],
            config: pulumiJson(["config", "--stack", stack, "--json", "--show-secrets"]) as StackView["config"],
        };
    } catch (e) {
        const err = e as { stderr?: string; message: string };
        console.error(`[status] cannot read stack ${stack}: ${(err.stderr ?? err.message).trim()}`);
        return 2;
    }
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "etcd-pulumi-status-"));
    try {
        const target = statusTarget(stack, view, (p) => fs.readFileSync(p, "utf8"));
        const etcdctl = findEtcdctl(target, work);
        const observed = await observe(target, etcdctl.bin, work);
        const now = new Date();
        const findings = attention(observed, { now, certRenewBeforeHours: target.certRenewBeforeHours, backupMaxAgeSeconds: backupMaxAge ?? defaultBackupMaxAgeSeconds(target.backup.rpoSeconds) });
        process.stdout.write(renderStatus(stack, observed, findings, now));
        return findings.length === 0 ? 0 : 1;
    } catch (e) {
        if (e instanceof StatusInputError || e instanceof EtcdConfigError) {
            console.error(`[status] ${e.message}`);
            return 2;
        }
        throw e;
    } finally {
        fs.rmSync(work, { recursive: true, force: true });
    }
}

main().then(
    (code) => (process.exitCode = code),
    (e: Error) => {
        console.error(`[status] ${e.message}`);
        process.exitCode = 2;
    },
);

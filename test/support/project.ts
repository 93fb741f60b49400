/**
 * A throwaway copy of the project for one test stack: the real CLI and engine on a file:// backend in
 * the copy (or a backend the test gives, e.g. PostgreSQL), with the stack's config written as a
 * Pulumi.<stack>.yaml. The repo's own stack files stay untouched.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse, stringify } from "yaml";
import { LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import { ROOT } from "./hosts";
import { engineEnv } from "./toolchain";

/** The stack program as Pulumi runs it: compiled (Pulumi.yaml main: dist/index.js; `npm test` builds it first). */
const PROJECT_FILES = ["Pulumi.yaml", "package.json", "dist/index.js", "dist/programSpeed.js", "dist/components"];

export interface TestProject {
    dir: string;
    stack: Stack;
    /** The environment the stack's CLI runs with (backend, passphrase, toolchain switches), to run `pulumi` directly. */
    env: Record<string, string>;
    /** Every line the CLI printed, for assertions on messages. */
    output: string[];
}

/** Where a test project keeps its state when not in its own file:// directory. */
export interface StateBackend {
    url: string;
    /** What the backend needs besides its URL (e.g. PGPASSWORD), kept out of the URL. */
    env: Record<string, string>;
}

export async function testProject(stackName: string, config: Record<string, unknown>, backend?: StateBackend): Promise<TestProject> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `etcd-pulumi-${stackName}-`));
    for (const f of PROJECT_FILES) fs.cpSync(path.join(ROOT, f), path.join(dir, f), { recursive: true, filter: (src) => !src.endsWith(".map") && !src.endsWith(".d.ts") });
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"));
    let backendUrl = backend?.url;
    if (backendUrl === undefined) {
        const state = path.join(dir, ".state");
        fs.mkdirSync(state);
        backendUrl = `file://${state}`;
    }
    const cfg: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(config)) cfg[`etcd-pulumi:${k}`] = v;
    fs.writeFileSync(path.join(dir, `Pulumi.${stackName}.yaml`), stringify({ config: cfg }));
    const env = { ...engineEnv(backendUrl, "e2e-test-passphrase"), ...backend?.env };
    const stack = await LocalWorkspace.createOrSelectStack({ stackName, workDir: dir }, { envVars: env });
    return { dir, stack, env, output: [] };
}

/** onOutput handler that records and echoes (prefixed) what the CLI prints. */
export function recorder(p: TestProject, label: string): (out: string) => void {
    return (out: string) => {
        p.output.push(out);
        if (process.env.E2E_VERBOSE) process.stderr.write(`[${label}] ${out}`);
    };
}

/** Set a config value (JSON-able) on the stack. */
export async function setConfig(p: TestProject, key: string, value: unknown, secret = false): Promise<void> {
    await p.stack.setConfig(`etcd-pulumi:${key}`, { value: typeof value === "string" ? value : JSON.stringify(value), secret });
}

/**
 * Copy more of the repository into the project (e.g. `scripts` and `tools`, to run the project's own commands
 * there). A directory's node_modules is linked, not copied.
 */
export function copyIntoProject(p: TestProject, paths: string[]): void {
    for (const f of paths) {
        fs.cpSync(path.join(ROOT, f), path.join(p.dir, f), { recursive: true, filter: (src) => path.basename(src) !== "node_modules" });
        const modules = path.join(ROOT, f, "node_modules");
        if (fs.existsSync(modules)) fs.symlinkSync(modules, path.join(p.dir, f, "node_modules"));
    }
}

/** A repository stack's config (`Pulumi.<stack>.yaml`), keys without the project namespace. */
export function repoStackConfig(stackName: string): Record<string, unknown> {
    const file = parse(fs.readFileSync(path.join(ROOT, `Pulumi.${stackName}.yaml`), "utf8")) as { config: Record<string, unknown> };
    return Object.fromEntries(Object.entries(file.config).map(([k, v]) => [k.replace(/^etcd-pulumi:/, ""), v]));
}

/** Give the stack a freshly generated SSH key as the secret `sshPrivateKey` (for stacks whose hosts are never reached). */
export async function setNewSshKey(p: TestProject): Promise<void> {
    const keyDir = fs.mkdtempSync(path.join(os.tmpdir(), "sshkey-"));
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(keyDir, "k")]);
    await setConfig(p, "sshPrivateKey", fs.readFileSync(path.join(keyDir, "k"), "utf8"), true);
    fs.rmSync(keyDir, { recursive: true, force: true });
}

export function cleanup(p: TestProject): void {
    fs.rmSync(p.dir, { recursive: true, force: true });
}

/** The stack state files the file:// backend keeps on disk (what is really stored, secrets encrypted). */
export function stateFiles(p: TestProject): string[] {
    const root = path.join(p.dir, ".state", ".pulumi", "stacks");
    if (!fs.existsSync(root)) return [];
    return (fs.readdirSync(root, { recursive: true }) as string[]).map((f) => path.join(root, f)).filter((f) => f.endsWith(".json") && fs.statSync(f).isFile());
}

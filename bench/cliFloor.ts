/**
 * The part of a preview and a no-op `pulumi up` that belongs to the Pulumi CLI and engine, not to a
 * component: the same CLI, backend and environment running a JavaScript program that registers
 * `resources` plain `random.RandomId`s (a provider whose check and diff are instant) and nothing else.
 * With 0 resources it is the fixed cost (CLI, language host, Node.js and the SDK loading); with the
 * component's own resource count it adds the engine's per-resource cost (steps, diffs, state writes).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import { ROOT } from "../test/support/hosts";
import { engineEnv } from "../test/support/toolchain";

export interface FloorProject {
    dir: string;
    stackName: string;
    env: Record<string, string>;
}

const PROGRAM = [
    `// The stack program switches the SDK's debug logs off the same way (programSpeed): the floor is the CLI's.`,
    `require(${JSON.stringify(path.join(ROOT, "dist", "programSpeed.js"))});`,
    `const random = require("@pulumi/random");`,
    `const n = Number(process.env.FLOOR_RESOURCES || 0);`,
    `for (let i = 0; i < n; i++) new random.RandomId("r" + i, { byteLength: 4 });`,
    ``,
].join("\n");

/** A project on its own file:// backend, deployed once (so that what is timed next is a no-op). */
export async function floorProject(resources: number): Promise<FloorProject> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `etcd-pulumi-cli-floor-${resources}-`));
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), `name: cli-floor\nruntime:\n  name: nodejs\n  options:\n    typescript: false\nmain: index.js\n`);
    fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "cli-floor", private: true }));
    fs.writeFileSync(path.join(dir, "index.js"), PROGRAM);
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"));
    fs.mkdirSync(path.join(dir, ".state"));
    const env = { ...engineEnv(`file://${path.join(dir, ".state")}`, "bench-floor"), FLOOR_RESOURCES: String(resources) };
    const stackName = "floor";
    const stack = await LocalWorkspace.createOrSelectStack({ stackName, workDir: dir }, { envVars: env });
    await stack.up();
    return { dir, stackName, env };
}

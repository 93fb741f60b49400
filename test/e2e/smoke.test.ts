/**
 * Toolchain smoke test: the real CLI runs a tiny program using all three plugins against the test hosts
 * (up, a preview that must show no changes, destroy). Plugin downloads are disabled, so a missing or
 * mismatched plugin fails instead of being fetched.
 */
import { after, before, test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { stringify } from "yaml";
import { LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import { hosts, hostsUp, Inventory, ROOT } from "../support/hosts";
import { automationEnv, pulumiSuite } from "../support/toolchain";

pulumiSuite("toolchain smoke program (real Pulumi CLI and plugins)", { timeout: 10 * 60 * 1000 }, () => {
    let inv: Inventory;
    let stack: Stack;
    let dir: string;

    before(async () => {
        inv = hostsUp(3);
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "etcd-pulumi-smoke-"));
        for (const f of ["Pulumi.yaml", "index.ts"]) fs.copyFileSync(path.join(ROOT, "test", "smoke", f), path.join(dir, f));
        fs.copyFileSync(path.join(ROOT, "tsconfig.json"), path.join(dir, "tsconfig.json"));
        fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "smoke", main: "index.ts" }));
        fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"));
        fs.mkdirSync(path.join(dir, ".state"));
        const cfg = {
            "etcd-pulumi-smoke:hosts": inv.hosts.map((h) => ({ name: h.name, address: h.address, hostKey: h.hostKey })),
            "etcd-pulumi-smoke:sshKeyPath": inv.sshKeyPath,
        };
        fs.writeFileSync(path.join(dir, "Pulumi.smoke.yaml"), stringify({ config: cfg }));
        stack = await LocalWorkspace.createOrSelectStack(
            { stackName: "smoke", workDir: dir },
            { envVars: automationEnv(`${dir}/.state`, "smoke") },
        );
    });

    after(() => {
        hosts("down");
        if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    test("up, a no-change preview, destroy", async () => {
        const up = await stack.up();
        assert.deepEqual((up.outputs.hostnames.value as string[]).map((h) => h.trim()), inv.hosts.map((h) => h.name));
        assert.equal(up.outputs.keyAlgorithm.value, "ECDSA");
        assert.match(up.outputs.randomHex.value as string, /^[0-9a-f]{8}$/);
        await stack.preview({ expectNoChanges: true });
        await stack.destroy();
    });
});

/**
 * scripts/setup-pulumi.sh's honest paths, against throwaway caches: nothing installed and offline ->
 * it lists exactly what is missing and installs nothing; binaries of the pinned versions next to the CLI
 * -> it adopts them (plugins installed with `pulumi plugin install --file`) and verifies.
 */
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ROOT } from "../support/hosts";
import { pulumiUnavailable } from "../support/toolchain";

const setup = (cache: string) =>
    spawnSync("bash", [path.join(ROOT, "scripts", "setup-pulumi.sh")], {
        encoding: "utf8",
        env: { ...process.env, ETCD_PULUMI_CACHE: cache, ETCD_PULUMI_OFFLINE: "1", PATH: "/usr/local/bin:/usr/bin:/bin" },
        timeout: 120_000,
    });

test("setup-pulumi without a toolchain and offline: lists each missing part, installs nothing, exits 1", () => {
    const cache = fs.mkdtempSync(path.join(os.tmpdir(), "setup-pulumi-empty-"));
    try {
        const r = setup(cache);
        assert.equal(r.status, 1, r.stderr);
        for (const part of ["pulumi CLI v3.259.0 with pulumi-language-nodejs v3.259.0", "resource plugin command 1.2.1", "resource plugin tls 5.5.1", "resource plugin random 4.21.1"]) {
            assert.match(r.stderr, new RegExp(`UNAVAILABLE: ${part.replace(/\./g, "\\.")}`));
        }
        assert.match(r.stderr, /Nothing was installed/);
        assert.ok(!fs.existsSync(path.join(cache, "pulumi", "bin", "pulumi")));
    } finally {
        fs.rmSync(cache, { recursive: true, force: true });
    }
});

const installed = path.join(process.env.ETCD_PULUMI_CACHE ?? path.join(os.homedir(), ".cache", "etcd-pulumi"), "pulumi");
test(
    "setup-pulumi adopts pinned binaries placed next to the CLI, installs the plugins from them and verifies",
    { skip: pulumiUnavailable() ? `needs the installed toolchain to copy from: ${pulumiUnavailable()}` : undefined },
    () => {
        const cache = fs.mkdtempSync(path.join(os.tmpdir(), "setup-pulumi-adopt-"));
        try {
            const bin = path.join(cache, "pulumi", "bin");
            fs.mkdirSync(bin, { recursive: true });
            for (const f of ["pulumi", "pulumi-language-nodejs"]) fs.copyFileSync(fs.realpathSync(path.join(installed, "bin", f)), path.join(bin, f));
            for (const name of ["command", "tls", "random"]) {
                const dir = fs.readdirSync(path.join(installed, "..", "pulumi-home", "plugins")).find((d) => d.startsWith(`resource-${name}-v`) && !d.endsWith(".partial") && !d.endsWith(".lock"))!;
                fs.copyFileSync(path.join(installed, "..", "pulumi-home", "plugins", dir, `pulumi-resource-${name}`), path.join(bin, `pulumi-resource-${name}`));
            }
            for (const f of fs.readdirSync(bin)) fs.chmodSync(path.join(bin, f), 0o755);
            const r = setup(cache);
            assert.equal(r.status, 0, r.stderr);
            for (const name of ["command", "tls", "random"]) assert.match(r.stderr, new RegExp(`installed plugin ${name} `));
            assert.match(r.stderr, /verified: pulumi v3\.259\.0/);
            assert.equal(setup(cache).status, 0, "a second run is a no-op");
        } finally {
            fs.rmSync(cache, { recursive: true, force: true });
        }
    },
);

/**
 * scripts/setup-pulumi.sh's honest paths, against throwaway caches: nothing installed and offline ->
 * it lists exactly what is missing and installs nothing; binaries of the pinned versions next to the CLI
 * -> it adopts them (plugins installed with `pulumi plugin install --file`) and verifies. The optional
 * language hosts (yaml, go): adopted next to the CLI or from PATH, refused at another version, and
 * listed as missing (in PULUMI_LANGUAGES_UNAVAILABLE_FILE) without failing setup.
 */
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ROOT } from "../support/hosts";
import { languageHostUnavailable, pulumiUnavailable } from "../support/toolchain";

const setup = (cache: string, extraPath: string[] = []) =>
    spawnSync("bash", [path.join(ROOT, "scripts", "setup-pulumi.sh")], {
        encoding: "utf8",
        env: { ...process.env, ETCD_PULUMI_CACHE: cache, ETCD_PULUMI_OFFLINE: "1", PATH: [...extraPath, "/usr/local/bin", "/usr/bin", "/bin"].join(":") },
        timeout: 120_000,
    });
const languagesFile = (cache: string) => path.join(cache, "pulumi", "LANGUAGES-UNAVAILABLE");

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
        for (const host of ["pulumi-language-yaml v1.38.1", "pulumi-language-go v3.259.0"]) {
            assert.match(r.stderr, new RegExp(`UNAVAILABLE: ${host.replace(/\./g, "\\.")} \\(optional`));
            assert.match(fs.readFileSync(languagesFile(cache), "utf8"), new RegExp(`^${host.replace(/\./g, "\\.")} is not installed`, "m"));
        }
    } finally {
        fs.rmSync(cache, { recursive: true, force: true });
    }
});

const installed = path.join(process.env.ETCD_PULUMI_CACHE ?? path.join(os.homedir(), ".cache", "etcd-pulumi"), "pulumi");
function adoptSkip(): string | undefined {
    if (pulumiUnavailable()) return `needs the installed toolchain to copy from: ${pulumiUnavailable()}`;
    const missing = ["yaml", "go"].map((l) => languageHostUnavailable(l)).filter(Boolean);
    return missing.length > 0 ? `needs the installed language hosts to copy from: ${missing.join("; ")}` : undefined;
}
test(
    "setup-pulumi adopts pinned binaries placed next to the CLI, installs the plugins from them and verifies; language hosts adopted, refused or listed as missing",
    { skip: adoptSkip() },
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
            // A language host of another version next to the CLI; none for yaml anywhere.
            fs.writeFileSync(path.join(bin, "pulumi-language-go"), "#!/bin/sh\necho v3.1.0\n");
            for (const f of fs.readdirSync(bin)) fs.chmodSync(path.join(bin, f), 0o755);
            const r = setup(cache);
            assert.equal(r.status, 0, r.stderr);
            for (const name of ["command", "tls", "random"]) assert.match(r.stderr, new RegExp(`installed plugin ${name} `));
            assert.match(r.stderr, /verified: pulumi v3\.259\.0/);
            assert.match(r.stderr, /ignoring \S+\/pulumi-language-go: it is version v3\.1\.0, v3\.259\.0 is pinned/);
            assert.match(r.stderr, /UNAVAILABLE: pulumi-language-yaml v1\.38\.1/);
            assert.match(r.stderr, /UNAVAILABLE: pulumi-language-go v3\.259\.0/);
            assert.equal(fs.readFileSync(languagesFile(cache), "utf8").trim().split("\n").length, 2);

            // The pinned go host next to the CLI, the pinned yaml host elsewhere on PATH: both adopted.
            const elsewhere = path.join(cache, "elsewhere");
            fs.mkdirSync(elsewhere);
            fs.copyFileSync(fs.realpathSync(path.join(installed, "bin", "pulumi-language-go")), path.join(bin, "pulumi-language-go"));
            fs.copyFileSync(fs.realpathSync(path.join(installed, "bin", "pulumi-language-yaml")), path.join(elsewhere, "pulumi-language-yaml"));
            fs.chmodSync(path.join(elsewhere, "pulumi-language-yaml"), 0o755);
            const again = setup(cache, [elsewhere]);
            assert.equal(again.status, 0, again.stderr);
            assert.match(again.stderr, /pulumi-language-go v3\.259\.0 present/);
            assert.match(again.stderr, /using pulumi-language-yaml v1\.38\.1 found at \S+\/elsewhere\/pulumi-language-yaml/);
            assert.equal(fs.realpathSync(path.join(bin, "pulumi-language-yaml")), path.join(elsewhere, "pulumi-language-yaml"));
            assert.ok(!fs.existsSync(languagesFile(cache)), "nothing is missing any more");
            const third = setup(cache, [elsewhere]);
            assert.equal(third.status, 0, "a further run is a no-op");
            assert.doesNotMatch(third.stderr, /installed|using/);
        } finally {
            fs.rmSync(cache, { recursive: true, force: true });
        }
    },
);

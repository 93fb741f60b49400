/**
 * `npm run preview -- <stack>` (scripts/preview.sh) on a copy of the project: the real CLI previews the prod
 * stack's config as a fresh stack with the policy pack, no host reachable (the release comes from a loopback
 * mirror), and the script prints the per-member summary and the policy results; a mandatory violation or a
 * failed preview exits non-zero.
 * Preview only: no host is touched.
 */
import { after, before, test } from "node:test";
import * as assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as path from "node:path";
import { releaseArchive } from "../support/etcdctl";
import { cleanup, copyIntoProject, repoStackConfig, setConfig, setNewSshKey, TestProject, testProject } from "../support/project";
import { ReleaseMirror, releasePaths, startReleaseMirror } from "../support/releaseMirror";
import { pulumiSuite } from "../support/toolchain";

const VERSION = "3.6.16";
const MEMBERS = ["etcd-a", "etcd-b", "etcd-c", "etcd-d", "etcd-e"];
let mirror: ReleaseMirror;
let p: TestProject;

/** `npm run preview -- ARGS` in the copy, with its stack's backend and passphrase. Asynchronous: the mirror serves from this process. */
function preview(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string; seconds: number }> {
    const t0 = Date.now();
    const child = spawn("bash", [path.join(p.dir, "scripts", "preview.sh"), ...args], {
        cwd: p.dir,
        env: { ...process.env, ...p.env },
        stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    return new Promise((resolve, reject) => {
        child.on("error", reject);
        child.on("close", (status) => resolve({ status, stdout, stderr, seconds: (Date.now() - t0) / 1000 }));
    });
}

pulumiSuite("npm run preview: the reviewer's summary of a preview (real Pulumi CLI, no host reached)", { timeout: 10 * 60 * 1000 }, () => {
    before(async () => {
        const { archive, sums } = releaseArchive(VERSION);
        mirror = await startReleaseMirror(releasePaths(VERSION, archive, sums));
        p = await testProject("prod", { ...repoStackConfig("prod"), binary: mirror.binary });
        copyIntoProject(p, ["scripts", "dist/tools", "policy"]);
        await setNewSshKey(p);
    });

    after(() => {
        mirror?.close();
        if (p) cleanup(p);
    });

    test("a fresh stack: one block per member of the config, each founding the new cluster; exit 0", async () => {
        const r = await preview("prod");
        console.log(`npm run preview (5 members, fresh): ${r.seconds.toFixed(1)} s`);
        assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
        assert.match(r.stderr, /Previewing update \(prod\)/, "pulumi's own output goes to stderr");
        const out = r.stdout;
        assert.match(out, /^Preview of stack prod: \d+ to create\n/);
        assert.ok(out.includes(`Cluster:\n  new cluster: ${MEMBERS.join(", ")} bootstrap together (etcd ${VERSION})\n`), out);
        for (const [i, m] of MEMBERS.entries()) {
            const others = MEMBERS.filter((o) => o !== m).join(", ");
            const block = `\n  ${m} (192.0.2.${11 + i}):\n    new cluster: a founding member, bootstraps together with ${others} (etcd ${VERSION})\n`;
            assert.ok(out.includes(block), `expected ${JSON.stringify(block)} in:\n${out}`);
        }
        assert.equal(out.match(/^ {2}etcd-\S+ \(.*\):$/gm)?.length, MEMBERS.length, "one block per member");
        assert.ok(out.endsWith("Policy:\n  policy pack: no violations (etcd-pulumi 0.1.0)\n  passed: etcd-auth-in-prod, etcd-host-keys-pinned, etcd-members-odd, etcd-no-purge-in-prod, etcd-supported-version\nResult: ok\n"), out);
        assert.doesNotMatch(r.stdout + r.stderr, /BEGIN OPENSSH PRIVATE KEY/);
    });

    test("a mandatory policy violation: the plan is still shown, the violation is listed, exit 1", async () => {
        await setConfig(p, "purgeDataOnDestroy", "true");
        const r = await preview("prod");
        await p.stack.removeConfig("etcd-pulumi:purgeDataOnDestroy");
        assert.equal(r.status, 1, `${r.stdout}\n${r.stderr}`);
        assert.match(r.stdout, /^Preview of stack prod: \d+ to create\n/);
        assert.ok(r.stdout.includes("\n  etcd-c (192.0.2.13):\n    new cluster: a founding member"), r.stdout);
        assert.match(r.stdout, /\n {2}policy pack etcd-pulumi 0\.1\.0: 1 violation\(s\)\n {2}\[mandatory\] etcd-no-purge-in-prod \(prod\): purgeDataOnDestroy.*\n/);
        assert.match(r.stdout, /\nResult: BLOCKED \(a mandatory policy is violated\)/);
    });

    test("a preview that fails exits 1, and the summary says FAILED with the error", async () => {
        await setConfig(p, "electionTimeout", "900");
        const r = await preview("prod");
        assert.equal(r.status, 1, `${r.stdout}\n${r.stderr}`);
        assert.match(r.stdout, /^Preview of stack prod: FAILED\n/);
        assert.match(r.stdout, /\n {2}error: invalid etcd cluster configuration:\n {4}- electionTimeout: 900 ms is less than 5x heartbeatInterval \(250 ms\)/);
        assert.match(r.stdout, /Result: BLOCKED \(the preview failed\)/);
    });

    test("without a stack name it prints the usage and the stacks, exit 2", async () => {
        const r = await preview();
        assert.equal(r.status, 2);
        assert.match(r.stderr, /usage: npm run preview -- STACK .*\(stacks: prod\)/);
    });
});

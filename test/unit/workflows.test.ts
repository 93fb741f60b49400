/**
 * The GitHub Actions workflows (.github/workflows): actionlint finds nothing in them (and does find a
 * mistake seeded into a copy, so that check can fail), and they have the shape the README promises: a
 * pull request previews every stack with the policy pack, a diff and a comment; main deploys dev, then
 * prod behind the `prod` environment's approval, one deploy per stack at a time, with minimal permissions.
 */
import { describe, test } from "node:test";
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import { ROOT } from "../support/hosts";

interface Finding {
    message: string;
    filepath: string;
    line: number;
    kind: string;
}

interface Step {
    uses?: string;
    run?: string;
    with?: Record<string, unknown>;
}

interface Job {
    name?: string;
    needs?: string | string[];
    environment?: string | { name: string };
    permissions?: Record<string, string>;
    concurrency?: { group: string; "cancel-in-progress"?: boolean };
    strategy?: { matrix?: Record<string, unknown> };
    env?: Record<string, string>;
    steps: Step[];
}

interface Workflow {
    on: Record<string, unknown>;
    permissions?: Record<string, string>;
    jobs: Record<string, Job>;
}

const WORKFLOWS = path.join(ROOT, ".github", "workflows");

/** Run actionlint on `files` (relative to `dir`). shellcheck and pyflakes integration off: same findings on every machine. */
function actionlint(dir: string, files: string[]): { status: number | null; findings: Finding[]; stderr: string } {
    const bin = process.env.ACTIONLINT_BIN;
    assert.ok(bin && fs.existsSync(bin), `actionlint is not installed at ${bin}: run \`npm run setup\` (scripts/setup-actionlint.sh)`);
    const r = spawnSync(bin, ["-shellcheck=", "-pyflakes=", "-format", "{{json .}}", ...files], { cwd: dir, encoding: "utf8" });
    const out = r.stdout.trim();
    return { status: r.status, findings: out ? (JSON.parse(out) as Finding[]) : [], stderr: r.stderr };
}

const workflowFiles = () => fs.readdirSync(WORKFLOWS).filter((f) => f.endsWith(".yml")).map((f) => path.join(".github", "workflows", f));
const load = (name: string) => parse(fs.readFileSync(path.join(WORKFLOWS, name), "utf8")) as Workflow;
const pulumiStep = (job: Job) => {
    const steps = job.steps.filter((s) => s.uses?.startsWith("pulumi/actions@"));
    assert.equal(steps.length, 1, `one pulumi/actions step in ${job.name}`);
    return steps[0];
};
const environmentOf = (job: Job) => (typeof job.environment === "string" ? job.environment : job.environment?.name);
/** The stacks of this repository: one Pulumi.<stack>.yaml each. */
const repoStacks = () => fs.readdirSync(ROOT).map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1]).filter((s): s is string => s !== undefined).sort();

describe("workflows: actionlint", () => {
    test("finds nothing in .github/workflows/*.yml", () => {
        const files = workflowFiles();
        assert.ok(files.length >= 2, `workflow files: ${files.join(", ")}`);
        const r = actionlint(ROOT, files);
        assert.deepEqual(r.findings.map((f) => `${f.filepath}:${f.line}: ${f.message} [${f.kind}]`), []);
        assert.equal(r.status, 0, r.stderr);
    });

    test("reports the mistakes seeded into a copy (an unknown matrix key, a needs on a missing job)", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "actionlint-broken-"));
        try {
            fs.cpSync(path.join(ROOT, ".github"), path.join(dir, ".github"), { recursive: true });
            const seed = (file: string, from: string, to: string) => {
                const p = path.join(dir, ".github", "workflows", file);
                const text = fs.readFileSync(p, "utf8");
                assert.ok(text.includes(from), `${file} contains ${from}`);
                fs.writeFileSync(p, text.replace(from, to));
            };
            seed("preview.yml", "stack-name: ${{ matrix.stack }}", "stack-name: ${{ matrix.stak }}");
            seed("deploy.yml", "needs: dev", "needs: deve");
            const r = actionlint(dir, workflowFiles());
            assert.equal(r.status, 1, r.stderr);
            assert.ok(r.findings.some((f) => f.filepath.endsWith("preview.yml") && f.kind === "expression" && /"stak" is not defined/.test(f.message)), JSON.stringify(r.findings));
            assert.ok(r.findings.some((f) => f.filepath.endsWith("deploy.yml") && f.kind === "job-needs" && /"deve"/.test(f.message)), JSON.stringify(r.findings));
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});

describe("workflows: what they do", () => {
    test("a pull request previews every stack of the repository with the policy pack, a diff and a comment", () => {
        const wf = load("preview.yml");
        assert.deepEqual(Object.keys(wf.on), ["pull_request"]);
        const jobs = Object.values(wf.jobs);
        assert.equal(jobs.length, 1);
        const job = jobs[0];
        assert.deepEqual([...(job.strategy?.matrix?.stack as string[])].sort(), repoStacks());
        assert.deepEqual(repoStacks(), ["dev", "prod"]);
        const step = pulumiStep(job);
        assert.equal(step.with?.command, "preview");
        assert.equal(step.with?.["stack-name"], "${{ matrix.stack }}");
        assert.equal(step.with?.["comment-on-pr"], true);
        assert.equal(step.with?.policyPacks, "policy");
        assert.equal(step.with?.diff, true);
        // Only the comment needs more than reading the repository.
        assert.deepEqual(wf.permissions, {});
        assert.deepEqual(job.permissions, { contents: "read", "pull-requests": "write" });
        assert.match(job.concurrency?.group ?? "", /\$\{\{ matrix\.stack \}\}.*pull_request\.number/);
    });

    test("main deploys dev, then prod behind the prod environment, one deploy per stack at a time", () => {
        const wf = load("deploy.yml");
        assert.deepEqual(wf.on, { push: { branches: ["main"] } });
        assert.deepEqual(wf.permissions, {});
        const byStack = new Map(Object.entries(wf.jobs).map(([id, job]) => [pulumiStep(job).with?.["stack-name"] as string, { id, job }]));
        assert.deepEqual([...byStack.keys()].sort(), repoStacks());
        for (const [stack, { job }] of byStack) {
            const step = pulumiStep(job);
            assert.equal(step.with?.command, "up");
            assert.equal(step.with?.policyPacks, "policy");
            assert.deepEqual(job.permissions, { contents: "read" }, `${stack}: read only`);
            assert.equal(job.concurrency?.group, `deploy-${stack}`, `${stack}: its own concurrency group`);
            assert.equal(job.concurrency?.["cancel-in-progress"], false, `${stack}: a running deploy is never cancelled`);
        }
        const prod = byStack.get("prod")!.job;
        assert.equal(environmentOf(prod), "prod");
        assert.deepEqual([prod.needs].flat(), [byStack.get("dev")!.id]);
    });

    test("every job gets its secrets from repository secrets, the pinned CLI, Node 22 and locked dependencies", () => {
        const pinned = process.env.PULUMI_VERSION;
        assert.ok(pinned, "PULUMI_VERSION (scripts/env.sh) is set");
        for (const name of ["preview.yml", "deploy.yml"]) {
            for (const job of Object.values(load(name).jobs)) {
                const step = pulumiStep(job);
                assert.equal(step.with?.["pulumi-version"], pinned, `${name} ${job.name}: the CLI the project pins`);
                assert.equal(step.with?.["cloud-url"], "${{ secrets.PULUMI_BACKEND_URL }}");
                assert.equal(job.env?.PULUMI_CONFIG_PASSPHRASE, "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}");
                assert.equal(job.env?.PULUMI_ACCESS_TOKEN, "${{ secrets.PULUMI_ACCESS_TOKEN }}");
                assert.equal(job.env?.PGPASSWORD, "${{ secrets.PGPASSWORD }}");
                assert.deepEqual(job.steps.map((s) => s.uses).slice(0, 2), ["actions/checkout@v6", "./.github/actions/setup"], `${name} ${job.name}`);
            }
        }
        const setup = parse(fs.readFileSync(path.join(ROOT, ".github", "actions", "setup", "action.yml"), "utf8")) as { runs: { steps: Step[] } };
        const node = setup.runs.steps.find((s) => s.uses?.startsWith("actions/setup-node@"));
        assert.equal(node?.with?.["node-version"], 22);
        assert.deepEqual(setup.runs.steps.filter((s) => s.run).map((s) => s.run), ["npm ci --no-audit --no-fund", "npm ci --no-audit --no-fund --prefix policy"]);
    });

    test("every action is pinned to a released version tag", () => {
        const texts = [...workflowFiles().map((f) => path.join(ROOT, f)), path.join(ROOT, ".github", "actions", "setup", "action.yml")].map((f) => fs.readFileSync(f, "utf8"));
        const uses = texts.flatMap((t) => [...t.matchAll(/uses:\s*(\S+)/g)].map((m) => m[1]));
        assert.ok(uses.length >= 7, uses.join(", "));
        for (const u of uses) assert.ok(u.startsWith("./") || /@v\d+(\.\d+){0,2}$/.test(u), `${u}: pin to a release tag`);
    });
});

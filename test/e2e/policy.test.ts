/**
 * The policy pack (policy/) through the real CLI: `pulumi preview --policy-pack policy`, preview only,
 * no host reachable. The repo's dev stack passes (its unpinned host keys only advised); the repo's prod
 * stack passes clean (authentication on, as the pack requires there); a prod stack that breaks every rule is
 * refused, each rule naming what and the fix.
 */
import { after, before, test } from "node:test";
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ROOT } from "../support/hosts";
import { releaseArchive } from "../support/etcdctl";
import { cleanup, recorder, repoStackConfig, setConfig, TestProject, testProject } from "../support/project";
import { ReleaseMirror, releasePaths, startReleaseMirror } from "../support/releaseMirror";
import { pulumiSuite } from "../support/toolchain";

const POLICY_PACK = path.join(ROOT, "policy");
const VERSION = "3.6.16";
// No 3.5.20 archive exists here; preview only checks an archive against its checksum, so the mirror
// serves the 3.6.16 bytes under that name with a matching SHA256SUMS (the rule reads the version setting).
const UNSUPPORTED = "3.5.20";
let mirror: ReleaseMirror;
let tmp: string;
const projects: TestProject[] = [];

/** A test copy of the project with a throwaway SSH key as its secret (the key's path only exists once the test hosts were made). */
async function stackWith(name: string, config: Record<string, unknown>): Promise<TestProject> {
    delete config.sshPrivateKeyPath;
    const p = await testProject(name, config);
    projects.push(p);
    await setConfig(p, "sshPrivateKey", fs.readFileSync(path.join(tmp, "k"), "utf8"), true);
    return p;
}

async function previewWithPack(p: TestProject, label: string): Promise<string> {
    const t0 = Date.now();
    try {
        await p.stack.preview({ policyPacks: [POLICY_PACK], onOutput: recorder(p, label) });
    } finally {
        console.log(`${label} preview with the policy pack: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }
    return p.output.join("");
}

/** The violations the CLI printed: `[level]  rule  (type: name)`, then the description, then the message. */
function violations(out: string): { level: string; rule: string; message: string }[] {
    const found: { level: string; rule: string; message: string }[] = [];
    const re = /- \[(mandatory|advisory)\]\s+(\S+)\s+\(etcd-pulumi:index:EtcdCluster: [^)]*\)\n[^\n]*\n\s*([^\n]*)/g;
    for (const m of out.matchAll(re)) found.push({ level: m[1], rule: m[2], message: m[3].trim() });
    return found;
}

pulumiSuite("policy pack (pulumi preview --policy-pack policy, real CLI)", { timeout: 10 * 60 * 1000 }, () => {
    before(async () => {
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "etcd-policy-"));
        execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(tmp, "k")]);
        const { archive, sums } = releaseArchive(VERSION);
        const relabeledSums = path.join(tmp, "SHA256SUMS");
        const sha = crypto.createHash("sha256").update(fs.readFileSync(archive)).digest("hex");
        fs.writeFileSync(relabeledSums, `${sha}  etcd-v${UNSUPPORTED}-linux-amd64.tar.gz\n`);
        mirror = await startReleaseMirror({ ...releasePaths(VERSION, archive, sums), ...releasePaths(UNSUPPORTED, archive, relabeledSums) });
    });

    after(() => {
        mirror?.close();
        projects.forEach(cleanup);
        if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    });

    test("the repo's dev stack passes; its unpinned host keys are reported as advisory only", async () => {
        const config = repoStackConfig("dev");
        const members = config.members as { name: string; address: string }[];
        const p = await stackWith("dev", config);
        const out = await previewWithPack(p, "dev");
        assert.match(out, /⚠️ etcd-pulumi@v0\.1\.0 \(local: /, "the pack ran, with advice");
        assert.deepEqual(
            violations(out).map((v) => [v.level, v.rule, v.message.replace(/ Fix: .*/, "")]),
            members.map((m) => ["advisory", "etcd-host-keys-pinned", `member ${m.name} (${m.address}): hostKey is not pinned, so the deployer accepts any SSH host key there.`]),
        );
        assert.equal(members.length, 3);
        assert.ok(
            out.includes(`Fix: set members[].hostKey of ${members[0].name} to the "ssh-ed25519 AAAA..." part of \`ssh-keyscan -t ed25519 ${members[0].address}\``),
            "the advice names the fix with the member's address",
        );
        assert.doesNotMatch(out, /\[mandatory\]/);
    });

    test("the repo's prod stack passes with no violation", async () => {
        const p = await stackWith("prod", { ...repoStackConfig("prod"), binary: mirror.binary });
        const out = await previewWithPack(p, "prod");
        assert.match(out, /✅ etcd-pulumi@v0\.1\.0 \(local: /, "the pack ran and passed");
        assert.deepEqual(violations(out), []);
        assert.doesNotMatch(out, /\[(mandatory|advisory)\]/);
    });

    test("a prod stack breaking every rule is refused, each rule naming the member or setting and the fix", async () => {
        const prod = repoStackConfig("prod");
        const members = (prod.members as Record<string, unknown>[]).slice(0, 4);
        delete members[2].hostKey;
        const bastion = { ...(prod.sshBastion as Record<string, unknown>) };
        delete bastion.hostKey;
        const p = await stackWith("prod", {
            ...prod,
            members,
            allowEvenMembers: true,
            sshBastion: bastion,
            purgeDataOnDestroy: true,
            auth: false,
            version: UNSUPPORTED,
            binary: mirror.binary,
        });
        await assert.rejects(previewWithPack(p, "prod-broken"), /preview failed/);
        const out = p.output.join("");
        assert.match(out, /❌ etcd-pulumi@v0\.1\.0 \(local: /, "the pack failed the preview");
        assert.deepEqual([...new Set([...out.matchAll(/error: ([^\n]*)/g)].map((m) => m[1].trim()))], ["preview failed"], "the policy failure is the only error");
        const found = violations(out);
        const messages = (rule: string) => found.filter((v) => v.rule === rule).map((v) => { assert.equal(v.level, "mandatory", `${rule} on a prod stack`); return v.message; });
        const [odd] = messages("etcd-members-odd");
        assert.match(odd, /^members: 4 members \(etcd-a, etcd-b, etcd-c, etcd-d\) is an even count.*allowEvenMembers: true does not lift this policy\. Fix: list an odd number of members, at least 3/);
        const keys = messages("etcd-host-keys-pinned");
        assert.equal(keys.length, 2, keys.join("\n"));
        assert.match(keys[0], /^member etcd-c \(192\.0\.2\.13\): hostKey is not pinned.* Fix: set members\[\]\.hostKey of etcd-c/);
        assert.match(keys[1], /^sshBastion \(198\.51\.100\.10\): hostKey is not pinned.* Fix: set sshBastion\.hostKey/);
        assert.match(messages("etcd-no-purge-in-prod")[0], /^purgeDataOnDestroy: true on prod stack "prod".* Fix: remove purgeDataOnDestroy/);
        assert.match(messages("etcd-supported-version")[0], /^version: etcd 3\.5\.20 is not supported\. Fix: set version to a 3\.6\.x release/);
        assert.match(messages("etcd-auth-in-prod")[0], /^auth is off on prod stack "prod": every certificate from the cluster's CA .* Fix: set auth: true/);
        assert.equal(found.length, 6, JSON.stringify(found));
        assert.ok(mirror.served.includes(`/v${UNSUPPORTED}/SHA256SUMS`), "the program itself got as far as the release");
        assert.doesNotMatch(out, /BEGIN OPENSSH PRIVATE KEY/);
    });
});

/**
 * The prod stack as a pull-request check runs it: `pulumi preview` with none of its hosts reachable.
 * This machine has no internet, so the official download is replaced by a loopback mirror serving the
 * same archive (test/support/releaseMirror.ts).
 */
import { after, before, test } from "node:test";
import * as assert from "node:assert/strict";
import { cleanup, recorder, repoStackConfig, setConfig, setNewSshKey, TestProject, testProject } from "../support/project";
import { releaseArchive } from "../support/etcdctl";
import { ReleaseMirror, releasePaths, startReleaseMirror } from "../support/releaseMirror";
import { pulumiSuite } from "../support/toolchain";

const VERSION = "3.6.16";
let mirror: ReleaseMirror;
let p: TestProject;

pulumiSuite("prod stack preview (real Pulumi CLI)", { timeout: 10 * 60 * 1000 }, () => {
    before(async () => {
        const { archive, sums } = releaseArchive(VERSION);
        mirror = await startReleaseMirror({ ...releasePaths(VERSION, archive, sums), "/corrupt.tar.gz": "/etc/hostname" });
        p = await testProject("prod", { ...repoStackConfig("prod"), binary: mirror.binary });
        await setNewSshKey(p);
    });

    after(() => {
        mirror?.close();
        if (p) cleanup(p);
    });

    test("previews 5 members with no host reachable", async () => {
        const t0 = Date.now();
        const pv = await p.stack.preview({ onOutput: recorder(p, "prod-preview") });
        console.log(`prod preview: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
        const creates = pv.changeSummary.create ?? 0;
        assert.ok(creates > 5 * 6, `expected resources for 5 members, got ${JSON.stringify(pv.changeSummary)}`);
        const out = p.output.join("");
        for (const m of ["etcd-a", "etcd-b", "etcd-c", "etcd-d", "etcd-e"]) assert.match(out, new RegExp(`prod-${m}-service`));
        assert.ok(mirror.served.includes(`/v${VERSION}/SHA256SUMS`), "checksum file fetched from the mirror");
        assert.doesNotMatch(out, /BEGIN OPENSSH PRIVATE KEY/);
    });

    test("a checksum mismatch stops the preview with a clear error", async () => {
        await setConfig(p, "binary", { url: `${mirror.base}/corrupt.tar.gz`, sha256: "0".repeat(64) });
        await assert.rejects(p.stack.preview({ onOutput: recorder(p, "prod-bad") }), /checksum mismatch for http:\/\/127\.0\.0\.1:\d+\/corrupt\.tar\.gz/);
    });

    test("bad config fails the preview before anything is registered, naming the field", async () => {
        await setConfig(p, "binary", mirror.binary);
        await setConfig(p, "electionTimeout", "900");
        await assert.rejects(p.stack.preview({ onOutput: recorder(p, "prod-invalid") }), /electionTimeout: 900 ms is less than 5x heartbeatInterval \(250 ms\)/);
    });
});

/**
 * scripts/setup-s3.sh, against throwaway caches: the pinned versitygw already there -> nothing is done;
 * another version there, or nothing, and the Go module proxy unreachable -> it names what is missing
 * (an UNAVAILABLE line, the reason the S3 suites then skip with), exits 1 and installs nothing.
 */
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ROOT } from "../support/hosts";
import { s3ServerUnavailable } from "../support/toolchain";

/** Run setup-s3.sh with its cache in `cache` and the Go module proxy switched off (an offline machine). */
const setup = (cache: string) => {
    const goHome = path.join(cache, "go");
    return spawnSync("bash", [path.join(ROOT, "scripts", "setup-s3.sh")], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
        env: { PATH: "/usr/local/bin:/usr/bin:/bin", HOME: cache, ETCD_PULUMI_CACHE: cache, GOPROXY: "off", GOPATH: goHome, GOMODCACHE: path.join(goHome, "mod"), GOCACHE: path.join(goHome, "cache") },
        timeout: 120_000,
    });
};
const pinned = () => fs.readFileSync(path.join(ROOT, "scripts", "env.sh"), "utf8").match(/^export VERSITYGW_VERSION="([^"]+)"/m)![1];

test("setup-s3 with the pinned versitygw in the cache: does nothing, at once", { skip: s3ServerUnavailable() }, () => {
    const cache = fs.mkdtempSync(path.join(os.tmpdir(), "setup-s3-installed-"));
    try {
        const bin = path.join(cache, "versitygw", `v${pinned()}`, "versitygw");
        fs.mkdirSync(path.dirname(bin), { recursive: true });
        fs.copyFileSync(process.env.VERSITYGW_BIN!, bin);
        fs.chmodSync(bin, 0o755);
        const started = Date.now();
        const r = setup(cache);
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stderr, "");
        assert.ok(Date.now() - started < 10_000);
        assert.ok(!fs.existsSync(path.join(cache, "go")), "Go was not run");
    } finally {
        fs.rmSync(cache, { recursive: true, force: true });
    }
});

test("setup-s3 with nothing, or another version, and no module proxy: names what is missing, exits 1, installs nothing", () => {
    const cache = fs.mkdtempSync(path.join(os.tmpdir(), "setup-s3-offline-"));
    try {
        const r = setup(cache);
        assert.equal(r.status, 1, r.stderr);
        assert.match(r.stderr, new RegExp(`\\[setup-s3\\] UNAVAILABLE: versitygw v${pinned().replace(/\./g, "\\.")}: 'go install github\\.com/versity/versitygw/cmd/versitygw@v${pinned().replace(/\./g, "\\.")}' failed \\(is off reachable\\?\\)`));
        const bin = path.join(cache, "versitygw", `v${pinned()}`, "versitygw");
        assert.ok(!fs.existsSync(bin));

        // A binary of another release where the pinned one belongs is not taken for it.
        fs.writeFileSync(bin, "#!/bin/sh\necho 'Version  : v1.7.0'\n", { mode: 0o755 });
        const other = setup(cache);
        assert.equal(other.status, 1, other.stderr);
        assert.match(other.stderr, /\[setup-s3\] building versitygw v/);
        assert.match(other.stderr, /UNAVAILABLE: versitygw v/);

        // What scripts/setup.sh records from that run is the reason the S3 suites skip with.
        const recorded = path.join(cache, "UNAVAILABLE");
        fs.writeFileSync(recorded, r.stderr.split("\n").filter((l) => l.includes("UNAVAILABLE")).join("\n"));
        const saved = process.env.VERSITYGW_UNAVAILABLE_FILE;
        process.env.VERSITYGW_UNAVAILABLE_FILE = recorded;
        try {
            assert.match(s3ServerUnavailable() ?? "", /^versitygw \(the S3 server these tests run\) could not be built on this machine \(versitygw v[\d.]+: 'go install .*' failed \(is off reachable\?\)\); see /);
        } finally {
            process.env.VERSITYGW_UNAVAILABLE_FILE = saved;
        }
    } finally {
        fs.rmSync(cache, { recursive: true, force: true });
    }
});

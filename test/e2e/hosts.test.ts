/**
 * The test-host harness itself: up, SSH as root and as the sudo user, host-to-host traffic, a systemd
 * notify service inside, stop/start keeping disk and host key, isolate/heal, growing to 5 hosts, and a
 * down that leaves no namespace, link, mount, process or cgroup behind (scripts/hosts/selftest.sh).
 */
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { ROOT } from "../support/hosts";

test("test-host harness self-test", { timeout: 10 * 60 * 1000 }, () => {
    const r = spawnSync("bash", [path.join(ROOT, "scripts", "hosts", "selftest.sh")], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    process.stderr.write(r.stderr.split("\n").filter((l) => l.startsWith("[selftest]")).join("\n") + "\n");
    assert.equal(r.status, 0, `selftest failed:\n${r.stderr.slice(-3000)}`);
});

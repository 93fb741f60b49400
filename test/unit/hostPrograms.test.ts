/**
 * Every host program shipped with the package (components/<concern>/host/*.sh): valid bash and
 * shellcheck-clean, so what runs on the etcd hosts is linted like the rest of the code.
 */
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { ROOT } from "../support/hosts";

const components = path.join(ROOT, "components");
const programs = fs
    .readdirSync(components, { withFileTypes: true })
    .filter((d) => d.isDirectory() && fs.existsSync(path.join(components, d.name, "host")))
    .flatMap((d) => fs.readdirSync(path.join(components, d.name, "host")).filter((f) => f.endsWith(".sh")).map((f) => path.join(components, d.name, "host", f)));

test("there are host programs to check", () => assert.ok(programs.length > 0));

for (const file of programs) {
    const name = path.relative(ROOT, file);
    test(`${name}: bash -n and shellcheck`, () => {
        const syntax = spawnSync("bash", ["-n", file], { encoding: "utf8" });
        assert.equal(syntax.status, 0, syntax.stderr);
        const lint = spawnSync("shellcheck", ["-x", "-P", path.dirname(file), file], { encoding: "utf8" });
        assert.ok(!lint.error, `shellcheck could not run (${lint.error?.message}); scripts/test.sh installs it (apt-get install shellcheck)`);
        assert.equal(lint.status, 0, lint.stdout);
    });
}

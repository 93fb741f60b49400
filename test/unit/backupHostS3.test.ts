/**
 * The hosts' S3 client, components/backup/host/s3.sh, run with bash on this machine (Debian bookworm,
 * curl 7.88: the test hosts' curl) against a real S3-compatible server: a throwaway versitygw over TLS on
 * 127.0.0.1 (test/support/s3Server.ts; no test host needed). Round trips byte for byte (checked against
 * the raw bytes the server stored and through the deployer's client), multipart uploads (server-checked
 * part hashes, abort on a failed part and on SIGTERM), listings over many pages, keys with special
 * characters, virtual-hosted addressing, and every failure named: wrong secret, bad credentials file,
 * wrong CA, a store that is down or hangs, a missing or tampered object. The secret never shows in any
 * process's command line during a transfer. shellcheck passes. Throughput over loopback TLS is printed.
 */
import { after, before, test } from "node:test";
import * as assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { shippedBackupFiles } from "../../components/backup/hostFiles";
import { S3Client } from "../../components/backup/s3/client";
import { ROOT } from "../support/hosts";
import { S3Server, startS3Server } from "../support/s3Server";
import { s3Suite } from "../support/toolchain";

const LIBRARY = path.join(ROOT, "components", "backup", "host", "s3.sh");
const MiB = 1024 * 1024;
/** An object every test may rely on. */
const PRESENT = "fixture/present";

interface Run {
    status: number | null;
    signal: NodeJS.Signals | null;
    stdout: string;
    stderr: string;
    ms: number;
}

const sha256File = (file: string) => crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex");

function randomFile(file: string, bytes: number): string {
    const fd = fs.openSync(file, "w");
    for (let left = bytes; left > 0; left -= Math.min(left, 4 * MiB)) fs.writeSync(fd, crypto.randomBytes(Math.min(left, 4 * MiB)));
    fs.closeSync(fd);
    return file;
}

test("s3.sh ships with the package, where the compiled component finds it", () => {
    assert.equal(shippedBackupFiles()["s3.sh"], fs.readFileSync(LIBRARY, "utf8"), "the compiled component reads the file in host/ next to it");
    assert.match(shippedBackupFiles()["s3.sh"], /^# shellcheck shell=bash\n/);
    const pack = spawnSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    assert.equal(pack.status, 0, pack.stderr);
    const files = (JSON.parse(pack.stdout) as { files: { path: string }[] }[])[0].files.map((f) => f.path);
    for (const f of ["s3.sh", "crypto.sh", "etcd-backup.sh", "condense.awk", "retention.awk"]) assert.ok(files.includes(`dist/components/backup/host/${f}`), `${f} in:\n${files.join("\n")}`);
});

s3Suite("s3.sh, the hosts' S3 client, with bash and curl against a real S3 server (versitygw over TLS on loopback)", { timeout: 15 * 60 * 1000 }, () => {
    let server: S3Server;
    let work: string;
    let credentials: string;
    let tmpdir: string;
    let client: S3Client;
    let env: Record<string, string>;

    /** Run `script` in bash after sourcing s3.sh, the way a backup program does; `args` are $1.. */
    function sh(script: string, args: string[] = [], extraEnv: Record<string, string> = {}): Run {
        const started = Date.now();
        const r = spawnSync("bash", ["-c", `set -euo pipefail\nsource "${LIBRARY}"\n${script}`, "s3-test", ...args], {
            env: { ...env, ...extraEnv },
            cwd: work,
            // Not a socket on stdin: bash would take itself for an rsh session and read ~/.bashrc.
            stdio: ["ignore", "pipe", "pipe"],
            encoding: "utf8",
            timeout: 5 * 60 * 1000,
            maxBuffer: 64 * MiB,
        });
        return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - started };
    }
    /** A directory with a `curl` that runs `lines` (bash, the arguments in "$@", editable as args) before the real curl. */
    function curlShim(name: string, lines: string[]): string {
        const dir = path.join(work, name);
        fs.mkdirSync(dir, { recursive: true });
        const realCurl = spawnSync("bash", ["-c", "command -v curl"], { encoding: "utf8" }).stdout.trim();
        fs.writeFileSync(path.join(dir, "curl"), ["#!/usr/bin/env bash", 'args=("$@")', ...lines, `exec ${realCurl} "\${args[@]}"`, ""].join("\n"), { mode: 0o755 });
        return dir;
    }
    const ok = (r: Run, what: string) => assert.equal(r.status, 0, `${what} failed (${r.status}): ${r.stderr}`);
    const multipartLeftovers = () => server.storedFiles().filter((f) => f.includes(`${path.sep}.sgwtmp${path.sep}multipart${path.sep}`));
    const host = os.hostname();

    before(async () => {
        server = await startS3Server({ virtualHostDomain: "s3.localhost" });
        work = fs.mkdtempSync(path.join(os.tmpdir(), "s3-sh-test-"));
        tmpdir = path.join(work, "tmp");
        fs.mkdirSync(tmpdir);
        credentials = path.join(work, "s3-credentials");
        fs.writeFileSync(credentials, `user = "${server.accessKeyId}:${server.secretAccessKey}"\n`, { mode: 0o600 });
        env = {
            PATH: process.env.PATH ?? "/usr/bin:/bin",
            S3_ENDPOINT: server.endpoint,
            S3_REGION: server.region,
            S3_BUCKET: server.bucket,
            S3_PREFIX: "",
            S3_PATH_STYLE: "true",
            S3_CA_FILE: server.caFile,
            S3_CREDENTIALS_FILE: credentials,
            S3_TMPDIR: tmpdir,
        };
        client = new S3Client({ endpoint: server.endpoint, region: server.region, bucket: server.bucket, pathStyle: true, accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey, caBundlePem: server.caPem });
        // What several tests use: a one-byte file, a 23 MiB file (5 parts of 5 MiB), a 100 MiB one, an object.
        fs.writeFileSync(path.join(work, "one"), "1");
        randomFile(path.join(work, "multi.bin"), 23 * MiB + 12345);
        randomFile(path.join(work, "big.bin"), 100 * MiB);
        await client.putObject(PRESENT, Buffer.from("present"));
    });
    after(async () => {
        await server?.stop();
        if (work) fs.rmSync(work, { recursive: true, force: true });
    });

    test("its own SigV4 signer (bash builtins + sha256sum) gives AWS's published example signatures", () => {
        // The four examples of https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
        // and the signing key of the IAM guide's example, as in backupS3Signer.test.ts.
        const empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        const welcome = "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072";
        const host = "host:examplebucket.s3.amazonaws.com";
        const date = "x-amz-date:20130524T000000Z";
        const examples: [string[], string][] = [
            [["GET", "/test.txt", "", [host, "range:bytes=0-9", `x-amz-content-sha256:${empty}`, date].join("\n"), "host;range;x-amz-content-sha256;x-amz-date", empty], "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"],
            [
                ["PUT", "/test%24file.text", "", ["date:Fri, 24 May 2013 00:00:00 GMT", host, `x-amz-content-sha256:${welcome}`, date, "x-amz-storage-class:REDUCED_REDUNDANCY"].join("\n"), "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class", welcome],
                "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd",
            ],
            [["GET", "/", "lifecycle=", [host, `x-amz-content-sha256:${empty}`, date].join("\n"), "host;x-amz-content-sha256;x-amz-date", empty], "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"],
            [["GET", "/", "max-keys=2&prefix=J", [host, `x-amz-content-sha256:${empty}`, date].join("\n"), "host;x-amz-content-sha256;x-amz-date", empty], "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"],
        ];
        for (const [args, signature] of examples) {
            const r = sh('S3__SECRET="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" S3_REGION=us-east-1 S3__SIGNING_DATE=""; _s3_signature "$@" 20130524T000000Z', args);
            ok(r, `signing ${args[0]} ${args[1]}`);
            assert.equal(r.stdout, signature, `${args[0]} ${args[1]}?${args[2]}`);
        }
        const key = sh('k=$(_s3_hmac "$(_s3_text_hex "AWS4$1")" 20150830) && k=$(_s3_hmac "$k" us-east-1) && k=$(_s3_hmac "$k" iam) && _s3_hmac "$k" aws4_request', ["wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"]);
        assert.equal(key.stdout, "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9");
        // A key longer than HMAC's 64-byte block is hashed first (RFC 4231 test case 6).
        const long = sh('_s3_hmac "$(printf "aa%.0s" {1..131})" "Test Using Larger Than Block-Size Key - Hash Key First"');
        assert.equal(long.stdout, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    });

    test("shellcheck finds nothing in s3.sh", () => {
        const r = spawnSync("shellcheck", ["--shell=bash", LIBRARY], { encoding: "utf8" });
        assert.ok(!r.error, `shellcheck is not installed (scripts/test.sh installs it): ${r.error?.message}`);
        assert.equal(r.status, 0, r.stdout + r.stderr);
    });

    test("put, head, get: byte for byte, as stored by the server, with the SHA-256 the deployer's client checks", async () => {
        const file = randomFile(path.join(work, "small.bin"), 3 * MiB + 17);
        ok(sh('s3_put "$1" "$2"', [file, "trip/small.bin"]), "s3_put");
        assert.equal(sha256File(server.objectPath("trip/small.bin")), sha256File(file), "raw stored bytes differ");
        const head = sh('s3_head "$1"', ["trip/small.bin"]);
        ok(head, "s3_head");
        assert.equal(head.stdout, `${3 * MiB + 17}\n`);
        ok(sh('s3_get "$1" "$2"', ["trip/small.bin", "small.copy"]), "s3_get");
        assert.equal(sha256File(path.join(work, "small.copy")), sha256File(file));
        assert.equal(fs.statSync(path.join(work, "small.copy")).mode & 0o777, 0o600);
        assert.equal((await client.headObject("trip/small.bin")).metadata["content-sha256"], sha256File(file));
        assert.ok((await client.getObject("trip/small.bin")).equals(fs.readFileSync(file)), "the deployer's client reads (and checks) it too");
        assert.deepEqual(fs.readdirSync(tmpdir), [], "temporary files left behind");
    });

    test("s3_stream: the whole object or a byte range on stdout; a missing object exits 3 naming it", () => {
        const file = path.join(work, "small.bin");
        const whole = sh("s3_stream trip/small.bin | sha256sum");
        ok(whole, "s3_stream");
        assert.equal(whole.stdout.split(" ")[0], sha256File(file));
        const part = sh('s3_stream trip/small.bin 5 20 > part.bin');
        ok(part, "s3_stream with a range");
        assert.ok(fs.readFileSync(path.join(work, "part.bin")).equals(fs.readFileSync(file).subarray(5, 21)));
        const missing = sh("s3_stream no/such.key > /dev/null");
        assert.equal(missing.status, 3, missing.stderr);
        assert.match(missing.stderr, /no\/such\.key.*NotFound/);
        assert.notEqual(sh("s3_stream trip/small.bin 9 > /dev/null").status, 0, "a range needs FIRST and LAST");
        assert.deepEqual(fs.readdirSync(tmpdir), [], "temporary files left behind");
    });

    test("S3_PREFIX: objects go under it, listing prints keys relative to it, a sibling prefix is not included", () => {
        const prefixed = { S3_PREFIX: "clusters/prod/" };
        ok(sh('s3_put one "a/1" && s3_put one "a/2" && s3_put one "b/1"', [], prefixed), "puts");
        ok(sh("s3_put one x", [], { S3_PREFIX: "clusters/prod2" }), "put in a sibling prefix");
        assert.ok(fs.existsSync(server.objectPath("clusters/prod/a/1")));
        const all = sh('s3_list ""', [], prefixed);
        ok(all, "s3_list");
        assert.equal(all.stdout, "a/1\na/2\nb/1\n");
        assert.equal(sh("s3_list a/", [], prefixed).stdout, "a/1\na/2\n");
        ok(sh('s3_get a/2 two && [ "$(cat two)" = 1 ]', [], prefixed), "s3_get under the prefix");
    });

    test("keys with spaces, unicode, +, %, & < > quotes, = ? # ~ *: put, head, get, list, delete", () => {
        const keys = ["odd/a b+c.snap", "odd/ünï cødé ✓ 😀", "odd/100%&<x>'\"=?#;,@$!*()~"];
        fs.writeFileSync(path.join(work, "payload"), "special");
        for (const key of keys) ok(sh('s3_put payload "$1"', [key]), `s3_put ${key}`);
        for (const key of keys) {
            assert.equal(sh('s3_head "$1"', [key]).stdout, "7\n", key);
            ok(sh('s3_get "$1" got && [ "$(cat got)" = special ]', [key]), `s3_get ${key}`);
        }
        assert.deepEqual(sh("s3_list odd/").stdout.trimEnd().split("\n").sort(), [...keys].sort());
        for (const key of keys) ok(sh('s3_delete "$1"', [key]), `s3_delete ${key}`);
        assert.equal(sh("s3_list odd/").stdout, "");
    });

    test("listing reads every page: 25 keys at 7 a page, and 1203 keys at S3's 1000 a page", async () => {
        const small = Array.from({ length: 25 }, (_, i) => `pages/k${String(i).padStart(3, "0")}`);
        for (const key of small) await client.putObject(key, Buffer.from("x"));
        const seven = sh("s3_list pages/", [], { S3_LIST_PAGE_KEYS: "7" });
        ok(seven, "s3_list");
        assert.equal(seven.stdout, small.map((k) => `${k}\n`).join(""));
        const many = Array.from({ length: 1203 }, (_, i) => `many/${String(i).padStart(5, "0")}`);
        for (let i = 0; i < many.length; i += 16) await Promise.all(many.slice(i, i + 16).map((k) => client.putObject(k, Buffer.from("x"))));
        const all = sh("s3_list many/");
        ok(all, "s3_list");
        assert.equal(all.stdout, many.map((k) => `${k}\n`).join(""));
    });

    test("multipart upload above S3_MULTIPART_BYTES: 5 MiB parts, each hash checked; the object is whole and nothing is left over", async () => {
        const size = 23 * MiB + 12345;
        const file = path.join(work, "multi.bin");
        const put = sh('s3_put "$1" "$2"', [file, "multi/part.bin"], { S3_MULTIPART_BYTES: String(8 * MiB), S3_PART_BYTES: String(5 * MiB) });
        ok(put, "multipart s3_put");
        const info = await client.headObject("multi/part.bin");
        assert.equal(info.size, size);
        assert.match(info.etag, /-5"$/, "S3's ETag of an object made of 5 parts");
        assert.equal(sha256File(server.objectPath("multi/part.bin")), sha256File(file));
        ok(sh('s3_get "$1" multi.copy', ["multi/part.bin"]), "s3_get");
        assert.equal(sha256File(path.join(work, "multi.copy")), sha256File(file));
        assert.deepEqual(multipartLeftovers(), []);
        assert.deepEqual(fs.readdirSync(tmpdir), []);
    });

    test("a part smaller than S3's 5 MiB minimum is refused before any request", () => {
        const r = sh('s3_put "$1" tiny/parts', [path.join(work, "multi.bin")], { S3_MULTIPART_BYTES: String(8 * MiB), S3_PART_BYTES: String(MiB) });
        assert.equal(r.status, 1);
        assert.equal(r.stderr, `s3: ${host}: put s3://${server.bucket}/tiny/parts failed: S3_PART_BYTES is 1048576, below S3's minimum part size of 5242880 (5 MiB)\n`);
    });

    test("a part the server rejects (its bytes do not match the SHA-256 sent) fails the upload, names the part, and aborts it", async () => {
        // A curl that sends other bytes than part 3 (one byte changed, as on a bad disk or wire) under the
        // request s3.sh signed with the part's SHA-256: the real server must refuse the part.
        const shim = curlShim("corrupting-curl", [
            'part3=false; for a in "$@"; do case $a in *"partNumber=3&"*) part3=true ;; esac; done',
            "for i in \"${!args[@]}\"; do",
            '  if $part3 && [ "${args[i]}" = --upload-file ]; then f=${args[i + 1]}; cp "$f" "$f.changed"; printf X | dd of="$f.changed" bs=1 seek=100 conv=notrunc status=none; args[i + 1]="$f.changed"; fi',
            "done",
        ]);
        const r = sh('s3_put "$1" multi/rejected.bin', [path.join(work, "multi.bin")], { PATH: `${shim}:${env.PATH}`, S3_MULTIPART_BYTES: String(8 * MiB), S3_PART_BYTES: String(5 * MiB) });
        assert.equal(r.status, 1);
        assert.match(r.stderr, new RegExp(`^s3: ${host}: put \\(multipart: part 3 of 5\\) s3://${server.bucket}/multi/rejected\\.bin failed: XAmzContentSHA256Mismatch: The provided 'x-amz-content-sha256' header does not match what was computed\\. \\(HTTP 400 from https://127\\.0\\.0\\.1:\\d+\\)\\n$`));
        assert.deepEqual(multipartLeftovers(), [], "the upload was aborted: its parts are gone");
        await assert.rejects(client.headObject("multi/rejected.bin"), /NoSuchKey/);
        assert.deepEqual(fs.readdirSync(tmpdir), []);
    });

    test("SIGTERM to the backup's process group during a multipart upload: the upload is aborted, status 143, no temporary file left", async () => {
        const file = randomFile(path.join(work, "term.bin"), 60 * MiB);
        const child = spawn("bash", ["-c", `source "${LIBRARY}"\ntrap 'echo term >&2' TERM\ns3_put "$1" multi/term.bin || echo "status=$?"`, "s3-test", file], {
            env: { ...env, S3_MULTIPART_BYTES: String(8 * MiB), S3_PART_BYTES: String(5 * MiB) },
            cwd: work,
            detached: true,
            stdio: ["ignore", "pipe", "pipe"],
        });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => (stdout += d));
        child.stderr.on("data", (d) => (stderr += d));
        const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
        const deadline = Date.now() + 30_000;
        while (multipartLeftovers().length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
        assert.ok(multipartLeftovers().length >= 2, `no part reached the server: ${stderr}`);
        process.kill(-child.pid!, "SIGTERM");
        assert.equal(await exited, 0, stderr);
        assert.equal(stdout, "status=143\n", stderr);
        assert.deepEqual(multipartLeftovers(), [], "the upload was aborted");
        await assert.rejects(client.headObject("multi/term.bin"), /NoSuchKey/);
        assert.deepEqual(fs.readdirSync(tmpdir), []);
    });

    test("virtual-hosted addressing (S3_PATH_STYLE=false): https://<bucket>.s3.localhost:<port>/<key>", async () => {
        // The bucket's host name resolved for curl, whatever its version does with *.localhost.
        const resolving = curlShim("resolving-curl", [`args=(--resolve "${server.bucket}.s3.localhost:${server.port}:127.0.0.1" "\${args[@]}")`]);
        const virtual = { S3_ENDPOINT: server.virtualHostEndpoint!, S3_PATH_STYLE: "false", PATH: `${resolving}:${env.PATH}` };
        fs.writeFileSync(path.join(work, "v"), "virtual");
        ok(sh("s3_put v virtual/one && s3_head virtual/one && s3_get virtual/one v2 && [ \"$(cat v2)\" = virtual ]", [], virtual), "virtual-hosted round trip");
        assert.equal(sh("s3_list virtual/", [], virtual).stdout, "virtual/one\n");
        assert.equal((await client.getObject("virtual/one")).toString(), "virtual", "the same object path-style");
        ok(sh("s3_delete virtual/one", [], virtual), "s3_delete");
        const ip = sh("s3_head virtual/one", [], { S3_PATH_STYLE: "false" });
        assert.equal(ip.status, 1);
        assert.match(ip.stderr, /S3_PATH_STYLE=false needs a DNS name in S3_ENDPOINT/);
    });

    test("a missing object: s3_get and s3_head exit 3 naming it, and s3_get creates no file", () => {
        const get = sh("s3_get no/such.key target");
        assert.equal(get.status, 3);
        assert.match(get.stderr, new RegExp(`^s3: ${host}: get s3://${server.bucket}/no/such\\.key failed: NoSuchKey: The specified key does not exist\\. \\(HTTP 404 from ${server.endpoint}\\)\\n$`));
        assert.ok(!fs.existsSync(path.join(work, "target")));
        assert.ok(!fs.readdirSync(work).some((f) => f.startsWith("target.s3-get")), "no partial download left");
        const head = sh("s3_head no/such.key");
        assert.equal(head.status, 3);
        assert.match(head.stderr, /head s3:\/\/etcd-backups\/no\/such\.key failed: NoSuchKey: The specified key does not exist\. \(HTTP 404/);
        const noBucket = sh("s3_head x", [], { S3_BUCKET: "no-such-bucket" });
        assert.equal(noBucket.status, 1);
        assert.match(noBucket.stderr, /NoSuchBucket: The specified bucket does not exist\. \(HTTP 404 from .*; check S3_BUCKET/);
        ok(sh("s3_delete no/such.key"), "s3_delete of a missing key");
        const inIf = sh('if s3_get no/such.key t; then echo got; else echo "not there: $?"; fi; trap -p; [ "$(pwd)" = "$1" ] && echo same-shell', [work]);
        assert.equal(inIf.stdout, "not there: 3\nsame-shell\n", "works inside if, leaves no trap or state in the caller");
    });

    test("a stored object changed on the server's disk: s3_get refuses it (SHA-256 recorded at upload), keeps no file", () => {
        fs.writeFileSync(path.join(work, "t"), "tamper with me");
        ok(sh("s3_put t tamper/me"), "s3_put");
        const stored = server.objectPath("tamper/me");
        fs.writeFileSync(stored, "tamper with ME");
        const r = sh("s3_get tamper/me tampered");
        assert.equal(r.status, 1);
        assert.match(r.stderr, /get s3:\/\/etcd-backups\/tamper\/me failed: the downloaded bytes have SHA-256 [0-9a-f]{64}, the object was uploaded with [0-9a-f]{64}\n$/);
        assert.ok(!fs.existsSync(path.join(work, "tampered")));
    });

    test("a wrong secret: SignatureDoesNotMatch named with the host, operation and key; no secret in the message", () => {
        const wrong = path.join(work, "wrong-credentials");
        fs.writeFileSync(wrong, `user = "${server.accessKeyId}:wrong-secret-123456"\n`, { mode: 0o600 });
        const r = sh("s3_put one denied/x", [], { S3_CREDENTIALS_FILE: wrong });
        assert.equal(r.status, 1);
        assert.match(
            r.stderr,
            new RegExp(`^s3: ${host}: put s3://${server.bucket}/denied/x failed: SignatureDoesNotMatch: The request signature we calculated does not match the signature you provided\\. Check your key and signing method\\. \\(HTTP 403 from ${server.endpoint}; check the secret access key in S3_CREDENTIALS_FILE and S3_REGION\\)\\n$`),
        );
        assert.ok(!r.stderr.includes("wrong-secret") && !r.stderr.includes(server.secretAccessKey));
        assert.ok(!fs.existsSync(server.objectPath("denied/x")));
        fs.writeFileSync(wrong, `user = "AKUNKNOWN:x"\n`, { mode: 0o600 });
        const unknown = sh("s3_head fixture/present", [], { S3_CREDENTIALS_FILE: wrong });
        assert.equal(unknown.status, 1, "an unknown access key is not 'no such object', though versitygw answers 404");
        assert.match(unknown.stderr, /XAdminUserNotFound: No user exists with the provided access key ID\. \(HTTP 404 from .*; check the access key id in S3_CREDENTIALS_FILE\)/);
    });

    test("a credentials file others can read, or without the user line, is refused before any request", () => {
        const loose = path.join(work, "loose-credentials");
        fs.writeFileSync(loose, fs.readFileSync(credentials), { mode: 0o644 });
        fs.chmodSync(loose, 0o644);
        const r = sh("s3_head fixture/present", [], { S3_CREDENTIALS_FILE: loose });
        assert.equal(r.status, 1);
        assert.match(r.stderr, /failed: S3_CREDENTIALS_FILE '.*loose-credentials' has mode 644: it holds a secret and must be readable by its owner only \(chmod 600\)\n$/);
        const bad = path.join(work, "bad-credentials");
        fs.writeFileSync(bad, `${server.accessKeyId}:${server.secretAccessKey}\n`, { mode: 0o600 });
        const r2 = sh("s3_head fixture/present", [], { S3_CREDENTIALS_FILE: bad });
        assert.equal(r2.status, 1);
        assert.match(r2.stderr, /has no line 'user = "<access key id>:<secret access key>"'\n$/);
        assert.ok(!r2.stderr.includes(server.secretAccessKey));
        const unset = sh("s3_head fixture/present", [], { S3_REGION: "", S3_ENDPOINT: "http://127.0.0.1:1" });
        assert.match(unset.stderr, /failed: S3_REGION is not set\n$/);
        assert.match(sh("s3_head fixture/present", [], { S3_ENDPOINT: "http://127.0.0.1:1" }).stderr, /S3_ENDPOINT 'http:\/\/127\.0\.0\.1:1' is not https:\/\/host\[:port\]/);
    });

    test("a wrong CA, or none (the system's): the TLS error, named", () => {
        const otherCa = path.join(work, "other-ca.pem");
        spawnSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj", "/CN=other CA", "-keyout", path.join(work, "other-ca.key"), "-out", otherCa]);
        for (const ca of [otherCa, ""]) {
            const r = sh("s3_head fixture/present", [], { S3_CA_FILE: ca });
            assert.equal(r.status, 1);
            assert.match(r.stderr, new RegExp(`^s3: ${host}: head s3://${server.bucket}/fixture/present failed: TLS with ${server.endpoint} failed: curl: \\(60\\) SSL certificate problem: unable to get local issuer certificate`));
        }
    });

    test("a store that is down: fails after the retries within its bounds; one that hangs: within the connect timeout; then works again", async () => {
        const bounded = { S3_CONNECT_TIMEOUT: "2", S3_RETRIES: "1" };
        await server.takeOffline();
        try {
            const down = sh("s3_put one offline/x", [], bounded);
            assert.equal(down.status, 1);
            assert.match(down.stderr, new RegExp(`^s3: ${host}: put s3://${server.bucket}/offline/x failed: ${server.endpoint} did not answer: curl: \\(7\\) Failed to connect to 127\\.0\\.0\\.1 port \\d+.*\\(connect timeout 2 s, 2 attempts\\)\\n$`));
            assert.ok(down.ms < 6000, `took ${down.ms} ms (2 refused attempts, 1 s apart)`);
        } finally {
            await server.bringOnline();
        }
        ok(sh("s3_head fixture/present", [], bounded), "s3_head once the store is back");
        server.freeze();
        try {
            const hung = sh("s3_get fixture/present hung", [], bounded);
            assert.equal(hung.status, 1);
            assert.match(hung.stderr, /get s3:\/\/etcd-backups\/fixture\/present failed: https:\/\/127\.0\.0\.1:\d+ did not answer: curl: \(28\) .*\(connect timeout 2 s, 2 attempts\)\n$/);
            assert.ok(hung.ms >= 4000 && hung.ms < 12_000, `took ${hung.ms} ms (2 attempts of 2 s, 1 s apart)`);
        } finally {
            server.thaw();
        }
        ok(sh("s3_get fixture/present back"), "s3_get once the store answers again");
    });

    test("the secret is never on a command line (nor in curl's environment) while a 100 MiB upload runs, nor in a caller's xtrace", async () => {
        const file = path.join(work, "big.bin");
        const child = spawn("bash", ["-c", `set -euo pipefail\nsource "${LIBRARY}"\ns3_put "$1" ps/big.bin`, "s3-test", file], { env, cwd: work, stdio: ["ignore", "ignore", "pipe"] });
        let stderr = "";
        child.stderr.on("data", (d) => (stderr += d));
        let done = false;
        const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => ((done = true), resolve(code))));
        let curlSeen = 0;
        let scans = 0;
        const secret = server.secretAccessKey;
        while (!done) {
            for (const pid of fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
                let cmdline: string;
                try {
                    cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
                } catch {
                    continue;
                }
                assert.ok(!cmdline.includes(secret), `the secret is in the command line of pid ${pid}: ${cmdline.replace(/\0/g, " ")}`);
                if (path.basename(cmdline.split("\0")[0]) === "curl") {
                    curlSeen++;
                    let environ = "";
                    try {
                        environ = fs.readFileSync(`/proc/${pid}/environ`, "utf8");
                    } catch {
                        continue;
                    }
                    assert.ok(!environ.includes(secret), `the secret is in the environment of curl (pid ${pid})`);
                }
            }
            scans++;
            await new Promise((r) => setTimeout(r, 2));
        }
        assert.equal(await exited, 0, stderr);
        const traced = sh("set -x; s3_head fixture/present; s3_get fixture/present traced");
        ok(traced, "with xtrace on in the caller");
        assert.ok(!traced.stderr.includes(secret), "xtrace shows the secret");
        assert.ok(curlSeen >= 3, `the transfer was seen in only ${curlSeen} of ${scans} scans of /proc`);
        assert.equal(sha256File(server.objectPath("ps/big.bin")), sha256File(file));
    });

    test("throughput over loopback TLS: 100 MiB put and get (single request, and multipart with 16 MiB parts)", (t) => {
        const file = path.join(work, "big.bin");
        const rate = (ms: number) => `${((100 / ms) * 1000).toFixed(0)} MiB/s`;
        const put = sh('s3_put "$1" speed/single.bin', [file]);
        ok(put, "s3_put");
        const get = sh("s3_get speed/single.bin speed.copy");
        ok(get, "s3_get");
        assert.equal(sha256File(path.join(work, "speed.copy")), sha256File(file));
        const multipart = { S3_MULTIPART_BYTES: String(16 * MiB), S3_PART_BYTES: String(16 * MiB) };
        const mput = sh('s3_put "$1" speed/multi.bin', [file], multipart);
        ok(mput, "multipart s3_put");
        const mget = sh("s3_get speed/multi.bin speed.multi.copy");
        ok(mget, "s3_get");
        assert.equal(sha256File(path.join(work, "speed.multi.copy")), sha256File(file));
        const report = `s3.sh over loopback TLS, 100 MiB: put ${put.ms} ms (${rate(put.ms)}), get ${get.ms} ms (${rate(get.ms)}); multipart (7 parts of 16 MiB) put ${mput.ms} ms (${rate(mput.ms)}), get ${mget.ms} ms (${rate(mget.ms)})`;
        t.diagnostic(report);
        console.log(report);
    });
});

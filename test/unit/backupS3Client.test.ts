/**
 * The deployer's S3 client (components/backup/s3/client.ts) against a real S3-compatible server: a
 * throwaway versitygw over TLS on 127.0.0.1 (test/support/s3Server.ts; no test host needed). Round trips
 * byte for byte (memory and streamed files, checked against the raw bytes the server stored), keys with
 * spaces, unicode, + and XML specials, listings over several pages and over 1000 keys, head, delete,
 * virtual-hosted addressing, and failures named clearly: wrong secret, wrong CA, a tampered stored
 * object, a store that is down or hangs (and comes back).
 */
import { after, before, test } from "node:test";
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import type * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { S3Client, S3ClientOptions } from "../../components/backup/s3/client";
import { S3Error } from "../../components/backup/s3/s3Error";
import { S3Server, startS3Server } from "../support/s3Server";
import { s3Suite } from "../support/toolchain";

/** Resolves every name to 127.0.0.1 (the *.localhost names of the virtual-hosted test). */
const loopbackLookup: net.LookupFunction = (_hostname, options, callback) => {
    if (options.all) (callback as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address: "127.0.0.1", family: 4 }]);
    else callback(null, "127.0.0.1", 4);
};

async function rejectsWith(promise: Promise<unknown>, check: (e: S3Error) => void): Promise<S3Error> {
    try {
        await promise;
    } catch (e) {
        assert.ok(e instanceof S3Error, `expected an S3Error, got ${(e as Error).stack}`);
        check(e);
        return e;
    }
    assert.fail("expected the operation to fail");
}

s3Suite("S3 client against a real S3 server (versitygw over TLS on loopback)", { timeout: 10 * 60 * 1000 }, () => {
    let server: S3Server;
    let work: string;
    let options: S3ClientOptions;
    let client: S3Client;

    before(async () => {
        server = await startS3Server({ virtualHostDomain: "s3.localhost" });
        work = fs.mkdtempSync(path.join(os.tmpdir(), "s3-client-test-"));
        options = {
            endpoint: server.endpoint,
            region: server.region,
            bucket: server.bucket,
            pathStyle: true,
            accessKeyId: server.accessKeyId,
            secretAccessKey: server.secretAccessKey,
            caBundlePem: server.caPem,
        };
        client = new S3Client(options);
    });
    after(async () => {
        await server?.stop();
        if (work) fs.rmSync(work, { recursive: true, force: true });
    });

    test("put then get: the same bytes back, and the server stored exactly those bytes with their SHA-256", async () => {
        const data = crypto.randomBytes(300_000);
        await client.putObject("round/trip.bin", data);
        assert.ok((await client.getObject("round/trip.bin")).equals(data));
        assert.ok(fs.readFileSync(server.objectPath("round/trip.bin")).equals(data), "raw stored bytes differ");
        const info = await client.headObject("round/trip.bin");
        assert.equal(info.size, data.length);
        assert.equal(info.metadata["content-sha256"], crypto.createHash("sha256").update(data).digest("hex"));
    });

    test("keys with spaces, unicode, +, %, & < > quotes and more: put, head, get, list, delete", async () => {
        const keys = ["odd keys/a b+c.snap", "odd keys/ünï cødé ✓ 😀", "odd keys/100%&<x>'\"=?#;,@$!*()~"];
        for (const [i, key] of keys.entries()) await client.putObject(key, Buffer.from(`value ${i}`));
        for (const [i, key] of keys.entries()) {
            assert.equal((await client.getObject(key)).toString(), `value ${i}`);
            assert.equal((await client.headObject(key)).size, `value ${i}`.length);
            assert.equal(fs.readFileSync(server.objectPath(key), "utf8"), `value ${i}`, `stored under ${server.objectPath(key)}`);
        }
        assert.deepEqual((await client.listObjectsV2("odd keys/")).map((o) => o.key).sort(), [...keys].sort());
        for (const key of keys) await client.deleteObject(key);
        assert.deepEqual(await client.listObjectsV2("odd keys/"), []);
        for (const key of keys) assert.ok(!fs.existsSync(server.objectPath(key)));
    });

    test("listing reads every page: 25 keys at 7 per page, and a prefix selects only its keys", async () => {
        const keys = Array.from({ length: 25 }, (_, i) => `paged/k${String(i).padStart(3, "0")}`);
        for (const key of keys) await client.putObject(key, Buffer.from(key));
        await client.putObject("paged-not/other", Buffer.from("x"));
        const listed = await client.listObjectsV2("paged/", { maxKeys: 7 });
        assert.deepEqual(listed.map((o) => o.key), keys, "every key once, in S3's order");
        assert.ok(listed.every((o) => o.size === o.key.length && o.etag.length > 0 && o.lastModified.length > 0));
        assert.equal((await client.listObjectsV2("paged", { maxKeys: 7 })).length, 26, "a prefix is a string prefix, not a folder");
    });

    test("listing more than 1000 keys (the largest page S3 gives) returns all of them", async () => {
        const keys = Array.from({ length: 1203 }, (_, i) => `many/${String(i).padStart(5, "0")}`);
        const body = Buffer.from("x");
        for (let i = 0; i < keys.length; i += 16) await Promise.all(keys.slice(i, i + 16).map((k) => client.putObject(k, body)));
        const listed = await client.listObjectsV2("many/");
        assert.equal(listed.length, keys.length);
        assert.deepEqual(listed.map((o) => o.key), keys);
    });

    test("files: streamed up and down (64 MiB), the result mode 0600, a failed download leaves no file", async () => {
        const source = path.join(work, "big.bin");
        const fd = fs.openSync(source, "w");
        for (let i = 0; i < 64; i++) fs.writeSync(fd, crypto.randomBytes(1024 * 1024));
        fs.closeSync(fd);
        const sha = crypto.createHash("sha256").update(fs.readFileSync(source)).digest("hex");
        await client.putObjectFromFile("files/big.bin", source);
        const target = path.join(work, "big.copy");
        const got = await client.getObjectToFile("files/big.bin", target);
        assert.deepEqual(got, { size: 64 * 1024 * 1024, sha256: sha });
        assert.equal(crypto.createHash("sha256").update(fs.readFileSync(target)).digest("hex"), sha);
        assert.equal(fs.statSync(target).mode & 0o777, 0o600);
        const missing = path.join(work, "missing.copy");
        await rejectsWith(client.getObjectToFile("files/none.bin", missing), (e) => assert.equal(e.code, "NoSuchKey"));
        assert.deepEqual(fs.readdirSync(work).sort(), ["big.bin", "big.copy"], "no partial download left behind");
    });

    test("a missing object: GetObject and HeadObject say NoSuchKey (HEAD's bodiless 404 asked again as a GET), naming the operation and object", async () => {
        const get = await rejectsWith(client.getObject("no/such.key"), (e) => assert.equal(e.code, "NoSuchKey"));
        assert.match(get.message, new RegExp(`^S3 GetObject s3://${server.bucket}/no/such\\.key failed: NoSuchKey: .+ \\(HTTP 404 from ${server.endpoint}\\)`));
        const head = await rejectsWith(client.headObject("no/such.key"), (e) => assert.equal(e.code, "NoSuchKey"));
        assert.match(head.message, /^S3 HeadObject s3:\/\/etcd-backups\/no\/such\.key failed: NoSuchKey: The specified key does not exist\. \(HTTP 404/);
        const noBucket = new S3Client({ ...options, bucket: "no-such-bucket" });
        await rejectsWith(noBucket.headObject("x"), (e) => assert.equal(e.code, "NoSuchBucket"));
        const unknown = new S3Client({ ...options, accessKeyId: "AKUNKNOWN" });
        await rejectsWith(unknown.headObject("round/trip.bin"), (e) => assert.equal(e.code, "XAdminUserNotFound", "an unknown access key is not a missing object"));
    });

    test("a wrong secret: SignatureDoesNotMatch, named clearly, the secret nowhere in the message", async () => {
        const wrong = new S3Client({ ...options, secretAccessKey: "not-the-secret-0123456789" });
        const e = await rejectsWith(wrong.putObject("denied/x", Buffer.from("x")), (err) => {
            assert.equal(err.code, "SignatureDoesNotMatch");
            assert.equal(err.status, 403);
            assert.equal(err.kind, "s3");
        });
        assert.match(e.message, /^S3 PutObject s3:\/\/etcd-backups\/denied\/x failed: SignatureDoesNotMatch: The request signature we calculated does not match.*check the secret access key/);
        assert.ok(!e.message.includes("not-the-secret") && !e.message.includes(server.secretAccessKey));
        assert.ok(!fs.existsSync(server.objectPath("denied/x")));
        // AWS says 403 InvalidAccessKeyId; versitygw says 404 XAdminUserNotFound. Either way not "no such object".
        const unknown = new S3Client({ ...options, accessKeyId: "AKUNKNOWN" });
        const e2 = await rejectsWith(unknown.getObject("round/trip.bin"), (err) => assert.equal(err.code, "XAdminUserNotFound"));
        assert.match(e2.message, /No user exists with the provided access key ID\. \(HTTP 404 from .*\); check the access key id$/);
    });

    test("a wrong CA, or none (the system's): a TLS error saying the certificate is not trusted", async () => {
        for (const caBundlePem of [unrelatedCaPem(), undefined]) {
            const e = await rejectsWith(new S3Client({ ...options, caBundlePem, retries: 2 }).getObject("round/trip.bin"), (err) => {
                assert.equal(err.kind, "tls");
                assert.match(err.code, /UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|UNABLE_TO_GET_ISSUER/);
                assert.equal(err.attempts, undefined, "a certificate problem is not retried");
            });
            assert.match(e.message, /^S3 GetObject s3:\/\/etcd-backups\/round\/trip\.bin failed: UNABLE_TO_VERIFY_LEAF_SIGNATURE: .*; the endpoint's certificate is not signed by a trusted CA: give the CA that signed it \(caBundlePem\)/);
        }
    });

    test("virtual-hosted addressing (https://bucket.domain:port/key) against the same server", async () => {
        const virtual = new S3Client({ ...options, endpoint: server.virtualHostEndpoint, pathStyle: false, lookup: loopbackLookup });
        await virtual.putObject("virtual/one", Buffer.from("by host name"));
        assert.equal((await client.getObject("virtual/one")).toString(), "by host name");
        assert.deepEqual((await virtual.listObjectsV2("virtual/")).map((o) => o.key), ["virtual/one"]);
        await virtual.deleteObject("virtual/one");
        await rejectsWith(client.headObject("virtual/one"), (e) => assert.equal(e.code, "NoSuchKey"));
    });

    test("a stored object changed on the server's disk is refused on download (its SHA-256 no longer matches)", async () => {
        const data = Buffer.from("the bytes that were uploaded");
        await client.putObject("tamper/me", data);
        const stored = server.objectPath("tamper/me");
        const bytes = fs.readFileSync(stored);
        bytes[0] ^= 0xff;
        fs.writeFileSync(stored, bytes);
        const e = await rejectsWith(client.getObject("tamper/me"), (err) => {
            assert.equal(err.kind, "integrity");
            assert.equal(err.code, "ChecksumMismatch");
        });
        assert.match(e.message, /the received bytes have SHA-256 [0-9a-f]{64}, the object was uploaded with [0-9a-f]{64}/);
        const target = path.join(work, "tampered");
        await rejectsWith(client.getObjectToFile("tamper/me", target), (err) => assert.equal(err.code, "ChecksumMismatch"));
        assert.ok(!fs.existsSync(target));
    });

    test("a store that is down fails fast after the retries, one that hangs within the connect timeout; both come back with the data", async () => {
        const quick = new S3Client({ ...options, connectTimeoutMs: 1500, retries: 1 });
        await server.takeOffline();
        let started = Date.now();
        const down = await rejectsWith(quick.getObject("round/trip.bin"), (e) => {
            assert.equal(e.kind, "network");
            assert.equal(e.code, "ECONNREFUSED");
            assert.equal(e.attempts, 2);
        });
        assert.ok(Date.now() - started < 4000, `took ${Date.now() - started} ms (2 refused attempts, 0.25 s apart)`);
        assert.match(down.message, /^S3 GetObject s3:\/\/etcd-backups\/round\/trip\.bin failed: ECONNREFUSED: connect ECONNREFUSED 127\.0\.0\.1:\d+ \(https:\/\/127\.0\.0\.1:\d+, 2 attempts\)/);
        await server.bringOnline();
        assert.equal((await quick.headObject("round/trip.bin")).size, 300_000);

        server.freeze();
        try {
            started = Date.now();
            const hung = await rejectsWith(quick.listObjectsV2("paged/"), (e) => {
                assert.equal(e.kind, "timeout");
                assert.equal(e.code, "ConnectTimeout");
            });
            const took = Date.now() - started;
            assert.ok(took >= 3000 && took < 8000, `took ${took} ms (2 attempts of 1.5 s, 0.25 s apart)`);
            assert.match(hung.message, /^S3 ListObjectsV2 s3:\/\/etcd-backups\/paged\/\* failed: ConnectTimeout: no TLS connection within 1500 ms/);
        } finally {
            server.thaw();
        }
        assert.equal((await quick.listObjectsV2("paged/")).length, 25);
    });
});

/** A CA certificate that did not sign the server's certificate. */
function unrelatedCaPem(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "other-ca-"));
    try {
        execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj", "/CN=some other CA", "-keyout", path.join(dir, "k"), "-out", path.join(dir, "c")], { stdio: "ignore" });
        return fs.readFileSync(path.join(dir, "c"), "utf8");
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

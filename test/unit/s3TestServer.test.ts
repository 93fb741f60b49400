/**
 * The tests' S3 server (test/support/s3Server.ts): versitygw listening where it is told, over TLS with a
 * certificate from its own CA naming that IP and 127.0.0.1, with the keys it is given (never on its
 * command line), one bucket, objects as plain files, and the outages the backup tests need: offline
 * (connections refused) and frozen (connections hang), each coming back with the same data.
 */
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import * as tls from "node:tls";
import { S3Client } from "../../components/backup/s3/client";
import { startS3Server, S3Server } from "../support/s3Server";
import { s3Suite } from "../support/toolchain";

/** The server's certificate as a client sees it, and whether it verified against `ca`. */
function peerCertificate(host: string, port: number, ca: string | undefined): Promise<{ authorized: boolean; error?: string; subjectAltName?: string }> {
    return new Promise((resolve, reject) => {
        const socket = tls.connect({ host, port, ca, rejectUnauthorized: false, servername: undefined }, () => {
            const cert = socket.getPeerCertificate();
            resolve({ authorized: socket.authorized, error: socket.authorizationError?.toString(), subjectAltName: cert.subjectaltname });
            socket.end();
        });
        socket.once("error", reject);
    });
}

/** Whether a TLS handshake completes within `ms`. */
function handshakes(host: string, port: number, ca: string, ms: number): Promise<boolean> {
    return new Promise((resolve) => {
        const socket = tls.connect({ host, port, ca });
        const timer = setTimeout(() => (socket.destroy(), resolve(false)), ms);
        socket.once("secureConnect", () => (clearTimeout(timer), socket.end(), resolve(true)));
        socket.once("error", () => (clearTimeout(timer), resolve(false)));
    });
}

const clientOf = (s: S3Server, secretAccessKey = s.secretAccessKey) =>
    new S3Client({ endpoint: s.endpoint, region: s.region, bucket: s.bucket, pathStyle: true, accessKeyId: s.accessKeyId, secretAccessKey, caBundlePem: s.caPem, retries: 0, connectTimeoutMs: 1000 });

s3Suite("the tests' S3 server (versitygw, posix backend, TLS)", { timeout: 5 * 60 * 1000 }, () => {
    test("listens on the given address and port, its certificate names that IP and 127.0.0.1 and verifies only with its CA", async () => {
        const port = await new Promise<number>((resolve) => {
            const probe = net.createServer().listen(0, "127.0.0.2", () => {
                const p = (probe.address() as net.AddressInfo).port;
                probe.close(() => resolve(p));
            });
        });
        const server = await startS3Server({ listenAddress: "127.0.0.2", port, accessKeyId: "AKGIVEN", secretAccessKey: "given-secret-for-this-test", bucket: "given-bucket", region: "eu-west-1" });
        try {
            assert.equal(server.endpoint, `https://127.0.0.2:${port}`);
            const withCa = await peerCertificate("127.0.0.2", port, server.caPem);
            assert.ok(withCa.authorized, withCa.error);
            assert.equal(withCa.subjectAltName, "IP Address:127.0.0.2, IP Address:127.0.0.1");
            const withoutCa = await peerCertificate("127.0.0.2", port, undefined);
            assert.equal(withoutCa.authorized, false);
            assert.equal(await handshakes("127.0.0.1", port, server.caPem, 1000), false, "listens on 127.0.0.2 only");
            const client = clientOf(server);
            await client.putObject("k", Buffer.from("v"));
            assert.deepEqual((await client.listObjectsV2()).map((o) => o.key), ["k"]);
            await assert.rejects(clientOf(server, "another-secret").getObject("k"), /SignatureDoesNotMatch/);
            const commandLines = fs
                .readdirSync("/proc")
                .filter((p) => /^\d+$/.test(p))
                .map((p) => {
                    try {
                        return fs.readFileSync(`/proc/${p}/cmdline`, "utf8");
                    } catch {
                        return "";
                    }
                })
                .filter((c) => c.includes(server.dataDir));
            assert.equal(commandLines.length, 1, "one versitygw process for this data dir");
            assert.ok(!commandLines[0].includes("given-secret-for-this-test"), "the secret is not on versitygw's command line");
        } finally {
            await server.stop();
        }
    });

    test("an object is the plain file <dataDir>/<bucket>/<key>; stop() ends the server and removes everything", async () => {
        const server = await startS3Server();
        const data = crypto.randomBytes(4096);
        await clientOf(server).putObject("a/b c/d.bin", data);
        assert.equal(server.objectPath("a/b c/d.bin"), `${server.dataDir}/${server.bucket}/a/b c/d.bin`);
        assert.ok(fs.readFileSync(server.objectPath("a/b c/d.bin")).equals(data));
        assert.ok(server.storedFiles().includes(server.objectPath("a/b c/d.bin")));
        await server.stop();
        assert.ok(!fs.existsSync(server.dataDir));
        assert.equal(await handshakes("127.0.0.1", server.port, server.caPem, 1000), false);
    });

    test("offline: connections refused; online again: same port, keys and data. Frozen: connections hang; thawed: answers", async () => {
        const server = await startS3Server();
        try {
            const client = clientOf(server);
            await client.putObject("kept", Buffer.from("still here"));
            await server.takeOffline();
            await assert.rejects(client.getObject("kept"), /ECONNREFUSED/);
            await server.bringOnline();
            assert.equal((await client.getObject("kept")).toString(), "still here");
            server.freeze();
            assert.equal(await handshakes("127.0.0.1", server.port, server.caPem, 1500), false, "a frozen server completes no TLS handshake");
            server.thaw();
            assert.equal((await client.getObject("kept")).toString(), "still here");
        } finally {
            await server.stop();
        }
    });

    const bridge = "172.30.213.1";
    const bridgeUp = (() => {
        try {
            return execFileSync("ip", ["-4", "-o", "addr", "show"], { encoding: "utf8" }).includes(` ${bridge}/`);
        } catch {
            return false;
        }
    })();
    test(
        `listens on the test hosts' bridge address ${bridge}`,
        { skip: bridgeUp ? undefined : `the test-host bridge (${bridge}) is not up on this machine (npm run hosts -- up 1 brings it up)` },
        async () => {
            const server = await startS3Server({ listenAddress: bridge });
            try {
                assert.match(server.endpoint, /^https:\/\/172\.30\.213\.1:\d+$/);
                await clientOf(server).putObject("from-bridge", Buffer.from("x"));
                assert.equal((await peerCertificate(bridge, server.port, server.caPem)).subjectAltName, `IP Address:${bridge}, IP Address:127.0.0.1`);
            } finally {
                await server.stop();
            }
        },
    );
});

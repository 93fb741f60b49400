/**
 * The deployer's SigV4 signer and S3 addressing (components/backup/s3/sigv4.ts, address.ts), pure, against
 * the values AWS publishes: the four "Examples: Signature Calculations" of the S3 API reference (GET object
 * with a Range, PUT object of "Welcome to Amazon S3.", GET bucket lifecycle, list objects), each with
 * AKIAIOSFODNN7EXAMPLE / wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY on 20130524 in us-east-1
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html), and the signing-key
 * example of the IAM user guide (20150830, us-east-1, iam).
 */
import { describe, test } from "node:test";
import * as assert from "node:assert/strict";
import * as crypto from "node:crypto";
import { defaultEndpoint, locationProblems, requestAddress } from "../../components/backup/s3/address";
import {
    EMPTY_PAYLOAD_SHA256,
    UNSIGNED_PAYLOAD,
    amzTimes,
    canonicalQueryString,
    canonicalRequest,
    signRequest,
    signingKey,
    uriEncode,
} from "../../components/backup/s3/sigv4";

const AWS_EXAMPLE = { accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" };
const MAY_24_2013 = new Date("2013-05-24T00:00:00Z");
/** The examples' bucket on S3's global endpoint, virtual-hosted: examplebucket.s3.amazonaws.com. */
const EXAMPLE_BUCKET = { endpoint: "https://s3.amazonaws.com", region: "us-east-1", bucket: "examplebucket", pathStyle: false };
const sha256 = (s: string) => crypto.createHash("sha256").update(s).digest("hex");
const lastLine = (s: string) => s.split("\n").at(-1);

/** Address + sign, the way the client does it. */
function signExample(method: string, key: string | undefined, query: [string, string][], headers: Record<string, string>, payloadHash: string) {
    const address = requestAddress(EXAMPLE_BUCKET, key, query);
    return { address, ...signRequest({ method, canonicalUri: address.canonicalUri, query, headers: { host: address.host, ...headers }, payloadHash }, AWS_EXAMPLE, "us-east-1", MAY_24_2013) };
}

describe("SigV4: AWS's published S3 examples", () => {
    test("GET object (first 10 bytes of test.txt): canonical request, string to sign, signature, Authorization header", () => {
        const signed = signExample("GET", "test.txt", [], { range: "bytes=0-9" }, EMPTY_PAYLOAD_SHA256);
        assert.equal(
            signed.canonicalRequest,
            [
                "GET",
                "/test.txt",
                "",
                "host:examplebucket.s3.amazonaws.com",
                "range:bytes=0-9",
                "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                "x-amz-date:20130524T000000Z",
                "",
                "host;range;x-amz-content-sha256;x-amz-date",
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            ].join("\n"),
        );
        assert.equal(signed.stringToSign, "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
        assert.equal(signed.signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
        assert.equal(
            signed.headers.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
        );
        assert.equal(signed.headers["x-amz-date"], "20130524T000000Z");
        assert.equal(signed.headers["x-amz-content-sha256"], EMPTY_PAYLOAD_SHA256);
    });

    test("PUT object (test$file.text, hashed payload, Date and x-amz-storage-class signed): $ encoded in the path", () => {
        const body = "Welcome to Amazon S3.";
        assert.equal(sha256(body), "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
        const signed = signExample("PUT", "test$file.text", [], { date: "Fri, 24 May 2013 00:00:00 GMT", "x-amz-storage-class": "REDUCED_REDUNDANCY" }, sha256(body));
        assert.equal(signed.address.canonicalUri, "/test%24file.text");
        assert.match(signed.canonicalRequest, /^PUT\n\/test%24file\.text\n\n/);
        assert.equal(lastLine(signed.stringToSign), "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d");
        assert.equal(signed.signature, "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
        assert.match(signed.headers.authorization, /,SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class,Signature=98ad7217/);
    });

    test("GET bucket lifecycle: a sub-resource without a value is signed as lifecycle=", () => {
        const signed = signExample("GET", undefined, [["lifecycle", ""]], {}, EMPTY_PAYLOAD_SHA256);
        assert.equal(signed.address.path, "/?lifecycle=");
        assert.match(signed.canonicalRequest, /^GET\n\/\nlifecycle=\n/);
        assert.equal(lastLine(signed.stringToSign), "9766c798316ff2757b517bc739a67f6213b4ab36dd5da2f94eaebf79c77395ca");
        assert.equal(signed.signature, "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
    });

    test("list objects (max-keys=2, prefix=J): query sorted whatever order it is given in", () => {
        const signed = signExample("GET", undefined, [["prefix", "J"], ["max-keys", "2"]], {}, EMPTY_PAYLOAD_SHA256);
        assert.match(signed.canonicalRequest, /^GET\n\/\nmax-keys=2&prefix=J\n/);
        assert.equal(lastLine(signed.stringToSign), "df57d21db20da04d7fa30298dd4488ba3a2b47ca3a489c74750e0f1e7df1b9b7");
        assert.equal(signed.signature, "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
    });

    test("signing key and signature of the IAM guide's example (20150830, us-east-1, iam)", () => {
        const key = signingKey("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20150830", "us-east-1", "iam");
        assert.equal(key.toString("hex"), "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9");
        const toSign = "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/iam/aws4_request\nf536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59";
        assert.equal(crypto.createHmac("sha256", key).update(toSign).digest("hex"), "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7");
    });

    test("a different secret, region or time gives another signature (each is signed)", () => {
        const base = signExample("GET", "test.txt", [], { range: "bytes=0-9" }, EMPTY_PAYLOAD_SHA256).signature;
        const address = requestAddress(EXAMPLE_BUCKET, "test.txt");
        const request = { method: "GET", canonicalUri: address.canonicalUri, query: [], headers: { host: address.host, range: "bytes=0-9" }, payloadHash: EMPTY_PAYLOAD_SHA256 };
        assert.notEqual(signRequest(request, { ...AWS_EXAMPLE, secretAccessKey: "x" }, "us-east-1", MAY_24_2013).signature, base);
        assert.notEqual(signRequest(request, AWS_EXAMPLE, "eu-west-1", MAY_24_2013).signature, base);
        assert.notEqual(signRequest(request, AWS_EXAMPLE, "us-east-1", new Date("2013-05-24T00:00:01Z")).signature, base);
        assert.equal(signRequest(request, AWS_EXAMPLE, "us-east-1", MAY_24_2013).signature, base);
    });
});

describe("SigV4: canonical forms", () => {
    test("RFC 3986 encoding of UTF-8 bytes: only A-Z a-z 0-9 - . _ ~ stay; / stays in paths only", () => {
        assert.equal(uriEncode("AZaz09-._~", false), "AZaz09-._~");
        assert.equal(uriEncode("a b+c", false), "a%20b%2Bc");
        assert.equal(uriEncode("!'()*$&=?#%,;:@[]", false), "%21%27%28%29%2A%24%26%3D%3F%23%25%2C%3B%3A%40%5B%5D");
        assert.equal(uriEncode("snap/2026 ✓é.db", true), "snap/2026%20%E2%9C%93%C3%A9.db");
        assert.equal(uriEncode("a/b", false), "a%2Fb");
        assert.equal(uriEncode("😀", false), "%F0%9F%98%80");
    });

    test("query string: names and values encoded, sorted by name then value, bare names get =", () => {
        assert.equal(canonicalQueryString([["prefix", "a b/c"], ["list-type", "2"], ["continuation-token", "x+y=="]]), "continuation-token=x%2By%3D%3D&list-type=2&prefix=a%20b%2Fc");
        assert.equal(canonicalQueryString([["b", "2"], ["a", "z"], ["a", "y"], ["uploads", ""]]), "a=y&a=z&b=2&uploads=");
        assert.equal(canonicalQueryString([]), "");
    });

    test("headers: names lower-cased and sorted, values trimmed with inner spaces made one, repeated names joined", () => {
        const { canonicalRequest: text, signedHeaders } = canonicalRequest({
            method: "get",
            canonicalUri: "/",
            query: [],
            headers: { Host: "h", "X-Amz-Meta-Note": "  a   b  ", "x-amz-meta-note": "c", "X-Amz-Date": "20130524T000000Z" },
            payloadHash: UNSIGNED_PAYLOAD,
        });
        assert.equal(signedHeaders, "host;x-amz-date;x-amz-meta-note");
        assert.equal(text, "GET\n/\n\nhost:h\nx-amz-date:20130524T000000Z\nx-amz-meta-note:a b,c\n\nhost;x-amz-date;x-amz-meta-note\nUNSIGNED-PAYLOAD");
    });

    test("an unsigned payload is sent and signed as UNSIGNED-PAYLOAD", () => {
        const signed = signRequest({ method: "PUT", canonicalUri: "/b/k", query: [], headers: { host: "h" }, payloadHash: UNSIGNED_PAYLOAD }, AWS_EXAMPLE, "us-east-1", MAY_24_2013);
        assert.equal(signed.headers["x-amz-content-sha256"], "UNSIGNED-PAYLOAD");
        assert.equal(lastLine(signed.canonicalRequest), "UNSIGNED-PAYLOAD");
    });

    test("time formats", () => {
        assert.deepEqual(amzTimes(new Date("2026-12-01T09:08:07.654Z")), { amzDate: "20261201T090807Z", dateStamp: "20261201" });
    });
});

describe("S3 addressing", () => {
    test("path-style on a private endpoint: https://endpoint/bucket/key, port in the Host header", () => {
        const a = requestAddress({ endpoint: "https://10.0.0.5:7070", region: "us-east-1", bucket: "etcd-backups", pathStyle: true }, "prod/a b+c.snap", [["x-id", "1"]]);
        assert.deepEqual(
            { hostname: a.hostname, port: a.port, host: a.host, canonicalUri: a.canonicalUri, path: a.path },
            { hostname: "10.0.0.5", port: 7070, host: "10.0.0.5:7070", canonicalUri: "/etcd-backups/prod/a%20b%2Bc.snap", path: "/etcd-backups/prod/a%20b%2Bc.snap?x-id=1" },
        );
        assert.equal(requestAddress({ endpoint: "https://s3.example.internal", region: "us-east-1", bucket: "b1b", pathStyle: true }, undefined).path, "/b1b");
    });

    test("virtual-hosted: https://bucket.endpoint/key, default port left out of Host", () => {
        const a = requestAddress({ endpoint: "https://s3.example.internal/", region: "eu-west-3", bucket: "etcd-backups", pathStyle: false }, "k");
        assert.deepEqual([a.hostname, a.port, a.host, a.path], ["etcd-backups.s3.example.internal", 443, "etcd-backups.s3.example.internal", "/k"]);
    });

    test("no endpoint: AWS S3 of the region, virtual-hosted by default; with an endpoint path-style by default", () => {
        assert.equal(defaultEndpoint("eu-central-1"), "https://s3.eu-central-1.amazonaws.com");
        assert.equal(requestAddress({ region: "eu-central-1", bucket: "etcd-backups" }, "x").url, "https://etcd-backups.s3.eu-central-1.amazonaws.com/x");
        assert.equal(requestAddress({ region: "eu-central-1", bucket: "etcd-backups", pathStyle: true }, "x").url, "https://s3.eu-central-1.amazonaws.com/etcd-backups/x");
        assert.equal(requestAddress({ endpoint: "https://minio.lan:9000", region: "us-east-1", bucket: "etcd-backups" }, "x").url, "https://minio.lan:9000/etcd-backups/x");
    });

    test("unusable settings are refused, each naming the setting", () => {
        assert.deepEqual(locationProblems({ region: "us-east-1", bucket: "ok-bucket" }), []);
        const problems = locationProblems({ endpoint: "http://s3.lan/base?x=1", region: "US East", bucket: "A_b" });
        assert.equal(problems.length, 3, problems.join("\n"));
        assert.match(problems.join("\n"), /region 'US East'/);
        assert.match(problems.join("\n"), /bucket 'A_b'/);
        assert.match(problems.join("\n"), /endpoint 'http:\/\/s3\.lan\/base\?x=1' must be https:\/\/host\[:port\]/);
        assert.match(locationProblems({ endpoint: "https://10.1.2.3:9000", region: "us-east-1", bucket: "bkt", pathStyle: false }).join(), /IP address: virtual-hosted addressing/);
        assert.throws(() => requestAddress({ endpoint: "ftp://x", region: "us-east-1", bucket: "bkt" }, "k"), /S3 store settings: endpoint 'ftp:\/\/x'/);
    });
});

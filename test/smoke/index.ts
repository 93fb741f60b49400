/** Smoke program: proves the CLI, the language host and the command/tls/random plugins work here. */
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import * as tls from "@pulumi/tls";
import { remote } from "@pulumi/command";
import * as fs from "node:fs";

interface SmokeHost {
    name: string;
    address: string;
    hostKey: string;
}

const config = new pulumi.Config();
const hosts = config.requireObject<SmokeHost[]>("hosts");
const privateKey = pulumi.secret(fs.readFileSync(config.require("sshKeyPath"), "utf8"));

export const hostnames = hosts.map(
    (h) =>
        new remote.Command(`hostname-${h.name}`, {
            connection: { host: h.address, user: "root", privateKey, hostKey: h.hostKey, dialErrorLimit: 3, perDialTimeout: 5 },
            create: "hostname",
        }).stdout,
);
export const keyAlgorithm = new tls.PrivateKey("smoke-key", { algorithm: "ECDSA", ecdsaCurve: "P256" }).algorithm;
export const randomHex = new random.RandomId("smoke-id", { byteLength: 4 }).hex;

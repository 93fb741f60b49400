/**
 * A writer that measures availability more finely than one etcdctl process per write: sequential puts
 * through etcd's JSON gateway (/v3/kv/put) over kept-alive mTLS connections, moving to the next endpoint
 * when one fails. Reports acknowledged writes and the longest stretch without one, like Writer.
 */
import * as fs from "node:fs";
import * as https from "node:https";
import { ClientCreds, etcdctl } from "./etcdctl";

export interface GatewayWriterReport {
    acknowledged: number;
    lost: string[];
    longestGapMs: number;
}

export class GatewayWriter {
    private stopped = false;
    private loop?: Promise<void>;
    private readonly acked: string[] = [];
    private lastOk = Date.now();
    private longestGapMs = 0;
    private readonly agent: https.Agent;
    private readonly urls: URL[];

    /** `intervalMs`: the time from one put's start to the next (0: back to back, as fast as the cluster acknowledges). */
    constructor(private readonly bin: string, private readonly endpoints: string, private readonly creds: ClientCreds, private readonly prefix: string, private readonly intervalMs = 0) {
        this.agent = new https.Agent({ ca: fs.readFileSync(creds.caFile!), cert: fs.readFileSync(creds.certFile!), key: fs.readFileSync(creds.keyFile!), keepAlive: true, maxSockets: 1 });
        this.urls = endpoints.split(",").map((e) => new URL("/v3/kv/put", e));
    }

    private put(url: URL, key: string): Promise<boolean> {
        const body = JSON.stringify({ key: Buffer.from(key).toString("base64"), value: Buffer.from("v").toString("base64") });
        return new Promise((resolve) => {
            const req = https.request(url, { method: "POST", agent: this.agent, timeout: 2000, headers: { "content-type": "application/json" } }, (res) => {
                res.resume();
                res.on("end", () => resolve(res.statusCode === 200));
            });
            req.on("timeout", () => req.destroy());
            req.on("error", () => resolve(false));
            req.end(body);
        });
    }

    start(): this {
        this.lastOk = Date.now();
        this.loop = (async () => {
            let i = 0;
            let at = 0;
            while (!this.stopped) {
                const key = `${this.prefix}/${String(i).padStart(7, "0")}`;
                const started = Date.now();
                if (await this.put(this.urls[at % this.urls.length], key)) {
                    const now = Date.now();
                    this.longestGapMs = Math.max(this.longestGapMs, now - this.lastOk);
                    this.lastOk = now;
                    this.acked.push(key);
                    i++;
                    const rest = this.intervalMs - (Date.now() - started);
                    if (rest > 0) await new Promise((r) => setTimeout(r, rest));
                } else {
                    at++;
                    await new Promise((r) => setTimeout(r, 20));
                }
            }
        })();
        return this;
    }

    /** Stop, then read every acknowledged key back. */
    async finish(): Promise<GatewayWriterReport> {
        this.stopped = true;
        await this.loop;
        this.agent.destroy();
        const keys = new Set(etcdctl(this.bin, this.endpoints, this.creds, ["get", `${this.prefix}/`, "--prefix", "--keys-only"], 60_000).stdout.split("\n").filter(Boolean));
        return { acknowledged: this.acked.length, lost: this.acked.filter((k) => !keys.has(k)), longestGapMs: this.longestGapMs };
    }
}

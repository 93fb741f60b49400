/** Checks both end-to-end suites make of a deployed cluster, from outside and on the hosts. */
import * as assert from "node:assert/strict";
import * as http from "node:http";
import * as net from "node:net";
import { ClientCreds, etcdctl } from "./etcdctl";
import { failuresInLongestGap, WriterReport } from "./writer";
import { Inventory, onHost, onHostOk } from "./hosts";

/** Plain http to an https listener: a Go TLS server answers 400 "HTTPS server", or the request fails. */
export async function assertNoPlainHttp(host: string, port: number): Promise<void> {
    const res = await new Promise<{ status?: number; body: string; error?: string }>((resolve) => {
        const req = http.get({ host, port, path: "/v3/kv/range", timeout: 5000 }, (r) => {
            let body = "";
            r.on("data", (c) => (body += c));
            r.on("end", () => resolve({ status: r.statusCode, body }));
        });
        req.on("error", (e) => resolve({ body: "", error: e.message }));
    });
    assert.ok(res.error !== undefined || (res.status === 400 && /HTTPS server/.test(res.body)), `plain http on ${host}:${port}: ${JSON.stringify(res)}`);
}

/** The metrics/health listener must not be reachable from outside, and must answer on the host's loopback. */
export async function assertMetricsLoopbackOnly(inv: Inventory, name: string, address: string, port: number): Promise<void> {
    const outcome = await new Promise<string>((resolve) => {
        const sock = net.connect({ host: address, port, timeout: 3000 }, () => {
            sock.destroy();
            resolve("connected");
        });
        sock.on("error", (e) => resolve(e.message));
        sock.on("timeout", () => {
            sock.destroy();
            resolve("timeout");
        });
    });
    assert.notEqual(outcome, "connected", `metrics port ${port} reachable from outside on ${name}`);
    assert.match(onHostOk(inv, name, `exec 3<>/dev/tcp/127.0.0.1/${port}; printf 'GET /health HTTP/1.0\\r\\n\\r\\n' >&3; cat <&3`), /"health":"true"/);
}

/** Keys 0600 etcd, certs 0644 etcd; data dir 0700 etcd, PKI dir 0750 root:etcd, config dir and helpers 0755 root. */
export function assertPermissions(inv: Inventory, name: string): void {
    const want = (file: string): string[] => {
        if (file.endsWith(".key")) return ["600", "etcd:etcd"];
        if (file.endsWith(".crt")) return ["644", "etcd:etcd"];
        if (file === "/var/lib/etcd") return ["700", "etcd:etcd"];
        if (file === "/etc/etcd/pki") return ["750", "root:etcd"];
        if (file === "/etc/etcd/etcd.conf.yml") return ["640", "root:etcd"];
        return ["755", "root:root"]; // /etc/etcd, /usr/local/lib/etcd-pulumi and its start-inputs tool
    };
    const files = "/etc/etcd/pki/*.key /etc/etcd/pki/*.crt /var/lib/etcd /etc/etcd/pki /etc/etcd /etc/etcd/etcd.conf.yml /usr/local/lib/etcd-pulumi /usr/local/lib/etcd-pulumi/start-inputs";
    for (const line of onHostOk(inv, name, `stat -c '%n %a %U:%G' ${files}`).trim().split("\n")) {
        const [file, mode, owner] = line.split(" ");
        assert.deepEqual([mode, owner], want(file), `${name}: ${line}`);
    }
}

/** SIGKILL the member's etcd; systemd must restart it (new PID) and it must serve again within 60 s. */
export async function assertKillRecovery(inv: Inventory, name: string, clientUrl: string, bin: string, admin: ClientCreds): Promise<void> {
    const pidOf = () => onHost(inv, name, "systemctl show etcd -p MainPID --value").stdout.trim();
    const pid = pidOf();
    onHostOk(inv, name, "systemctl kill -s KILL etcd");
    const deadline = Date.now() + 60_000;
    let ok = false;
    while (Date.now() < deadline && !ok) {
        await new Promise((r) => setTimeout(r, 2000));
        const now = pidOf();
        ok = now !== "0" && now !== pid && etcdctl(bin, clientUrl, admin, ["endpoint", "health"]).status === 0;
    }
    assert.ok(ok, `${name} did not come back healthy within 60 s of SIGKILL`);
}

/** After destroy: etcd stopped, its files gone, the data dir kept. */
export function assertDestroyed(inv: Inventory, name: string): void {
    assert.notEqual(onHost(inv, name, "systemctl is-active etcd").stdout.trim(), "active", `${name}: etcd still active`);
    assert.equal(onHost(inv, name, "test -e /usr/local/bin/etcd || test -e /etc/etcd || test -e /opt/etcd || test -e /etc/systemd/system/etcd.service").status, 1, `${name} still has etcd files`);
    assert.equal(onHost(inv, name, "test -d /var/lib/etcd/member").status, 0, `${name} lost its data dir`);
}

/**
 * Exactly the expected members, all started voters (each with a client URL, no learner), every endpoint
 * healthy, one cluster ID and one non-zero leader that all members agree on.
 */
export function assertOneHealthyCluster(bin: string, endpoints: string, creds: ClientCreds, expected: { name: string; address: string }[], label = "cluster"): void {
    const health = etcdctl(bin, endpoints, creds, ["endpoint", "health", "-w", "json"]);
    assert.equal(health.status, 0, `${label}: ${health.stderr}`);
    assert.ok((JSON.parse(health.stdout) as { health: boolean }[]).every((h) => h.health), `${label}: ${health.stdout}`);
    const ml = etcdctl(bin, endpoints, creds, ["member", "list", "-w", "json"]);
    assert.equal(ml.status, 0, `${label}: ${ml.stderr}`);
    const members = JSON.parse(ml.stdout).members as { name: string; peerURLs: string[]; clientURLs?: string[]; isLearner?: boolean }[];
    assert.deepEqual(
        members.map((m) => `${m.name}@${m.peerURLs[0]}`).sort(),
        expected.map((m) => `${m.name}@https://${m.address}:2380`).sort(),
        `${label}: member list`,
    );
    assert.ok(members.every((m) => !m.isLearner && (m.clientURLs ?? []).length === 1), `${label}: a learner or unstarted member: ${ml.stdout}`);
    const st = etcdctl(bin, endpoints, creds, ["endpoint", "status", "-w", "json"]);
    assert.equal(st.status, 0, `${label}: ${st.stderr}`);
    const status = JSON.parse(st.stdout) as { Status: { leader: string | number; header: { cluster_id: string | number } } }[];
    assert.equal(status.length, expected.length, `${label}: endpoint count`);
    assert.equal(new Set(status.map((x) => String(x.Status.header.cluster_id))).size, 1, `${label}: one cluster id`);
    const leaders = new Set(status.map((x) => String(x.Status.leader)));
    assert.equal(leaders.size, 1, `${label}: all agree on the leader`);
    assert.notEqual([...leaders][0], "0", `${label}: no leader`);
}

/** Every acknowledged write is readable, the writer made progress, and no gap was longer than `maxGapMs`. */
export function assertNoLostWrites(r: WriterReport, label: string, maxGapMs: number, minWrites = 10): void {
    console.log(`${label}: ${r.acknowledged.length} writes acknowledged, ${r.lost.length} lost; longest write gap ${r.longestGapMs} ms`);
    assert.deepEqual(r.lost, [], `${label}: acknowledged writes lost`);
    assert.ok(r.acknowledged.length > minWrites, `${label}: writer made too little progress`);
    assert.ok(r.longestGapMs < maxGapMs, `${label}: longest write gap ${r.longestGapMs} ms; within it: ${failuresInLongestGap(r)}`);
}

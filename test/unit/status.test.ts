/** `npm run status`'s pure parts (tools/status/): reading the stack, parsing what etcdctl and the hosts print, the verdict, the table. */
import { describe, test } from "node:test";
import * as assert from "node:assert/strict";
import { ClusterObservation, MemberObservation, parseAlarms, parseEndpointHealth, parseEndpointStatus, parseEtcdJson, parseHostReport, parseMemberList, SECTION } from "../../tools/status/observations";
import { hostReportScript } from "../../tools/status/probe";
import { COLUMNS, humanAge, humanBytes, renderStatus } from "../../tools/status/table";
import { StackView, statusTarget, StatusInputError } from "../../tools/status/target";
import { attention, defaultBackupMaxAgeSeconds, leaderOf, newestBackup } from "../../tools/status/verdict";

/** A certificate valid until 2036-11-28T13:33:53Z. */
const CERT = `-----BEGIN CERTIFICATE-----
MIIBgTCCASegAwIBAgIUE+SiGF10JhCYWHSs3o0/B2iQb9AwCgYIKoZIzj0EAwIw
FjEUMBIGA1UEAwwLc3RhdHVzLXRlc3QwHhcNMjYxMjAxMTMzMzUzWhcNMzYxMTI4
MTMzMzUzWjAWMRQwEgYDVQQDDAtzdGF0dXMtdGVzdDBZMBMGByqGSM49AgEGCCqG
SM49AwEHA0IABAwPg3IA7uuRaqOIzl1DgH+JgPHrbIZWKBS1B13mjOUwslpnu0th
adnmwLs/4rZ6POIUWxQkB7YUHjV/DK9t4EujUzBRMB0GA1UdDgQWBBQDSVkTpaiO
pnFBfZCLuX76ypfq9DAfBgNVHSMEGDAWgBQDSVkTpaiOpnFBfZCLuX76ypfq9DAP
BgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIGHGNwozEFE0dyH82GAA
DfPCv7kPvWUHMnmGbMm7W7q1AiEA8GKgwV2VphR60XlB8byifFdfIyqo8Qg35oll
ssteJKY=
-----END CERTIFICATE-----
`;
const EXPIRES = "2036-11-28T13:33:53.000Z";
const NOW = new Date("2026-12-01T12:00:00Z");
const SSH_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nx\n-----END OPENSSH PRIVATE KEY-----\n";
const opts = { now: NOW, certRenewBeforeHours: 720, backupMaxAgeSeconds: 300 };

// What etcdctl 3.6 prints (IDs beyond 2^53, as etcd's are).
const statusJson = (id: string, leader: string, over = "") =>
    `[{"Endpoint":"https://10.0.0.11:2379","Status":{"header":{"cluster_id":17237436991929493444,"member_id":${id},"revision":42,"raft_term":3},"version":"3.6.16","dbSize":24576,"dbSizeInUse":16384,"leader":${leader},"raftIndex":120,"raftTerm":3,"raftAppliedIndex":120,"dbSizeQuota":2147483648,"isLearner":false${over}}}]`;
const L = "10276657743932975437";

const member = (name: string, id: string, over: Partial<MemberObservation> = {}): MemberObservation => ({
    name,
    address: `10.0.0.${name.slice(-1)}`,
    clientUrl: `https://10.0.0.${name.slice(-1)}:2379`,
    status: parseEndpointStatus(statusJson(id, L)),
    health: { health: true },
    alarms: [],
    host: { lastSnapshot: { time: "2026-12-01T11:30:00Z", revision: 40 }, certificates: [{ name: "server", notAfter: EXPIRES }] },
    ...over,
});
const healthy = (): ClusterObservation => ({
    members: [member("etcd1", L), member("etcd2", "2"), member("etcd3", "3")],
    memberList: [{ id: L, name: "etcd1", isLearner: false }, { id: "2", name: "etcd2", isLearner: false }, { id: "3", name: "etcd3", isLearner: false }],
    certificates: [{ name: "CA", notAfter: EXPIRES }],
    backup: { configured: false, rpoSeconds: 30 },
});

describe("parsing what etcdctl and the hosts print", () => {
    test("64-bit member IDs survive (as strings); endpoint status fields", () => {
        assert.deepEqual(parseEtcdJson(`{"ID":${L},"x":1}`), { ID: L, x: 1 });
        const s = parseEndpointStatus(statusJson(L, L, `,"errors":["memberID:${L} alarm:NOSPACE "]`))!;
        assert.deepEqual([s.memberId, s.leader, s.clusterId, s.version, s.dbSize, s.dbSizeInUse, s.raftIndex, s.isLearner], [L, L, "17237436991929493444", "3.6.16", 24576, 16384, 120, false]);
        assert.deepEqual(s.errors, [`memberID:${L} alarm:NOSPACE `]);
        assert.equal(parseEndpointStatus("Error: context deadline exceeded"), undefined);
        assert.equal(parseEndpointStatus("[]"), undefined);
    });
    test("health, alarms, member list", () => {
        assert.deepEqual(parseEndpointHealth(`[{"endpoint":"https://10.0.0.11:2379","health":true,"took":"2ms"}]`), { health: true });
        assert.deepEqual(parseEndpointHealth(`[{"endpoint":"x","health":false,"took":"2ms","error":"Active Alarm(s): NOSPACE"}]`), { health: false, error: "Active Alarm(s): NOSPACE" });
        assert.deepEqual([...parseAlarms(`memberID:${L} alarm:NOSPACE\nmemberID:2 alarm:CORRUPT\nmemberID:${L} alarm:CORRUPT\n`)], [[L, ["NOSPACE", "CORRUPT"]], ["2", ["CORRUPT"]]]);
        assert.deepEqual(parseMemberList(`{"header":{"cluster_id":1,"member_id":2},"members":[{"ID":${L},"name":"etcd1","peerURLs":["https://10.0.0.11:2380"]},{"ID":5,"peerURLs":["https://10.0.0.15:2380"],"isLearner":true}]}`), [
            { id: L, name: "etcd1", isLearner: false, peerUrls: ["https://10.0.0.11:2380"] },
            { id: "5", name: "", isLearner: true, peerUrls: ["https://10.0.0.15:2380"] },
        ]);
    });
    test("the host report: the job records and the leaf certificates' expiry; missing files are missing", () => {
        const out = [
            `${SECTION}last-snapshot.json`, `{"time":"2026-12-01T11:30:00Z","revision":40,"size":24608,"file":"/var/lib/etcd-backups/scheduled/etcd-x.db"}`, "",
            `${SECTION}last-backup.json`, "(none)",
            `${SECTION}server.crt`, CERT,
            `${SECTION}peer.crt`, CERT,
            `${SECTION}client.crt`, "(none)",
        ].join("\n");
        const r = parseHostReport(out);
        assert.deepEqual(r.lastSnapshot, { time: "2026-12-01T11:30:00Z", revision: 40, size: 24608, file: "/var/lib/etcd-backups/scheduled/etcd-x.db" });
        assert.equal(r.lastBackup, undefined);
        assert.deepEqual(r.certificates, [{ name: "server", notAfter: EXPIRES }, { name: "peer", notAfter: EXPIRES }]);
    });
    test("the host runs a read-only report of exactly those files", () => {
        const t = statusTarget("prod", view(), () => SSH_KEY);
        const s = hostReportScript(t, t.members[0]);
        for (const f of ["/var/lib/etcd-pulumi/last-snapshot.json", "/var/lib/etcd-pulumi/last-backup.json", "/etc/etcd/pki/server.crt", "/etc/etcd/pki/peer.crt", "/etc/etcd/pki/etcdctl.crt"]) assert.ok(s.includes(`'${f}'`), f);
        assert.doesNotMatch(s, /(^|; |then |else )(rm|mv|systemctl|install|chmod|chown|etcdctl) /m, "read-only");
    });
});

describe("the verdict: what needs attention", () => {
    test("a healthy cluster needs none; the leader is the member all name", () => {
        assert.deepEqual(attention(healthy(), opts), []);
        assert.deepEqual(leaderOf(healthy()), { id: L, name: "etcd1" });
    });
    test("each finding names the member and what to do", () => {
        const cases: [(o: ClusterObservation) => void, RegExp][] = [
            [(o) => Object.assign(o.members[1], { status: undefined, statusError: "context deadline exceeded", health: { health: false } }), /^etcd2: unreachable over TLS at https:\/\/10\.0\.0\.2:2379 \(context deadline exceeded\)/],
            [(o) => (o.members[2].health = { health: false, error: "Active Alarm(s): NOSPACE" }), /^etcd3: unhealthy \(Active Alarm\(s\): NOSPACE\)$/],
            [(o) => (o.members[0].alarms = ["NOSPACE"]), /^etcd1: alarm NOSPACE raised; the database is over its quota and refuses writes/],
            [(o) => (o.members[1].status = { ...o.members[1].status!, isLearner: true }), /^etcd2: still a learner/],
            [(o) => Object.assign(o.members[2], { host: undefined, hostError: "unreachable: No route to host" }), /^etcd3: its host did not answer over SSH \(unreachable: No route to host\)/],
            [(o) => Object.assign(o.members[1], { host: undefined, hostSkipped: "not in the stack's config as deployed (config changed since the last up)" }), /^etcd2: not in the stack's config as deployed \(config changed since the last up\), so its host was not asked; run pulumi up/],
            [(o) => (o.members[0].host!.certificates = [{ name: "peer", notAfter: "2026-12-20T00:00:00.000Z" }]), /^etcd1: peer certificate expires 2026-12-20T00:00:00\.000Z \(within certRenewBeforeHours, 720 h\); run pulumi up to renew it$/],
            [(o) => (o.certificates = [{ name: "CA", notAfter: "2026-12-02T00:00:00.000Z" }]), /^the CA certificate expires .*: rotate the CA/],
            [(o) => o.memberList!.push({ id: "9", name: "etcd9", isLearner: false }), /^the cluster's member list has etcd9 that the stack did not deploy/],
            [(o) => o.members.forEach((m) => (m.status = { ...m.status!, leader: "0" })), /^no leader: /],
            [(o) => (o.members[2].status = { ...o.members[2].status!, leader: "3" }), /^the members disagree about the leader/],
            [(o) => (o.backup.configured = true), /^off-host backups are configured but no member recorded one/],
            [(o) => ((o.backup.configured = true), (o.members[1].host!.lastBackup = { time: "2026-12-01T11:50:00Z", revision: 100, kind: "delta" })), /^the newest off-host backup is 600 s old \(2026-12-01T11:50:00Z, by etcd2\), more than 300 s/],
        ];
        for (const [spoil, finding] of cases) {
            const o = healthy();
            spoil(o);
            const found = attention(o, opts);
            assert.equal(found.length, 1, `${finding}: ${JSON.stringify(found)}`);
            assert.match(found[0], finding);
        }
    });
    test("backups: the newest across members and who made it; fresh enough is fine; the default threshold follows the RPO", () => {
        const o = healthy();
        o.backup.configured = true;
        o.members[0].host!.lastBackup = { time: "2026-12-01T10:00:00Z", kind: "full" };
        o.members[2].host!.lastBackup = { time: "2026-12-01T11:59:40Z", kind: "delta", revision: 120 };
        assert.deepEqual(newestBackup(o), { record: o.members[2].host!.lastBackup, by: "etcd3" });
        assert.deepEqual(attention(o, opts), []);
        assert.equal(defaultBackupMaxAgeSeconds(30), 300);
        assert.equal(defaultBackupMaxAgeSeconds(3600), 36000);
    });
});

describe("the table", () => {
    test("one row per member in the stack's order, every column; the backup and certificate lines; the result", () => {
        const o = healthy();
        o.backup.configured = true;
        o.members[0].host!.lastBackup = { time: "2026-12-01T11:59:40Z", kind: "delta", revision: 120 };
        Object.assign(o.members[2], { status: undefined, statusError: "x", host: undefined, hostError: "unreachable: x" });
        const out = renderStatus("prod", o, attention(o, opts), NOW);
        const lines = out.split("\n");
        assert.equal(lines[0], "Cluster of stack prod: 3 member(s), leader etcd1");
        assert.deepEqual(lines[1].split(/ {2,}/), COLUMNS);
        assert.deepEqual(lines[2].split(/ {2,}/), ["etcd1", "10.0.0.1", "healthy", "leader", "120", "24.0 KiB", "16.0 KiB (67%)", "-", "3.6.16", "2026-12-01T11:30:00Z (30m ago)", "2026-12-01T11:59:40Z (20s ago)", "2036-11-28 (3650d)"]);
        assert.deepEqual(lines[3].split(/ {2,}/).slice(0, 4), ["etcd2", "10.0.0.2", "healthy", "-"]);
        assert.deepEqual(lines[4].split(/ {2,}/), ["etcd3", "10.0.0.3", "unreachable", "?", "?", "?", "?", "?", "?", "?", "?", "?"]);
        assert.equal(lines[5], "Off-host backup: newest 2026-12-01T11:59:40Z (20s ago), revision 120, delta, made by etcd1");
        assert.equal(lines[6], "Certificates from the stack's outputs: CA 2036-11-28 (3650d)");
        assert.equal(lines[7], "Needs attention:");
        assert.match(out, /\nResult: ATTENTION \(2\)\n$/);
        assert.match(renderStatus("prod", healthy(), [], NOW), /\nOff-host backup: not configured\n.*\nResult: ok\n$/);
    });
    test("sizes and ages read like an operator writes them", () => {
        assert.deepEqual([humanBytes(512), humanBytes(20480), humanBytes(3 * 1024 ** 3)], ["512 B", "20.0 KiB", "3.0 GiB"]);
        assert.deepEqual([humanAge(12), humanAge(600), humanAge(7200), humanAge(3 * 86400)], ["12s ago", "10m ago", "2h ago", "3d ago"]);
    });
});

function view(over: Partial<StackView["outputs"]> = {}): StackView {
    const members = [
        { name: "etcd1", address: "10.0.0.11" },
        { name: "etcd2", address: "10.0.0.12" },
    ];
    return {
        outputs: {
            deployedMembers: [...members, { name: "etcd3", address: "10.0.0.13" }],
            clientUrls: ["https://10.0.0.11:2379", "https://10.0.0.12:2379", "https://10.0.0.13:2379"],
            etcdVersion: "3.6.16",
            caBundlePem: CERT,
            adminCertPem: CERT,
            adminKeyPem: "ADMIN-KEY",
            ...over,
        },
        config: {
            "etcd-pulumi:members": { value: JSON.stringify([{ ...members[0], hostKey: "ssh-ed25519 AAAAC3Nza" }, { ...members[1], sshUser: "deploy", sshPort: 2222 }, { name: "etcd4", address: "10.0.0.14" }]) },
            "etcd-pulumi:sshPrivateKeyPath": { value: "/keys/id" },
            "etcd-pulumi:binary": { value: JSON.stringify({ path: "/tmp/etcd-v3.6.16-linux-amd64.tar.gz", sha256: "b".repeat(64) }) },
            "etcd-pulumi:certRenewBeforeHours": { value: "100" },
            "etcd-pulumi:allowEvenMembers": { value: "true" },
        },
    };
}

describe("reading the stack", () => {
    test("members from the outputs, reached as the config says (user, port, host key, sudo); a member the config dropped has no SSH route", () => {
        const t = statusTarget("prod", view(), (p) => (p === "/keys/id" ? SSH_KEY : ""));
        assert.deepEqual(t.members.map((m) => [m.name, m.clientUrl, m.sudo]), [["etcd1", "https://10.0.0.11:2379", false], ["etcd2", "https://10.0.0.12:2379", true], ["etcd3", "https://10.0.0.13:2379", false]]);
        assert.deepEqual(t.members[0].route, { target: { host: "10.0.0.11", port: 22, user: "root", hostKey: "ssh-ed25519 AAAAC3Nza" } });
        assert.deepEqual(t.members[1].route, { target: { host: "10.0.0.12", port: 2222, user: "deploy" } });
        assert.equal(t.members[2].route, undefined);
        assert.match(t.members[2].noRoute!, /not in the stack's config/);
        assert.equal(t.privateKey, SSH_KEY);
        assert.deepEqual([t.certRenewBeforeHours, t.version, t.backup.configured, t.localArchive], [100, "3.6.16", false, "/tmp/etcd-v3.6.16-linux-amd64.tar.gz"]);
    });
    test("a stack never deployed is a clear error", () => {
        assert.throws(() => statusTarget("prod", view({ deployedMembers: undefined }), () => SSH_KEY), (e: Error) => e instanceof StatusInputError && /never deployed successfully \(run pulumi up first\)/.test(e.message));
    });
});

/**
 * Looks at the cluster (the impure part of `npm run status`): etcdctl over TLS from this machine with the
 * admin client, and one short read-only SSH session per member for what only the host has (the last
 * snapshot and backup records, the leaf certificates). Everything runs at once, each bounded.
 */
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { runOverSsh } from "../../components/deployerSsh/run";
import { LAST_SNAPSHOT_FILE } from "../../components/render/scheduledSnapshot";
import { script, stepInvocation, stepStdin, shq } from "../../components/render/shell";
import { certificateNotAfter, ClusterObservation, MemberObservation, NONE, parseAlarms, parseEndpointHealth, parseEndpointStatus, parseHostReport, parseMemberList, SECTION } from "./observations";
import { MemberTarget, StatusTarget } from "./target";

/** Written by the off-host backup job on the member that uploads (shared on-host convention). */
export const LAST_BACKUP_FILE = "/var/lib/etcd-pulumi/last-backup.json";

function run(bin: string, args: string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
        const child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"], timeout: timeoutMs, killSignal: "SIGKILL" });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
        child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        child.on("error", (e) => resolve({ code: null, stdout, stderr: e.message }));
        child.on("close", (code) => resolve({ code, stdout, stderr }));
    });
}

const lastLine = (s: string) => s.split("\n").map((l) => l.replace(/^\{"level".*"msg":"([^"]*)".*$/, "$1").trim()).filter(Boolean).pop() ?? "";

const DEPLOYER_ARCH: Record<string, string> = { x64: "amd64", arm64: "arm64", ppc64: "ppc64le", s390x: "s390x" };

/**
 * etcdctl of the deployed release, for this machine: unpacked from the release archive setup cached (or the
 * stack's own local archive, or the component's download cache), else the etcdctl on PATH.
 */
export function findEtcdctl(t: StatusTarget, workDir: string): { bin: string; from: string } {
    const arch = DEPLOYER_ARCH[process.arch] ?? process.arch;
    const name = `etcd-v${t.version}-linux-${arch}.tar.gz`;
    const cache = process.env.ETCD_PULUMI_CACHE ?? path.join(os.homedir(), ".cache", "etcd-pulumi");
    const downloads = path.join(cache, "downloads");
    const candidates = [
        path.join(cache, "etcd-releases", `v${t.version}`, name),
        ...(t.localArchive && path.basename(t.localArchive) === name ? [t.localArchive] : []),
        ...(fs.existsSync(downloads) ? fs.readdirSync(downloads).map((d) => path.join(downloads, d, name)) : []),
    ];
    for (const archive of candidates.filter((c) => fs.existsSync(c))) {
        const r = spawnSync("tar", ["-xzf", archive, "-C", workDir, "--strip-components=1", `etcd-v${t.version}-linux-${arch}/etcdctl`]);
        const bin = path.join(workDir, "etcdctl");
        if (r.status === 0 && spawnSync(bin, ["version"]).status === 0) return { bin, from: archive };
    }
    if (spawnSync("etcdctl", ["version"]).status === 0) return { bin: "etcdctl", from: "PATH" };
    throw new Error(`no etcdctl for etcd ${t.version}: none in ${candidates[0]} (npm run setup caches it) and none on PATH`);
}

/** The read-only script the host runs: each file under its section marker, or (none). */
export function hostReportScript(t: StatusTarget, m: MemberTarget): string {
    const files: [string, string][] = [
        ["last-snapshot.json", LAST_SNAPSHOT_FILE],
        ["last-backup.json", LAST_BACKUP_FILE],
        ["server.crt", t.paths.serverCert],
        ["peer.crt", t.paths.peerCert],
        ["client.crt", t.paths.clientCert],
    ];
    return script(
        { host: m.name, step: "status" },
        files.map(([label, f]) => `printf '%s\\n' ${shq(`${SECTION}${label}`)}; if [ -r ${shq(f)} ]; then cat ${shq(f)}; echo; else echo ${shq(NONE)}; fi`),
    );
}

export async function observe(t: StatusTarget, etcdctl: string, workDir: string): Promise<ClusterObservation> {
    const write = (name: string, body: string, mode: number) => {
        const p = path.join(workDir, name);
        fs.writeFileSync(p, body, { mode });
        return p;
    };
    const tls = [`--cacert=${write("ca.crt", t.pems.ca, 0o644)}`, `--cert=${write("admin.crt", t.pems.adminCert, 0o644)}`, `--key=${write("admin.key", t.pems.adminKey, 0o600)}`, "--dial-timeout=3s", "--command-timeout=5s"];
    const ctl = (endpoints: string, ...args: string[]) => run(etcdctl, [`--endpoints=${endpoints}`, ...tls, ...args], 20_000);
    const all = t.members.map((m) => m.clientUrl).join(",");
    const [alarmOut, listOut, ...members] = await Promise.all([
        ctl(all, "alarm", "list"),
        ctl(all, "member", "list", "-w", "json"),
        ...t.members.map(async (m): Promise<MemberObservation> => {
            const [status, health, host] = await Promise.all([
                ctl(m.clientUrl, "endpoint", "status", "-w", "json"),
                ctl(m.clientUrl, "endpoint", "health", "-w", "json"),
                m.route
                    ? runOverSsh(m.route, t.privateKey, stepInvocation(`${m.name}/status`, "status", m.sudo), stepStdin({ status: hostReportScript(t, m) }), {
                          attempts: t.ssh.attempts,
                          connectTimeoutSeconds: t.ssh.connectTimeoutSeconds,
                          runTimeoutSeconds: 30,
                      })
                    : undefined,
            ]);
            const st = status.code === 0 ? parseEndpointStatus(status.stdout) : undefined;
            return {
                name: m.name,
                address: m.address,
                clientUrl: m.clientUrl,
                status: st,
                ...(st ? {} : { statusError: lastLine(status.stderr) || "no answer" }),
                health: parseEndpointHealth(health.stdout) ?? (health.code === 0 ? undefined : { health: false, error: lastLine(health.stderr) }),
                alarms: [],
                ...(host === undefined ? { hostSkipped: m.noRoute } : host.outcome === "ok" ? { host: parseHostReport(host.stdout) } : { hostError: `${host.outcome}: ${host.reason}` }),
            };
        }),
    ]);
    const alarms = parseAlarms(alarmOut.stdout);
    for (const m of members) m.alarms = (m.status && alarms.get(m.status.memberId)) || [];
    const certificates = [
        { name: "CA", pem: t.pems.ca },
        { name: "admin", pem: t.pems.adminCert },
        ...(t.pems.apiserverCert ? [{ name: "apiserver", pem: t.pems.apiserverCert }] : []),
    ].flatMap((c) => {
        const notAfter = certificateNotAfter(c.pem);
        return notAfter ? [{ name: c.name, notAfter }] : [];
    });
    return { members, memberList: listOut.code === 0 ? parseMemberList(listOut.stdout) : undefined, certificates, backup: t.backup };
}

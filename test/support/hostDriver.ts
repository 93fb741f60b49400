/**
 * Drives the component's host steps over real SSH without the Pulumi engine, in the order the
 * component wires them (upload -> configure -> start; then ready on all). Used by the
 * host-level e2e test and the benchmark.
 */
import * as assert from "node:assert/strict";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import { incarnationOf } from "../../components/plan/bootstrap";
import { planMembership } from "../../components/plan/membership";
import { clientUrl, renderEtcdConfig } from "../../components/render/config";
import { memberFilePaths, memberFiles, renderFileBundle } from "../../components/render/files";
import * as day2 from "../../components/render/membership";
import { HostPaths, hostPaths } from "../../components/render/paths";
import { renderEtcdctlProfile } from "../../components/render/profile";
import { scheduledSnapshotFiles } from "../../components/render/scheduledSnapshot";
import { maintenanceFiles } from "../../components/maintenance/hostFiles";
import * as steps from "../../components/render/scripts";
import { stepInvocation, stepStdin } from "../../components/render/shell";
import { renderUnit } from "../../components/render/unit";
import { ClusterSettings, MemberSettings } from "../../components/settings";
import { resolveSettings } from "../../components/validate";
import { releaseArchive } from "./etcdctl";
import { Inventory } from "./hosts";
import { TestPki } from "./opensslPki";
import { copyTo, runRemote, StepResult } from "./remote";

export const paths: HostPaths = hostPaths("/var/lib/etcd");

export function archiveSha256(version: string): string {
    return crypto.createHash("sha256").update(fs.readFileSync(releaseArchive(version).archive)).digest("hex");
}

export function settingsFor(inv: Inventory, names: string[], version: string, over: Record<string, unknown> = {}): ClusterSettings {
    return resolveSettings({
        members: inv.hosts.filter((h) => names.includes(h.name)).map((h) => ({ name: h.name, address: h.address })),
        ssh: { user: "deploy", privateKey: "unused: the driver runs ssh itself" },
        binary: { path: releaseArchive(version).archive, sha256: archiveSha256(version) },
        version,
        healthTimeoutSeconds: 60,
        ...over,
    });
}

export class HostDriver {
    constructor(private readonly inv: Inventory, private readonly pki: TestPki, private readonly token = "host-driver-token") {}

    /** Runs a script the way the component does: on stdin, through the same launcher. */
    step(m: MemberSettings, body: string): Promise<StepResult> {
        return runRemote(this.inv, m.sshUser, m.address, stepInvocation(`${m.name}/test`, "run", m.sudo), stepStdin({ run: body }));
    }

    async stepOk(m: MemberSettings, body: string): Promise<StepResult> {
        const r = await this.step(m, body);
        assert.equal(r.status, 0, `${m.name}: ${r.stderr}${r.stdout}`);
        return r;
    }

    /** The files step's stdin; `leafs` and `caBundle` override the driver's PKI (certificate rotation). */
    bundle(s: ClusterSettings, m: MemberSettings, initialMembers: MemberSettings[] = s.members, leafs: TestPki = this.pki, caBundle: string = this.pki.ca): string {
        const c = leafs.members.get(m.name)!;
        return renderFileBundle(
            memberFiles(paths, {
                config: renderEtcdConfig({ settings: s, member: m, initialMembers, clusterToken: this.token, paths }),
                unit: renderUnit(s, paths),
                profile: renderEtcdctlProfile(s, paths),
                ...scheduledSnapshotFiles(s, paths),
                caCert: caBundle,
                serverCert: c.server.cert,
                serverKey: c.server.key,
                peerCert: c.peer.cert,
                peerKey: c.peer.key,
                clientCert: c.client.cert,
                clientKey: c.client.key,
            },
            // The maintenance job goes wherever etcd goes (the service step enables its timer).
            maintenanceFiles(s, m, paths, s.maintenance),
            ),
        );
    }

    /** Day 1: per-member steps in parallel across members, then the bounded health wait on all. */
    async bootstrap(s: ClusterSettings): Promise<void> {
        const sha = s.binary.sha256!;
        await Promise.all(
            s.members.map(async (m) => {
                await this.upload(s, m);
                await this.stepOk(m, steps.configureScript(s, m, paths, { sha256: sha, bootstrapState: "new", bundle: this.bundle(s, m) }));
                // A founder: its join lines only record the incarnation its data belongs to (as in the component).
                await this.stepOk(m, steps.serviceScript(s, m, paths, "bootstrap", day2.joinLines(s, m, paths, { incarnation: incarnationOf(m) })));
            }),
        );
        await Promise.all(s.members.map((m) => this.stepOk(m, steps.readyScript(s, m, paths))));
    }

    /** A changed config: files on every member, then the health-gated restart one member at a time. */
    async roll(s: ClusterSettings, leafs: TestPki = this.pki, caBundle: string = this.pki.ca): Promise<void> {
        for (const m of s.members) await this.stepOk(m, steps.filesScript(s, m, paths, "existing", this.bundle(s, m, s.members, leafs, caBundle)));
        for (const m of [...s.members].sort((a, b) => a.name.localeCompare(b.name))) await this.stepOk(m, steps.serviceScript(s, m, paths, "converge"));
    }

    /** Put a release on a member (upload + install); used for first installs and upgrades. */
    async install(s: ClusterSettings, m: MemberSettings): Promise<void> {
        await this.upload(s, m);
        await this.stepOk(m, steps.installScript(s, m, paths, s.binary.sha256!));
    }

    /** The release archive to the SSH user's home, where the component's upload puts it. */
    async upload(s: ClusterSettings, m: MemberSettings): Promise<void> {
        const dir = await runRemote(this.inv, m.sshUser, m.address, `mkdir -p ${paths.stagingDir}`);
        assert.equal(dir.status, 0, dir.stderr);
        const up = await copyTo(this.inv, m.sshUser, m.address, releaseArchive(s.version).archive, steps.stagedArchivePath(s, paths));
        assert.equal(up.status, 0, up.stderr);
    }

    /** Upgrade: verified snapshot on the runner, new binaries everywhere, then the health-gated roll. */
    async upgrade(s: ClusterSettings, runner: MemberSettings): Promise<StepResult> {
        const snap = await this.stepOk(runner, day2.snapshotScript(s, runner, paths, `pre-upgrade-to-${s.version}`));
        for (const m of s.members) await this.install(s, m);
        await this.roll(s);
        return snap;
    }

    /**
     * Membership change from `deployed` to `s.members`, with the component's steps (cluster.ts, member.ts):
     * the remove-members step on the runner (pruneScript: every member the config no longer lists leaves,
     * one at a time, while the rest is healthy); a leaving host that can still be reached is stopped and
     * wiped; then each joiner in plan order: upload, configure with state existing and its exact
     * initial-cluster, the service step with its join lines (old incarnation out, learner add through the
     * other members, start, promote), ready. Members that stay get the files step (new endpoint list; their
     * restart key is unchanged, so no restart).
     */
    async changeMembership(deployed: MemberSettings[], s: ClusterSettings, runner: MemberSettings, reachable: (name: string, address: string) => boolean = () => true): Promise<void> {
        const plan = planMembership(deployed, s.members);
        await this.stepOk(runner, day2.pruneScript(s, runner, paths, s.members, "update"));
        const rejoining = new Set(plan.add.map((a) => a.member.name));
        for (const r of plan.remove.filter((x) => !rejoining.has(x.name))) {
            const old = deployed.find((m) => m.name === r.name && m.address === r.address)!;
            if (!reachable(old.name, old.address)) continue;
            await this.stepOk(old, steps.stopScript(old));
            await this.stepOk(old, steps.configureDeleteScript(s, old, paths, memberFilePaths(paths), true));
        }
        for (const a of plan.add) {
            const m = a.member;
            const joinVia = a.initialMembers.filter((p) => p.name !== m.name).map((p) => clientUrl(p, s));
            await this.upload(s, m);
            await this.stepOk(m, steps.configureScript(s, m, paths, { sha256: s.binary.sha256!, bootstrapState: "existing", bundle: this.bundle(s, m, a.initialMembers) }));
            await this.stepOk(m, steps.serviceScript(s, m, paths, "bootstrap", day2.joinLines(s, m, paths, { incarnation: incarnationOf(m), joinVia })));
            await this.stepOk(m, steps.readyScript(s, m, paths));
        }
        for (const m of plan.keep) await this.stepOk(m, steps.filesScript(s, m, paths, "existing", this.bundle(s, m)));
    }
}

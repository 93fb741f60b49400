/**
 * Drives the component's host steps over real SSH without the Pulumi engine, in the order the
 * component wires them (upload -> configure -> start; then ready on all). Used by the
 * host-level e2e test and the benchmark.
 */
import * as assert from "node:assert/strict";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import { renderEtcdConfig } from "../../components/render/config";
import { memberFiles, renderFileBundle } from "../../components/render/files";
import { HostPaths, hostPaths } from "../../components/render/paths";
import { renderEtcdctlProfile } from "../../components/render/profile";
import * as steps from "../../components/render/scripts";
import * as day2 from "../../components/render/membership";
import { memberFilePaths } from "../../components/render/files";
import { planMembership } from "../../components/plan/membership";
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
                caCert: caBundle,
                serverCert: c.server.cert,
                serverKey: c.server.key,
                peerCert: c.peer.cert,
                peerKey: c.peer.key,
                clientCert: c.client.cert,
                clientKey: c.client.key,
            }),
        );
    }

    /** Day 1: per-member steps in parallel across members, then the bounded health wait on all. */
    async bootstrap(s: ClusterSettings): Promise<void> {
        const sha = s.binary.sha256!;
        await Promise.all(
            s.members.map(async (m) => {
                await this.upload(s, m);
                await this.stepOk(m, steps.configureScript(s, m, paths, { sha256: sha, bootstrapState: "new", bundle: this.bundle(s, m) }));
                await this.stepOk(m, steps.serviceScript(s, m, paths, "bootstrap"));
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
     * Membership change from `deployed` to `s.members`, as planned: removals first (member remove on
     * the runner, then the leaving host is stopped and wiped), then additions one at a time (learner,
     * start with state existing, promote, health).
     */
    async changeMembership(deployed: MemberSettings[], s: ClusterSettings, runner: MemberSettings, reachable: (name: string, address: string) => boolean = () => true): Promise<void> {
        const plan = planMembership(deployed.map((m) => ({ name: m.name, address: m.address })), s.members);
        for (const r of plan.remove) {
            await this.stepOk(runner, day2.memberRemoveScript(s, runner, r, paths));
            const old = deployed.find((m) => m.name === r.name && m.address === r.address)!;
            if (!reachable(old.name, old.address)) continue;
            await this.stepOk(old, steps.stopScript(old));
            await this.stepOk(old, steps.configureDeleteScript(s, old, paths, memberFilePaths(paths), true));
        }
        for (const a of plan.add) {
            const m = a.member;
            await this.stepOk(runner, day2.memberAddScript(s, runner, m, paths));
            await this.upload(s, m);
            await this.stepOk(m, steps.configureScript(s, m, paths, { sha256: s.binary.sha256!, bootstrapState: "existing", bundle: this.bundle(s, m, a.initialMembers) }));
            await this.stepOk(m, steps.serviceScript(s, m, paths, "bootstrap"));
            await this.stepOk(runner, day2.promoteScript(s, runner, m, paths));
            await this.stepOk(m, steps.readyScript(s, m, paths));
        }
        // Members that stay get the new endpoint list; their restart key is unchanged, so no restart.
        for (const m of plan.keep) await this.stepOk(m, steps.filesScript(s, m, paths, "existing", this.bundle(s, m)));
    }
}

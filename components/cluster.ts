/** EtcdCluster: the component other stacks import. */
import { randomUUID } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { remote } from "@pulumi/command";
import { addAuthAfterBootstrapStep, addAuthStep, AuthStepsInputs } from "./auth/steps";
import { connectionFor, EtcdMember } from "./member";
import { pruneScript, snapshotScript } from "./render/membership";
import { stepInvocation, stepStdin } from "./render/shell";
import { createPki } from "./pki";
import { obtainRelease } from "./release";
import { hostPaths } from "./render/paths";
import { ClusterSettings } from "./settings";
import { desiredRecord } from "./plan/desiredRecord";
import { policySummary } from "./policySummary";
import { inspectRestoreSource } from "./restore/snapshotFile";
import { addRestoreSteps } from "./restore/steps";
import { EtcdClientCertificate, EtcdClusterArgs, EtcdDeployedMember } from "./types";
import { resolveSettings } from "./validate";
import { deriveBackupKeys, macPads } from "./backup/keys";
import { BackupHostSecrets } from "./backup/hostFiles";
import { inspectStoreRestore, storeRestoreId } from "./backup/storeRestore";
import { storeReaderFor } from "./backup/storeReader";
import { RestoreRequest } from "./restore/plan";
import { monitoringOutputs } from "./monitoring/outputs";
import { cleanupHost } from "./hostCleanup/plan";
import { EtcdHostCleanup } from "./hostCleanup/resource";
import { EtcdClusterRecord } from "./record";

/**
 * No delete of a host step ever runs: the command provider's delete dials the host and fails the run when
 * that host is gone for good (pulumi/pulumi-command#104). The host-cleanup resource cleans leaving hosts
 * instead, tolerating an unreachable one. (Applies to every remote step under the cluster, present and future.)
 */
const keepHostStepsOnDelete: pulumi.ResourceTransformation = (a) =>
    a.type.startsWith("command:remote:") ? { props: a.props, opts: pulumi.mergeOptions(a.opts, { retainOnDelete: true }) } : undefined;

/**
 * A highly-available, TLS-secured etcd cluster on existing Linux hosts over SSH: its PKI, a verified etcd
 * release, a hardened systemd unit and config on every member, changes rolled out one member at a time.
 */
export class EtcdCluster extends pulumi.ComponentResource {
    /** Client URLs of all members, in member-list order. Resolves once every member passed its readiness check. */
    public readonly clientUrls: pulumi.Output<string[]>;
    /** Comma-joined client URLs, ready for kube-apiserver's --etcd-servers. Resolves once the cluster is ready. */
    public readonly clientEndpoints: pulumi.Output<string>;
    /** Peer URLs of all members, in member-list order. Resolves once the cluster is ready. */
    public readonly peerUrls: pulumi.Output<string[]>;
    /** Member names, in member-list order. Resolves once the cluster is ready. */
    public readonly memberNames: pulumi.Output<string[]>;
    /** The CAs to trust (PEM): the cluster's CA, or the old and the new one while a CA rotation runs. */
    public readonly caCertPem: pulumi.Output<string>;
    /** Same as caCertPem, under the name the CA rotation docs use: clients should trust exactly this bundle. */
    public readonly caBundlePem: pulumi.Output<string>;
    /** The admin client certificate (PEM), for etcdctl. */
    public readonly adminCertPem: pulumi.Output<string>;
    /**
     * The admin client's private key (PEM).
     * @secret
     */
    public readonly adminKeyPem: pulumi.Output<string>;
    /** The client certificate (PEM) for kube-apiserver's --etcd-certfile. */
    public readonly apiserverCertPem: pulumi.Output<string>;
    /**
     * The private key (PEM) for kube-apiserver's --etcd-keyfile.
     * @secret
     */
    public readonly apiserverKeyPem: pulumi.Output<string>;
    /** etcdctl command line using the admin client certificate saved as ca.crt / admin.crt / admin.key. */
    public readonly etcdctlCommand: pulumi.Output<string>;
    /** The etcd version every member runs. Resolves once the cluster is ready, so a failed upgrade never reports it. */
    public readonly version: pulumi.Output<string>;
    /** Names and addresses of the members, as deployed. Resolves once the cluster is ready. */
    public readonly deployedMembers: pulumi.Output<EtcdDeployedMember[]>;
    /**
     * The declared clients' certificates by client name: { certPem, keyPem } each (CN = the name,
     * the etcd user it acts as). Resolves once their users are in place.
     * @secret
     */
    public readonly clientCertificates: pulumi.Output<Record<string, EtcdClientCertificate>>;
    /** At preview: what this run will do to the cluster, one line per step (empty when nothing changes). */
    public readonly plannedChanges: pulumi.Output<string[]>;
    /**
     * The key the off-host backups are encrypted with (keep a copy: a restore into a new stack needs it). Undefined without backup.
     * @secret
     */
    public readonly backupEncryptionKey: pulumi.Output<string | undefined>;
    /** Prometheus' client certificate for the members' metrics listeners (monitoring over https); undefined otherwise. */
    public readonly monitoringCertPem: pulumi.Output<string | undefined>;
    /**
     * The key of monitoringCertPem.
     * @secret
     */
    public readonly monitoringKeyPem: pulumi.Output<string | undefined>;
    /** A Prometheus configuration fragment (`scrape_configs:`) that scrapes every member (monitoring); undefined otherwise. */
    public readonly prometheusScrapeConfig: pulumi.Output<string | undefined>;
    /** A Prometheus rules file: etcd's mixin alerts and this component's own (monitoring); undefined otherwise. */
    public readonly prometheusRules: pulumi.Output<string | undefined>;

    constructor(name: string, args: EtcdClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        // Validate before anything is registered: bad input never reaches a host.
        const s: ClusterSettings = resolveSettings(args);
        // The component's inputs are a policy-facing summary (no secrets), so policy packs can judge the cluster.
        super("etcd-pulumi:index:EtcdCluster", name, { ...policySummary(s) }, { ...opts, transformations: [...(opts?.transformations ?? []), keepHostStepsOnDelete] });
        const paths = hostPaths(s.dataDir, s.walDir);

        // First: the record of the deployment. Its check refuses unsafe changes before any other resource
        // of this cluster is registered, because every one of them depends on it.
        // The release is verified first: the record waits for it, so an archive that cannot be had or does
        // not match its checksum stops the run before anything is registered or recorded.
        const release = obtainRelease(s.binary, s.version, s.arch, s.cacheDir);
        // Off-host backups: encrypted with the key the config gives, else with one generated once and kept in the stack.
        const b = s.backup;
        const backupArgs = args.backup;
        const backupKey: pulumi.Output<string> | undefined =
            b && backupArgs
                ? backupArgs.encryptionKey !== undefined
                    ? pulumi.secret(pulumi.output(backupArgs.encryptionKey))
                    : new random.RandomBytes(`${name}-backup-key`, { length: 32 }, { parent: this }).hex
                : undefined;
        const secretAccessKey = backupArgs ? pulumi.secret(pulumi.output(backupArgs.secretAccessKey)) : undefined;
        const backupSecrets: pulumi.Output<BackupHostSecrets> | undefined =
            backupKey && secretAccessKey
                ? pulumi.secret(
                      pulumi.all([backupKey, secretAccessKey]).apply(([key, sk]) => {
                          const keys = deriveBackupKeys(key);
                          return { encryptionPass: keys.encryptionPass, macPads: macPads(keys.macKey), secretAccessKey: sk };
                      }),
                  )
                : undefined;
        // So is what to restore from: a bad snapshot file, or a store that holds no such backup or was written
        // with another key, stops the run before any host is touched.
        const restoreFrom = s.restoreFrom;
        const fromStore = s.restoreFromBackup;
        let restoreRequest: pulumi.Output<RestoreRequest | undefined>;
        let restoreId: string | undefined;
        if (fromStore && b && backupKey && secretAccessKey) {
            restoreRequest = pulumi.unsecret(
                pulumi.all([backupKey, secretAccessKey]).apply(([key, sk]) =>
                    inspectStoreRestore(b, fromStore.text, fromStore.selector, deriveBackupKeys(key), storeReaderFor(b, sk)).catch((e: Error) => {
                        // The engine reports a failed input as a chain of "error serializing property" lines: say it plainly first.
                        pulumi.log.error(e.message, this);
                        throw e;
                    }),
                ),
            );
            restoreId = storeRestoreId(b.store.url, fromStore.text);
        } else {
            restoreRequest = pulumi.output(release.then((r) => (restoreFrom ? inspectRestoreSource(restoreFrom, r, s.version, s.arch, s.cacheDir) : undefined)));
        }
        const runId = randomUUID();
        const record = new EtcdClusterRecord(
            `${name}-record`,
            {
                record: pulumi
                    .all([release, restoreRequest])
                    .apply(([r, request]) => desiredRecord(s, paths, r.sha256, restoreId !== undefined ? { id: restoreId } : request ? { id: request.id } : undefined)),
                restoreRequest,
                renewBeforeHours: s.certRenewBeforeHours,
                now: process.env.ETCD_PULUMI_NOW ?? new Date().toISOString(),
                runId,
            },
            { parent: this },
        );
        // Whether this run creates the cluster (the record says so for this run only): then nothing runs before
        // the members start (no data to snapshot, nobody to remove, no users yet), and they start together.
        const fresh = pulumi.all([record.runId, record.freshCluster]).apply(([r, f]) => r === runId && f === true);
        this.plannedChanges = record.plannedChanges;
        // A restore replaces what the cluster holds, authentication turned on or off changes who may do what: warnings, so no reviewer misses them.
        record.plannedChanges.apply((lines) => (lines ?? []).forEach((l) => (/^(RESTORE|AUTHENTICATION)/.test(l) ? pulumi.log.warn(l, this) : pulumi.log.info(l, this))));
        const after: pulumi.Resource[] = [record];

        // Every leaf certificate is replaced when the record says it is due (no restart needed).
        const pki = createPki(name, s, this, after, record.leafRenewal.apply((r) => r.generation));
        const clusterToken: pulumi.Input<string> =
            s.clusterToken ?? new random.RandomId(`${name}-cluster-token`, { byteLength: 12, prefix: `${name}-` }, { parent: this, dependsOn: after }).hex;

        // Before a new release is installed anywhere: a verified snapshot, taken on the first member (by
        // name). Its script names the version, so it runs again exactly when the version changes.
        const privateKey = pulumi.secret(args.ssh.privateKey);
        const sorted = [...s.members].sort((a, b) => a.name.localeCompare(b.name));
        const first = sorted[0];
        const snapshot = new remote.Command(
            `${name}-snapshot-before-install`,
            {
                connection: connectionFor(s, first, privateKey),
                addPreviousOutputInEnv: false,
                logging: "stdout",
                stdin: stepStdin({ create: snapshotScript(s, first, paths, `pre-install-${s.version}`) }),
                create: stepInvocation(`${first.name}/snapshot`, "create", first.sudo),
            },
            { parent: this, dependsOn: after },
        );

        const members: EtcdMember[] = sorted.map(
            (m) =>
                new EtcdMember(
                    {
                        prefix: name,
                        settings: s,
                        member: m,
                        paths,
                        bootstrap: record.bootstrap.apply((b) => b[m.name]),
                        clusterToken,
                        caBundlePem: pki.caBundlePem,
                        pki: pki.members.get(m.name)!,
                        release,
                        privateKey,
                        after,
                        installAfter: fresh.apply((f): pulumi.Resource[] => (f ? [] : [snapshot])),
                        backupSecrets,
                    },
                    // Not even the member's component is registered before the record accepted the change.
                    { parent: this, dependsOn: after },
                ),
        );
        // Members the config no longer lists leave the cluster before any service step runs (their resources
        // leave the state at the end of the run; their hosts are cleaned by the host-cleanup step). Run on the first member by name.
        const runner = members[0];
        // A restore (restoreFrom) comes before membership changes and service steps: they need the restored cluster.
        const restored = restoreFrom || fromStore
            ? [addRestoreSteps({ prefix: name, settings: s, paths, file: restoreFrom, members: sorted.map((m, k) => ({ settings: m, member: members[k] })), plan: record.restore, after }, this)]
            : [];
        // Users, roles and authentication before membership and service steps: a joining member adds itself with its own certificate.
        const authInputs: AuthStepsInputs = { prefix: name, settings: s, paths, runner: first, connection: runner.connection, caBundlePem: pki.caBundlePem, admin: pki.admin, restore: record.restore };
        const auth = addAuthStep(authInputs, this, [...after, runner.configure, ...restored]);
        const prune = new remote.Command(
            `${name}-remove-members`,
            {
                connection: runner.connection,
                addPreviousOutputInEnv: false,
                logging: "stdout",
                stdin: stepStdin({ create: pruneScript(s, first, paths, s.members, "create"), update: pruneScript(s, first, paths, s.members, "update") }),
                create: stepInvocation(`${first.name}/remove-members`, "create", first.sudo),
                update: stepInvocation(`${first.name}/remove-members`, "update", first.sudo),
            },
            { parent: this, dependsOn: [...after, runner.configure, ...restored, auth] },
        );
        // Service steps one member at a time, in name order, after every member's files are in place:
        // a restart that drops the old CA (rotation) must find every peer already holding new certificates.
        // The members of a new cluster start together instead, each once its own files are in place (a
        // founder's start does not wait for the others: etcd keeps dialling its peers until a quorum runs);
        // still after the snapshot, auth and remove-members steps, whose first runs expect no etcd running yet.
        const configures = members.map((x) => x.configure);
        let previous: pulumi.Resource[] = [prune, ...configures];
        const services = members.map((member) => {
            const chained = previous;
            const service = member.addService(fresh.apply((f) => (f ? [member.configure, snapshot, prune] : chained)));
            previous = [service];
            return service;
        });
        const ready = members.map((member) => member.addReadyCheck(services));
        // A new cluster with authentication on gets its users, roles and authentication as soon as it has formed.
        const authAfterBootstrap = s.auth.enabled ? addAuthAfterBootstrapStep(authInputs, this, ready) : undefined;
        // Last: hosts no member uses any more are cleaned (best-effort, bounded), once every member is ready.
        const hostCleanup = new EtcdHostCleanup(
            `${name}-host-cleanup`,
            { hosts: sorted.map((m) => cleanupHost(s, m, paths)), privateKey, attempts: s.dialErrorLimit, connectTimeoutSeconds: s.perDialTimeout, runId },
            { parent: this, dependsOn: [prune, ...ready, ...(authAfterBootstrap ? [authAfterBootstrap] : [])] },
        );
        hostCleanup.report.apply((r) => (r?.runId === runId ? r.lines : []).forEach((l) => (l.level === "warning" ? pulumi.log.warn(l.text, this) : pulumi.log.info(l.text, this))));
        // Outputs that describe the deployed cluster wait for every member's readiness check.
        const whenReady = <T>(value: T): pulumi.Output<T> => pulumi.all(ready.map((r) => r.stdout)).apply(() => value);

        const ordered = s.members.map((m) => members.find((x) => x.name === m.name)!);
        this.clientUrls = whenReady(ordered.map((x) => x.clientUrl));
        this.clientEndpoints = whenReady(ordered.map((x) => x.clientUrl).join(","));
        this.peerUrls = whenReady(ordered.map((x) => x.peerUrl));
        this.memberNames = whenReady(s.members.map((m) => m.name));
        this.caCertPem = pki.caBundlePem;
        this.caBundlePem = pki.caBundlePem;
        this.adminCertPem = pki.admin.certPem;
        this.adminKeyPem = pulumi.secret(pki.admin.keyPem);
        this.apiserverCertPem = pki.apiserver.certPem;
        this.apiserverKeyPem = pulumi.secret(pki.apiserver.keyPem);
        this.version = whenReady(s.version);
        this.deployedMembers = whenReady(s.members.map((m) => ({ name: m.name, address: m.address })));
        this.backupEncryptionKey = backupKey ? pulumi.secret(backupKey) : pulumi.output(undefined);
        // A client's certificate is of use once its user exists: the output waits for both auth steps.
        const clientCertificates = Object.fromEntries([...pki.clients].map(([n, kp]) => [n, pulumi.all([kp.certPem, kp.keyPem]).apply(([certPem, keyPem]) => ({ certPem, keyPem }))]));
        this.clientCertificates = pulumi.secret(pulumi.all([auth.stdout, authAfterBootstrap?.stdout, pulumi.all(clientCertificates)]).apply(([, , certs]) => certs));
        this.etcdctlCommand = this.clientEndpoints.apply((e) => `etcdctl --endpoints=${e} --cacert=ca.crt --cert=admin.crt --key=admin.key`);
        const monitoring = monitoringOutputs(name, s, pki.monitoring, this);
        this.monitoringCertPem = monitoring.certPem;
        this.monitoringKeyPem = monitoring.keyPem;
        this.prometheusScrapeConfig = monitoring.scrapeConfig;
        this.prometheusRules = monitoring.rules;
        this.registerOutputs({
            clientUrls: this.clientUrls,
            clientEndpoints: this.clientEndpoints,
            peerUrls: this.peerUrls,
            memberNames: this.memberNames,
            caCertPem: this.caCertPem,
            caBundlePem: this.caBundlePem,
            adminCertPem: this.adminCertPem,
            adminKeyPem: this.adminKeyPem,
            apiserverCertPem: this.apiserverCertPem,
            apiserverKeyPem: this.apiserverKeyPem,
            clientCertificates: this.clientCertificates,
            etcdctlCommand: this.etcdctlCommand,
            version: this.version,
            deployedMembers: this.deployedMembers,
            backupEncryptionKey: this.backupEncryptionKey,
            monitoringCertPem: this.monitoringCertPem,
            monitoringKeyPem: this.monitoringKeyPem,
            prometheusScrapeConfig: this.prometheusScrapeConfig,
            prometheusRules: this.prometheusRules,
        });
    }
}

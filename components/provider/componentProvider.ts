/**
 * The provider behind the source-based package: Pulumi's component provider (schema inferred from the
 * TypeScript types by @pulumi/pulumi's analyzer, `construct` builds the real EtcdCluster), plus
 *  - the schema's secret markings, from the `@secret` doc tags, which the analyzer does not read, and
 *    the SDKs' names (sdkNames.ts: type names without the TypeScript "Args" suffix, a fixed Go import path);
 *  - the lifecycle (check, diff, create, update, delete) of the component's own resources that a TypeScript
 *    stack gets as dynamic resources, the cluster record and the host clean-up, served here with the same
 *    providers (see serveFromPackagePlugin in moduleDynamicResource.ts).
 */
import * as pulumi from "@pulumi/pulumi";
import * as provider from "@pulumi/pulumi/provider";
import * as rpc from "@pulumi/pulumi/runtime/rpc";
import { ComponentProvider } from "@pulumi/pulumi/provider/experimental";
import { EtcdCluster } from "../cluster";
import { hostCleanupProvider } from "../hostCleanup/resource";
import { packageResourceType, serveFromPackagePlugin } from "../moduleDynamicResource";
import { clusterRecordProvider } from "../record";
import { withGoImportPath, withoutArgsSuffix } from "./sdkNames";
import { markSecrets } from "./secretMarkings";
import { secretProperties } from "./secretTags";

/** The package name: the first part of every type token (etcd-pulumi:index:EtcdCluster). */
export const PACKAGE_NAME = "etcd-pulumi";

/** The resources the plugin serves, by type token: the providers a TypeScript stack runs as dynamic ones. */
const SERVED: Record<string, pulumi.dynamic.ResourceProvider> = {
    [packageResourceType(PACKAGE_NAME, "EtcdClusterRecord")]: clusterRecordProvider,
    [packageResourceType(PACKAGE_NAME, "EtcdHostCleanup")]: hostCleanupProvider,
};

/* eslint-disable @typescript-eslint/no-explicit-any -- property bags, as the Provider interface types them */
/**
 * The property bag as the dynamic-provider host hands it to a provider: secrets unwrapped. The package's
 * provider server passes them wrapped ({ <sig>: <secret sig>, value }); the engine keeps them secret in
 * the state through the resources' additionalSecretOutputs.
 */
function plain(v: any): any {
    if (Array.isArray(v)) return v.map(plain);
    if (v === null || typeof v !== "object") return v;
    if (v[rpc.specialSigKey] === rpc.specialSecretSig) return plain(v.value);
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
}

function servedProvider(urn: string): pulumi.dynamic.ResourceProvider {
    // urn:pulumi:<stack>::<project>::<parent types>$<type>::<name>
    const type = urn.split("::")[2]?.split("$").pop() ?? "";
    const p = SERVED[type];
    if (!p) throw new Error(`etcd-pulumi: unknown resource type ${type} (${urn})`);
    return p;
}

export class EtcdComponentProvider extends ComponentProvider {
    private readonly packageDir: string;
    private annotatedSchema?: string;

    constructor(packageDir: string) {
        super({ name: PACKAGE_NAME, dirname: packageDir, components: [EtcdCluster] });
        this.packageDir = packageDir;
        serveFromPackagePlugin();
    }

    override async getSchema(): Promise<string> {
        if (this.annotatedSchema === undefined) {
            const inferred = JSON.parse(await super.getSchema());
            const typeNames = Object.keys(inferred.types ?? {}).map((token) => token.split(":")[2]);
            const secrets = secretProperties(this.packageDir, PACKAGE_NAME, ["EtcdCluster"], typeNames);
            this.annotatedSchema = JSON.stringify(withGoImportPath(withoutArgsSuffix(markSecrets(inferred, secrets))));
        }
        return this.annotatedSchema;
    }

    // Building the component needs only the analyzer's names of its outputs, not the annotated schema:
    // reading the secret tags (a second TypeScript program) is left to getSchema.
    override async construct(name: string, type: string, inputs: pulumi.Inputs, options: pulumi.ComponentResourceOptions): Promise<provider.ConstructResult> {
        await super.getSchema();
        return super.construct(name, type, inputs, options);
    }

    // A provider without check takes the new inputs as they are. Check's inputs stay wrapped: what it
    // returns is stored as the inputs, and a secret unwrapped there would be stored in plaintext.
    async check(urn: string, olds: any, news: any): Promise<provider.CheckResult> {
        const p = servedProvider(urn);
        return p.check ? p.check(olds, news) : { inputs: news };
    }

    async diff(id: string, urn: string, olds: any, news: any): Promise<provider.DiffResult> {
        const p = servedProvider(urn);
        return p.diff ? p.diff(id, plain(olds), plain(news)) : {};
    }

    async create(urn: string, inputs: any): Promise<provider.CreateResult> {
        return servedProvider(urn).create(plain(inputs));
    }

    async update(id: string, urn: string, olds: any, news: any): Promise<provider.UpdateResult> {
        const p = servedProvider(urn);
        return p.update ? p.update(id, plain(olds), plain(news)) : { outs: plain(news) };
    }

    // The record's delete touches nothing; the host clean-up's cleans the hosts (as the dynamic ones).
    async delete(id: string, urn: string, props: any): Promise<void> {
        const p = servedProvider(urn);
        if (p.delete) await p.delete(id, plain(props));
    }
}

/**
 * The provider behind the source-based package: Pulumi's component provider (schema inferred from the
 * TypeScript types by @pulumi/pulumi's analyzer, `construct` builds the real EtcdCluster), plus
 *  - the schema's secret markings, from the `@secret` doc tags, which the analyzer does not read, and
 *    the SDKs' names (sdkNames.ts: type names without the TypeScript "Args" suffix, a fixed Go import path);
 *  - the cluster record's lifecycle (check, diff, create, update), served here rather than by a dynamic
 *    provider (see clusterRecord.ts).
 */
import * as pulumi from "@pulumi/pulumi";
import * as provider from "@pulumi/pulumi/provider";
import { ComponentProvider } from "@pulumi/pulumi/provider/experimental";
import { EtcdCluster } from "../cluster";
import { clusterRecordProvider } from "../record";
import { PACKAGE_RECORD_TYPE, serveRecordsFromPackagePlugin } from "./clusterRecord";
import { withGoImportPath, withoutArgsSuffix } from "./sdkNames";
import { markSecrets } from "./secretMarkings";
import { secretProperties } from "./secretTags";

/** The package name: the first part of every type token (etcd-pulumi:index:EtcdCluster). */
export const PACKAGE_NAME = "etcd-pulumi";

function recordOnly(urn: string): void {
    // urn:pulumi:<stack>::<project>::<parent types>$<type>::<name>
    const type = urn.split("::")[2]?.split("$").pop();
    if (type !== PACKAGE_RECORD_TYPE) throw new Error(`etcd-pulumi: unknown resource type ${type} (${urn})`);
}

/* eslint-disable @typescript-eslint/no-explicit-any -- property bags, as the Provider interface types them */
export class EtcdComponentProvider extends ComponentProvider {
    private readonly packageDir: string;
    private annotatedSchema?: string;

    constructor(packageDir: string) {
        super({ name: PACKAGE_NAME, dirname: packageDir, components: [EtcdCluster] });
        this.packageDir = packageDir;
        serveRecordsFromPackagePlugin();
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

    async check(urn: string, olds: any, news: any): Promise<provider.CheckResult> {
        recordOnly(urn);
        return clusterRecordProvider.check!(olds, news);
    }

    async diff(id: string, urn: string, olds: any, news: any): Promise<provider.DiffResult> {
        recordOnly(urn);
        return clusterRecordProvider.diff!(id, olds, news);
    }

    async create(urn: string, inputs: any): Promise<provider.CreateResult> {
        recordOnly(urn);
        return clusterRecordProvider.create(inputs);
    }

    async update(id: string, urn: string, olds: any, news: any): Promise<provider.UpdateResult> {
        recordOnly(urn);
        return clusterRecordProvider.update!(id, olds, news);
    }

    // The record lives only in the stack's state: deleting it touches nothing (as the dynamic one).
    async delete(_id: string, urn: string): Promise<void> {
        recordOnly(urn);
    }
}

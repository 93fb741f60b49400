/**
 * The component provider behind the source-based package: Pulumi's own (schema inferred from the
 * TypeScript types by @pulumi/pulumi's analyzer, `construct` builds the real EtcdCluster), with the
 * schema's secret markings added from the `@secret` doc tags, which the analyzer does not read.
 */
import { ComponentProvider } from "@pulumi/pulumi/provider/experimental";
import { EtcdCluster } from "../cluster";
import { markSecrets } from "./secretMarkings";
import { secretProperties } from "./secretTags";

/** The package name: the first part of every type token (etcd-pulumi:index:EtcdCluster). */
export const PACKAGE_NAME = "etcd-pulumi";

export class EtcdComponentProvider extends ComponentProvider {
    private readonly packageDir: string;
    private annotatedSchema?: string;

    constructor(packageDir: string) {
        super({ name: PACKAGE_NAME, dirname: packageDir, components: [EtcdCluster] });
        this.packageDir = packageDir;
    }

    override async getSchema(): Promise<string> {
        if (this.annotatedSchema === undefined) {
            const inferred = JSON.parse(await super.getSchema());
            const typeNames = Object.keys(inferred.types ?? {}).map((token) => token.split(":")[2]);
            this.annotatedSchema = JSON.stringify(markSecrets(inferred, secretProperties(this.packageDir, PACKAGE_NAME, ["EtcdCluster"], typeNames)));
        }
        return this.annotatedSchema;
    }
}

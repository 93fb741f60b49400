/**
 * The cluster's record (record.ts) when EtcdCluster runs inside this package's plugin, i.e. for a stack
 * in YAML, Go or any language but TypeScript: a custom resource of this package that the plugin itself
 * serves (EtcdComponentProvider), with the same check, diff, create and update. A dynamic provider
 * cannot be used there: its launcher resolves @pulumi/pulumi from the consuming program's directory,
 * which has no node_modules (pulumi/pulumi#5455). A TypeScript stack keeps the dynamic resource it has
 * in its state, so nothing it recorded is replaced.
 */
import * as pulumi from "@pulumi/pulumi";
import { EtcdClusterRecord, EtcdClusterRecordArgs, recordProperties } from "../record";

export const PACKAGE_RECORD_TYPE = "etcd-pulumi:index:EtcdClusterRecord";

class PackageClusterRecord extends pulumi.CustomResource {
    constructor(name: string, args: EtcdClusterRecordArgs, opts?: pulumi.CustomResourceOptions) {
        super(PACKAGE_RECORD_TYPE, name, recordProperties(args), opts);
    }
}

let servedByPackagePlugin = false;

/** Called once by the plugin: every record this process registers from now on is the package's custom resource. */
export function serveRecordsFromPackagePlugin(): void {
    servedByPackagePlugin = true;
}

export function newClusterRecord(name: string, args: EtcdClusterRecordArgs, opts?: pulumi.CustomResourceOptions): EtcdClusterRecord {
    // Same registered properties, so the same outputs (plannedChanges, leafRenewal, bootstrap, restore).
    return servedByPackagePlugin ? (new PackageClusterRecord(name, args, opts) as unknown as EtcdClusterRecord) : new EtcdClusterRecord(name, args, opts);
}

/**
 * A dynamic resource (served by Pulumi's dynamic-provider host, as pulumi.dynamic.Resource is) whose
 * provider is a module of this package that the host loads by path, instead of a closure the SDK
 * serializes on every run: that serialization loads TypeScript into the program and walks the package
 * tree, about half a second of every preview and up (issue 17's measurements). Same resource type, same
 * inputs and outputs as pulumi.dynamic.Resource, so a stack's state does not change.
 *
 * The provider text names the module's absolute path; a state written on another machine (whose path
 * differs) falls back to finding the package from the host's working directory (the project): installed
 * (node_modules/etcd-pulumi) or this repository (dist/components).
 */
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";

/** The `__provider` text the dynamic-provider host evaluates: it returns `exportName` of the compiled module. */
export function moduleProviderText(compiledModule: string, exportName: string): string {
    const rel = path.relative(path.join(__dirname, ".."), compiledModule).split(path.sep).join("/"); // e.g. components/record.js
    return [
        `exports.handler = function () {`,
        `    const path = require("path"), fs = require("fs");`,
        `    const candidates = [${JSON.stringify(compiledModule)}];`,
        `    try { candidates.push(require.resolve(${JSON.stringify(`etcd-pulumi/dist/${rel}`)}, { paths: [process.cwd()] })); } catch (e) { /* not installed there */ }`,
        `    candidates.push(path.join(process.cwd(), "dist", ${JSON.stringify(rel)}));`,
        `    for (const c of candidates) if (fs.existsSync(c)) return require(c)[${JSON.stringify(exportName)}];`,
        `    throw new Error("etcd-pulumi: the provider module ${rel} is not at " + candidates.join(", ") + "; install the package (or build this repository) where the stack runs");`,
        `};`,
        ``,
    ].join("\n");
}

let servedByPackagePlugin = false;

/**
 * Called once by this package's plugin (components/provider/componentProvider.ts), for a stack in YAML, Go
 * or any language but TypeScript: every such resource registered from then on is a custom resource of the
 * package (`<module>:index:<type>`) that the plugin serves itself with the same provider. A dynamic provider
 * cannot be used there: its launcher resolves @pulumi/pulumi from the consuming program's directory, which
 * has no node_modules (pulumi/pulumi#5455). A TypeScript stack keeps the dynamic resource it has in its state.
 */
export function serveFromPackagePlugin(): void {
    servedByPackagePlugin = true;
}

/** The type token of a resource the package plugin serves. */
export const packageResourceType = (module: string, type: string): string => `${module}:index:${type}`;

export class ModuleDynamicResource extends pulumi.CustomResource {
    /** `compiledModule`: the .js file that exports the provider as `exportName` (pass `__filename` of its module). */
    constructor(compiledModule: string, exportName: string, module: string, type: string, name: string, props: pulumi.Inputs, opts?: pulumi.CustomResourceOptions) {
        if ("__provider" in props) throw new Error("a dynamic resource must not define the __provider key");
        // Same registered properties either way, so the same outputs.
        if (servedByPackagePlugin) super(packageResourceType(module, type), name, props, opts);
        else super(`pulumi-nodejs:dynamic/${module}:${type}`, name, { ...props, __provider: moduleProviderText(compiledModule, exportName) }, opts);
    }
}

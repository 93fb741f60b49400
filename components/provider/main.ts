/**
 * The plugin entry of the source-based Pulumi package (package.json "main"). `pulumi package add <this
 * repo>` and every program that uses the generated SDK start it through the nodejs language host, whose
 * run-plugin `require`s the package directory (so this file) and calls the exported function: requiring
 * it starts nothing, so the npm package's API (package.json "exports") is unaffected.
 */
import * as path from "node:path";
import { main } from "@pulumi/pulumi/provider";
import { EtcdComponentProvider } from "./componentProvider";

// dist/components/provider/main.js -> the package root, where package.json and the TypeScript sources are.
const PACKAGE_DIR = path.resolve(__dirname, "..", "..", "..");

export = function serveEtcdPulumiProvider(): Promise<void> {
    // run-plugin leaves the engine's arguments (its address) in argv after the program.
    return main(new EtcdComponentProvider(PACKAGE_DIR), process.argv.slice(2));
};

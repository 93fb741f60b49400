/**
 * The source-based package's schema, as the plugin serves it to `pulumi package add` / `get-schema`
 * (EtcdComponentProvider.getSchema: Pulumi's analyzer over the TypeScript sources, then the secret
 * markings and SDK names), in process. It fails when a field of EtcdClusterArgs (or of a type it uses,
 * or an output of EtcdCluster) breaks the inference rules (README "Using the component from another
 * stack"): shown here on a copy of the sources with such fields added.
 */
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { EtcdComponentProvider } from "../../components/provider/componentProvider";
import { markSecrets } from "../../components/provider/secretMarkings";
import { GO_IMPORT_BASE_PATH, withoutArgsSuffix } from "../../components/provider/sdkNames";
import { ROOT } from "../support/hosts";
import { COMPONENT_TOKEN, PackageSchema, schemaProblems, secretPaths } from "../support/packageSchema";

const schemaOf = async (dir: string): Promise<PackageSchema> => JSON.parse(await new EtcdComponentProvider(dir).getSchema());

test("the package schema: EtcdCluster with typed, described inputs and outputs, secrets marked, SDK names", async () => {
    const schema = await schemaOf(ROOT);
    assert.deepEqual(schemaProblems(schema), []);
    assert.equal(schema.name, "etcd-pulumi");
    const c = schema.resources[COMPONENT_TOKEN];
    assert.deepEqual(c.requiredInputs, ["members", "ssh"]);
    const inputs = c.inputProperties!;
    assert.deepEqual(inputs.members, { ...inputs.members, type: "array", plain: true, items: { $ref: "#/types/etcd-pulumi:index:EtcdMember", plain: true } });
    assert.equal(inputs.ssh.$ref, "#/types/etcd-pulumi:index:EtcdSsh");
    assert.equal(inputs.clientPort.type, "number");
    assert.equal(inputs.purgeDataOnDestroy.type, "boolean");
    assert.deepEqual(inputs.extraSans.items, { type: "string", plain: true });
    assert.match(inputs.healthTimeoutSeconds.description!, /Seconds to wait/);
    // Settings are validated when the component is built, so they are plain values; the SSH key may come from anything (an Input).
    for (const [name, p] of Object.entries(inputs)) assert.equal(p.plain, true, `input ${name} should be plain`);
    const ssh = schema.types["etcd-pulumi:index:EtcdSsh"].properties!;
    assert.equal(ssh.privateKey.plain, undefined);
    assert.equal(ssh.privateKey.type, "string");
    const outputs = c.properties!;
    assert.deepEqual(outputs.clientUrls.items, { type: "string" });
    assert.deepEqual(outputs.deployedMembers.items, { $ref: "#/types/etcd-pulumi:index:EtcdDeployedMember" });
    assert.deepEqual(secretPaths(schema), ["EtcdBackup.encryptionKey", "EtcdBackup.secretAccessKey", "EtcdClientCertificate.keyPem", "EtcdSsh.privateKey", "output.adminKeyPem", "output.apiserverKeyPem", "output.backupEncryptionKey", "output.clientCertificates", "output.monitoringKeyPem"]);
    assert.deepEqual(Object.keys(schema.types).sort(), ["EtcdBackup", "EtcdBackupRetention", "EtcdBastion", "EtcdBinarySource", "EtcdClient", "EtcdClientCertificate", "EtcdClientPermission", "EtcdDeployedMember", "EtcdMaintenance", "EtcdMember", "EtcdMonitoring", "EtcdSsh"].map((n) => `etcd-pulumi:index:${n}`));
    assert.equal(schema.language?.go?.importBasePath, GO_IMPORT_BASE_PATH);
});

/** A copy of the package's sources (what the analyzer reads) with `edit` applied to components/types.ts. */
function sourcesWith(edit: (types: string) => string, extraFiles: Record<string, string> = {}): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "etcd-schema-"));
    for (const f of ["package.json", "tsconfig.json", "index.ts", "components"]) fs.cpSync(path.join(ROOT, f), path.join(dir, f), { recursive: true });
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"));
    const types = path.join(dir, "components", "types.ts");
    fs.writeFileSync(types, edit(fs.readFileSync(types, "utf8")));
    for (const [f, text] of Object.entries(extraFiles)) fs.writeFileSync(path.join(dir, f), text);
    return dir;
}
const addArgs = (fields: string) => (types: string) => types.replace("export interface EtcdClusterArgs {\n", `export interface EtcdClusterArgs {\n${fields}\n`);

test("fields that break the inference fail the schema, naming the field", async (t) => {
    const refuse = async (what: string, dir: string, message: RegExp) => {
        await t.test(what, async () => {
            try {
                await assert.rejects(schemaOf(dir), message);
            } finally {
                fs.rmSync(dir, { recursive: true, force: true });
            }
        });
    };
    await refuse("a union other than T | undefined", sourcesWith(addArgs("    /** Retention. */\n    retention?: string | number;")), /Union types are not supported .*EtcdClusterArgs\.retention/);
    await refuse("a union of string literals", sourcesWith(addArgs('    /** Access. */\n    access?: "read" | "readwrite";')), /Union types are not supported .*EtcdClusterArgs\.access/);
    await refuse("an inline object type (not a named interface)", sourcesWith(addArgs("    /** Window. */\n    window?: { start: string; hours: number };")), /Unsupported type .*EtcdClusterArgs\.window/);
    await refuse(
        "two interfaces of one name",
        sourcesWith(
            (types) => addArgs("    /** Another bastion. */\n    other?: OtherBastion;")(`import { EtcdBastionArgs as OtherBastion } from "./other";\n${types}`),
            { "components/other.ts": "/** Not the bastion. */\nexport interface EtcdBastionArgs {\n    /** Something else. */\n    x: string;\n}\n" },
        ),
        /two declarations named EtcdBastionArgs \(components\/(types|other)\.ts and components\/(types|other)\.ts\)/,
    );
});

test("fields without a doc comment, or secret by name but not marked, are schema problems", async () => {
    const dir = sourcesWith(addArgs("    undocumented?: number;\n    /** Key for the backups. */\n    encryptionKey?: pulumi.Input<string>;\n    /**\n     * Key for the archives.\n     * @secret\n     */\n    archiveEncryptionKey?: pulumi.Input<string>;"));
    try {
        const schema = await schemaOf(dir);
        assert.deepEqual(schemaProblems(schema), [
            `${COMPONENT_TOKEN} input undocumented: no description (a /** doc comment */ on the field)`,
            `${COMPONENT_TOKEN} input encryptionKey: its name says secret, but it is not marked secret (@secret in its doc comment)`,
        ]);
        // An optional pulumi.Input<string> works: a non-plain string, here marked secret.
        const p = schema.resources[COMPONENT_TOKEN].inputProperties!.archiveEncryptionKey;
        assert.deepEqual(p, { type: "string", optional: true, description: "Key for the archives.", secret: true } as typeof p);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
});

test("markSecrets refuses a tag on a property the schema lacks; withoutArgsSuffix renames types and their references, never onto an existing name", () => {
    const schema: Pick<PackageSchema, "resources" | "types"> = {
        resources: { "p:index:C": { inputProperties: { a: { $ref: "#/types/p:index:FooArgs" } }, properties: {} } },
        types: { "p:index:FooArgs": { properties: { b: { type: "array", items: { $ref: "#/types/p:index:BarArgs" } } } }, "p:index:BarArgs": { properties: {} }, "p:index:Bar": { properties: {} } },
    };
    assert.throws(() => markSecrets(schema, { resources: { "p:index:C": { inputs: ["nope"], outputs: [] } }, types: {} }), /@secret property nope is not in the inferred schema/);
    assert.equal(markSecrets(schema, { resources: {}, types: { "p:index:FooArgs": ["b"] } }).types["p:index:FooArgs"].properties!.b.secret, true);
    const renamed = withoutArgsSuffix(schema);
    assert.deepEqual(Object.keys(renamed.types).sort(), ["p:index:Bar", "p:index:BarArgs", "p:index:Foo"]);
    assert.equal(renamed.resources["p:index:C"].inputProperties!.a.$ref, "#/types/p:index:Foo");
    assert.equal(renamed.types["p:index:Foo"].properties!.b.items!.$ref, "#/types/p:index:BarArgs");
});

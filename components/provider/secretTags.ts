/**
 * Which schema properties are secrets, read from the TypeScript sources: a property whose doc comment
 * carries the `@secret` tag. Pulumi's analyzer turns doc comments into descriptions but drops tags, so
 * this reads the same declarations again, by the names the analyzer gives schema types (the interface or
 * class name), and resolves inherited properties through the type checker as the analyzer does.
 */
import * as path from "node:path";
import * as ts from "typescript";
import { SecretProperties } from "./secretMarkings";

const SECRET_TAG = "secret";

function isSecret(symbol: ts.Symbol | undefined): boolean {
    return (symbol?.declarations ?? []).some((d) => ts.getJSDocTags(d).some((t) => t.tagName.text === SECRET_TAG));
}

function taggedProperties(type: ts.Type): string[] {
    return type
        .getProperties()
        .filter(isSecret)
        .map((p) => p.getName());
}

/**
 * The `@secret` properties of the package's components (inputs: the constructor's `args` type; outputs:
 * the class) and of the schema's named types (`typeNames`, the analyzer's names for them).
 */
export function secretProperties(packageDir: string, packageName: string, components: string[], typeNames: string[]): SecretProperties {
    const configFile = path.join(packageDir, "tsconfig.json");
    const config = ts.readConfigFile(configFile, ts.sys.readFile);
    const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, packageDir);
    const program = ts.createProgram({ rootNames: [path.join(packageDir, "components", "index.ts")], options: { ...parsed.options, strictNullChecks: true } });
    const checker = program.getTypeChecker();
    const result: SecretProperties = { resources: {}, types: {} };
    const declaredIn = new Map<string, string>();
    for (const file of program.getSourceFiles()) {
        const where = path.relative(packageDir, file.fileName);
        if (file.isDeclarationFile || where.split(path.sep).includes("node_modules")) continue;
        for (const node of file.statements) {
            if (!(ts.isInterfaceDeclaration(node) || ts.isClassDeclaration(node)) || !node.name) continue;
            const name = node.name.text;
            const token = `${packageName}:index:${name}`;
            if (ts.isClassDeclaration(node) && components.includes(name)) {
                const ctor = node.members.find(ts.isConstructorDeclaration);
                const args = ctor?.parameters.find((p) => ts.isIdentifier(p.name) && p.name.text === "args");
                const inputs = args?.type ? taggedProperties(checker.getTypeAtLocation(args.type)) : [];
                result.resources[token] = { inputs, outputs: taggedProperties(checker.getTypeAtLocation(node)) };
            }
            if (!typeNames.includes(name)) continue;
            // The analyzer names a schema type by its TypeScript name alone: a second declaration of that name
            // elsewhere would silently share the first one's schema type.
            const earlier = declaredIn.get(name);
            if (earlier !== undefined && earlier !== where) {
                throw new Error(`two declarations named ${name} (${earlier} and ${where}): schema types are named after the TypeScript type, so each name must be unique in the package`);
            }
            declaredIn.set(name, where);
            const secrets = taggedProperties(checker.getTypeAtLocation(node));
            if (secrets.length > 0) result.types[token] = secrets;
        }
    }
    return result;
}

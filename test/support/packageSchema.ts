/**
 * The rules the package's schema (what `pulumi package get-schema` shows, inferred from the TypeScript
 * types) must keep, as a list of problems: used on the in-process schema (unit) and on the CLI's (e2e).
 */

export interface SchemaProperty {
    type?: string;
    $ref?: string;
    items?: SchemaProperty;
    additionalProperties?: SchemaProperty;
    description?: string;
    secret?: boolean;
    plain?: boolean;
}

export interface PackageSchema {
    name: string;
    resources: Record<string, { isComponent?: boolean; description?: string; inputProperties?: Record<string, SchemaProperty>; requiredInputs?: string[]; properties?: Record<string, SchemaProperty> }>;
    types: Record<string, { type?: string; description?: string; properties?: Record<string, SchemaProperty> }>;
    language?: Record<string, Record<string, unknown>>;
}

export const COMPONENT_TOKEN = "etcd-pulumi:index:EtcdCluster";

/** Names that say "secret": such a property must be marked secret (`@secret` in its doc comment). */
const SECRET_NAME = /secret|password|passphrase|credential|private.?key|key.?pem$|encryption.?key|token/i;
/** Names that match SECRET_NAME but are not secrets, and why. */
const NOT_SECRET: Record<string, string> = {
    clusterToken: "etcd's initial-cluster-token only keeps clusters apart; it is in every member's config file",
};

function refs(p: SchemaProperty): string[] {
    return [p.$ref, ...(p.items ? refs(p.items) : []), ...(p.additionalProperties ? refs(p.additionalProperties) : [])].filter((r): r is string => r !== undefined);
}

/** Every way the schema breaks the rules, one line each naming the property. */
export function schemaProblems(schema: PackageSchema): string[] {
    const problems: string[] = [];
    const component = schema.resources[COMPONENT_TOKEN];
    if (!component?.isComponent) return [`${COMPONENT_TOKEN}: not a component resource of the schema`];
    if (!component.description) problems.push(`${COMPONENT_TOKEN}: no description (doc comment on the class)`);
    const groups: [string, Record<string, SchemaProperty>][] = [
        [`${COMPONENT_TOKEN} input`, component.inputProperties ?? {}],
        [`${COMPONENT_TOKEN} output`, component.properties ?? {}],
        ...Object.entries(schema.types).map(([token, t]): [string, Record<string, SchemaProperty>] => [`${token} property`, t.properties ?? {}]),
    ];
    for (const [where, properties] of groups) {
        for (const [name, p] of Object.entries(properties)) {
            if (!p.description) problems.push(`${where} ${name}: no description (a /** doc comment */ on the field)`);
            if (SECRET_NAME.test(name) && !NOT_SECRET[name] && !p.secret) problems.push(`${where} ${name}: its name says secret, but it is not marked secret (@secret in its doc comment)`);
            for (const r of refs(p)) {
                if (!r.startsWith("#/types/") || !schema.types[r.slice("#/types/".length)]) problems.push(`${where} ${name}: refers to ${r}, which is not a type of the schema`);
            }
        }
    }
    return problems;
}

/** The secret properties, as "<type or input/output>.<name>". */
export function secretPaths(schema: PackageSchema): string[] {
    const component = schema.resources[COMPONENT_TOKEN];
    const out: string[] = [];
    for (const [n, p] of Object.entries(component?.inputProperties ?? {})) if (p.secret) out.push(`input.${n}`);
    for (const [n, p] of Object.entries(component?.properties ?? {})) if (p.secret) out.push(`output.${n}`);
    for (const [token, t] of Object.entries(schema.types)) for (const [n, p] of Object.entries(t.properties ?? {})) if (p.secret) out.push(`${token.split(":")[2]}.${n}`);
    return out.sort();
}

/** Marks properties of an inferred package schema as secret (pure: the schema in, a new schema out). */

/** Secret property names per component (by type token: its inputs and outputs) and per object type. */
export interface SecretProperties {
    resources: Record<string, { inputs: string[]; outputs: string[] }>;
    types: Record<string, string[]>;
}

interface SchemaProperty {
    secret?: boolean;
}

interface PackageSchema {
    resources: Record<string, { inputProperties?: Record<string, SchemaProperty>; properties?: Record<string, SchemaProperty> }>;
    types: Record<string, { properties?: Record<string, SchemaProperty> }>;
}

function mark<P extends SchemaProperty>(properties: Record<string, P> | undefined, names: string[], where: string): Record<string, P> | undefined {
    if (names.length === 0) return properties;
    const out = { ...(properties ?? {}) };
    for (const n of names) {
        // A tag on a property the schema lacks means the two readings of the sources disagree: say so.
        if (!out[n]) throw new Error(`${where}: @secret property ${n} is not in the inferred schema`);
        out[n] = { ...out[n], secret: true };
    }
    return out;
}

export function markSecrets<S extends PackageSchema>(schema: S, secrets: SecretProperties): S {
    const resources = { ...schema.resources };
    for (const [token, { inputs, outputs }] of Object.entries(secrets.resources)) {
        const r = resources[token];
        if (!r) throw new Error(`${token}: not a resource of the inferred schema`);
        resources[token] = { ...r, inputProperties: mark(r.inputProperties, inputs, `${token} inputs`), properties: mark(r.properties, outputs, `${token} outputs`) };
    }
    const types = { ...schema.types };
    for (const [token, names] of Object.entries(secrets.types)) {
        const t = types[token];
        if (!t) throw new Error(`${token}: not a type of the inferred schema`);
        types[token] = { ...t, properties: mark(t.properties, names, token) };
    }
    return { ...schema, resources, types };
}

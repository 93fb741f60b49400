/**
 * How the generated SDKs name things (pure functions of the inferred schema):
 *  - type names: the TypeScript interfaces of the arguments are named ...Args (EtcdMemberArgs), and the
 *    SDK generators add "Args" to input types themselves (Go and Python would get EtcdMemberArgsArgs),
 *    so the schema names those types without the suffix (etcd-pulumi:index:EtcdMember). Type tokens only
 *    name SDK types: no state and no resource type token depends on them;
 *  - the Go import path: fixed, so a Go program imports the same path whether the package was added
 *    from a directory or from a git URL (which would otherwise derive github.com/<owner>/... from the URL).
 */

/** The generated Go SDK's package (its module is the path without the last element). */
export const GO_IMPORT_BASE_PATH = "example.com/pulumi-etcd-pulumi/sdk/go/etcdpulumi";

interface SchemaWithTypes {
    types: Record<string, unknown>;
    language?: Record<string, Record<string, unknown>>;
}

export function withGoImportPath<S extends SchemaWithTypes>(schema: S): S {
    return { ...schema, language: { ...schema.language, go: { ...schema.language?.go, importBasePath: GO_IMPORT_BASE_PATH } } };
}

function renameRefs(value: unknown, refs: Map<string, string>): unknown {
    if (Array.isArray(value)) return value.map((v) => renameRefs(v, refs));
    if (value === null || typeof value !== "object") return value;
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, k === "$ref" && typeof v === "string" && refs.has(v) ? refs.get(v) : renameRefs(v, refs)]));
}

export function withoutArgsSuffix<S extends SchemaWithTypes>(schema: S): S {
    const tokens = Object.keys(schema.types);
    const renames = new Map<string, string>();
    for (const token of tokens) {
        const shorter = token.replace(/(?<=:[^:]+)Args$/, "");
        // A type of the shorter name already exists: keep this one as it is.
        if (shorter !== token && !tokens.includes(shorter) && ![...renames.values()].includes(shorter)) renames.set(token, shorter);
    }
    const refs = new Map([...renames].map(([from, to]) => [`#/types/${from}`, `#/types/${to}`]));
    const types = Object.fromEntries(Object.entries(schema.types).map(([token, t]) => [renames.get(token) ?? token, renameRefs(t, refs)]));
    const rest = Object.fromEntries(Object.entries(schema).filter(([k]) => k !== "types").map(([k, v]) => [k, renameRefs(v, refs)]));
    return { ...rest, types } as S;
}

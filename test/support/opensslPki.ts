/**
 * A cluster PKI made with the openssl CLI from the same certificate specs the component gives
 * @pulumi/tls (memberCertSpecs): for host-level tests that run without the Pulumi engine.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ADMIN_CN, CertSpec, memberCertSpecs } from "../../components/pki";
import { ClusterSettings, MemberSettings } from "../../components/settings";

export interface Pem {
    cert: string;
    key: string;
}

export interface TestPki {
    dir: string;
    ca: string;
    members: Map<string, { server: Pem; peer: Pem; client: Pem }>;
    admin: Pem;
}

function sh(dir: string, cmd: string): void {
    execFileSync("bash", ["-c", cmd], { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
}

function issue(dir: string, name: string, spec: CertSpec): Pem {
    sh(dir, `openssl ecparam -name prime256v1 -genkey -noout | openssl pkcs8 -topk8 -nocrypt -out ${name}.key`);
    sh(dir, `openssl req -new -key ${name}.key -subj "/O=etcd-pulumi/CN=${spec.commonName}" -out ${name}.csr`);
    const san = [...spec.ipAddresses.map((ip) => `IP:${ip}`), ...spec.dnsNames.map((d) => `DNS:${d}`)];
    const eku = spec.usages.map((u) => (u === "server_auth" ? "serverAuth" : "clientAuth")).join(",");
    fs.writeFileSync(path.join(dir, `${name}.ext`), `keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=${eku}\n${san.length ? `subjectAltName=${san.join(",")}\n` : ""}`);
    sh(dir, `openssl x509 -req -in ${name}.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile ${name}.ext -out ${name}.crt`);
    return { cert: fs.readFileSync(path.join(dir, `${name}.crt`), "utf8"), key: fs.readFileSync(path.join(dir, `${name}.key`), "utf8") };
}

/** A CA, an admin client certificate and, when `s` is given, every member's key pairs. */
export function opensslPki(s: ClusterSettings | undefined, caName = "test etcd CA"): TestPki {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "etcd-pki-"));
    sh(dir, `openssl ecparam -name prime256v1 -genkey -noout -out ca.key && openssl req -x509 -new -key ca.key -subj "/O=etcd-pulumi/CN=${caName}" -days 2 -addext keyUsage=critical,keyCertSign,cRLSign,digitalSignature -out ca.crt`);
    const pki: TestPki = { dir, ca: fs.readFileSync(path.join(dir, "ca.crt"), "utf8"), members: new Map(), admin: issue(dir, "admin", { commonName: ADMIN_CN, ipAddresses: [], dnsNames: [], usages: ["client_auth"] }) };
    for (const m of s?.members ?? []) issueMember(pki, m, s!);
    return pki;
}

/** Issue (or re-issue, e.g. for a replacement host) a member's three key pairs from the same CA. */
export function issueMember(pki: TestPki, m: MemberSettings, s: ClusterSettings): void {
    const spec = memberCertSpecs(m, s);
    const id = `${m.name}-${m.address.replace(/[^0-9a-z]/gi, "_")}`;
    pki.members.set(m.name, { server: issue(pki.dir, `${id}-server`, spec.server), peer: issue(pki.dir, `${id}-peer`, spec.peer), client: issue(pki.dir, `${id}-client`, spec.client) });
}

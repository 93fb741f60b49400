/** Names etcd-pulumi gives etcd's users and roles. Plain constants (the record's plan, which runs inside the engine, uses them). */

/** etcd's own superuser and role. */
export const ROOT_USER = "root";
export const ROOT_ROLE = "root";
/** CN prefix of each member's own etcdctl certificate (pki.ts memberCertSpecs). */
export const MEMBER_CLIENT_CN_PREFIX = "etcdctl-";
/** Each managed user U holds the role `etcd-pulumi.U` (its grants; empty for root holders): that role marks it as managed. */
export const MANAGED_ROLE_PREFIX = "etcd-pulumi.";
/** A role with no permissions that exists while etcd-pulumi has turned authentication on (auth: false only turns off what it turned on). */
export const AUTH_MARKER_ROLE = "etcd-pulumi";

/** kube-apiserver's default --etcd-prefix (/registry) as the key prefix its certificate is granted. */
export const DEFAULT_APISERVER_PREFIX = "/registry/";

/** The role that holds a managed user's grants. */
export const roleOf = (user: string): string => `${MANAGED_ROLE_PREFIX}${user}`;

/**
 * infra/base's RBAC as the Kubernetes emulator's authorizer for leasekeeper's service account:
 * the ClusterRole/Role rules bound to `system:serviceaccount:leasekeeper:leasekeeper` are parsed
 * from the YAML and evaluated with Kubernetes RBAC's matching rules, and every permission that
 * authorized a request is recorded (test/infra/rbac-unused.test.ts fails on the ones never used).
 * Other users (the tests' admin, Vault's reviewer, pods) keep the emulator's default.
 */
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import type { Authorizer, AuthzAttributes, KubeObject, KubernetesEmulator } from "../emulators/kubernetes/index.ts";

export const INFRA_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "../../infra");
export const LEASEKEEPER_SA = { namespace: "leasekeeper", name: "leasekeeper" } as const;
export const LEASEKEEPER_USER = `system:serviceaccount:${LEASEKEEPER_SA.namespace}:${LEASEKEEPER_SA.name}`;

export interface PolicyRule {
  readonly apiGroups?: string[];
  readonly resources?: string[];
  readonly verbs: string[];
  readonly resourceNames?: string[];
  readonly nonResourceURLs?: string[];
}

/** One rule of a role as bound to the subject: cluster-wide (ClusterRoleBinding) or in one namespace. */
export interface Grant {
  /** e.g. "ClusterRole/leasekeeper#2" or "Role/leasekeeper/leasekeeper-leader-election#0". */
  readonly id: string;
  readonly namespace: string | undefined;
  readonly rule: PolicyRule;
}

/** One (grant, verb, group, resource) a request was authorized by, or that a grant allows. */
export interface Permission {
  readonly grant: string;
  readonly verb: string;
  readonly group: string;
  readonly resource: string;
}

export const permissionKey = (p: Permission): string =>
  `${p.grant} ${p.verb} ${p.group === "" ? "core" : p.group}/${p.resource}`;

/** The objects a kustomization lists (files and sub-kustomizations; no transformers besides labels, which RBAC ignores). */
export function loadKustomization(dir: string): KubeObject[] {
  const k = parseYaml(readFileSync(join(dir, "kustomization.yaml"), "utf8"))[0] as
    { resources?: string[]; namespace?: string } | undefined;
  if (k?.namespace !== undefined) throw new Error(`${dir}: a namespace transformer is not supported by this loader`);
  const out: KubeObject[] = [];
  for (const entry of k?.resources ?? []) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...loadKustomization(path));
    else out.push(...(parseYaml(readFileSync(path, "utf8")) as KubeObject[]));
  }
  return out;
}

export function parseYaml(text: string): unknown[] {
  return parseAllDocuments(text)
    .map((d) => {
      if (d.errors.length > 0) throw new Error(`YAML: ${d.errors.map((e) => e.message).join("; ")}`);
      return d.toJSON() as unknown;
    })
    .filter((d) => d !== null && d !== undefined);
}

/** The rules bound to the service account by the given RBAC objects. */
export function grantsFor(
  objects: readonly KubeObject[],
  sa: { namespace: string; name: string } = LEASEKEEPER_SA,
): Grant[] {
  const find = (kind: string, name: string, namespace?: string) =>
    objects.find(
      (o) =>
        o.kind === kind && o.metadata.name === name && (namespace === undefined || o.metadata.namespace === namespace),
    );
  const grants: Grant[] = [];
  for (const binding of objects.filter((o) => o.kind === "ClusterRoleBinding" || o.kind === "RoleBinding")) {
    const subjects = (binding.subjects ?? []) as { kind: string; name: string; namespace?: string }[];
    if (
      !subjects.some(
        (s) =>
          s.kind === "ServiceAccount" &&
          s.name === sa.name &&
          (s.namespace ?? binding.metadata.namespace) === sa.namespace,
      )
    )
      continue;
    const ref = binding.roleRef as { kind: "ClusterRole" | "Role"; name: string };
    const bindingNs = binding.kind === "RoleBinding" ? binding.metadata.namespace : undefined;
    if (binding.kind === "RoleBinding" && bindingNs === undefined)
      throw new Error(`RoleBinding ${binding.metadata.name} has no namespace`);
    const role = ref.kind === "Role" ? find("Role", ref.name, bindingNs) : find("ClusterRole", ref.name);
    if (role === undefined)
      throw new Error(`${binding.kind} ${binding.metadata.name}: ${ref.kind} ${ref.name} not found`);
    const roleId = ref.kind === "Role" ? `Role/${bindingNs}/${ref.name}` : `ClusterRole/${ref.name}`;
    const prefix = binding.kind === "RoleBinding" && ref.kind === "ClusterRole" ? `${roleId}@${bindingNs}` : roleId;
    ((role.rules ?? []) as PolicyRule[]).forEach((rule, i) =>
      grants.push({ id: `${prefix}#${i}`, namespace: bindingNs, rule }),
    );
  }
  return grants;
}

/** Every (verb, group, resource) a grant allows; "*" entries stay "*". */
export function permissionsOf(grants: readonly Grant[]): Permission[] {
  return grants.flatMap((g) =>
    (g.rule.verbs ?? []).flatMap((verb) =>
      (g.rule.apiGroups ?? []).flatMap((group) =>
        (g.rule.resources ?? []).map((resource) => ({ grant: g.id, verb, group, resource })),
      ),
    ),
  );
}

const has = (list: readonly string[] | undefined, v: string): boolean => (list ?? []).some((x) => x === "*" || x === v);

/** Kubernetes RBAC's rule match (rbac/v1 RuleAllows), for resource requests. */
export function grantAllows(g: Grant, a: AuthzAttributes): boolean {
  if (g.namespace !== undefined && g.namespace !== a.namespace) return false;
  const resource = a.subresource === undefined ? a.resource : `${a.resource}/${a.subresource}`;
  if (!has(g.rule.verbs, a.verb) || !has(g.rule.apiGroups, a.apiGroup) || !has(g.rule.resources, resource))
    return false;
  const names = g.rule.resourceNames ?? [];
  return names.length === 0 || (a.name !== undefined && names.includes(a.name));
}

export interface RbacEnforcement {
  readonly grants: readonly Grant[];
  /** Permission keys that authorized at least one request of leasekeeper's service account. */
  readonly used: Set<string>;
  /** Requests of leasekeeper's service account that RBAC refused (verb group/resource ns/name). */
  readonly denied: string[];
  readonly authorizer: Authorizer;
}

export function rbacEnforcement(
  grants: readonly Grant[],
  username = LEASEKEEPER_USER,
  others: Authorizer = () => ({ allowed: true }),
): RbacEnforcement {
  const used = new Set<string>();
  const denied: string[] = [];
  const authorizer: Authorizer = (a) => {
    if (a.user.username !== username) return others(a);
    const grant = grants.find((g) => grantAllows(g, a));
    const resource = a.subresource === undefined ? a.resource : `${a.resource}/${a.subresource}`;
    if (grant === undefined) {
      denied.push(
        `${a.verb} ${a.apiGroup === "" ? "core" : a.apiGroup}/${resource} ${a.namespace ?? "(cluster)"}/${a.name ?? ""}`,
      );
      return { allowed: false, reason: "no RBAC rule in infra/base grants this to leasekeeper" };
    }
    const rule = grant.rule;
    // Record the rule's own entries that matched (a "*" entry is recorded as "*").
    const verb = rule.verbs.includes(a.verb) ? a.verb : "*";
    const group = (rule.apiGroups ?? []).includes(a.apiGroup) ? a.apiGroup : "*";
    used.add(
      permissionKey({
        grant: grant.id,
        verb,
        group,
        resource: (rule.resources ?? []).includes(resource) ? resource : "*",
      }),
    );
    return { allowed: true, reason: `RBAC: allowed by ${grant.id}` };
  };
  return { grants, used, denied, authorizer };
}

/**
 * Runs leasekeeper as its own service account: creates it (namespace leasekeeper), writes a
 * kubeconfig with its token to `kubeconfigPath`, and makes the emulator enforce infra/base's
 * RBAC for it. The admin kubeconfig keeps working for the tests' own setup.
 */
export function enforceLeasekeeperRbac(kube: KubernetesEmulator, kubeconfigPath: string): Promise<RbacEnforcement> {
  const enforcement = rbacEnforcement(grantsFor(loadKustomization(join(INFRA_DIR, "base"))));
  if (kube.control.get("namespaces", "", LEASEKEEPER_SA.namespace) === undefined)
    kube.control.put("namespaces", { metadata: { name: LEASEKEEPER_SA.namespace } });
  if (kube.control.get("serviceaccounts", LEASEKEEPER_SA.namespace, LEASEKEEPER_SA.name) === undefined) {
    kube.control.put("serviceaccounts", {
      metadata: { name: LEASEKEEPER_SA.name, namespace: LEASEKEEPER_SA.namespace },
    });
  }
  const token = kube.control.issueToken({
    namespace: LEASEKEEPER_SA.namespace,
    serviceAccount: LEASEKEEPER_SA.name,
    expirationSeconds: 24 * 3600,
  });
  kube.control.setAuthorizer(enforcement.authorizer);
  return kube.writeKubeconfig(kubeconfigPath, { token, namespace: LEASEKEEPER_SA.namespace }).then(() => enforcement);
}

/**
 * Called when a stack closes: reports refused requests on stderr, and when
 * LEASEKEEPER_RBAC_USAGE_DIR is set, writes the used permissions there (one file per stack) so a
 * whole e2e run can be summed up; test/infra/rbac-unused.test.ts does not depend on these files.
 */
export function reportRbac(enforcement: RbacEnforcement): void {
  if (enforcement.denied.length > 0) {
    process.stderr.write(
      `[rbac] infra/base refused ${enforcement.denied.length} request(s) of leasekeeper: ${[...new Set(enforcement.denied)].join("; ")}\n`,
    );
  }
  const dir = process.env.LEASEKEEPER_RBAC_USAGE_DIR;
  if (dir === undefined || dir === "") return;
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `usage-${process.pid}-${Date.now()}.json`);
  writeFileSync(
    file,
    JSON.stringify(
      { script: process.argv[1] ?? "", used: [...enforcement.used].sort(), denied: enforcement.denied },
      null,
      2,
    ),
  );
}

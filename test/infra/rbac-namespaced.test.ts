/**
 * Namespaced mode (infra/overlays/namespaced = all-in-one + infra/components/namespaced): leasekeeper
 * holds Secret, TokenRequest, Event and ReplicaSet rights only in the namespaces it serves, and the unseal
 * key Secret by name. Statically: nothing sensitive is cluster-wide, the RoleBindings are exactly
 * LEASEKEEPER_NAMESPACES and never kube-system. End to end: every role runs with these rules enforced
 * (LEASEKEEPER_NAMESPACES from the overlay), no request is refused, and no granted rule goes unused.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { runKeysCommand } from "../../cli/keys.ts";
import { loadConfig, requireUnsealKeys } from "../../shared/config/config.ts";
import { ENV } from "../../shared/config/env-vars.ts";
import { createKmsClient } from "../../shared/kms/kms-client.ts";
import { createKubeClient } from "../../shared/kube/kube-client.ts";
import { keyStoreFor } from "../../shared/unseal/key-store-from-config.ts";
import type { KubeObject } from "../emulators/kubernetes/index.ts";
import { kubeConfigFor } from "../emulators/kubernetes/testing.ts";
import { vaultServerPod } from "../helpers/vault-pod.ts";
import {
  grantAllows,
  grantsFor,
  LEASEKEEPER_USER,
  permissionKey,
  permissionsOf,
  rbacEnforcement,
  type Grant,
  type RbacEnforcement,
} from "../helpers/rbac.ts";
import {
  ensureServiceAccount,
  randomIndexKey,
  seedExample,
  startStack,
  type Seeded,
  type Stack,
} from "../helpers/stack.ts";
import { opted, startLeasekeeper, waitFor, type Harness } from "../e2e/harness.ts";
import { KUBECTL, kustomize } from "./build.ts";

process.env.AWS_ACCESS_KEY_ID ??= "test";
process.env.AWS_SECRET_ACCESS_KEY ??= "test";

let objects: KubeObject[] = [];
let grants: Grant[] = [];
let served: string[] = [];
let stack: Stack | undefined;
let seeded: Seeded;
let lk: Harness | undefined;
let enforcement: RbacEnforcement;

const user = { username: LEASEKEEPER_USER, groups: [] };
const allows = (verb: string, resource: string, namespace?: string, name?: string, apiGroup = "") => {
  const [res, sub] = resource.split("/");
  return grants.some((g) =>
    grantAllows(g, {
      user,
      verb,
      apiGroup,
      resource: res ?? "",
      ...(sub ? { subresource: sub } : {}),
      ...(namespace ? { namespace } : {}),
      ...(name ? { name } : {}),
    }),
  );
};

const vaultPod = (restarts: number, ready: boolean) => vaultServerPod({ restarts, ready });

test.before(() => {
  if (KUBECTL === undefined)
    throw new Error("these checks need kubectl (bash scripts/install-system-deps.sh installs it)");
  objects = kustomize("overlays/namespaced");
  grants = grantsFor(objects);
  const cm = objects.find((o) => o.kind === "ConfigMap" && o.metadata.name === "leasekeeper-config");
  served = String(cm?.data?.[ENV.namespaces] ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
});

test.after(async () => {
  await lk?.stop();
  await stack?.close();
});

test("nothing sensitive is cluster-wide; served namespaces = LEASEKEEPER_NAMESPACES, never kube-system", () => {
  assert.ok(served.length > 0, "LEASEKEEPER_NAMESPACES is set (namespaced mode needs it)");
  const clusterWide = grants
    .filter((g) => g.namespace === undefined)
    .flatMap((g) => permissionsOf([g]).map((p) => `${p.verb} ${p.group || "core"}/${p.resource}`));
  assert.equal(clusterWide.sort(), [
    "create authentication.k8s.io/tokenreviews",
    "create authorization.k8s.io/subjectaccessreviews",
    "get core/pods",
    "list core/pods",
    "watch core/pods",
  ]);
  const bindings = objects.filter((o) => o.kind === "RoleBinding" && o.roleRef.name === "leasekeeper-served-namespace");
  assert.equal(bindings.map((b) => String(b.metadata.namespace)).sort(), [...served].sort());
  assert.not.ok(served.includes("kube-system"));
  assert.not.ok(
    objects.some(
      (o) =>
        o.kind === "ClusterRoleBinding" &&
        ["leasekeeper-served-namespace", "leasekeeper-unseal-keys"].includes(o.roleRef.name),
    ),
    "the namespaced roles are never bound cluster-wide",
  );
  for (const ns of served) {
    assert.ok(allows("create", "serviceaccounts/token", ns));
    assert.ok(allows("create", "secrets", ns));
  }
  for (const ns of ["kube-system", "leasekeeper", "other"]) {
    assert.not.ok(allows("create", "serviceaccounts/token", ns), `no TokenRequest in ${ns}`);
    assert.not.ok(allows("get", "secrets", ns, "anything"), `no Secret read in ${ns}`);
    assert.not.ok(allows("list", "secrets", ns), `no Secret list in ${ns}`);
  }
  assert.not.ok(allows("list", "secrets"), "no cluster-wide Secret list");
  assert.ok(allows("get", "secrets", "vault", "leasekeeper-unseal-keys"));
  assert.not.ok(allows("get", "secrets", "vault", "vault-root-token"), "only the key store, by name");
  assert.not.ok(allows("list", "secrets", "vault"));
});

test("every role runs within the namespaced rules, and every rule is used", async () => {
  stack = await startStack({ podGraceSeconds: 0 });
  enforcement = rbacEnforcement(grants);
  stack.kube.control.setAuthorizer(enforcement.authorizer);
  seeded = await seedExample(stack, { dbDefaultTtl: "4s", dbMaxTtl: "8s" });
  stack.kube.control.put("namespaces", { metadata: { name: "vault" } });
  stack.kube.control.put("pods", vaultPod(0, true));
  const unsealEnv = {
    LEASEKEEPER_UNSEAL: "true",
    LEASEKEEPER_KMS_KEY_ID: stack.kmsKeyId,
    LEASEKEEPER_KMS_ENDPOINT: stack.kms.url,
    LEASEKEEPER_KMS_REGION: stack.kms.region,
    LEASEKEEPER_UNSEAL_CLUSTER_ID: "rbac-ns-cluster",
    LEASEKEEPER_VAULT_POD_NAMESPACE: "vault",
    LEASEKEEPER_VAULT_POD_PORT: new URL(stack.vault.url).port,
    LEASEKEEPER_VAULT_POD_SCHEME: "http", // the emulator is plain HTTP; the shipped default is https
    LEASEKEEPER_UNSEAL_SWEEP_SECONDS: "120",
  };
  const config = loadConfig({ LEASEKEEPER_INDEX_KEY: randomIndexKey(), VAULT_ADDR: stack.vault.url, ...unsealEnv });
  const kms = createKmsClient({ keyId: stack.kmsKeyId, endpoint: stack.kms.url, region: stack.kms.region });
  const out: string[] = [];
  const code = await runKeysCommand(
    ["import"],
    { stdin: [Buffer.from(stack.vault.unsealKeys.join("\n"))], out: (l) => out.push(l), err: (l) => out.push(l) },
    {
      keys: keyStoreFor(requireUnsealKeys(config), createKubeClient(kubeConfigFor(stack.kube)), kms),
      kmsKeyId: stack.kmsKeyId,
    },
  );
  kms.destroy();
  assert.is(code, 0, out.join("\n"));
  lk = await startLeasekeeper(stack, seeded, {
    ...unsealEnv,
    [ENV.namespaces]: served.join(","),
    LEASEKEEPER_LEADER_ELECTION: "true",
    LEASEKEEPER_LEASE_NAMESPACE: "leasekeeper",
    LEASEKEEPER_LEASE_DURATION_SECONDS: "2",
  });
  const s = stack;
  await waitFor(
    "watcher Lease renewed",
    async () => [...enforcement.used].some((k) => k.includes("update coordination.k8s.io/leases")),
    15_000,
  );

  // A Deployment-owned pod in the served namespace: issue, then renew until a rotation rewrites the Secret.
  const template = {
    metadata: { labels: { app: "web" } },
    spec: { containers: [{ name: "app", image: "busybox:1.36" }] },
  };
  const deployment = s.kube.control.put("deployments", {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", namespace: "default" },
    spec: { selector: { matchLabels: { app: "web" } }, template },
  });
  const rs = s.kube.control.put("replicasets", {
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    metadata: {
      name: "web-7d4b9",
      namespace: "default",
      ownerReferences: [
        {
          apiVersion: "apps/v1",
          kind: "Deployment",
          name: "web",
          uid: deployment.metadata.uid ?? "",
          controller: true,
        },
      ],
    },
    spec: { selector: { matchLabels: { app: "web" } }, template },
  });
  const pod = opted("web-7d4b9-x1");
  await s.core.createNamespacedPod({
    namespace: "default",
    body: {
      ...pod,
      metadata: {
        ...pod.metadata,
        labels: { app: "web" },
        ownerReferences: [
          {
            apiVersion: "apps/v1",
            kind: "ReplicaSet",
            name: "web-7d4b9",
            uid: rs.metadata.uid ?? "",
            controller: true,
          },
        ],
      },
    },
  });
  const user = () =>
    (
      s.kube.control.get("secrets", "default", "web-7d4b9-x1-leasekeeper")?.data as Record<string, string> | undefined
    )?.["creds.json"];
  const first = await waitFor("credentials issued", async () => user());
  await waitFor("credentials rotated at the max TTL", async () => user() !== undefined && user() !== first, 20_000);

  // On-call API: TokenReview, SubjectAccessReview, the workload scope (ReplicaSet → Deployment).
  await ensureServiceAccount(s.core, "default", "oncall");
  const bearer = s.kube.control.issueToken({
    namespace: "default",
    serviceAccount: "oncall",
    audiences: ["leasekeeper"],
    expirationSeconds: 3600,
  });
  const res = await fetch(`${lk.runtime.httpUrl}/v1/revoke`, {
    method: "POST",
    headers: { authorization: `Bearer ${bearer}`, "content-type": "application/json" },
    body: JSON.stringify({
      scope: { type: "workload", namespace: "default", kind: "Deployment", name: "web" },
      reason: "rbac scenario",
      dryRun: true,
    }),
  });
  assert.is(res.status, 200, await res.clone().text());

  // Unseal: the key Secret is read by name, VaultUnsealed recorded on the Vault pod.
  s.vault.control.restartSealed();
  s.kube.control.put("pods", vaultPod(1, false));
  await waitFor("vault unsealed", async () => !s.vault.control.isSealed(), 15_000);
  await waitFor("VaultUnsealed event", async () =>
    s.kube.control.list("events", "vault").some((e) => e.reason === "VaultUnsealed"),
  );

  // The pod finishes: revoke finds the Secret by label and deletes it.
  s.kube.control.setPodPhase("default", "web-7d4b9-x1", "Succeeded");
  await waitFor(
    "Secret deleted on Succeeded",
    async () => s.kube.control.get("secrets", "default", "web-7d4b9-x1-leasekeeper") === undefined,
    15_000,
  );

  // A repeated Event raises the count of the one recorded (client-go's event correlation): a patch, in each namespace.
  for (const namespace of ["default", "vault"]) {
    const pod = s.kube.control.list("pods", namespace)[0];
    for (let i = 0; i < 2; i++)
      await lk.runtime.deps.kube.recordEvent(
        { namespace, name: pod?.metadata.name ?? "", uid: pod?.metadata.uid ?? "" },
        { reason: "CredentialsRenewed", message: "renewed 1 lease", type: "Normal" },
      );
  }

  assert.equal(enforcement.denied, [], "the namespaced RBAC refused a request leasekeeper made");
  const unused = permissionsOf(grants)
    .map(permissionKey)
    .filter((k) => !enforcement.used.has(k));
  assert.equal(unused, [], `granted but used by no code path: ${unused.join(", ")}`);
});

test.run();

/**
 * Keeps infra/base's RBAC minimal: one representative run of every role (watch with leader
 * election, issue, renew with rotation, revoke on Succeeded, reconciler, unseal from the Vault
 * pod watch, the on-call API with TokenReview, SubjectAccessReview and the workload scope) as
 * leasekeeper's own service account, with infra/base's rules enforced; then every permission
 * those rules grant must have authorized at least one request, or be listed in ALLOWED_UNUSED
 * with the reason. The e2e suites enforce the same rules (test/helpers/stack.ts), so a missing
 * permission fails them; this file fails on a surplus one.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { runKeysCommand } from "../../cli/keys.ts";
import { createKmsClient } from "../../shared/kms/kms-client.ts";
import { createKubeClient } from "../../shared/kube/kube-client.ts";
import { loadConfig, requireUnsealKeys } from "../../shared/config/config.ts";
import { keyStoreFor } from "../../shared/unseal/key-store-from-config.ts";
import type { KubeObject } from "../emulators/kubernetes/index.ts";
import { kubeConfigFor } from "../emulators/kubernetes/testing.ts";
import { vaultServerPod } from "../helpers/vault-pod.ts";
import { permissionKey, permissionsOf, type Permission } from "../helpers/rbac.ts";
import {
  ensureServiceAccount,
  randomIndexKey,
  seedExample,
  startStack,
  type Seeded,
  type Stack,
} from "../helpers/stack.ts";
import { opted, startLeasekeeper, waitFor, type Harness } from "../e2e/harness.ts";

process.env.AWS_ACCESS_KEY_ID ??= "test";
process.env.AWS_SECRET_ACCESS_KEY ??= "test";

/** Granted but not exercised here, each with why it stays. Keep this empty when possible. */
const ALLOWED_UNUSED: ReadonlyArray<{ permission: string; reason: string }> = [];

let stack: Stack;
let seeded: Seeded;
let lk: Harness | undefined;

const vaultPod = (restarts: number, ready: boolean) => vaultServerPod({ restarts, ready });

const creds = (secret: KubeObject | undefined) => {
  const data = secret?.data as Record<string, string> | undefined;
  return data?.["creds.json"]
    ? (JSON.parse(Buffer.from(data["creds.json"], "base64").toString("utf8")) as { username: string })
    : undefined;
};

test.before(async () => {
  stack = await startStack({ podGraceSeconds: 0 });
  // Short database TTLs: the second renewal hits the max TTL and rotates (Secret update).
  seeded = await seedExample(stack, { dbDefaultTtl: "4s", dbMaxTtl: "8s" });
  stack.kube.control.put("namespaces", { metadata: { name: "vault" } });
  stack.kube.control.put("pods", vaultPod(0, true));
  const unsealEnv = {
    LEASEKEEPER_UNSEAL: "true",
    LEASEKEEPER_KMS_KEY_ID: stack.kmsKeyId,
    LEASEKEEPER_KMS_ENDPOINT: stack.kms.url,
    LEASEKEEPER_KMS_REGION: stack.kms.region,
    LEASEKEEPER_UNSEAL_CLUSTER_ID: "rbac-cluster",
    LEASEKEEPER_VAULT_POD_NAMESPACE: "vault",
    LEASEKEEPER_VAULT_POD_PORT: new URL(stack.vault.url).port,
    LEASEKEEPER_VAULT_POD_SCHEME: "http", // the emulator is plain HTTP; the shipped default is https
    LEASEKEEPER_UNSEAL_SWEEP_SECONDS: "120",
  };
  // The operator imports the shares with their own (admin) credentials, as docs/install.md says.
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
    LEASEKEEPER_LEADER_ELECTION: "true",
    LEASEKEEPER_LEASE_NAMESPACE: "leasekeeper",
    LEASEKEEPER_LEASE_DURATION_SECONDS: "2",
  });
});

test.after(async () => {
  await lk?.stop();
  await stack.close();
});

test("every role runs as leasekeeper's service account within infra/base's RBAC", async () => {
  const used = stack.rbac?.used ?? new Set<string>();
  // Leader election: Lease created, then renewed.
  await waitFor(
    "watcher Lease renewed",
    async () => [...used].some((k) => k.includes("update coordination.k8s.io/leases")),
    15_000,
  );

  // A Deployment-owned pod: issue, then renew until a rotation rewrites the Secret.
  const template = {
    metadata: { labels: { app: "web" } },
    spec: { containers: [{ name: "app", image: "busybox:1.36" }] },
  };
  const deployment = stack.kube.control.put("deployments", {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", namespace: "default" },
    spec: { selector: { matchLabels: { app: "web" } }, template },
  });
  const rs = stack.kube.control.put("replicasets", {
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
  await stack.core.createNamespacedPod({
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
  const first = await waitFor("credentials issued", async () =>
    creds(stack.kube.control.get("secrets", "default", "web-7d4b9-x1-leasekeeper")),
  );
  await waitFor(
    "credentials rotated at the max TTL",
    async () => {
      const now = creds(stack.kube.control.get("secrets", "default", "web-7d4b9-x1-leasekeeper"));
      return now !== undefined && now.username !== first.username;
    },
    20_000,
  );

  // On-call API: a person's bearer token (TokenReview), their rights (SubjectAccessReview), the workload scope (ReplicaSet → Deployment).
  await ensureServiceAccount(stack.core, "default", "oncall");
  const bearer = stack.kube.control.issueToken({
    namespace: "default",
    serviceAccount: "oncall",
    audiences: ["leasekeeper"],
    expirationSeconds: 3600,
  });
  const res = await fetch(`${lk?.runtime.httpUrl}/v1/revoke`, {
    method: "POST",
    headers: { authorization: `Bearer ${bearer}`, "content-type": "application/json" },
    body: JSON.stringify({
      scope: { type: "workload", namespace: "default", kind: "Deployment", name: "web" },
      reason: "rbac scenario",
      dryRun: true,
    }),
  });
  const body = (await res.json()) as { matched?: number };
  assert.is(res.status, 200, JSON.stringify(body));
  assert.is(body.matched, 1);

  // Unseal: the Vault pod restarts sealed; the watch sees it; the key Secret is read; an Event is recorded.
  stack.vault.control.restartSealed();
  stack.kube.control.put("pods", vaultPod(1, false));
  await waitFor("vault unsealed", async () => !stack.vault.control.isSealed(), 15_000);
  await waitFor("VaultUnsealed event", async () =>
    stack.kube.control.list("events", "vault").some((e) => e.reason === "VaultUnsealed"),
  );

  // The pod finishes: revoke deletes the Secret while the pod still exists.
  stack.kube.control.setPodPhase("default", "web-7d4b9-x1", "Succeeded");
  await waitFor(
    "Secret deleted on Succeeded",
    async () => stack.kube.control.get("secrets", "default", "web-7d4b9-x1-leasekeeper") === undefined,
    15_000,
  );

  // A repeated Event raises the count of the one recorded (client-go's event correlation): a patch.
  const uid = stack.kube.control.get("pods", "default", "web-7d4b9-x1")?.metadata.uid ?? "";
  for (let i = 0; i < 2; i++)
    await lk?.runtime.deps.kube.recordEvent(
      { namespace: "default", name: "web-7d4b9-x1", uid },
      { reason: "CredentialsRenewed", message: "renewed 1 lease", type: "Normal" },
    );

  assert.equal(stack.rbac?.denied, [], "infra/base refused a request leasekeeper made");
});

test("no permission in infra/base goes unused (or it is allow-listed with a reason)", () => {
  const enforcement = stack.rbac;
  if (!enforcement) throw new Error("RBAC enforcement is off");
  const granted = permissionsOf(enforcement.grants).map((p: Permission) => permissionKey(p));
  const allowed = new Set(ALLOWED_UNUSED.map((a) => a.permission));
  for (const a of ALLOWED_UNUSED)
    assert.ok(granted.includes(a.permission), `ALLOWED_UNUSED names ${a.permission}, which infra/base does not grant`);
  const unused = granted.filter((k) => !enforcement.used.has(k) && !allowed.has(k));
  assert.equal(unused, [], `granted but used by no code path: ${unused.join(", ")}`);
  const stale = ALLOWED_UNUSED.filter((a) => enforcement.used.has(a.permission)).map((a) => a.permission);
  assert.equal(stale, [], `allow-listed but used after all (remove from ALLOWED_UNUSED): ${stale.join(", ")}`);
  console.log(
    `[rbac] ${granted.length} permissions granted, ${enforcement.used.size} used, ${ALLOWED_UNUSED.length} allow-listed`,
  );
});

test.run();

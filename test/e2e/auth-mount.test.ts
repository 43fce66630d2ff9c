/**
 * `leasekeeper.io/auth-path`: a pod logs in through another Kubernetes auth mount than the
 * default `kubernetes/` (e.g. one mount per cluster). The Vault emulator serves any mount path as
 * Vault does (sys/auth/<path>); the pod's token comes from that mount, its lease works and dies
 * with the pod.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import vault from "node-vault";
import { canLogin, opted, roleExists, startLeasekeeper, waitFor, type Harness } from "./harness.ts";
import { seedExample, startStack, type Stack } from "../helpers/stack.ts";

let stack: Stack | undefined;
let lk: Harness | undefined;

test.after(async () => {
  await lk?.stop();
  await stack?.close();
});

test("a pod with auth-path k8s-other logs in through that mount; delete → role dropped", async () => {
  stack = await startStack({ podGraceSeconds: 0 });
  const seeded = await seedExample(stack);
  const root = vault({ apiVersion: "v1", endpoint: stack.vault.url, token: stack.vault.rootToken });
  await root.write("sys/auth/k8s-other", { type: "kubernetes" });
  // Configured as setup.sh configures kubernetes/: Vault runs outside the cluster, with a reviewer token.
  const reviewer = readFileSync(join(stack.dir, "vault-reviewer.jwt"), "utf8");
  await root.write("auth/k8s-other/config", { kubernetes_host: stack.kube.url, token_reviewer_jwt: reviewer });
  // The same binding the shipped setup.sh gives the default mount's postgres role.
  await root.write("auth/k8s-other/role/postgres", {
    bound_service_account_names: ["postgres-vault"],
    bound_service_account_namespaces: ["default"],
    token_policies: ["postgres-app"],
    audience: "vault",
    token_ttl: "1h",
  });
  lk = await startLeasekeeper(stack, seeded);

  await stack.core.createNamespacedPod({
    namespace: "default",
    body: opted("other-mount", { "leasekeeper.io/auth-path": "k8s-other" }),
  });
  const s = stack;
  const secret = await waitFor("the pod's Secret", () =>
    s.core.readNamespacedSecret({ namespace: "default", name: "other-mount-leasekeeper" }).catch(() => undefined),
  );
  const creds = JSON.parse(Buffer.from(secret.data?.["creds.json"] ?? "", "base64").toString()) as {
    username: string;
    password: string;
  };
  assert.ok(await canLogin(s, creds), "the issued password logs in");
  const accessor = secret.metadata?.annotations?.["leasekeeper.io/token-accessor"] ?? "";
  const token = s.vault.control.tokens().find((t) => t.accessor === accessor);
  assert.match(token?.path ?? "", /^auth\/k8s-other\/login/, "the token came from the k8s-other mount");
  assert.not.ok(s.vault.control.tokenReviews().length === 0, "Vault reviewed the pod's JWT");

  await s.core.deleteNamespacedPod({ namespace: "default", name: "other-mount" });
  await waitFor("the database role to be dropped", async () => !(await roleExists(s, creds.username)));
});

test.run();

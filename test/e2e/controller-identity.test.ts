import { suite } from "uvu";
import * as assert from "uvu/assert";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import vault from "node-vault";
import { seedExample, startStack, type Seeded, type Stack } from "../helpers/stack.ts";
import { LEASEKEEPER_SA } from "../helpers/rbac.ts";
import { opted, roleExists, startLeasekeeper, waitFor } from "./harness.ts";

/**
 * leasekeeper's own Vault identity: it logs in with its service account through its own
 * Kubernetes-auth role and policy (no static token), renews that token, and logs in again when
 * the token reaches its max TTL — lifecycle calls keep working throughout.
 */
const identity = suite<{ stack: Stack; seeded: Seeded }>("controller identity");

identity.before(async (ctx) => {
  ctx.stack = await startStack({ podGraceSeconds: 0 });
  ctx.seeded = await seedExample(ctx.stack);
  const root = vault({ apiVersion: "v1", endpoint: ctx.stack.vault.url, token: ctx.stack.vault.rootToken });
  await root.write("auth/kubernetes/role/leasekeeper", {
    bound_service_account_names: LEASEKEEPER_SA.name,
    bound_service_account_namespaces: LEASEKEEPER_SA.namespace,
    token_policies: "leasekeeper",
    token_ttl: "4s",
    token_max_ttl: "9s",
    audience: "vault",
  });
});
identity.after(async (ctx) => {
  await ctx.stack?.close();
});

identity("logs in as its service account, keeps its token alive past max TTL, and revokes with it", async ({ stack, seeded }) => {
  const jwtFile = join(stack.dir, "leasekeeper-sa.jwt");
  writeFileSync(jwtFile, stack.kube.control.issueToken({ namespace: LEASEKEEPER_SA.namespace, serviceAccount: LEASEKEEPER_SA.name, audiences: ["vault"], expirationSeconds: 3600 }));
  const lk = await startLeasekeeper(stack, seeded, { VAULT_TOKEN: "", LEASEKEEPER_VAULT_ROLE: "leasekeeper", LEASEKEEPER_VAULT_JWT_FILE: jwtFile });
  try {
    const mine = () => stack.vault.control.tokens().filter((t) => t.role === "leasekeeper");
    await waitFor("leasekeeper logged in", async () => mine().length >= 1);
    await stack.core.createNamespacedPod({ namespace: "default", body: opted("cid-1") });
    const secret = await waitFor("Secret", () => stack.core.readNamespacedSecret({ namespace: "default", name: "cid-1-leasekeeper" }).catch(() => undefined));
    const creds = JSON.parse(Buffer.from(secret.data?.["creds.json"] ?? "", "base64").toString("utf8")) as { username: string };
    // Past the 9 s max TTL of its first token: it must have renewed and then logged in again.
    await new Promise((r) => setTimeout(r, 11_000));
    assert.ok(mine().length >= 2, `logged in again after max TTL (${mine().length} tokens)`);
    assert.ok(mine().some((t) => !t.revoked && t.expireTime !== null && t.expireTime.getTime() > Date.now()), "a live token now");
    await stack.core.deleteNamespacedPod({ namespace: "default", name: "cid-1" });
    await waitFor("revoked with the current token", async () => !(await roleExists(stack, creds.username)), 10_000);
    assert.ok(lk.logs.join("").includes("logged in to Vault as leasekeeper"));
    assert.not.ok(lk.logs.join("").includes(mine()[0]?.id ?? "no-such-token"), "its token never logged");
  } finally {
    await lk.stop();
  }
});

identity.run();

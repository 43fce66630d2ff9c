import { suite } from "uvu";
import * as assert from "uvu/assert";
import { Redis } from "ioredis";
import vault from "node-vault";
import type { V1Secret } from "@kubernetes/client-node";
import { ensureServiceAccount, seedExample, startStack, type Seeded, type Stack } from "../helpers/stack.ts";
import { canLogin, opted, startLeasekeeper, waitFor } from "./harness.ts";

/**
 * Whoever may edit Secrets in one namespace must not be able to make leasekeeper revoke another
 * namespace's credentials by writing a foreign accessor into a per-pod Secret's annotations.
 */
const trust = suite<{ stack: Stack; seeded: Seeded }>("annotation trust");

trust.before(async (ctx) => {
  ctx.stack = await startStack({ podGraceSeconds: 0 });
  ctx.seeded = await seedExample(ctx.stack);
  await ctx.stack.core.createNamespace({ body: { metadata: { name: "apps" } } });
  await ensureServiceAccount(ctx.stack.core, "apps", "postgres-vault");
  // Hand-made on top of setup.sh: its example role binds one namespace, this test needs two.
  const root = vault({ apiVersion: "v1", endpoint: ctx.stack.vault.url, token: ctx.stack.vault.rootToken });
  await root.write("auth/kubernetes/role/postgres", { bound_service_account_namespaces: "default,apps" });
});
trust.after(async (ctx) => {
  await ctx.stack?.close();
});

const credsOf = (s: V1Secret) =>
  JSON.parse(Buffer.from(s.data?.["creds.json"] ?? "", "base64").toString("utf8")) as {
    username: string;
    password: string;
  };

trust("a foreign accessor written into a Secret's annotations is not revoked", async ({ stack, seeded }) => {
  const lk = await startLeasekeeper(stack, seeded, { LEASEKEEPER_RECONCILE_INTERVAL_SECONDS: "3600" });
  try {
    await stack.core.createNamespacedPod({
      namespace: "apps",
      body: { ...opted("victim"), metadata: { ...opted("victim").metadata, namespace: "apps" } },
    });
    await stack.core.createNamespacedPod({ namespace: "default", body: opted("tamper") });
    const victim = await waitFor("victim Secret", () =>
      stack.core.readNamespacedSecret({ namespace: "apps", name: "victim-leasekeeper" }).catch(() => undefined),
    );
    const victimAccessor = victim.metadata?.annotations?.["leasekeeper.io/token-accessor"] ?? "";
    const tamper = await waitFor("tamper Secret", () =>
      stack.core.readNamespacedSecret({ namespace: "default", name: "tamper-leasekeeper" }).catch(() => undefined),
    );
    // Someone with Secret rights in "default" points the annotations at the other namespace's token and lease.
    const victimLeases = victim.metadata?.annotations?.["leasekeeper.io/lease-ids"] ?? "[]";
    tamper.metadata = {
      ...tamper.metadata,
      annotations: {
        ...tamper.metadata?.annotations,
        "leasekeeper.io/token-accessor": victimAccessor,
        "leasekeeper.io/lease-ids": victimLeases,
      },
    };
    await stack.core.replaceNamespacedSecret({ namespace: "default", name: "tamper-leasekeeper", body: tamper });
    // Redis is lost, so the revoke has only the Secret to go by.
    const redis = new Redis(stack.redis.url);
    await redis.flushall();
    redis.disconnect();
    stack.kube.control.setPodPhase("default", "tamper", "Succeeded");
    await waitFor(
      "tamper's Secret handled",
      async () =>
        (await stack.core
          .readNamespacedSecret({ namespace: "default", name: "tamper-leasekeeper" })
          .catch(() => undefined)) === undefined,
    );
    const token = stack.vault.control.tokens().find((t) => t.accessor === victimAccessor);
    assert.ok(token && !token.revoked, "the other namespace's token was not revoked");
    assert.ok(await canLogin(stack, credsOf(victim)), "the other namespace's credentials still work");
  } finally {
    await lk.stop();
  }
});

trust.run();

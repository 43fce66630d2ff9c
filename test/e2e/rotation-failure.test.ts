import { suite } from "uvu";
import * as assert from "uvu/assert";
import type { V1Secret } from "@kubernetes/client-node";
import { seedExample, startStack, type Seeded, type Stack } from "../helpers/stack.ts";
import { canLogin, opted, startLeasekeeper, waitFor } from "./harness.ts";

/** A re-login whose Secret write fails leaves the pod its working credentials and revokes the new token. */
const failing = suite<{ stack: Stack; seeded: Seeded }>("rotation failure");

failing.before(async (ctx) => {
  ctx.stack = await startStack({ podGraceSeconds: 0 });
  ctx.seeded = await seedExample(ctx.stack);
});
failing.after(async (ctx) => {
  await ctx.stack?.close();
});

const read = (stack: Stack) =>
  stack.core.readNamespacedSecret({ namespace: "default", name: "rf-1-leasekeeper" }).catch(() => undefined);
const credsOf = (s: V1Secret) =>
  JSON.parse(Buffer.from(s.data?.["creds.json"] ?? "", "base64").toString("utf8")) as {
    username: string;
    password: string;
  };

failing(
  "old credentials stay current and the half-made token is revoked; the retry then rotates",
  async ({ stack, seeded }) => {
    const lk = await startLeasekeeper(stack, seeded, { LEASEKEEPER_RECONCILE_INTERVAL_SECONDS: "3600" });
    try {
      const pod = await stack.core.createNamespacedPod({ namespace: "default", body: opted("rf-1") });
      const uid = pod.metadata?.uid ?? "";
      const before = credsOf(await waitFor("Secret", () => read(stack)));
      const record = await waitFor("issued", async () => {
        const r = await lk.runtime.deps.index.get(uid);
        return r?.state === "issued" ? r : undefined;
      });
      stack.kube.control.failNext({ method: "PUT", pathPattern: "/secrets/rf-1-leasekeeper", status: 500, count: 3 });
      await lk.runtime.deps.producer.renew({ uid, namespace: "default", name: "rf-1", force: true }, 99, 0);
      // While the Secret cannot be written, the index keeps the old token and the Secret the old credentials.
      await waitFor(
        "a failed attempt",
        async () => stack.vault.control.tokens().filter((t) => t.role === "postgres").length >= 2,
      );
      const during = await lk.runtime.deps.index.get(uid);
      assert.is(during?.accessor, record.accessor, "the old token stays current");
      assert.ok(await canLogin(stack, credsOf((await read(stack)) as V1Secret)), "the pod's credentials still work");
      // The retry (after the three refusals) rotates; every half-made token was revoked.
      const after = credsOf(
        await waitFor(
          "rotated",
          async () => {
            const s = await read(stack);
            return s && credsOf(s).username !== before.username ? s : undefined;
          },
          30_000,
        ),
      );
      assert.ok(await canLogin(stack, after));
      const current = (await lk.runtime.deps.index.get(uid))?.accessor;
      const live = stack.vault.control
        .tokens()
        .filter((t) => t.role === "postgres" && !t.revoked && t.accessor !== record.accessor);
      assert.equal(
        live.map((t) => t.accessor),
        [current],
        "only the token the Secret uses is live (the old one retires after the grace)",
      );
    } finally {
      await lk.stop();
    }
  },
);

failing.run();

import { suite } from "uvu";
import * as assert from "uvu/assert";
import type { V1Secret } from "@kubernetes/client-node";
import { seedExample, startStack, type Seeded, type Stack } from "../helpers/stack.ts";
import { canLogin, opted, startLeasekeeper, waitFor, type Harness } from "./harness.ts";

/** While Vault is sealed renewals wait instead of failing, then resume; nothing is lost. */
const sealed = suite<{ stack: Stack; seeded: Seeded; lk: Harness }>("sealed vault");

sealed.before(async (ctx) => {
  ctx.stack = await startStack({ podGraceSeconds: 0 });
  ctx.seeded = await seedExample(ctx.stack, {
    dbDefaultTtl: "8s",
    dbMaxTtl: "60s",
    tokenTtl: "12s",
    tokenMaxTtl: "60s",
  });
  ctx.lk = await startLeasekeeper(ctx.stack, ctx.seeded, { LEASEKEEPER_SEALED_RETRY_MS: "250" });
});
sealed.after(async (ctx) => {
  await ctx.lk?.stop();
  await ctx.stack?.close();
});

const read = (stack: Stack, pod: string) =>
  stack.core.readNamespacedSecret({ namespace: "default", name: `${pod}-leasekeeper` }).catch(() => undefined);
const credsOf = (s: V1Secret) =>
  JSON.parse(Buffer.from(s.data?.["creds.json"] ?? "", "base64").toString("utf8")) as {
    username: string;
    password: string;
  };

sealed("renewals due while sealed wait, then run once unsealed; credentials never lapse", async ({ stack, lk }) => {
  for (const name of ["s1", "s2"]) await stack.core.createNamespacedPod({ namespace: "default", body: opted(name) });
  const before = await Promise.all(
    ["s1", "s2"].map(async (n) => credsOf(await waitFor(`${n} Secret`, () => read(stack, n)))),
  );
  const waitsBefore = await lk.runtime.metrics.vaultSealedWaits.get();
  // Seal across the first renewal point (~5.3 s after issue).
  await new Promise((r) => setTimeout(r, 3000));
  stack.vault.control.seal();
  await new Promise((r) => setTimeout(r, 3500));
  const waits =
    (await lk.runtime.metrics.vaultSealedWaits.get()).values.find((v) => v.labels.queue === "renew")?.value ?? 0;
  const waitsBeforeRenew = waitsBefore.values.find((v) => v.labels.queue === "renew")?.value ?? 0;
  assert.ok(waits > waitsBeforeRenew, "renewals waited while sealed");
  stack.vault.control.unseal();
  const renewedBefore = (await lk.runtime.metrics.renewals.get()).values
    .filter((v) => v.labels.kind === "lease")
    .reduce((a, v) => a + v.value, 0);
  await waitFor(
    "renewals resumed after unseal",
    async () => {
      const now = (await lk.runtime.metrics.renewals.get()).values
        .filter((v) => v.labels.kind === "lease")
        .reduce((a, v) => a + v.value, 0);
      return now >= renewedBefore + 2;
    },
    10_000,
  );
  for (const [i, n] of ["s1", "s2"].entries()) {
    const creds = credsOf((await read(stack, n)) as V1Secret);
    assert.ok(await canLogin(stack, creds), `${n} credentials still valid`);
    assert.is(creds.username, before[i]?.username, `${n} renewed, not re-issued`);
  }
  const failed = (await lk.runtime.metrics.jobs.get()).values.filter(
    (v) => v.labels.queue === "renew" && v.labels.outcome === "failed",
  );
  assert.is(
    failed.reduce((a, v) => a + v.value, 0),
    0,
    "no renewal failed",
  );
  for (const n of ["s1", "s2"]) await stack.core.deleteNamespacedPod({ namespace: "default", name: n });
  await waitFor("revoked", async () => stack.vault.control.leases().every((l) => l.revoked), 10_000);
});

sealed.run();

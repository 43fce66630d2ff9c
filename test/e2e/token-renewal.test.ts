import { suite } from "uvu";
import * as assert from "uvu/assert";
import type { V1Secret } from "@kubernetes/client-node";
import { seedExample, startStack, type Seeded, type Stack } from "../helpers/stack.ts";
import { canLogin, opted, startLeasekeeper, waitFor, type Harness } from "./harness.ts";

/**
 * A role with token_ttl = token_max_ttl (the shape of many real roles): every renew-self answer
 * is shorter than the token's first TTL, which is normal. Renewals stay plain — the same token
 * and database user, no rotation — until the max TTL really runs out; then leasekeeper logs in
 * again once, and the pod's credentials work throughout. Lease 3 s (max 120 s), token 40 s / 40 s.
 */
const tokens = suite<{ stack: Stack; seeded: Seeded; lk: Harness }>("token renewal");

tokens.before(async (ctx) => {
  ctx.stack = await startStack({ podGraceSeconds: 0 });
  ctx.seeded = await seedExample(ctx.stack, {
    dbDefaultTtl: "3s",
    dbMaxTtl: "120s",
    tokenTtl: "40s",
    tokenMaxTtl: "40s",
  });
  ctx.lk = await startLeasekeeper(ctx.stack, ctx.seeded);
});
tokens.after(async (ctx) => {
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
const accessorOf = (s: V1Secret) => s.metadata?.annotations?.["leasekeeper.io/token-accessor"] ?? "";
const sum = async (
  lk: Harness,
  metric: "rotations" | "renewals",
  match: (labels: Record<string, string | number>) => boolean,
) => (await lk.runtime.metrics[metric].get()).values.filter((v) => match(v.labels)).reduce((a, v) => a + v.value, 0);

tokens(
  "token_ttl = token_max_ttl: zero rotations over many renewals, one re-login when the max TTL runs out",
  async ({ stack, lk }) => {
    const pods = ["tt-1", "tt-2"];
    for (const name of pods) await stack.core.createNamespacedPod({ namespace: "default", body: opted(name) });
    const first = new Map<string, V1Secret>();
    for (const name of pods) first.set(name, await waitFor(`${name} Secret`, () => read(stack, name)));
    const issuedAt = Date.now();
    const failures: string[] = [];
    const sample = async () => {
      for (const name of pods) {
        const secret = await read(stack, name);
        if (!secret) failures.push(`${name}: Secret missing`);
        else if (!(await canLogin(stack, credsOf(secret))))
          failures.push(
            `${name}: ${credsOf(secret).username} refused at +${Math.round((Date.now() - issuedAt) / 1000)} s`,
          );
      }
    };

    // 24 s: ~10 renewals per pod, every one of them capped below the token's first 40 s.
    while (Date.now() - issuedAt < 24_000) {
      await sample();
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.equal(failures, []);
    assert.ok(
      (await sum(lk, "renewals", (l) => l.kind === "token" && l.result === "ok")) >= 2 * 8,
      "the tokens were renewed many times",
    );
    assert.is(await sum(lk, "rotations", () => true), 0, "no rotation, no re-login");
    for (const name of pods) {
      const now = (await read(stack, name)) as V1Secret;
      assert.is(accessorOf(now), accessorOf(first.get(name) as V1Secret), `${name}: the same pod token`);
      assert.is(
        credsOf(now).username,
        credsOf(first.get(name) as V1Secret).username,
        `${name}: the same database user`,
      );
    }

    // The max TTL (40 s) really runs out: each pod logs in again once, before its token dies.
    while (Date.now() - issuedAt < 42_000) {
      await sample();
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.equal(failures, []);
    for (const name of pods)
      assert.is.not(
        accessorOf((await read(stack, name)) as V1Secret),
        accessorOf(first.get(name) as V1Secret),
        `${name}: logged in again`,
      );
    const relogins = await sum(lk, "rotations", (l) => l.cause === "token-max-ttl");
    assert.is(relogins, pods.length, "exactly one re-login per pod");
    for (const name of pods) await stack.core.deleteNamespacedPod({ namespace: "default", name });
    await waitFor("revoked", async () => stack.vault.control.leases().every((l) => l.revoked), 10_000);
  },
);

tokens.run();

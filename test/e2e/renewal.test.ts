import { suite } from "uvu";
import * as assert from "uvu/assert";
import type { V1Secret } from "@kubernetes/client-node";
import { seedExample, startStack, type Seeded, type Stack } from "../helpers/stack.ts";
import { canLogin, opted, roleExists, startLeasekeeper, waitFor, type Harness } from "./harness.ts";

/**
 * Short TTLs (lease ttl 6 s / max 20 s, pod token ttl 10 s / max 30 s): renewals keep every
 * pod's credentials valid for its whole life, leases are rotated at their max TTL and the
 * token is replaced at its own, old roles are dropped after the grace, and no pod's current
 * lease ever expires.
 */
const renewal = suite<{ stack: Stack; seeded: Seeded; lk: Harness }>("renewal");

renewal.before(async (ctx) => {
  ctx.stack = await startStack({ podGraceSeconds: 0 });
  ctx.seeded = await seedExample(ctx.stack, {
    dbDefaultTtl: "6s",
    dbMaxTtl: "20s",
    tokenTtl: "10s",
    tokenMaxTtl: "30s",
  });
  ctx.lk = await startLeasekeeper(ctx.stack, ctx.seeded, { LEASEKEEPER_ROTATION_GRACE_SECONDS: "2" });
});

renewal.after(async (ctx) => {
  await ctx.lk?.stop();
  await ctx.stack?.close();
});

async function readSecret(stack: Stack, name: string): Promise<V1Secret | undefined> {
  return stack.core.readNamespacedSecret({ namespace: "default", name }).catch(() => undefined);
}

renewal("credentials stay valid for 40 s across lease rotation and token re-login", async ({ stack }) => {
  const pods = ["long-1", "long-2", "long-3"];
  const uids: string[] = [];
  for (const name of pods)
    uids.push((await stack.core.createNamespacedPod({ namespace: "default", body: opted(name) })).metadata?.uid ?? "");
  for (const name of pods) await waitFor(`${name} Secret`, () => readSecret(stack, `${name}-leasekeeper`));

  const usernames = new Map<string, Set<string>>(pods.map((p) => [p, new Set()]));
  const accessors = new Map<string, Set<string>>(pods.map((p) => [p, new Set()]));
  const failures: string[] = [];
  /** When each lease was last seen as a pod's current one: at or after the start of that read. */
  const lastCurrent = new Map<string, number>();
  const until = Date.now() + 40_000;
  while (Date.now() < until) {
    for (const name of pods) {
      const seenAt = Date.now();
      const secret = await readSecret(stack, `${name}-leasekeeper`);
      if (!secret) {
        failures.push(`${name}: Secret missing`);
        continue;
      }
      const creds = JSON.parse(Buffer.from(secret.data?.["creds.json"] ?? "", "base64").toString("utf8")) as {
        username: string;
        password: string;
      };
      usernames.get(name)?.add(creds.username);
      const leaseIds = JSON.parse(secret.metadata?.annotations?.["leasekeeper.io/lease-ids"] ?? "[]") as {
        id: string;
      }[];
      for (const { id } of leaseIds) lastCurrent.set(id, seenAt);
      accessors.get(name)?.add(secret.metadata?.annotations?.["leasekeeper.io/token-accessor"] ?? "");
      if (!(await canLogin(stack, creds)))
        failures.push(
          `${name}: ${creds.username} could not log in at +${Math.round(40 - (until - Date.now()) / 1000)} s`,
        );
    }
    await new Promise((r) => setTimeout(r, 400));
  }
  assert.equal(failures, [], "credentials were valid at every check");
  for (const name of pods) {
    assert.ok(
      (usernames.get(name)?.size ?? 0) >= 2,
      `${name} rotated its database credentials (${usernames.get(name)?.size})`,
    );
    assert.ok(
      (accessors.get(name)?.size ?? 0) >= 2,
      `${name} logged in again when its token reached max TTL (${accessors.get(name)?.size})`,
    );
  }

  // Old roles are dropped after the grace; only the current one of each pod remains.
  for (const name of pods) {
    const current = JSON.parse(
      Buffer.from((await readSecret(stack, `${name}-leasekeeper`))?.data?.["creds.json"] ?? "", "base64").toString(
        "utf8",
      ),
    ) as { username: string };
    for (const old of usernames.get(name) ?? []) {
      if (old === current.username) continue;
      await waitFor(`old role ${old} dropped`, async () => !(await roleExists(stack, old)), 10_000);
    }
  }

  // No pod's current lease ever expired. A replaced lease is revoked the grace after the rotation
  // (never sooner, workers/rotate.ts), so one whose max TTL ends within the grace expires first.
  const expiredWhileCurrent = stack.vault.control
    .leases()
    .filter((l) => l.revoked && l.revokedAt !== null && l.revokedAt.getTime() >= l.expireTime.getTime())
    .filter((l) => (lastCurrent.get(l.id) ?? 0) >= l.expireTime.getTime());
  assert.ok(lastCurrent.size >= pods.length * 2, "leases were seen in the Secrets");
  assert.equal(
    expiredWhileCurrent.map((l) => l.id),
    [],
    "no lease expired while it was a living pod's current one",
  );

  for (const name of pods) await stack.core.deleteNamespacedPod({ namespace: "default", name });
  await waitFor(
    "every lease revoked after the pods are gone",
    async () => stack.vault.control.leases().every((l) => l.revoked),
    15_000,
  );
});

renewal.run();

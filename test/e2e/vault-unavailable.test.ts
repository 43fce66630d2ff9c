import { suite } from "uvu";
import * as assert from "uvu/assert";
import type { V1Secret } from "@kubernetes/client-node";
import { seedExample, startStack, type Seeded, type Stack } from "../helpers/stack.ts";
import { startTcpProxy, type ProxyMode, type TcpProxy } from "../helpers/tcp-proxy.ts";
import { canLogin, opted, startLeasekeeper, waitFor, type Harness } from "./harness.ts";

/**
 * VAULT_ADDR is the vault-active Service: with every replica sealed it has no endpoints, so
 * connections are refused, or hang behind a load balancer. Either must be treated like a sealed
 * Vault: issue and renew jobs wait without spending attempts (each hanging call bounded by
 * LEASEKEEPER_VAULT_TIMEOUT_MS), and every renewal runs before its lease expires once Vault is
 * back. Leases 24 s: the first renewals (16–18.5 s after issue) fall inside a 6.5 s outage.
 */
const outage = suite<{ stack: Stack; seeded: Seeded; proxy: TcpProxy; lk: Harness }>("vault unavailable");

const TIMEOUT_MS = 1000;

outage.before(async (ctx) => {
  ctx.stack = await startStack({ podGraceSeconds: 0 });
  ctx.seeded = await seedExample(ctx.stack, { dbDefaultTtl: "24s", dbMaxTtl: "300s" });
  ctx.proxy = await startTcpProxy(Number(new URL(ctx.stack.vault.url).port));
  ctx.lk = await startLeasekeeper(ctx.stack, ctx.seeded, {
    VAULT_ADDR: `http://127.0.0.1:${ctx.proxy.port}`, // leasekeeper reaches Vault only through the switchable path
    LEASEKEEPER_VAULT_TIMEOUT_MS: String(TIMEOUT_MS),
  });
});
outage.after(async (ctx) => {
  await ctx.lk?.stop();
  await ctx.proxy?.close();
  await ctx.stack?.close();
});

const read = (stack: Stack, pod: string) =>
  stack.core.readNamespacedSecret({ namespace: "default", name: `${pod}-leasekeeper` }).catch(() => undefined);
const credsOf = (s: V1Secret) =>
  JSON.parse(Buffer.from(s.data?.["creds.json"] ?? "", "base64").toString("utf8")) as {
    username: string;
    password: string;
  };
const metric = async (
  lk: Harness,
  name: "vaultSealedWaits" | "jobFailures" | "jobs",
  match: (l: Record<string, string | number>) => boolean,
) => (await lk.runtime.metrics[name].get()).values.filter((v) => match(v.labels)).reduce((a, v) => a + v.value, 0);

async function throughOutage(ctx: { stack: Stack; proxy: TcpProxy; lk: Harness }, mode: ProxyMode, prefix: string) {
  const { stack, proxy, lk } = ctx;
  const pods = [1, 2, 3].map((i) => `${prefix}-${i}`);
  const issuedAt = Date.now();
  for (const name of pods) await stack.core.createNamespacedPod({ namespace: "default", body: opted(name) });
  const before = new Map<string, string>();
  for (const name of pods) before.set(name, credsOf(await waitFor(`${name} Secret`, () => read(stack, name))).username);
  const failuresBefore = await metric(lk, "jobFailures", (l) => l.queue === "renew" || l.queue === "issue");
  const refused: string[] = [];
  const sample = async () => {
    for (const name of pods) {
      const secret = await read(stack, name);
      if (!secret || !(await canLogin(stack, credsOf(secret))))
        refused.push(`${name} at +${Math.round((Date.now() - issuedAt) / 100) / 10} s`);
    }
  };
  while (Date.now() - issuedAt < 14_500) await sample();

  await proxy.setMode(mode);
  const late = `${prefix}-late`;
  await stack.core.createNamespacedPod({ namespace: "default", body: opted(late) });
  while (Date.now() - issuedAt < 21_000) await sample();
  const waits = await metric(lk, "vaultSealedWaits", (l) => l.reason === (mode === "hang" ? "timeout" : "unreachable"));
  assert.is(await read(stack, late), undefined, "nothing issued while Vault is away");
  await proxy.setMode("forward");

  await waitFor(`${late} issued once Vault is back`, () => read(stack, late), 10_000);
  while (Date.now() - issuedAt < 30_000) await sample();
  return { pods: [...pods, late], before, refused, waits, failuresBefore };
}

async function afterOutage(ctx: { stack: Stack; lk: Harness }, run: Awaited<ReturnType<typeof throughOutage>>) {
  const { stack, lk } = ctx;
  assert.equal(run.refused, [], "every pod's credentials logged in throughout");
  for (const [name, username] of run.before)
    assert.is(credsOf((await read(stack, name)) as V1Secret).username, username, `${name} renewed, not re-issued`);
  assert.is(
    await metric(lk, "jobFailures", (l) => l.queue === "renew" || l.queue === "issue"),
    run.failuresBefore,
    "no attempt spent while Vault was away",
  );
  assert.is(await metric(lk, "jobs", (l) => l.outcome === "failed"), 0, "no job failed");
  const expired = stack.vault.control
    .leases()
    .filter((l) => l.revoked && l.revokedAt !== null && l.revokedAt.getTime() >= l.expireTime.getTime());
  assert.equal(
    expired.map((l) => l.id),
    [],
    "every renewal ran before its lease expired",
  );
  for (const name of run.pods) await stack.core.deleteNamespacedPod({ namespace: "default", name });
  await waitFor("revoked", async () => stack.vault.control.leases().every((l) => l.revoked), 10_000);
}

outage(
  "connections refused (vault-active has no endpoints): jobs wait like sealed, renewals resume before expiry",
  async (ctx) => {
    const run = await throughOutage(ctx, "refuse", "refused");
    assert.ok(run.waits >= 4, `renew and issue jobs waited on an unreachable Vault (${run.waits})`);
    assert.ok(
      (await metric(ctx.lk, "vaultSealedWaits", (l) => l.queue === "issue" && l.reason === "unreachable")) >= 1,
      "the issue job waited too",
    );
    await afterOutage(ctx, run);
  },
);

outage(
  "connections hang: each call gives up after LEASEKEEPER_VAULT_TIMEOUT_MS and the job waits; nothing is lost",
  async (ctx) => {
    const waitsBefore = await metric(ctx.lk, "vaultSealedWaits", (l) => l.reason === "timeout");
    const run = await throughOutage(ctx, "hang", "hung");
    // 6.5 s of hanging with a 1 s bound and 0.3 s between tries: each waiting job came back several times.
    assert.ok(
      run.waits - waitsBefore >= 8,
      `jobs kept coming back, each call bounded by ${TIMEOUT_MS} ms (${run.waits - waitsBefore} waits)`,
    );
    await afterOutage(ctx, run);
  },
);

outage.run();

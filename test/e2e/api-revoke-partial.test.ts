/**
 * A revoke that partly fails: Vault refuses one lease revocation (500) inside a multi-pod scope.
 * The job reports partly-failed, names what failed with the job that retries it, revokes the rest,
 * and the retry then succeeds (database role really dropped).
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { randomBytes } from "node:crypto";
import { sha256Hex } from "../../functions/http/auth/digest.ts";
import type { OperationOutcome } from "../../shared/jobs/job-types.ts";
import { seedExample, startStack, type Seeded, type Stack } from "../helpers/stack.ts";
import { roleExists, startLeasekeeper, waitFor, type Harness } from "./harness.ts";
import { issuedPod } from "./revoke-fixtures.ts";

const e2e = suite<{ stack: Stack; seeded: Seeded; lk: Harness; token: string }>("api revoke, partly failing");

e2e.before(async (ctx) => {
  ctx.stack = await startStack({ podGraceSeconds: 0 });
  ctx.seeded = await seedExample(ctx.stack);
  ctx.token = randomBytes(24).toString("base64url");
  ctx.lk = await startLeasekeeper(ctx.stack, ctx.seeded, { LEASEKEEPER_API_TOKENS: sha256Hex(ctx.token) });
});
e2e.after(async (ctx) => {
  await ctx.lk?.stop();
  await ctx.stack?.close();
});

async function call(lk: Harness, token: string, path: string, body?: unknown) {
  const res = await fetch(`${lk.runtime.httpUrl}${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function jobDone(lk: Harness, token: string, id: string): Promise<{ state: string; result: unknown }> {
  return waitFor(
    `job ${id} finished`,
    async () => {
      const job = (await call(lk, token, `/v1/jobs/${id}?wait=5`)).body as { state: string; result: unknown };
      return job.state === "completed" || job.state === "failed" ? job : undefined;
    },
    30_000,
  );
}

e2e(
  "path-prefix over two pods: the failed lease is named, queued for retry, and the retry revokes it",
  async ({ stack, lk, token }) => {
    const a = await issuedPod(stack, "part-a");
    const b = await issuedPod(stack, "part-b");
    stack.vault.control.failNext("sys/leases/revoke", 1, 500, "injected revoke failure");
    const res = await call(lk, token, "/v1/revoke?wait=20", {
      scope: { type: "path-prefix", prefix: "database/creds/" },
      reason: "partial",
    });
    assert.is(res.status, 200, JSON.stringify(res.body));
    const result = (res.body.job as { result: OperationOutcome }).result;
    assert.is(result.outcome, "partly-failed");
    assert.is(result.total, 2);
    assert.is(result.failed, 1);
    const failed = result.items.filter((i) => i.outcome === "failed");
    const ok = result.items.filter((i) => i.outcome === "leases-revoked");
    assert.is(failed.length, 1);
    assert.is(ok.length, 1);
    const failedPod = failed[0]?.pod === "default/part-a" ? a : b;
    const okPod = failedPod === a ? b : a;
    assert.equal(failed[0]?.leases, [failedPod.leaseId], "the report names the failed lease");
    assert.match(failed[0]?.error ?? "", /500|injected|revoke/i);
    assert.is(failed[0]?.retryJobIds?.length, 1, "queued for retry");
    assert.not.ok(await roleExists(stack, okPod.user), "the other pod's lease is revoked at once");
    // The retry job (a retire job for that lease) succeeds now that Vault answers again.
    const retry = await jobDone(lk, token, failed[0]?.retryJobIds?.[0] ?? "");
    assert.is(retry.state, "completed", JSON.stringify(retry));
    assert.not.ok(await roleExists(stack, failedPod.user), "retried lease revoked: role dropped");
  },
);

e2e(
  "namespace scope over two pods: the failed pod is named with the lease in its error; its forced-revoke retry succeeds",
  async ({ stack, lk, token }) => {
    // Clean slate: the previous test's pods got fresh credentials through the forced rotation.
    const before = await call(lk, token, "/v1/revoke?wait=20", {
      scope: { type: "namespace", namespace: "default" },
      reason: "clean slate",
    });
    assert.is(before.status, 200, JSON.stringify(before.body));
    for (const name of ["part-a", "part-b"]) await stack.core.deleteNamespacedPod({ namespace: "default", name });
    const c = await issuedPod(stack, "part-c");
    const d = await issuedPod(stack, "part-d");
    stack.vault.control.failNext("sys/leases/revoke", 1, 500, "injected revoke failure");
    const res = await call(lk, token, "/v1/revoke?wait=20", {
      scope: { type: "namespace", namespace: "default" },
      reason: "partial ns",
    });
    assert.is(res.status, 200, JSON.stringify(res.body));
    const result = (res.body.job as { result: OperationOutcome }).result;
    assert.is(result.outcome, "partly-failed", JSON.stringify(result));
    const failed = result.items.find((i) => i.outcome === "failed");
    const failedPod = failed?.pod === "default/part-c" ? c : d;
    const okPod = failedPod === c ? d : c;
    assert.ok(result.items.some((i) => i.outcome === "revoked" && i.pod === `default/${okPod.name}`));
    assert.ok(failed?.error?.includes(failedPod.leaseId), `error names the lease: ${failed?.error}`);
    assert.is(failed?.retryJobIds?.length, 1);
    assert.not.ok(await roleExists(stack, okPod.user));
    const retry = await jobDone(lk, token, failed?.retryJobIds?.[0] ?? "");
    assert.is(retry.state, "completed", JSON.stringify(retry));
    assert.is((retry.result as { outcome: string }).outcome, "revoked");
    assert.not.ok(await roleExists(stack, failedPod.user), "retried: role dropped");
  },
);

e2e.run();

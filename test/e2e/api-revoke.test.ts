/** On-call revoke end to end: every scope against the emulators with real PostgreSQL (roles really dropped). */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { randomBytes } from "node:crypto";
import type { V1Secret } from "@kubernetes/client-node";
import { sha256Hex } from "../../functions/http/auth/digest.ts";
import { seedExample, startStack, type Seeded, type Stack } from "../helpers/stack.ts";
import { opted, redisDump, roleExists, startLeasekeeper, waitFor, type Harness } from "./harness.ts";

const e2e = suite<{ stack: Stack; seeded: Seeded; lk: Harness; token: string }>("api revoke");

e2e.before(async (ctx) => {
  ctx.stack = await startStack({ podGraceSeconds: 0 });
  ctx.seeded = await seedExample(ctx.stack);
  ctx.token = randomBytes(24).toString("base64url");
  ctx.lk = await startLeasekeeper(ctx.stack, ctx.seeded, {
    LEASEKEEPER_API_TOKENS: sha256Hex(ctx.token),
    LEASEKEEPER_RECONCILE_INTERVAL_SECONDS: "1",
  });
});
e2e.after(async (ctx) => {
  await ctx.lk?.stop();
  await ctx.stack?.close();
});

async function secretOf(stack: Stack, pod: string): Promise<V1Secret | undefined> {
  try {
    return await stack.core.readNamespacedSecret({ namespace: "default", name: `${pod}-leasekeeper` });
  } catch {
    return undefined;
  }
}
const userOf = (s: V1Secret) =>
  (JSON.parse(Buffer.from(s.data?.["creds.json"] ?? "", "base64").toString()) as { username: string }).username;

async function issued(
  stack: Stack,
  name: string,
  extra: Record<string, unknown> = {},
): Promise<{ uid: string; user: string; leaseId: string }> {
  const body = opted(name) as ReturnType<typeof opted> & { metadata: Record<string, unknown> };
  Object.assign(body.metadata, extra);
  const pod = await stack.core.createNamespacedPod({ namespace: "default", body });
  const secret = await waitFor(`Secret of ${name}`, () => secretOf(stack, name));
  const leaseId =
    (JSON.parse(secret.metadata?.annotations?.["leasekeeper.io/lease-ids"] ?? "[]") as Array<{ id: string }>)[0]?.id ??
    "";
  return { uid: pod.metadata?.uid ?? "", user: userOf(secret), leaseId };
}

async function call(lk: Harness, token: string, path: string, body?: unknown) {
  const res = await fetch(`${lk.runtime.httpUrl}${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

e2e(
  "pod scope of a LIVE pod: dry run names it; the real call revokes (role dropped), the pod keeps running and is not re-issued",
  async ({ stack, lk, token }) => {
    const a = await issued(stack, "live-1");
    const dry = await call(lk, token, "/v1/revoke", {
      scope: { type: "pod", namespace: "default", name: "live-1" },
      reason: "compromised",
      dryRun: true,
    });
    assert.is(dry.status, 200);
    assert.is(dry.body.matched, 1);
    assert.ok(await roleExists(stack, a.user), "dry run changes nothing");
    const real = await call(lk, token, "/v1/revoke?wait=20", {
      scope: { type: "pod", namespace: "default", name: "live-1" },
      reason: "compromised",
    });
    assert.is(real.status, 200, JSON.stringify(real.body));
    const job = real.body.job as { state: string; result: { outcome: string; items: Array<{ outcome: string }> } };
    assert.is(job.state, "completed");
    assert.equal(
      job.result.items.map((i) => i.outcome),
      ["revoked"],
    );
    assert.not.ok(await roleExists(stack, a.user), "database role dropped");
    assert.is(await secretOf(stack, "live-1"), undefined);
    const events = await stack.core.listNamespacedEvent({
      namespace: "default",
      fieldSelector: `involvedObject.uid=${a.uid}`,
    });
    assert.ok(events.items.some((e) => e.reason === "CredentialsRevoked" && /on-call/.test(e.message ?? "")));
    // The reconciler runs every second: the tombstone keeps it from re-issuing this pod.
    await lk.runtime.reconcileNow();
    await new Promise((r) => setTimeout(r, 1500));
    assert.is(await secretOf(stack, "live-1"), undefined, "not silently re-issued");
    assert.ok(await lk.runtime.deps.index.revokedMark(a.uid));
    // GET /v1/jobs shows the same result.
    const status = await call(lk, token, `/v1/jobs/${String(real.body.jobId)}`);
    assert.is((status.body as { state: string }).state, "completed");
    // Replaced pod (new UID) gets credentials again; the old tombstone goes.
    await stack.core.deleteNamespacedPod({ namespace: "default", name: "live-1" });
    await waitFor("tombstone cleared", async () => !(await lk.runtime.deps.index.revokedMark(a.uid)));
    await issued(stack, "live-1");
  },
);

e2e("pod-uid, lease and path-prefix scopes", async ({ stack, lk, token }) => {
  const u = await issued(stack, "uid-1");
  const r1 = await call(lk, token, "/v1/revoke?wait=20", { scope: { type: "pod-uid", uid: u.uid }, reason: "by uid" });
  assert.is(r1.status, 200);
  assert.not.ok(await roleExists(stack, u.user));

  const l = await issued(stack, "lease-1");
  const r2 = await call(lk, token, "/v1/revoke?wait=20", {
    scope: { type: "lease", id: l.leaseId },
    reason: "one lease",
  });
  assert.is(r2.status, 200, JSON.stringify(r2.body));
  assert.not.ok(await roleExists(stack, l.user), "that lease's role dropped");
  // The pod lives on and gets fresh credentials (rotation queued by the operation).
  const fresh = await waitFor(
    "fresh credentials for lease-1",
    async () => {
      const s = await secretOf(stack, "lease-1");
      return s && userOf(s) !== l.user ? s : undefined;
    },
    20_000,
  );
  assert.ok(await roleExists(stack, userOf(fresh)));

  const p = await issued(stack, "prefix-1");
  const dry = await call(lk, token, "/v1/revoke", {
    scope: { type: "path-prefix", prefix: "database/creds/" },
    reason: "db leak",
    dryRun: true,
  });
  assert.ok((dry.body.matched as number) >= 2);
  const r3 = await call(lk, token, "/v1/revoke?wait=20", {
    scope: { type: "path-prefix", prefix: "database/creds/" },
    reason: "db leak",
  });
  assert.is(r3.status, 200);
  assert.not.ok(await roleExists(stack, p.user));
});

e2e(
  "workload scope (Deployment through its ReplicaSet) and namespace scope; a scope that matches nothing is an empty result",
  async ({ stack, lk, token }) => {
    const deploy = stack.kube.control.put("deployments", {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web", namespace: "default" },
    });
    const rs = stack.kube.control.put("replicasets", {
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      metadata: {
        name: "web-7d9f8c",
        namespace: "default",
        ownerReferences: [
          { apiVersion: "apps/v1", kind: "Deployment", name: "web", uid: deploy.metadata.uid ?? "", controller: true },
        ],
      },
    });
    const owner = {
      ownerReferences: [
        { apiVersion: "apps/v1", kind: "ReplicaSet", name: "web-7d9f8c", uid: rs.metadata.uid ?? "", controller: true },
      ],
    };
    const w1 = await issued(stack, "web-7d9f8c-aaaaa", owner);
    const w2 = await issued(stack, "web-7d9f8c-bbbbb", owner);
    const other = await issued(stack, "other-1");
    const none = await call(lk, token, "/v1/revoke", {
      scope: { type: "workload", namespace: "default", kind: "StatefulSet", name: "web" },
      reason: "x",
      dryRun: true,
    });
    assert.is(none.status, 200);
    assert.is(none.body.matched, 0);
    const dry = await call(lk, token, "/v1/revoke", {
      scope: { type: "workload", namespace: "default", kind: "Deployment", name: "web" },
      reason: "x",
      dryRun: true,
    });
    assert.equal((dry.body.targets as Array<{ name: string }>).map((t) => t.name).sort(), [
      "web-7d9f8c-aaaaa",
      "web-7d9f8c-bbbbb",
    ]);
    const real = await call(lk, token, "/v1/revoke?wait=20", {
      scope: { type: "workload", namespace: "default", kind: "Deployment", name: "web" },
      reason: "bad image",
    });
    assert.is(real.status, 200);
    assert.not.ok(await roleExists(stack, w1.user));
    assert.not.ok(await roleExists(stack, w2.user));
    assert.ok(await roleExists(stack, other.user), "other pods untouched");

    const nothing = await call(lk, token, "/v1/revoke", {
      scope: { type: "namespace", namespace: "nobody-here" },
      reason: "x",
    });
    assert.is(nothing.status, 200);
    assert.is(nothing.body.matched, 0);
    const ns = await call(lk, token, "/v1/revoke?wait=20", {
      scope: { type: "namespace", namespace: "default" },
      reason: "incident 7",
    });
    assert.is(ns.status, 200);
    assert.not.ok(await roleExists(stack, other.user));
  },
);

e2e(
  "the audit stream holds every call; no secret value in the audit stream, logs or Redis",
  async ({ stack, seeded, lk, token }) => {
    const audit = await call(lk, token, "/v1/audit?limit=100");
    const records = audit.body.records as Array<{ action: string; dryRun: boolean; result: string; jobId?: string }>;
    assert.ok(records.filter((r) => r.action === "revoke" && r.result === "accepted" && r.jobId).length >= 6);
    assert.ok(records.some((r) => r.dryRun));
    const redis = await redisDump(stack.redis.url);
    const logs = lk.logs.join("");
    for (const value of [token, seeded.controllerToken, stack.vault.rootToken, seeded.kvPassword]) {
      assert.not.ok(redis.includes(value), "leak into redis");
      assert.not.ok(logs.includes(value), "leak into logs");
    }
  },
);

e2e.run();

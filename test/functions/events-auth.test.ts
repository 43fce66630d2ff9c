/**
 * POST /v1/events/kubernetes is authenticated the way Knative Eventing (>= 1.14, feature
 * `authentication-oidc`) authenticates a sink: a service-account JWT for the sink's audience,
 * checked with TokenReview (LEASEKEEPER_EVENTS_AUDIENCE), then SubjectAccessReview `create
 * podevents.leasekeeper.io`. leasekeeper runs (startRuntime) as its own service account under
 * infra/base's RBAC; the service accounts of namespace leasekeeper get infra/eventing's RBAC.
 * LEASEKEEPER_EVENTS_AUTH=none keeps the old, unauthenticated behaviour.
 */
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { request } from "node:http";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { ConfigError, loadConfig } from "../../shared/config/config.ts";
import { grantsFor, INFRA_DIR, LEASEKEEPER_USER, loadKustomization, rbacEnforcement } from "../helpers/rbac.ts";
import { seedExample, startStack, type Seeded, type Stack } from "../helpers/stack.ts";
import { EVENTS_SENDER, eventsToken, startLeasekeeper, type Harness } from "../e2e/harness.ts";
import type { Authorizer } from "../emulators/kubernetes/index.ts";

const API_TOKEN = randomBytes(24).toString("base64url");
/** The ApiServerSource adapter's own identity (infra/eventing): it may watch pods, not send events. */
const ADAPTER = { namespace: "leasekeeper", name: "leasekeeper-events" } as const;

const test = suite<{ stack: Stack; seeded: Seeded; lk: Harness; open: Harness }>("events route authentication");

test.before(async (ctx) => {
  ctx.stack = await startStack({ postgres: false, podGraceSeconds: 0 });
  ctx.seeded = await seedExample(ctx.stack);
  const leasekeeper = ctx.stack.rbac?.authorizer;
  if (!leasekeeper) throw new Error("RBAC enforcement is off");
  const eventing = loadKustomization(join(INFRA_DIR, "eventing"));
  const authorizer: Authorizer = (a) => {
    if (a.user.username === LEASEKEEPER_USER) return leasekeeper(a);
    const sa = /^system:serviceaccount:(leasekeeper):(.+)$/.exec(a.user.username);
    if (sa?.[1] && sa[2])
      return rbacEnforcement(grantsFor(eventing, { namespace: sa[1], name: sa[2] }), a.user.username).authorizer(a);
    return { allowed: true };
  };
  ctx.stack.kube.control.setAuthorizer(authorizer);
  const env = {
    LEASEKEEPER_ROLES: "functions",
    LEASEKEEPER_API_TOKENS: createHash("sha256").update(API_TOKEN).digest("hex"),
  };
  ctx.lk = await startLeasekeeper(ctx.stack, ctx.seeded, env);
  ctx.open = await startLeasekeeper(ctx.stack, ctx.seeded, { ...env, LEASEKEEPER_EVENTS_AUTH: "none" });
});

test.after(async (ctx) => {
  await ctx.lk?.stop();
  await ctx.open?.stop();
  await ctx.stack?.close();
});

const pod = (name: string) =>
  JSON.stringify({ apiVersion: "v1", kind: "Pod", metadata: { name, namespace: "default", uid: randomUUID() } });

async function post(
  lk: Harness,
  authorization: string | undefined,
  body = pod("p"),
  extra: Record<string, string> = {},
) {
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "ce-specversion": "1.0",
    "ce-id": randomUUID(),
    "ce-source": "test",
    "ce-type": "dev.knative.apiserver.resource.add",
    ...extra,
  };
  if (authorization !== undefined) headers.authorization = authorization;
  const res = await fetch(`${lk.runtime.httpUrl}/v1/events/kubernetes`, { method: "POST", headers, body });
  const json = (await res.json()) as { accepted?: boolean; error?: { code: string; message: string } };
  return { status: res.status, json, challenge: res.headers.get("www-authenticate") };
}

/** A 2 MiB event on a connection of its own: the server answers without reading the body and then closes that connection. */
function postOversized(lk: Harness, authorization?: string): Promise<number> {
  const body = Buffer.alloc(2 * 1024 * 1024, "x");
  return new Promise((resolve, reject) => {
    const req = request(
      `${lk.runtime.httpUrl}/v1/events/kubernetes`,
      {
        method: "POST",
        agent: false,
        headers: {
          "content-type": "application/json",
          "content-length": body.length,
          "ce-specversion": "1.0",
          "ce-id": "big",
          "ce-source": "test",
          "ce-type": "dev.knative.apiserver.resource.add",
          ...(authorization ? { authorization } : {}),
        },
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

test("the settings: kubernetes and audience leasekeeper by default; a wrong mode names the variable", () => {
  const key = randomBytes(32).toString("base64");
  const config = loadConfig({ LEASEKEEPER_INDEX_KEY: key });
  assert.is(config.eventsAuth, "kubernetes");
  assert.is(config.eventsAudience, "leasekeeper");
  assert.is(
    loadConfig({
      LEASEKEEPER_INDEX_KEY: key,
      LEASEKEEPER_EVENTS_AUTH: "none",
      LEASEKEEPER_EVENTS_AUDIENCE: "https://leasekeeper.example",
    }).eventsAudience,
    "https://leasekeeper.example",
  );
  assert.throws(
    () => loadConfig({ LEASEKEEPER_INDEX_KEY: key, LEASEKEEPER_EVENTS_AUTH: "off" }),
    (err: unknown) => err instanceof ConfigError && /LEASEKEEPER_EVENTS_AUTH="off"/.test(err.message),
  );
});

test("no token → 401 with a Bearer challenge, before the body is looked at", async ({ lk }) => {
  const none = await post(lk, undefined);
  assert.is(none.status, 401);
  assert.is(none.json.error?.code, "unauthenticated");
  assert.match(none.challenge ?? "", /^Bearer realm="leasekeeper"/);
  // Malformed or oversized events from nobody are refused as unauthenticated, not parsed.
  assert.is((await post(lk, undefined, "{oops")).status, 401);
  assert.is(await postOversized(lk), 401);
  const basic = await post(lk, "Basic dXNlcjpwYXNz");
  assert.is(basic.status, 401);
  assert.is(basic.json.error?.message, "malformed bearer token");
});

test("a bad token → 401 invalid_token", async ({ lk }) => {
  const res = await post(lk, "Bearer not.a-valid.token");
  assert.is(res.status, 401);
  assert.equal(Object.keys(res.json), ["error"], "the one error shape");
  assert.is(res.json.error?.code, "invalid_token");
  assert.match(res.challenge ?? "", /error="invalid_token"/);
});

test("a valid service-account token for another audience → 401", async ({ stack, lk }) => {
  for (const audiences of [["https://kubernetes.default.svc.cluster.local"], ["vault"]]) {
    const res = await post(lk, `Bearer ${eventsToken(stack, EVENTS_SENDER, audiences)}`);
    assert.is(res.status, 401, JSON.stringify(audiences));
    assert.is(res.json.error?.code, "invalid_token");
  }
});

test("an authenticated sender without create podevents.leasekeeper.io → 403", async ({ stack, lk }) => {
  const res = await post(lk, `Bearer ${eventsToken(stack, ADAPTER)}`);
  assert.is(res.status, 403);
  assert.is(res.json.error?.code, "forbidden");
  // The one refusal body of every route: it names the right that is missing, not the caller or what exists.
  assert.is(
    res.json.error?.message,
    "not allowed: create podevents.leasekeeper.io is not granted for what this request reaches",
  );
});

test("Knative's OIDC identity for infra/eventing's source (bound by its RBAC) → 202; malformed events still 400 after auth", async ({
  stack,
  lk,
}) => {
  const authorization = `Bearer ${eventsToken(stack)}`;
  const ok = await post(lk, authorization);
  assert.is(ok.status, 202, JSON.stringify(ok.json));
  assert.is(ok.json.accepted, true);
  assert.is((await post(lk, authorization)).status, 202, "again, from the review cache");
  const bad = await post(lk, authorization, "{oops");
  assert.is(bad.status, 400);
  assert.is(bad.json.error?.code, "invalid_event");
  assert.match(bad.json.error?.message ?? "", /not valid JSON/);
  assert.is((await post(lk, authorization, pod("t"), { "ce-type": "io.example.nope" })).status, 400);
  assert.is(await postOversized(lk, authorization), 413);
});

test("a static API token (LEASEKEEPER_API_TOKENS) → 202", async ({ lk }) => {
  const res = await post(lk, `Bearer ${API_TOKEN}`);
  assert.is(res.status, 202, JSON.stringify(res.json));
});

test("TokenReview unavailable → 503 (Knative retries it)", async ({ stack, lk }) => {
  stack.kube.control.failNext({ method: "POST", pathPattern: "/tokenreviews", status: 500, count: 5 });
  try {
    const res = await post(lk, `Bearer ${eventsToken(stack)}`);
    assert.is(res.status, 503);
    assert.is(res.json.error?.code, "unavailable");
  } finally {
    stack.kube.control.clearFailures();
  }
});

test("LEASEKEEPER_EVENTS_AUTH=none → 202 without a token (trusted networks only); malformed events still 400", async ({
  open,
}) => {
  assert.is(open.config.eventsAuth, "none");
  const res = await post(open, undefined);
  assert.is(res.status, 202, JSON.stringify(res.json));
  assert.is((await post(open, undefined, "{oops")).status, 400);
});

test.run();

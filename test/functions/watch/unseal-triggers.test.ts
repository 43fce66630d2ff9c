/** What makes the Vault pod watch enqueue an unseal, and POST /v1/unseal (in-process app.request). */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { triggerFor } from "../../../functions/watch/vault-pod-watcher.ts";
import { unsealRoute } from "../../../functions/http/unseal-route.ts";
import type { UnsealJob } from "../../../shared/jobs/job-types.ts";
import type { ReplicaRef } from "../../../shared/unseal/replicas.ts";
import { replicaKey } from "../../../shared/unseal/replicas.ts";

const seen = (o: Partial<{ uid: string; ip: string | undefined; restarts: number; ready: boolean }> = {}) => ({
  uid: "u1",
  ip: "10.0.0.5",
  restarts: 0,
  ready: true,
  ...o,
});

test("pod watch triggers: new pod (once it has an IP), new IP, container restart, readiness lost — nothing else", () => {
  assert.is(triggerFor(undefined, seen({ ip: undefined })), undefined, "no IP yet: wait");
  assert.is(triggerFor(undefined, seen()), "new-pod");
  assert.is(triggerFor(seen({ ip: undefined }), seen()), "new-pod");
  assert.is(triggerFor(seen(), seen({ uid: "u2" })), "new-pod", "same name, new pod");
  assert.is(triggerFor(seen(), seen({ ip: "10.0.0.6" })), "new-ip");
  assert.is(triggerFor(seen(), seen({ restarts: 1 })), "container-restart");
  assert.is(triggerFor(seen(), seen({ ready: false })), "readiness-lost");
  assert.is(triggerFor(seen({ ready: false }), seen({ ready: false })), undefined);
  assert.is(triggerFor(seen({ ready: false }), seen({ ready: true })), undefined);
  assert.is(triggerFor(seen(), seen()), undefined);
});

test("replica keys are valid BullMQ ids and distinct", () => {
  const a = replicaKey({ kind: "pod", namespace: "vault", name: "vault-0" });
  const b = replicaKey({ kind: "address", addr: "https://10.0.0.1:8200" });
  assert.not.match(a + b, /:/);
  assert.is.not(a, replicaKey({ kind: "pod", namespace: "vault", name: "vault-1" }));
  assert.is(a, replicaKey({ kind: "pod", namespace: "vault", name: "vault-0" }));
});

function app(replicas: ReplicaRef[], fail = false) {
  const jobs: UnsealJob[] = [];
  const route = unsealRoute({
    discovery: {
      list: async () => (fail ? Promise.reject(new Error("kubernetes: list vault pods: HTTP 503")) : replicas),
    },
    enqueue: async (job) => {
      jobs.push(job);
      return `unseal-${replicaKey(job.replica)}`;
    },
  });
  return { route, jobs };
}

test("POST /v1/unseal enqueues one job per replica and returns the job ids; a filter narrows it", async () => {
  const { route, jobs } = app([
    { kind: "pod", namespace: "vault", name: "vault-0" },
    { kind: "pod", namespace: "vault", name: "vault-1" },
  ]);
  const all = await route.request("/", { method: "POST" });
  assert.is(all.status, 202);
  const body = (await all.json()) as { jobs: { replica: string; jobId: string }[] };
  assert.equal(
    body.jobs.map((j) => j.replica),
    ["vault/vault-0", "vault/vault-1"],
  );
  assert.ok(body.jobs.every((j) => j.jobId.startsWith("unseal-")));
  assert.ok(jobs.every((j) => j.source === "api"));
  const one = await route.request("/", {
    method: "POST",
    body: JSON.stringify({ replicas: ["vault/vault-1"], source: "ci" }),
  });
  assert.is(one.status, 202);
  assert.is(jobs.length, 3);
  assert.is(jobs[2]?.source, "ci");
});

test("POST /v1/unseal: bad body 400, unknown replica 404, discovery failure 503", async () => {
  const { route } = app([{ kind: "pod", namespace: "vault", name: "vault-0" }]);
  assert.is((await route.request("/", { method: "POST", body: "{not json" })).status, 400);
  assert.is((await route.request("/", { method: "POST", body: JSON.stringify({ replicas: "vault-0" }) })).status, 400);
  const unknown = await route.request("/", { method: "POST", body: JSON.stringify({ replicas: ["vault/nope"] }) });
  assert.is(unknown.status, 404);
  assert.equal(await unknown.json(), {
    error: { code: "no_replicas", message: "no Vault replica matches vault/nope (known: vault/vault-0)" },
  });
  assert.is((await app([], true).route.request("/", { method: "POST" })).status, 503);
});

test.run();

/**
 * No failure is forever: a pod job that cannot succeed now (an unknown role, a 403, a taken Secret
 * name) waits on a slow, growing, capped backoff and runs again, visibly; only a payload that can
 * never succeed fails for good.
 */
import * as assert from "uvu/assert";
import { FAILURE_BACKOFF, failureBackoffMs } from "../../shared/jobs/failure-backoff.ts";
import { PermanentError, RetryLaterError } from "../../shared/errors/errors.ts";
import type { IssueOutcome } from "../../shared/jobs/job-types.ts";
import { createIssueProcessor } from "../../workers/issue.ts";
import { loginRefusalVerdict } from "../../workers/login-verdict.ts";
import { refOf, runProcessor, runToBackoff, workerSuite, type WorkerFixture } from "../fakes/worker-fixture.ts";
import { rejection } from "../helpers/rejection.ts";

const test = workerSuite("failure backoff");

const badRolePod = (f: WorkerFixture, name: string) =>
  f.addPod(name, {
    "leasekeeper.io/role": "not-yet",
    "leasekeeper.io/secret-creds.json": "database/creds/app",
  });

async function metric(f: WorkerFixture, name: "jobs" | "jobFailures", labels: Record<string, string>) {
  const values = (await f.deps.metrics[name].get()).values as { labels: Record<string, unknown>; value: number }[];
  return values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value ?? 0;
}

test("the wait starts at ~5 s, doubles with each failure, is capped at 5 min, and is jittered", () => {
  const low = [1, 2, 3, 4, 5, 6, 7, 8, 20, 1000].map((n) => failureBackoffMs(n, 0));
  const high = [1, 2, 3, 4, 5, 6, 7, 8, 20, 1000].map((n) => failureBackoffMs(n, 0.999));
  assert.equal(low.slice(0, 4), [4_000, 8_000, 16_000, 32_000]);
  for (let i = 1; i < low.length; i++) assert.ok(low[i]! >= low[i - 1]!, `grows: ${low.join(", ")}`);
  assert.ok(
    [...low, ...high].every((ms) => ms <= FAILURE_BACKOFF.maxMs),
    "never longer than the cap",
  );
  assert.is(high.at(-1), FAILURE_BACKOFF.maxMs);
  assert.ok(high[0]! > low[0]! && high[0]! <= 6_000, "jitter spreads the first wait (4–6 s)");
});

test("an unknown role: not failed for good but delayed, with a growing, capped wait and a reason to act on", async ({
  f,
}) => {
  const ref = refOf(badRolePod(f, "web-1"));
  const issue = createIssueProcessor(f.deps);
  const data = { ...ref, source: "watch" };
  const waits: number[] = [];
  let progress: unknown;
  for (let run = 1; run <= 9; run++) {
    const backoff = await runToBackoff(issue, "issue", data, { id: `issue-${ref.uid}`, progress });
    assert.is(backoff.state.failures, run, "the failure count grows with each run");
    assert.is(backoff.state.reason, "VaultInvalidRole");
    assert.match(backoff.state.error, "invalid role name");
    assert.ok(backoff.state.needsFix);
    waits.push(backoff.delayMs);
    progress = { retry: backoff.state };
  }
  const slack = 200;
  assert.ok(Math.abs(waits[0]! - 4_000) < slack, `first wait ~4 s (random 0): ${waits[0]}`);
  assert.ok(Math.abs(waits[1]! - 8_000) < slack, `then ~8 s: ${waits[1]}`);
  for (let i = 1; i < waits.length; i++) assert.ok(waits[i]! >= waits[i - 1]! - slack, `grows: ${waits.join(", ")}`);
  assert.ok(Math.abs(waits.at(-1)! - FAILURE_BACKOFF.maxMs * 0.8) < slack, `capped: ${waits.at(-1)}`);

  // Visible: the metrics, a log line naming the reason, and the pod's IssueFailed Event.
  assert.is(await metric(f, "jobs", { queue: "issue", outcome: "failed" }), 9);
  assert.is(await metric(f, "jobFailures", { queue: "issue", error: "PermanentError" }), 9);
  const line = f.logs.find((l) => l.includes("runs again after a backoff")) ?? "";
  assert.match(line, /"pod":"shop\/web-1"/);
  assert.match(line, /"reason":"VaultInvalidRole"/);
  assert.match(line, /"error":"[^"]*invalid role name/);
  assert.match(line, /"retryInMs":\d+/);
  assert.ok(
    f.kube.events.some((e) => e.event.reason === "IssueFailed" && /invalid role name/.test(e.event.message)),
    "an IssueFailed Event names the cause",
  );

  // The role is created in Vault: the next run issues, without the pod being recreated.
  f.vault.roles.set("not-yet", f.vault.roles.get("app")!);
  const outcome = await runProcessor<IssueOutcome>(issue, "issue", data, `issue-${ref.uid}`);
  assert.is(outcome.outcome, "issued");
});

test("a transient error is retried quickly first; once the quick retries are spent it backs off, never fails", async ({
  f,
}) => {
  const ref = refOf(f.addPod("web-2"));
  const issue = createIssueProcessor(f.deps);
  const data = { ...ref, source: "watch" };
  f.vault.failNext("kubernetesLogin", 500, "internal error");
  const quick = await rejection(runProcessor(issue, "issue", data));
  assert.is(quick.name, "RetryLaterError", "rethrown for BullMQ's quick retry");
  f.vault.failNext("kubernetesLogin", 500, "internal error");
  const last = await runToBackoff(issue, "issue", data, { attemptsMade: 2 });
  assert.is(last.state.reason, "RetryLaterError");
  assert.not.ok(last.state.needsFix, "nobody has to fix anything: it is retried later");
  assert.is((await runProcessor<IssueOutcome>(issue, "issue", data)).outcome, "issued");
});

test("bad annotations back off too (the pod may be fixed), with the reason in the job and the Event", async ({ f }) => {
  const ref = refOf(f.addPod("web-3", { "leasekeeper.io/role": "app", "leasekeeper.io/secret-x": "" }));
  const backoff = await runToBackoff(createIssueProcessor(f.deps), "issue", { ...ref, source: "watch" });
  assert.is(backoff.state.reason, "InvalidAnnotations");
  assert.ok(f.kube.events.some((e) => e.event.reason === "IssueFailed"));
});

test("a payload that can never succeed still fails for good, saying why", async ({ f }) => {
  const err = await rejection(runProcessor(createIssueProcessor(f.deps), "issue", { uid: "u", source: "watch" }));
  assert.is(err.name, "UnrecoverableError");
  assert.match(err.message, /invalid issue job payload: namespace: .*; name: /);
});

test("a 403 at login while the Kubernetes API fails its TokenReview is transient, not a verdict", async ({ f }) => {
  const ref = refOf(f.addPod("web-4"));
  const issue = createIssueProcessor(f.deps);
  const data = { ...ref, source: "watch" };
  f.kube.reviewFailure = 503;
  const err = await rejection(runProcessor(issue, "issue", data));
  assert.is(err.name, "RetryLaterError", `${err.name}: ${err.message}`);
  assert.match(err.message, /permission denied.*Kubernetes API server is failing/);
  assert.not.ok(
    f.kube.events.some((e) => e.event.reason === "IssueFailed"),
    "no IssueFailed for what is not the pod's fault",
  );
  f.kube.reviewFailure = undefined;
  assert.is((await runProcessor<IssueOutcome>(issue, "issue", data)).outcome, "issued");
});

test("the verdict: a 403 stands while the API server answers, or refuses the probe itself", async ({ f }) => {
  const denied = new PermanentError("vault: login: permission denied", "VaultPermissionDenied");
  const jwt = await f.kube.requestPodToken({
    namespace: "shop",
    serviceAccount: "app",
    podName: "web-5",
    podUid: refOf(f.addPod("web-5")).uid,
    audience: "vault",
    expirationSeconds: 600,
  });
  assert.is(await loginRefusalVerdict(f.deps, denied, jwt), denied, "API server answers: Vault's 403 stands");
  assert.is(await loginRefusalVerdict(f.deps, denied, "garbage"), denied, "an unknown token: it stands too");
  f.kube.reviewFailure = 403;
  assert.is(await loginRefusalVerdict(f.deps, denied, jwt), denied, "we may not review tokens: no evidence, it stands");
  f.kube.reviewFailure = 429;
  assert.instance(await loginRefusalVerdict(f.deps, denied, jwt), RetryLaterError);
  const role = new PermanentError("vault: login: invalid role name", "VaultInvalidRole");
  assert.is(await loginRefusalVerdict(f.deps, role, jwt), role, "only a 403 is re-examined");
});

test.run();

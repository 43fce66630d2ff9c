/** A template that trips a render limit fails the issue until the pod changes: IssueFailed, slow backoff, no Secret. */
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { RetryState } from "../../shared/jobs/failure-backoff.ts";
import { createIssueProcessor } from "../../workers/issue.ts";
import { fakeJob, fakeWorld } from "../fakes/world/worker-deps.ts";

function injectorPod(template: string) {
  return {
    metadata: {
      name: "web",
      namespace: "apps",
      annotations: {
        "vault.hashicorp.com/agent-inject": "true",
        "vault.hashicorp.com/role": "web",
        "vault.hashicorp.com/agent-inject-secret-x": "secret/data/x",
        "vault.hashicorp.com/agent-inject-template-x": template,
      },
    },
    spec: { serviceAccountName: "web", containers: [{ name: "app", image: "a" }] },
  };
}

async function issueOnce(template: string, data: unknown) {
  const world = fakeWorld();
  world.vault.data.set("secret/data/x", data);
  const pod = world.kube.putPod(injectorPod(template));
  const uid = pod.metadata?.uid ?? "";
  let thrown: unknown;
  let progress: { retry?: RetryState } | undefined;
  const job = fakeJob({ uid, namespace: "apps", name: "web", source: "watch" });
  job.updateProgress = async (value) => void (progress = value as typeof progress);
  try {
    await createIssueProcessor(world.deps)(job);
  } catch (err) {
    thrown = err;
  }
  return { world, thrown, uid, progress };
}

for (const [what, template, data] of [
  [
    "16 nested ranges over two keys (the step budget)",
    `{{ $d := (secret "secret/data/x").Data }}${"{{ range $d }}".repeat(16)}x${"{{ end }}".repeat(16)}`,
    { a: "1", b: "2" },
  ],
  [
    "a printf width from secret data",
    '{{ with secret "secret/data/x" }}{{ printf .Data.f 1 }}{{ end }}',
    { f: "%999999999999d" },
  ],
] as const) {
  test(`${what}: failure that needs a fix (backoff, not failed for good), IssueFailed Event, credentials of the attempt revoked`, async () => {
    const { world, thrown, progress } = await issueOnce(template, data);
    assert.is((thrown as Error | undefined)?.name, "DelayedError", `thrown: ${String(thrown)}`);
    assert.is(progress?.retry?.reason, "TemplateFailed");
    const event = world.kube.events.find((e) => e.event.reason === "IssueFailed");
    assert.ok(event, "an IssueFailed Event");
    assert.match(event.event.message, /^TemplateFailed: template of x: line \d+: /);
    assert.is(world.kube.secrets.size, 0, "no Secret written");
    assert.ok(
      [...world.vault.tokens.values()].every((t) => t.revoked),
      "the pod token of the failed attempt is revoked",
    );
    assert.is(world.index.records.size, 0);
  });
}

test.run();

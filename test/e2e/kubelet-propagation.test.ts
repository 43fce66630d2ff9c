import { suite } from "uvu";
import * as assert from "uvu/assert";
import type { V1Pod } from "@kubernetes/client-node";
import { seedExample, startStack, type Seeded, type Stack } from "../helpers/stack.ts";
import { canLogin, opted, startLeasekeeper, waitFor } from "./harness.ts";

/**
 * A real kubelet shows a pod an updated Secret only on its next sync (60 s + jitter + cache), so
 * rotated credentials must keep working until then: the rotation grace has to outlast it. Here the
 * fake kubelet syncs every 2–3 s, leases live 16 s (max 24 s, so every renewal rotates, ~every
 * 11 s), and the test reads creds.json as the pod sees it in its volume, every 200 ms, through
 * several rotations: with a grace of 4 s every sample logs in to PostgreSQL; with none, the pod is
 * left holding revoked credentials until its kubelet catches up.
 */
const propagation = suite<{ stack: Stack; seeded: Seeded }>("kubelet propagation");

const KUBELET = { syncPeriodMs: 2000, jitterMs: 1000 };

propagation.before(async (ctx) => {
  ctx.stack = await startStack({ podGraceSeconds: 0, kubelet: KUBELET });
  ctx.seeded = await seedExample(ctx.stack, { dbDefaultTtl: "16s", dbMaxTtl: "24s" });
});
propagation.after(async (ctx) => {
  await ctx.stack?.close();
});

/** An opted-in pod mounting its Secret the way the admission webhook adds it (only the credential file). */
function mounting(name: string): V1Pod {
  const pod = opted(name) as V1Pod;
  const volume = {
    name: "leasekeeper-secrets",
    secret: { secretName: `${name}-leasekeeper`, items: [{ key: "creds.json", path: "creds.json" }] },
  };
  pod.spec = {
    ...pod.spec,
    containers: (pod.spec?.containers ?? []).map((c) => ({
      ...c,
      volumeMounts: [{ name: volume.name, mountPath: "/vault/secrets", readOnly: true }],
    })),
    volumes: [volume],
  };
  return pod;
}

interface Sampled {
  samples: number;
  refused: string[];
  /** Distinct usernames the pod saw in its file. */
  seen: Map<string, Set<string>>;
  /** Samples where the pod's file still held older credentials than its Secret. */
  lagging: number;
}

async function sampleThroughRotations(stack: Stack, pods: string[], forMs: number): Promise<Sampled> {
  for (const name of pods) await stack.core.createNamespacedPod({ namespace: "default", body: mounting(name) });
  for (const name of pods)
    await waitFor(
      `${name} running with its files`,
      async () => stack.kube.kubelet.mountedFiles("default", name, `${name}-leasekeeper`)?.["creds.json"],
      15_000,
    );
  const result: Sampled = {
    samples: 0,
    refused: [],
    seen: new Map(pods.map((p) => [p, new Set<string>()])),
    lagging: 0,
  };
  const started = Date.now();
  while (Date.now() - started < forMs) {
    for (const name of pods) {
      const file = stack.kube.kubelet.mountedFiles("default", name, `${name}-leasekeeper`)?.["creds.json"];
      const creds = JSON.parse(file ?? "{}") as { username: string; password: string };
      const secret = stack.kube.control.get("secrets", "default", `${name}-leasekeeper`);
      if (secret && Buffer.from(String(secret.data?.["creds.json"] ?? ""), "base64").toString("utf8") !== file)
        result.lagging++;
      result.seen.get(name)?.add(creds.username);
      result.samples++;
      if (!(await canLogin(stack, creds)))
        result.refused.push(`${name}: ${creds.username} at +${((Date.now() - started) / 1000).toFixed(1)} s`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  for (const name of pods) await stack.core.deleteNamespacedPod({ namespace: "default", name });
  return result;
}

propagation(
  "a grace longer than the kubelet's refresh: the file the pod sees always logs in, through several rotations",
  async ({ stack, seeded }) => {
    const lk = await startLeasekeeper(stack, seeded, { LEASEKEEPER_ROTATION_GRACE_SECONDS: "4" });
    try {
      const run = await sampleThroughRotations(stack, ["kp-1", "kp-2"], 36_000);
      for (const [pod, users] of run.seen)
        assert.ok(users.size >= 3, `${pod} saw ${users.size} credential sets (several rotations)`);
      assert.ok(run.lagging > 0, "the pod's files lagged behind the Secret (the kubelet did not refresh at once)");
      assert.equal(run.refused, [], `every one of ${run.samples} samples logged in`);
    } finally {
      await lk.stop();
    }
  },
);

propagation(
  "no grace: the pod holds revoked credentials until its kubelet catches up (why the grace must outlast it)",
  async ({ stack, seeded }) => {
    const lk = await startLeasekeeper(stack, seeded, { LEASEKEEPER_ROTATION_GRACE_SECONDS: "0" });
    try {
      const run = await sampleThroughRotations(stack, ["kp-3", "kp-4"], 26_000);
      assert.ok(run.refused.length > 0, `some samples were refused (${run.refused.length} of ${run.samples})`);
    } finally {
      await lk.stop();
    }
  },
);

propagation.run();

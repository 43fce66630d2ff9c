import { suite } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { seedExample, startStack, type Seeded, type Stack } from "../helpers/stack.ts";
import { startTcpProxy, type TcpProxy } from "../helpers/tcp-proxy.ts";
import { opted, startLeasekeeper, waitFor, type Harness } from "./harness.ts";

/**
 * A watch that goes silent without closing (half-open TCP: a NAT or load balancer dropped the
 * path) is restarted by the watchdog, and API calls on dead pooled connections time out.
 */
const stall = suite<{ stack: Stack; seeded: Seeded; proxy: TcpProxy; lk: Harness }>("watch stall");

stall.before(async (ctx) => {
  ctx.stack = await startStack({ podGraceSeconds: 0 });
  ctx.seeded = await seedExample(ctx.stack);
  ctx.proxy = await startTcpProxy(Number(new URL(ctx.stack.kube.url).port));
  const viaProxy = join(ctx.stack.dir, "kubeconfig-proxy");
  await ctx.stack.kube.writeKubeconfig(viaProxy);
  const { readFileSync, writeFileSync } = await import("node:fs");
  writeFileSync(
    viaProxy,
    readFileSync(viaProxy, "utf8").replace(ctx.stack.kube.url, `http://127.0.0.1:${ctx.proxy.port}`),
  );
  ctx.lk = await startLeasekeeper(ctx.stack, ctx.seeded, {
    KUBECONFIG: viaProxy,
    LEASEKEEPER_WATCH_STALL_SECONDS: "5",
    LEASEKEEPER_KUBE_TIMEOUT_MS: "1500",
    LEASEKEEPER_RECONCILE_INTERVAL_SECONDS: "3600",
  });
});
stall.after(async (ctx) => {
  await ctx.lk?.stop();
  await ctx.proxy?.close();
  await ctx.stack?.close();
});

stall(
  "a silently dead watch is restarted by the watchdog and the missed pod is issued",
  async ({ stack, proxy, lk }) => {
    await stack.core.createNamespacedPod({ namespace: "default", body: opted("before") });
    await waitFor("before Secret", () =>
      stack.core.readNamespacedSecret({ namespace: "default", name: "before-leasekeeper" }).catch(() => undefined),
    );
    const restartsBefore =
      (await lk.runtime.metrics.watchRestarts.get()).values.find((v) => v.labels.cause === "stall")?.value ?? 0;
    assert.ok(proxy.blackholeExisting() > 0, "leasekeeper had connections open");
    await stack.core.createNamespacedPod({ namespace: "default", body: opted("during") });
    await new Promise((r) => setTimeout(r, 1500));
    assert.is(
      await stack.core
        .readNamespacedSecret({ namespace: "default", name: "during-leasekeeper" })
        .catch(() => undefined),
      undefined,
      "the dead watch delivered nothing",
    );
    await waitFor(
      "the missed pod issued after the watchdog restart",
      () =>
        stack.core.readNamespacedSecret({ namespace: "default", name: "during-leasekeeper" }).catch(() => undefined),
      20_000,
      200,
    );
    const restarts =
      (await lk.runtime.metrics.watchRestarts.get()).values.find((v) => v.labels.cause === "stall")?.value ?? 0;
    assert.ok(restarts > restartsBefore, "the watchdog restarted the watch");
  },
);

stall.run();

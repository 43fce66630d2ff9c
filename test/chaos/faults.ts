/** Injects the planned faults through the emulators' test controls, the TCP path and the servers' own processes. */
import { Redis } from "ioredis";
import type { Cluster } from "./cluster.ts";
import type { FaultKind, PlannedFault } from "./schedule.ts";

export interface FaultWindow {
  readonly kind: FaultKind;
  readonly detail: string;
  readonly start: number;
  end: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs one fault to its end; returns the window it was in effect (wall clock). */
export async function inject(cluster: Cluster, fault: PlannedFault): Promise<FaultWindow> {
  const window: FaultWindow = { kind: fault.kind, detail: fault.detail, start: Date.now(), end: Date.now() };
  const { stack, vaultPath } = cluster;
  const vault = stack.vault.control;
  const kube = stack.kube.control;
  switch (fault.kind) {
    case "kill": {
      const target = cluster.processes.find((p) => p.spec.name === fault.detail);
      target?.kill(); // already down (restarting): nothing to kill
      break;
    }
    case "vault-sealed":
      // Unsealed again through the emulator's control: the chaos stack does not configure leasekeeper's unseal role.
      vault.seal();
      await sleep(fault.durationMs);
      vault.unseal();
      break;
    case "vault-refused":
      // vault-active without endpoints: kube-proxy rejects the connection.
      await vaultPath.setMode("refuse");
      await sleep(fault.durationMs);
      await vaultPath.setMode("forward");
      break;
    case "vault-hang":
      // A path that accepts and then carries nothing (load balancer, dropped route): calls hang until their timeout.
      await vaultPath.setMode("hang");
      await sleep(fault.durationMs);
      await vaultPath.setMode("forward");
      break;
    case "vault-latency":
      vault.addLatency(Number.parseInt(fault.detail, 10));
      await sleep(fault.durationMs);
      vault.addLatency(0);
      break;
    case "vault-5xx":
      vault.failNext("*", 1_000_000, Number(fault.detail), "internal error");
      await sleep(fault.durationMs);
      vault.clearFaults();
      break;
    case "kube-errors":
      kube.failNext({
        pathPattern: /^\/api/,
        status: Number(fault.detail),
        count: 1_000_000,
        ...(fault.detail === "429" ? { retryAfterSeconds: 1 } : {}),
      });
      await sleep(fault.durationMs);
      kube.clearFailures();
      break;
    case "watch-drop":
      kube.dropWatches();
      break;
    case "watch-410":
      // etcd compacted past every watcher's resourceVersion, then the streams end (server timeout): re-watch gets 410.
      kube.compact();
      kube.dropWatches({ clean: true });
      break;
    case "redis-restart":
      await cluster.restartRedis(fault.durationMs);
      break;
    case "redis-flushall": {
      const redis = new Redis(cluster.redisUrl, { maxRetriesPerRequest: 1 });
      try {
        await redis.flushall();
      } finally {
        redis.disconnect();
      }
      break;
    }
    case "postgres-restart":
      await stack.postgres?.restart(fault.durationMs);
      break;
    case "clock-jump":
      await vault.clock.advance(Number.parseInt(fault.detail.replace("+", ""), 10));
      break;
  }
  window.end = Date.now();
  return window;
}

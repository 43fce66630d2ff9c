import { messageOf } from "../../shared/errors/errors.ts";
import type { UnsealJob } from "../../shared/jobs/job-types.ts";
import type { Log } from "../../shared/observability/log.ts";
import type { ReplicaDiscovery } from "../../shared/unseal/replica-discovery.ts";

export interface UnsealSweepDeps {
  readonly discovery: ReplicaDiscovery;
  readonly enqueue: (job: UnsealJob) => Promise<string>;
  readonly log: Log;
}

/**
 * The safety net behind the pod watch: every `intervalMs` (and once at start) enqueue an
 * unseal job for every replica. Jobs of an unsealed replica end at one seal-status read;
 * deterministic job ids collapse a sweep into a job already waiting.
 */
export function startUnsealSweep(
  deps: UnsealSweepDeps,
  intervalMs: number,
): { stop(): Promise<void>; runNow(): Promise<number> } {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | undefined;
  let stopped = false;

  const runNow = async (): Promise<number> => {
    const replicas = await deps.discovery.list();
    const requestedAt = Date.now();
    await Promise.all(replicas.map((replica) => deps.enqueue({ replica, source: "sweep", requestedAt })));
    return replicas.length;
  };

  const tick = () => {
    if (stopped) return;
    running = runNow()
      .catch((err: unknown) => {
        deps.log.warn({ error: messageOf(err) }, "unseal sweep failed; next one in the next interval");
        return 0;
      })
      .finally(() => {
        running = undefined;
        if (!stopped) timer = setTimeout(tick, intervalMs);
      });
  };
  tick();

  return {
    runNow,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}

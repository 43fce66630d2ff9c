import { earliestExpiry } from "../shared/index/pod-record.ts";
import type { PodIndex } from "../shared/index/pod-index.ts";
import { renewJobUid } from "../shared/jobs/job-types.ts";
import type { DueRenewal, JobProducer } from "../shared/jobs/producer.ts";
import type { Log } from "../shared/observability/log.ts";

export interface RenewPumpOptions {
  /** The longest the pump sleeps: a timer another process set is queued at most this late. */
  readonly intervalMs: number;
  /**
   * The shortest sleep between rounds that were not full: timers due close together share a round
   * (one claim, one record read, one bulk add) at the cost of queueing a renewal this much late.
   */
  readonly minGapMs: number;
  /** Timers claimed per round trip. */
  readonly batch: number;
  /**
   * How long a claimed timer waits for its job to be queued before it fires again (a pump that
   * died): well inside the 20 s a renewal keeps in hand (CRASH_RECOVERY_MS).
   */
  readonly claimMs: number;
}

/** How long stopping waits for a round in flight. */
const STOP_WAIT_MS = 2000;

export const RENEW_PUMP_DEFAULTS: RenewPumpOptions = { intervalMs: 1000, minGapMs: 500, batch: 200, claimMs: 5_000 };

/**
 * Queues the renew job of every renewal timer that comes due (shared/jobs/renew-timers.ts). Each
 * worker process runs one; claims are atomic, so two pumps never queue the same timer twice, and
 * a timer claimed by a pump that dies before queueing its job fires again after `claimMs` (a job
 * already queued under that id absorbs the second add). The claimed pods' index records (one MGET)
 * give each job where the pod is and its priority (seconds to the earliest expiry); a timer whose
 * record is gone or names another renewal is stale and only dropped. After a round that was not
 * full the pump sleeps until the earliest timer is due, but at least `minGapMs` and at most
 * `intervalMs`. Returns a stop function.
 */
export function startRenewPump(
  deps: { readonly producer: JobProducer; readonly index: PodIndex; readonly log: Log },
  options: RenewPumpOptions = RENEW_PUMP_DEFAULTS,
): () => Promise<void> {
  const timers = deps.producer.renewTimers;
  let stopped = false;
  let sleeping: { timer: NodeJS.Timeout; wake: () => void } | undefined;
  let lastError = 0;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        sleeping = undefined;
        resolve();
      }, ms);
      sleeping = { timer, wake: resolve };
    });

  const round = async (): Promise<number> => {
    const now = Date.now();
    const claimed = await timers.claim(now, options.batch, options.claimMs);
    if (claimed.ids.length > 0) {
      const records = await deps.index.getMany(claimed.ids.map(renewJobUid));
      const due: DueRenewal[] = [];
      claimed.ids.forEach((id, i) => {
        const record = records[i];
        if (record?.renewJobId === id)
          due.push({ id, namespace: record.namespace, name: record.name, expiresAt: earliestExpiry(record) });
      });
      if (due.length > 0) await deps.producer.queueDueRenewals(due);
      await timers.release(claimed.ids);
    }
    if (claimed.ids.length >= options.batch) return 0;
    const untilNext = claimed.nextDueAt === undefined ? options.intervalMs : claimed.nextDueAt - Date.now();
    return Math.max(options.minGapMs, Math.min(options.intervalMs, untilNext));
  };

  const loop = async () => {
    while (!stopped) {
      let waitMs: number;
      try {
        waitMs = await round();
      } catch (err) {
        // Redis down: the claimed timers fire again after claimMs; say so at most once a minute.
        if (Date.now() - lastError > 60_000) {
          lastError = Date.now();
          deps.log.warn({ error: err instanceof Error ? err.message : String(err) }, "renewal pump: Redis call failed");
        }
        waitMs = options.intervalMs;
      }
      if (waitMs > 0 && !stopped) await sleep(waitMs);
    }
  };
  const running = loop();

  return async () => {
    stopped = true;
    if (sleeping) {
      clearTimeout(sleeping.timer);
      sleeping.wake();
    }
    // A round waiting on Redis (down: BullMQ's connection queues commands until it is back) must
    // not hold up shutdown; what it claimed fires again after claimMs.
    let bound: NodeJS.Timeout | undefined;
    await Promise.race([running, new Promise((resolve) => (bound = setTimeout(resolve, STOP_WAIT_MS)))]);
    clearTimeout(bound);
  };
}

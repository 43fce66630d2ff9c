import type { Log } from "../../shared/observability/log.ts";

/**
 * One long-running role of the process (controller-runtime's Runnable): the entry point builds a
 * list of them and runs it. Start order is the list's order; stop order is its reverse.
 */
export interface Runnable {
  readonly name: string;
  /** Runs only while this process holds the leader Lease (when leader election is on). */
  readonly needsLeader: boolean;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Whether this role is ready to serve; false until its first sync. */
  ready(): boolean;
}

/** Starts and stops the runnables that need the leader as leadership comes and goes. */
export interface LeaderGate {
  /** Calls onLead when leadership is won and onLose when it is lost; start returns at once. */
  start(onLead: () => void, onLose: () => void): void;
  stop(): Promise<void>;
  readonly leading: boolean;
}

export interface Running {
  readonly runnables: readonly Runnable[];
  stop(): Promise<void>;
}

/** Starts each runnable in order (leader-only ones through the gate, or at once without one). */
export async function runAll(runnables: readonly Runnable[], gate: LeaderGate | undefined, log: Log): Promise<Running> {
  const started: Runnable[] = [];
  const leaderOnly = runnables.filter((r) => r.needsLeader);
  for (const runnable of runnables) {
    if (runnable.needsLeader && gate) continue;
    await runnable.start();
    started.push(runnable);
  }
  gate?.start(
    () => leaderOnly.forEach((r) => void startLogged(r, log)),
    () => leaderOnly.forEach((r) => void stopLogged(r, log)),
  );
  return {
    runnables,
    async stop() {
      await gate?.stop();
      for (const runnable of [...runnables].reverse()) {
        if (runnable.needsLeader && gate) await stopLogged(runnable, log);
        else if (started.includes(runnable)) await stopLogged(runnable, log);
      }
    },
  };
}

async function startLogged(runnable: Runnable, log: Log): Promise<void> {
  await runnable.start().catch((err: unknown) => log.error({ runnable: runnable.name, err }, "could not start"));
}

async function stopLogged(runnable: Runnable, log: Log): Promise<void> {
  await runnable.stop().catch((err: unknown) => log.warn({ runnable: runnable.name, err }, "could not stop cleanly"));
}

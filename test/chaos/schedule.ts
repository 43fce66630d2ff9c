/** The fault schedule of one scenario, derived from the seed alone (`--seed N` replays it). */
import type { Size } from "./config.ts";
import { Rng } from "./rng.ts";

export const FAULT_KINDS = [
  "vault-sealed",
  "vault-refused",
  "vault-hang",
  "vault-latency",
  "vault-5xx",
  "kube-errors",
  "watch-drop",
  "watch-410",
  "redis-restart",
  "redis-flushall",
  "postgres-restart",
  "clock-jump",
] as const;
export type ExclusiveKind = (typeof FAULT_KINDS)[number];
export type FaultKind = ExclusiveKind | "kill";

export interface PlannedFault {
  /** ms after the chaos phase started */
  readonly atMs: number;
  readonly kind: FaultKind;
  /** 0 for instantaneous faults */
  readonly durationMs: number;
  /** kill: the process; kube-errors / vault-5xx: the status; clock-jump: ms */
  readonly detail: string;
}

/** Faults during which Vault does not answer leasekeeper usefully. */
export const VAULT_UNAVAILABLE: ReadonlySet<FaultKind> = new Set([
  "vault-sealed",
  "vault-refused",
  "vault-hang",
  "vault-5xx",
]);

const WARMUP_MS = 20_000;

function duration(kind: ExclusiveKind, size: Size, rng: Rng): number {
  switch (kind) {
    case "vault-sealed":
    case "vault-refused":
    case "vault-hang":
      return rng.int(size.outageMs[0], size.outageMs[1]);
    case "vault-latency":
    case "vault-5xx":
    case "kube-errors":
    case "redis-restart":
    case "postgres-restart":
      return rng.int(size.shortFaultMs[0], size.shortFaultMs[1]);
    default:
      return 0;
  }
}

function detail(kind: ExclusiveKind, size: Size, rng: Rng): string {
  if (kind === "vault-5xx") return String(rng.pick([500, 502]));
  if (kind === "kube-errors") return String(rng.pick([429, 500, 503]));
  if (kind === "vault-latency") return `${rng.int(500, 1500)}ms`;
  if (kind === "clock-jump") return `+${size.clockJumpMs}ms`;
  return "";
}

/**
 * Every kind once in a seeded order (the full size repeats kinds while time is left), one at a
 * time with gaps; SIGKILLs of leasekeeper processes at seeded moments on top, overlapping anything.
 */
export function planFaults(size: Size, processes: readonly string[], seed: number): PlannedFault[] {
  const rng = new Rng(seed);
  const plan: PlannedFault[] = [];
  const end = size.chaosMs - 5000;
  let at = WARMUP_MS;
  let kinds = rng.shuffle(FAULT_KINDS);
  const fixedTotal = kinds.reduce(
    (sum, k) => sum + (k === "vault-sealed" || k === "vault-refused" || k === "vault-hang" ? size.outageMs[0] : 0),
    0,
  );
  const meanGap = Math.max(2000, (end - WARMUP_MS - fixedTotal) / (kinds.length * 2));
  for (;;) {
    for (const kind of kinds) {
      const ms = duration(kind, size, rng);
      if (at + ms > end) return finish(plan, size, processes, rng);
      plan.push({ atMs: at, kind, durationMs: ms, detail: detail(kind, size, rng) });
      at += ms + rng.int(Math.round(meanGap / 2), Math.round(size.name === "quick" ? meanGap : meanGap * 1.5));
    }
    if (size.name === "quick") return finish(plan, size, processes, rng);
    kinds = rng.shuffle(FAULT_KINDS);
  }
}

function finish(plan: PlannedFault[], size: Size, processes: readonly string[], rng: Rng): PlannedFault[] {
  const kills = size.name === "quick" ? processes.length : processes.length * 3;
  const targets = rng.shuffle(processes);
  for (let i = 0; i < kills; i++) {
    const at = rng.int(WARMUP_MS, size.chaosMs - 10_000);
    plan.push({ atMs: at, kind: "kill", durationMs: 0, detail: targets[i % targets.length] ?? "" });
  }
  return plan.sort((a, b) => a.atMs - b.atMs);
}

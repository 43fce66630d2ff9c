/**
 * Injected faults and policy switches consulted once per request. Each armed fault applies
 * to the next N requests (optionally only those for one operation).
 */
export type Fault = { kind: "none" } | { kind: "throttle" } | { kind: "fail"; status: 500 | 503 } | { kind: "drop" };

interface Armed {
  fault: Exclude<Fault, { kind: "none" }>;
  remaining: number;
  operation: string | undefined;
}

interface ArmedDelay {
  ms: number;
  remaining: number;
  operation: string | undefined;
}

function take<T extends { remaining: number; operation: string | undefined }>(
  list: T[],
  operation: string | undefined,
): T | undefined {
  const hit = list.find(
    (entry) => entry.remaining > 0 && (entry.operation === undefined || entry.operation === operation),
  );
  if (hit === undefined) return undefined;
  hit.remaining -= 1;
  if (hit.remaining === 0) list.splice(list.indexOf(hit), 1);
  return hit;
}

export class FaultPlan {
  private readonly armed: Armed[] = [];
  private readonly delays: ArmedDelay[] = [];
  readonly deniedOperations = new Set<string>();
  allowedAccessKeys: ReadonlySet<string> | undefined;

  arm(fault: Armed["fault"], count: number, operation: string | undefined): void {
    if (!Number.isInteger(count) || count < 0)
      throw new Error(`kms emulator: fault count must be a non-negative integer, got ${count}`);
    if (count > 0) this.armed.push({ fault, remaining: count, operation });
  }

  armDelay(ms: number, count: number, operation: string | undefined): void {
    if (!Number.isInteger(count) || count < 0)
      throw new Error(`kms emulator: delay count must be a non-negative integer, got ${count}`);
    if (count > 0) this.delays.push({ ms, remaining: count, operation });
  }

  nextDelayMs(operation: string | undefined): number {
    return take(this.delays, operation)?.ms ?? 0;
  }

  next(operation: string | undefined): Fault {
    return take(this.armed, operation)?.fault ?? { kind: "none" };
  }

  clear(): void {
    this.armed.length = 0;
    this.delays.length = 0;
    this.deniedOperations.clear();
    this.allowedAccessKeys = undefined;
  }
}

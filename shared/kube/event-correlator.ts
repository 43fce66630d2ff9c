import type { CoreV1Event } from "@kubernetes/client-node";

/**
 * Client-side event correlation, as client-go's recorder does before it calls the API server
 * (kubernetes staging/src/k8s.io/client-go/tools/record/events_cache.go, EventCorrelator):
 * - spam filter (EventSourceObjectSpamFilter): a token bucket per source + involved object, burst 25,
 *   refilled at 1 event per 5 minutes; an event over the budget is dropped;
 * - aggregation (EventAggregator, EventAggregatorByReasonFunc): once 10 events that differ only by
 *   message are seen for one object + reason within 10 minutes, further ones become one event whose
 *   message is "(combined from similar events): <message>";
 * - de-duplication (eventLogger): an event seen before (same object, reason, message) is not created
 *   again: the existing Event gets a patch of `count`, `lastTimestamp` and `message`.
 * Caches are LRUs of 4096 entries (maxLruCacheEntries).
 */
const LRU_ENTRIES = 4096;
const AGGREGATE_MAX_EVENTS = 10;
const AGGREGATE_INTERVAL_MS = 600_000;
const SPAM_BURST = 25;
const SPAM_REFILL_PER_MS = 1 / 300_000;

/** What to send: a new Event, a patch of the one already recorded, or nothing. */
export type Correlated =
  | { readonly kind: "create"; readonly event: CoreV1Event; readonly key: string }
  | {
      readonly kind: "patch";
      readonly name: string;
      readonly namespace: string;
      readonly patch: { count: number; lastTimestamp: Date; message: string };
      readonly key: string;
      readonly event: CoreV1Event;
    }
  | { readonly kind: "skip" };

class Lru<V> {
  readonly #map = new Map<string, V>();
  get(key: string): V | undefined {
    const value = this.#map.get(key);
    if (value !== undefined) {
      this.#map.delete(key);
      this.#map.set(key, value);
    }
    return value;
  }
  set(key: string, value: V): void {
    this.#map.delete(key);
    this.#map.set(key, value);
    if (this.#map.size > LRU_ENTRIES) this.#map.delete(this.#map.keys().next().value as string);
  }
  delete(key: string): void {
    this.#map.delete(key);
  }
}

const objectKey = (e: CoreV1Event) => {
  const o = e.involvedObject;
  return [e.source?.component, e.source?.host, o.kind, o.namespace, o.name, o.uid, o.apiVersion].join("\u0000");
};
const aggregateKey = (e: CoreV1Event) =>
  [objectKey(e), e.type, e.reason, e.reportingComponent, e.reportingInstance].join("\u0000");
const eventKey = (e: CoreV1Event) =>
  [objectKey(e), o(e.involvedObject.fieldPath), e.type, e.reason, e.message].join("\u0000");
const o = (v: string | undefined) => v ?? "";

interface Bucket {
  tokens: number;
  at: number;
}
interface Aggregate {
  messages: Set<string>;
  at: number;
}
interface Observation {
  count: number;
  firstTimestamp: Date;
  name: string;
}

export class EventCorrelator {
  readonly #now: () => number;
  readonly #buckets = new Lru<Bucket>();
  readonly #aggregates = new Lru<Aggregate>();
  readonly #seen = new Lru<Observation>();

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  correlate(event: CoreV1Event): Correlated {
    if (this.#spam(event)) return { kind: "skip" };
    const { event: candidate, key } = this.#aggregate(event);
    const seen = this.#seen.get(key);
    if (!seen) return { kind: "create", event: candidate, key };
    const count = seen.count + 1;
    const lastTimestamp = new Date(this.#now());
    const message = candidate.message ?? "";
    this.#seen.set(key, { ...seen, count });
    return {
      kind: "patch",
      name: seen.name,
      namespace: candidate.metadata?.namespace ?? candidate.involvedObject.namespace ?? "",
      patch: { count, lastTimestamp, message },
      key,
      event: { ...candidate, count, firstTimestamp: seen.firstTimestamp, lastTimestamp },
    };
  }

  /** What the server answered for a created or patched Event: later duplicates patch it (updateState). */
  recorded(key: string, stored: CoreV1Event): void {
    const name = stored.metadata?.name;
    if (!name) return;
    this.#seen.set(key, {
      count: stored.count ?? 1,
      firstTimestamp: stored.firstTimestamp ?? new Date(this.#now()),
      name,
    });
  }

  /** The Event to patch is gone (expired by the API server's TTL): the next one is created afresh. */
  forget(key: string): void {
    this.#seen.delete(key);
  }

  #spam(event: CoreV1Event): boolean {
    const key = objectKey(event);
    const now = this.#now();
    const bucket = this.#buckets.get(key) ?? { tokens: SPAM_BURST, at: now };
    bucket.tokens = Math.min(SPAM_BURST, bucket.tokens + (now - bucket.at) * SPAM_REFILL_PER_MS);
    bucket.at = now;
    const allowed = bucket.tokens >= 1;
    if (allowed) bucket.tokens -= 1;
    this.#buckets.set(key, bucket);
    return !allowed;
  }

  #aggregate(event: CoreV1Event): { event: CoreV1Event; key: string } {
    const now = this.#now();
    const key = aggregateKey(event);
    let record = this.#aggregates.get(key);
    if (!record || now - record.at > AGGREGATE_INTERVAL_MS) record = { messages: new Set(), at: now };
    record.messages.add(event.message ?? "");
    record.at = now;
    this.#aggregates.set(key, record);
    if (record.messages.size < AGGREGATE_MAX_EVENTS) return { event, key: eventKey(event) };
    // Do not grow the set past the maximum (client-go pops any one).
    record.messages.delete(record.messages.values().next().value as string);
    const at = new Date(now);
    return {
      event: {
        ...event,
        metadata: { ...event.metadata, name: undefined },
        message: `(combined from similar events): ${event.message ?? ""}`,
        count: 1,
        firstTimestamp: at,
        lastTimestamp: at,
      },
      key,
    };
  }
}

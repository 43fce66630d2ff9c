/**
 * Request and response-byte counters per authenticated user, split into plain requests and
 * watch streams: the load a client puts on the API server, as the apiserver's own
 * `apiserver_request_total` and `apiserver_response_sizes` show it per client (benchmarks read them).
 */
import type { IncomingMessage, ServerResponse } from "node:http";

export interface TrafficCounts {
  /** Non-watch requests, and the bytes of their response bodies. */
  requests: number;
  responseBytes: number;
  /** Watch requests (each one stream), and the bytes streamed on them so far. */
  watches: number;
  watchBytes: number;
}

/** Counts by user name; requests that never authenticated count as "(unauthenticated)". */
export type TrafficSnapshot = Record<string, TrafficCounts>;

const UNAUTHENTICATED = "(unauthenticated)";

class Tally {
  user = UNAUTHENTICATED;
  private counted = false;
  constructor(
    private readonly traffic: Traffic,
    readonly watch: boolean,
  ) {}

  identify(user: string): void {
    if (!this.counted) this.user = user;
    this.count();
  }

  bytes(n: number): void {
    this.count();
    const bucket = this.traffic.bucket(this.user);
    if (this.watch) bucket.watchBytes += n;
    else bucket.responseBytes += n;
  }

  private count(): void {
    if (this.counted) return;
    this.counted = true;
    const bucket = this.traffic.bucket(this.user);
    if (this.watch) bucket.watches++;
    else bucket.requests++;
  }
}

function chunkBytes(chunk: unknown, encoding: unknown): number {
  if (typeof chunk === "string")
    return Buffer.byteLength(chunk, typeof encoding === "string" ? (encoding as BufferEncoding) : "utf8");
  if (chunk instanceof Uint8Array) return chunk.byteLength;
  return 0;
}

export class Traffic {
  private readonly byUser = new Map<string, TrafficCounts>();
  private readonly tallies = new WeakMap<IncomingMessage, Tally>();

  bucket(user: string): TrafficCounts {
    let counts = this.byUser.get(user);
    if (counts === undefined) {
      counts = { requests: 0, responseBytes: 0, watches: 0, watchBytes: 0 };
      this.byUser.set(user, counts);
    }
    return counts;
  }

  /** Starts counting one request: every body byte written to `res` is added to its user's counts. */
  open(req: IncomingMessage, res: ServerResponse, watch: boolean): void {
    const tally = new Tally(this, watch);
    this.tallies.set(req, tally);
    const write = res.write.bind(res) as (...args: unknown[]) => boolean;
    const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
    res.write = ((...args: unknown[]) => {
      tally.bytes(chunkBytes(args[0], args[1]));
      return write(...args);
    }) as typeof res.write;
    res.end = ((...args: unknown[]) => {
      tally.bytes(typeof args[0] === "function" ? 0 : chunkBytes(args[0], args[1]));
      return end(...args);
    }) as typeof res.end;
  }

  /** Names the user a request authenticated as (before anything is written for it). */
  identify(req: IncomingMessage, user: string): void {
    this.tallies.get(req)?.identify(user);
  }

  snapshot(): TrafficSnapshot {
    return Object.fromEntries([...this.byUser].map(([user, counts]) => [user, { ...counts }]));
  }
}

/**
 * Bounds on one render. Templates come from pod annotations (untrusted), so a render may do only
 * so much work: a step budget (nodes, range iterations, commands), a nesting depth, and a budget
 * of bytes that functions may take in and produce. Every excess is a TemplateError (permanent).
 * The render also yields to the event loop every `yieldEvery` steps or `yieldBytes` bytes
 * handled, so even a template that spends its whole budget holds the process only in short slices.
 */
import { TemplateError } from "./template-error.ts";

const RENDER_LIMITS = Object.freeze({
  /** Nodes, range iterations and commands per render (the default map template needs ~7 per key). */
  maxSteps: 5_000,
  /** Nested blocks plus parenthesised pipelines while rendering (the parser allows less; see parser.ts). */
  maxDepth: 64,
  /** String bytes passed to and returned by functions (printf, toJSON, base64…), over the whole render. */
  maxWorkBytes: 1024 * 1024,
  yieldEvery: 100,
  yieldBytes: 64 * 1024,
});

export type RenderLimits = typeof RENDER_LIMITS;

export class RenderBudget {
  #steps = 0;
  #depth = 0;
  #work = 0;
  #bytesSinceYield = 0;

  constructor(private readonly limits: RenderLimits = RENDER_LIMITS) {}

  /** Counts one step; true when the caller should yield to the event loop now. */
  step(line: number): boolean {
    this.#steps++;
    if (this.#steps > this.limits.maxSteps) {
      throw new TemplateError(
        line,
        "budget",
        `rendering needs more than ${this.limits.maxSteps} steps (nested range over large data?); refused`,
      );
    }
    if (this.#steps % this.limits.yieldEvery !== 0 && this.#bytesSinceYield < this.limits.yieldBytes) return false;
    this.#bytesSinceYield = 0;
    return true;
  }

  /** Output written (bounded on its own by MAX_OUTPUT_BYTES): only paces the yields. */
  wrote(bytes: number): void {
    this.#bytesSinceYield += bytes;
  }

  enter(line: number): void {
    this.#depth++;
    if (this.#depth > this.limits.maxDepth)
      throw new TemplateError(line, "depth", `rendering nests deeper than ${this.limits.maxDepth}; refused`);
  }

  leave(): void {
    this.#depth--;
  }

  /** Charges string bytes a function took in or produced. */
  charge(bytes: number, line: number, fn: string): void {
    this.#work += bytes;
    this.#bytesSinceYield += bytes;
    if (this.#work > this.limits.maxWorkBytes) {
      throw new TemplateError(
        line,
        fn,
        `functions handle more than ${this.limits.maxWorkBytes} bytes in this template; refused`,
      );
    }
  }
}

/** Lets queued I/O and timers run between slices of a long render. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

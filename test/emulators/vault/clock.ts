/** The emulator's notion of "now": wall clock plus an offset tests may advance. */
export class Clock {
  private offsetMs = 0;

  now(): number {
    return Date.now() + this.offsetMs;
  }

  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new Error(`clock.advance: invalid ms ${ms}`);
    this.offsetMs += ms;
  }
}

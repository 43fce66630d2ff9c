/** Ages as kubectl prints them: kubernetes/apimachinery@release-1.32 pkg/util/duration/duration.go HumanDuration. */

export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.trunc(seconds / 60);
  const withRest = (big: number, bigUnit: string, small: number, smallUnit: string): string =>
    small === 0 ? `${big}${bigUnit}` : `${big}${bigUnit}${small}${smallUnit}`;
  if (minutes < 10) return withRest(minutes, "m", seconds % 60, "s");
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.trunc(minutes / 60);
  if (hours < 8) return withRest(hours, "h", minutes % 60, "m");
  if (hours < 48) return `${hours}h`;
  const days = Math.trunc(hours / 24);
  if (hours < 24 * 8) return withRest(days, "d", hours % 24, "h");
  if (hours < 24 * 365 * 2) return `${days}d`;
  if (hours < 24 * 365 * 8) return withRest(Math.trunc(days / 365), "y", days % 365, "d");
  return `${Math.trunc(days / 365)}y`;
}

/** translateTimestampSince (printers.go): "<unknown>" for a missing time. */
export function since(timestamp: unknown): string {
  const t = typeof timestamp === "string" ? Date.parse(timestamp) : Number.NaN;
  return Number.isNaN(t) ? "<unknown>" : humanDuration(Date.now() - t);
}

/** Durations (Vault's TypeDurationSecond parsing, Go-style printing) and timestamps. */

const UNIT_SECONDS: Record<string, number> = { ns: 1e-9, us: 1e-6, µs: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600, d: 86400 };

/** Parses seconds (number or numeric string) or a Go duration string; returns whole seconds or null. */
export function parseDurationSeconds(value: unknown): number | null {
  if (typeof value === "number") return Number.isFinite(value) ? Math.trunc(value) : null;
  if (typeof value !== "string") return null;
  const text = value.trim();
  if (text === "") return 0;
  if (/^-?\d+$/.test(text)) return Number(text);
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d)/gy;
  let sign = 1;
  let rest = text;
  if (rest.startsWith("-") || rest.startsWith("+")) {
    sign = rest.startsWith("-") ? -1 : 1;
    rest = rest.slice(1);
  }
  let total = 0;
  let consumed = 0;
  re.lastIndex = 0;
  for (let m = re.exec(rest); m !== null; m = re.exec(rest)) {
    total += Number(m[1]) * (UNIT_SECONDS[m[2] ?? ""] ?? 0);
    consumed = re.lastIndex;
  }
  if (consumed === 0 || consumed !== rest.length) return null;
  return sign * Math.trunc(total);
}

/** Go's time.Duration.String for whole seconds, then Vault's humanDuration trimming. */
export function humanDuration(seconds: number): string {
  if (seconds === 0) return "0s";
  const neg = seconds < 0;
  let s = Math.abs(Math.trunc(seconds));
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  let out = h > 0 ? `${h}h${m}m${s}s` : m > 0 ? `${m}m${s}s` : `${s}s`;
  if (out.endsWith("m0s")) out = out.slice(0, -2);
  const idx = out.indexOf("h0m");
  if (idx > 0) out = out.slice(0, idx + 1) + out.slice(idx + 3);
  return `${neg ? "-" : ""}${out}`;
}

export function ttlCappedWarning(requested: number, capped: number): string {
  return `TTL of "${humanDuration(requested)}" exceeded the effective max_ttl of "${humanDuration(capped)}"; TTL value is capped accordingly`;
}

/** RFC3339 timestamp as Go marshals time.Time in UTC. */
export function rfc3339(ms: number): string {
  return new Date(ms).toISOString();
}

/** The `{{expiration}}` format of the database engine: 2006-01-02 15:04:05-0700 (UTC). */
export function pgExpiration(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}+0000`;
}

export const SYSTEM_DEFAULT_TTL = 2_764_800;
export const SYSTEM_MAX_TTL = 2_764_800;

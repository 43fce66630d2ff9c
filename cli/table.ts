/** Plain-text tables and time formatting for the on-call commands (no colours: output is often pasted into incidents). */

/** Left-aligned columns separated by two spaces; cells are single-line. */
export function formatTable(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const clean = (cell: string) => cell.replace(/[\r\n\t]+/g, " ");
  const all = [headers.map(clean), ...rows.map((r) => r.map(clean))];
  const widths = headers.map((_, i) => Math.max(...all.map((r) => (r[i] ?? "").length)));
  return all
    .map((r) =>
      widths
        .map((w, i) => (i === widths.length - 1 ? (r[i] ?? "") : (r[i] ?? "").padEnd(w)))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

/** "in 9m58s", "2h ago", from an ISO time relative to `now`. */
export function relative(iso: string | undefined, now: number = Date.now()): string {
  if (!iso) return "-";
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return iso;
  const ms = at - now;
  const text = duration(Math.abs(ms));
  return ms >= 0 ? `in ${text}` : `${text} ago`;
}

/** 3725000 → "1h2m", 59000 → "59s". */
export function duration(ms: number): string {
  let s = Math.floor(ms / 1000);
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  if (d > 0) return `${d}d${h}h`;
  if (h > 0) return `${h}h${m}m`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}

/** "90", "90s", "10m", "2h", "1d" → seconds; undefined when it does not parse. */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d+)([smhd]?)$/.exec(text.trim());
  if (!m) return undefined;
  const unit = { "": 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2] as "" | "s" | "m" | "h" | "d"];
  return Number(m[1]) * unit;
}

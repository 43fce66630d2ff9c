/** Go's fmt.Sprintf for the verbs templates use: %s %v %d %q %x %X %f %t %%, flags - 0 + and width/precision. */
import { formatNumber, formatValue } from "./go-format.ts";
import { TemplateError } from "./template-error.ts";
import { goTypeName, type Value } from "./values.ts";

const SPEC = /%([-+# 0]*)(\d+)?(?:\.(\d+))?([a-zA-Z%])?/g;
const VERBS = new Set(["s", "v", "d", "q", "x", "X", "f", "F", "t", "%"]);
/** Wider fields or longer precisions are refused (Go allows up to 1e6; nothing in a credentials file needs that). */
const MAX_PRINTF_WIDTH = 1000;
const MAX_PRINTF_PRECISION = 100;

/**
 * Why a format string is refused (construct, detail), or undefined: one rule for parse time and
 * render time. A format that comes from secret data (`fromData`) is checked only for the bounds,
 * with a message that quotes nothing of it (it may be a secret); other oddities print Go's %!…
 */
export function printfFormatProblem(
  format: string,
  options: { fromData?: boolean } = {},
): { construct: string; detail: string } | undefined {
  const fromData = options.fromData === true;
  for (const m of format.matchAll(SPEC)) {
    const verb = m[4];
    if (!fromData && verb === undefined)
      return {
        construct: "printf",
        detail: `printf format ${JSON.stringify(format.slice(0, 80))} ends in the middle of a verb`,
      };
    if (!fromData && verb !== undefined && !VERBS.has(verb)) {
      return {
        construct: `printf %${verb}`,
        detail: `printf verb %${verb} is outside leasekeeper's template subset (supported: %s %v %d %q %x %X %f %t %%)`,
      };
    }
    if (m[2] !== undefined && (m[2].length > 7 || Number(m[2]) > MAX_PRINTF_WIDTH)) {
      return {
        construct: "printf width",
        detail: fromData
          ? `a printf format from secret data has a width larger than ${MAX_PRINTF_WIDTH}`
          : `printf width ${m[2].slice(0, 20)} is larger than ${MAX_PRINTF_WIDTH}`,
      };
    }
    if (m[3] !== undefined && (m[3].length > 7 || Number(m[3]) > MAX_PRINTF_PRECISION)) {
      return {
        construct: "printf precision",
        detail: fromData
          ? `a printf format from secret data has a precision larger than ${MAX_PRINTF_PRECISION}`
          : `printf precision ${m[3].slice(0, 20)} is larger than ${MAX_PRINTF_PRECISION}`,
      };
    }
  }
  return undefined;
}

/** Refuses a literal format string that uses a verb outside the subset or an oversized width/precision. */
export function checkPrintfFormat(format: string, line: number): void {
  const problem = printfFormatProblem(format);
  if (problem) throw new TemplateError(line, problem.construct, problem.detail);
}

/** Go's Sprintf for the subset; the caller has checked the format with printfFormatProblem. */
export function sprintf(format: string, args: readonly Value[]): string {
  let next = 0;
  const out = format.replace(
    SPEC,
    (whole, flags: string, width: string | undefined, precision: string | undefined, verb: string | undefined) => {
      if (verb === "%") return "%";
      if (verb === undefined) return "%!(NOVERB)";
      if (next >= args.length) return `%!${verb}(MISSING)`;
      const arg = args[next++];
      const body = formatOne(verb, arg, precision === undefined ? undefined : Number(precision), flags);
      return pad(body, width === undefined ? 0 : Number(width), flags, typeof arg === "number");
    },
  );
  if (next < args.length) {
    const extra = args
      .slice(next)
      .map((a) => `${goTypeName(a)}=${formatValue(a)}`)
      .join(", ");
    return `${out}%!(EXTRA ${extra})`;
  }
  return out;
}

function formatOne(verb: string, arg: Value, precision: number | undefined, flags: string): string {
  const bad = () => `%!${verb}(${goTypeName(arg)}=${formatValue(arg)})`;
  switch (verb) {
    case "v":
      return arg === undefined ? "<nil>" : formatValue(arg);
    case "s":
      if (typeof arg === "string" || typeof arg === "number") {
        const s = typeof arg === "string" ? arg : formatNumber(arg);
        return precision === undefined ? s : [...s].slice(0, precision).join("");
      }
      return typeof arg === "object" && arg !== null ? formatValue(arg) : bad();
    case "d":
      if (typeof arg === "number" && Number.isInteger(arg))
        return (flags.includes("+") && arg >= 0 ? "+" : "") + formatNumber(arg);
      return bad();
    case "f":
    case "F":
      if (typeof arg === "number") return (flags.includes("+") && arg >= 0 ? "+" : "") + arg.toFixed(precision ?? 6);
      return bad();
    case "t":
      return typeof arg === "boolean" ? String(arg) : bad();
    case "q":
      return typeof arg === "string" ? JSON.stringify(arg) : bad();
    case "x":
    case "X": {
      let hex: string;
      if (typeof arg === "string") hex = Buffer.from(arg, "utf8").toString("hex");
      else if (typeof arg === "number" && Number.isInteger(arg))
        hex = (arg < 0 ? "-" : "") + Math.abs(arg).toString(16);
      else return bad();
      return verb === "X" ? hex.toUpperCase() : hex;
    }
    default:
      return bad();
  }
}

function pad(s: string, width: number, flags: string, numeric: boolean): string {
  const len = [...s].length;
  if (len >= width) return s;
  if (flags.includes("-")) return s + " ".repeat(width - len);
  if (flags.includes("0") && numeric) {
    const sign = /^[-+]/.test(s) ? (s[0] ?? "") : "";
    return sign + "0".repeat(width - len) + s.slice(sign.length);
  }
  return " ".repeat(width - len) + s;
}

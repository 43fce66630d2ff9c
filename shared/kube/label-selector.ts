/**
 * Kubernetes label selectors in their string form ("a=b,c!=d,e,!f,g in (x,y),h notin (z)"),
 * parsed and matched locally, so an object read back from the API server can be re-checked
 * against the selector it was supposed to be found by.
 */
export type LabelRequirement =
  | { readonly key: string; readonly op: "=" | "!="; readonly value: string }
  | { readonly key: string; readonly op: "exists" | "!exists" }
  | { readonly key: string; readonly op: "in" | "notin"; readonly values: readonly string[] };

const KEY = "(?:[A-Za-z0-9.-]+/)?[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?";
const VALUE = "(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?)?";
const EQUALITY = new RegExp(`^(${KEY})\\s*(==|=|!=)\\s*(${VALUE})$`);
const SET = new RegExp(`^(${KEY})\\s+(in|notin)\\s*\\(([^()]*)\\)$`);
const EXISTS = new RegExp(`^(!?)(${KEY})$`);

/** Parses a selector; throws an Error naming the part it cannot read. */
export function parseLabelSelector(text: string): LabelRequirement[] {
  const parts = splitTopLevel(text)
    .map((p) => p.trim())
    .filter((p) => p !== "");
  return parts.map((part) => {
    const eq = EQUALITY.exec(part);
    if (eq) return { key: eq[1] as string, op: eq[2] === "!=" ? "!=" : "=", value: eq[3] ?? "" };
    const set = SET.exec(part);
    if (set) {
      const values = (set[3] ?? "")
        .split(",")
        .map((v) => v.trim())
        .filter((v) => v !== "");
      return { key: set[1] as string, op: set[2] === "in" ? "in" : "notin", values };
    }
    const exists = EXISTS.exec(part);
    if (exists) return { key: exists[2] as string, op: exists[1] === "!" ? "!exists" : "exists" };
    throw new Error(
      `label selector part "${part.slice(0, 80)}" is not key=value, key!=value, key, !key, key in (…) or key notin (…)`,
    );
  });
}

export function matchesLabelSelector(
  labels: Readonly<Record<string, string>> | undefined,
  requirements: readonly LabelRequirement[],
): boolean {
  const get = (key: string) => (labels && Object.hasOwn(labels, key) ? labels[key] : undefined);
  return requirements.every((r) => {
    const value = get(r.key);
    switch (r.op) {
      case "=":
        return value === r.value;
      case "!=":
        return value !== r.value;
      case "exists":
        return value !== undefined;
      case "!exists":
        return value === undefined;
      case "in":
        return value !== undefined && r.values.includes(value);
      case "notin":
        return value === undefined || !r.values.includes(value);
    }
  });
}

function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "(") depth++;
    else if (c === ")") depth--;
    else if (c === "," && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

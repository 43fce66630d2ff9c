/** Label and field selectors (spec §1.2): parse to predicates; parse errors are 400s. */
import { badRequest } from "./status.ts";
import { fieldValue, type ResourceDef } from "./resources.ts";
import type { KubeObject } from "./types.ts";

type LabelOp = "=" | "!=" | "in" | "notin" | "exists" | "!" | "gt" | "lt";
interface LabelRequirement {
  key: string;
  op: LabelOp;
  values: string[];
}

const NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const PREFIX = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function checkKey(key: string): void {
  const parts = key.split("/");
  const name = parts.length === 2 ? parts[1] : parts[0];
  const prefix = parts.length === 2 ? parts[0] : undefined;
  const ok =
    parts.length <= 2 &&
    name !== undefined &&
    name.length <= 63 &&
    NAME.test(name) &&
    (prefix === undefined || (prefix.length <= 253 && PREFIX.test(prefix)));
  if (!ok) {
    throw badRequest(
      `unable to parse requirement: <nil>: Invalid value: ${JSON.stringify(key)}: name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`,
    );
  }
}

function checkValue(value: string): void {
  if (value !== "" && (value.length > 63 || !NAME.test(value))) {
    throw badRequest(
      `unable to parse requirement: <nil>: Invalid value: ${JSON.stringify(value)}: a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`,
    );
  }
}

/** Splits on commas that are not inside parentheses. */
function splitTerms(selector: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let current = "";
  for (const ch of selector) {
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (depth < 0) throw badRequest(`unable to parse requirement: found ')', expected: '('`);
    if (ch === "," && depth === 0) {
      terms.push(current);
      current = "";
    } else {
      current += ch;
    }
  }
  if (depth !== 0) throw badRequest(`unable to parse requirement: found '', expected: ')'`);
  terms.push(current);
  return terms;
}

function parseLabelTerm(raw: string): LabelRequirement {
  const term = raw.trim();
  if (term === "") throw badRequest(`unable to parse requirement: found '', expected: identifier`);
  if (term.startsWith("!")) {
    const key = term.slice(1).trim();
    checkKey(key);
    return { key, op: "!", values: [] };
  }
  const setMatch = /^(\S+)\s+(in|notin)\s*\((.*)\)$/.exec(term);
  if (setMatch !== null) {
    const key = setMatch[1] ?? "";
    checkKey(key);
    const values = (setMatch[3] ?? "").split(",").map((v) => v.trim());
    values.forEach(checkValue);
    return { key, op: setMatch[2] === "in" ? "in" : "notin", values };
  }
  const eqMatch = /^([^=!<>\s]+)\s*(==|=|!=|>|<)\s*(.*)$/.exec(term);
  if (eqMatch !== null) {
    const key = eqMatch[1] ?? "";
    const value = (eqMatch[3] ?? "").trim();
    checkKey(key);
    if (/[\s=!(),]/.test(value))
      throw badRequest(`unable to parse requirement: found '${value}', expected: identifier`);
    checkValue(value);
    const op = eqMatch[2];
    if (op === ">" || op === "<") {
      if (!/^-?\d+$/.test(value))
        throw badRequest(`unable to parse requirement: for 'Gt', 'Lt' operators, the value must be an integer`);
      return { key, op: op === ">" ? "gt" : "lt", values: [value] };
    }
    return { key, op: op === "!=" ? "!=" : "=", values: [value] };
  }
  if (/^\S+$/.test(term)) {
    checkKey(term);
    return { key: term, op: "exists", values: [] };
  }
  throw badRequest(`unable to parse requirement: found '${term}', expected: in, notin, =, ==, !=, gt, lt`);
}

export type Predicate = (obj: KubeObject) => boolean;

export function parseLabelSelector(selector: string | null | undefined): Predicate {
  if (selector === null || selector === undefined || selector.trim() === "") return () => true;
  const reqs = splitTerms(selector).map(parseLabelTerm);
  return (obj) => {
    const labels = obj.metadata.labels ?? {};
    return reqs.every((r) => {
      const has = Object.prototype.hasOwnProperty.call(labels, r.key);
      const value = labels[r.key];
      switch (r.op) {
        case "=":
          return has && value === r.values[0];
        case "!=":
          return !has || value !== r.values[0];
        case "in":
          return has && r.values.includes(value ?? "");
        case "notin":
          return !has || !r.values.includes(value ?? "");
        case "exists":
          return has;
        case "!":
          return !has;
        case "gt":
          return has && /^-?\d+$/.test(value ?? "") && Number(value) > Number(r.values[0]);
        case "lt":
          return has && /^-?\d+$/.test(value ?? "") && Number(value) < Number(r.values[0]);
      }
    });
  };
}

/** Matches an object's labels against a metav1.LabelSelector (matchLabels + matchExpressions). */
export function matchesLabelSelectorObject(
  selector:
    | {
        matchLabels?: Record<string, string>;
        matchExpressions?: { key: string; operator: string; values?: string[] }[];
      }
    | undefined,
  labels: Record<string, string>,
): boolean {
  if (selector === undefined || selector === null) return true;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    const values = e.values ?? [];
    if (e.operator === "In" && !(has && values.includes(labels[e.key] ?? ""))) return false;
    if (e.operator === "NotIn" && has && values.includes(labels[e.key] ?? "")) return false;
    if (e.operator === "Exists" && !has) return false;
    if (e.operator === "DoesNotExist" && has) return false;
  }
  return true;
}

export function parseFieldSelector(r: ResourceDef, selector: string | null | undefined): Predicate {
  if (selector === null || selector === undefined || selector.trim() === "") return () => true;
  const reqs = selector.split(",").map((raw) => {
    const m = /^([^=!]+)(==|=|!=)(.*)$/.exec(raw.trim());
    if (m === null) throw badRequest(`invalid selector: '${selector}'; can't understand '${raw}'`);
    const label = (m[1] ?? "").trim();
    if (label !== "metadata.name" && label !== "metadata.namespace" && r.fields[label] === undefined) {
      throw badRequest(`field label not supported: ${label}`);
    }
    return { label, negate: m[2] === "!=", value: m[3] ?? "" };
  });
  return (obj) => reqs.every((q) => (fieldValue(r, obj, q.label) === q.value) !== q.negate);
}

/** Name given by a `metadata.name=` term, if any (for named watches). */
export function nameFromFieldSelector(selector: string | null | undefined): string | undefined {
  if (selector === null || selector === undefined) return undefined;
  for (const raw of selector.split(",")) {
    const m = /^metadata\.name(==|=)(.*)$/.exec(raw.trim());
    if (m !== null) return m[2];
  }
  return undefined;
}

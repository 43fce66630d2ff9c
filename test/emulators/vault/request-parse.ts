/** HTTP → logical request: method mapping, body decoding with Go-like errors, token headers. */
import { badRequest, emptyError } from "./errors.ts";
import type { Data, Operation, RawRequest } from "./types.ts";

const GO_BOOL: Record<string, boolean> = {
  "1": true,
  t: true,
  T: true,
  TRUE: true,
  true: true,
  True: true,
  "0": false,
  f: false,
  F: false,
  FALSE: false,
  false: false,
  False: false,
};

/** strconv.ParseBool; undefined for anything else. */
export function goBool(text: string): boolean | undefined {
  return GO_BOOL[text];
}

/** Maps a method to a logical operation; null → 405. Throws 400 `{"errors":[]}` on a bad list=. */
export function operationOf(method: string, query: URLSearchParams): Operation | null {
  switch (method) {
    case "GET": {
      const list = query.get("list");
      if (list === null) return "read";
      const value = goBool(list);
      if (value === undefined) throw emptyError(400);
      return value ? "list" : "read";
    }
    case "POST":
    case "PUT":
      return "update";
    case "DELETE":
      return "delete";
    case "LIST":
      return "list";
    case "PATCH":
      return "patch";
    default:
      return null;
  }
}

function goTypeName(v: unknown): string {
  if (Array.isArray(v)) return "array";
  if (typeof v === "boolean") return "bool";
  return typeof v;
}

function goJsonError(text: string, err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  if (/end of JSON input|Unterminated/i.test(msg)) return "unexpected EOF";
  const pos = /position (\d+)/.exec(msg);
  const at = pos ? Number(pos[1]) : text.search(/\S/);
  const ch = text[at] ?? "";
  if (ch === "") return "unexpected EOF";
  return `invalid character '${ch}' looking for beginning of value`;
}

/** Parses a JSON object body (or a form body); empty bodies are allowed. */
export function parseBody(raw: RawRequest): Data {
  if (raw.body.length === 0) return {};
  const text = raw.body.toString("utf8");
  if (text.trim() === "") return {};
  const ctype = String(raw.headers["content-type"] ?? "").toLowerCase();
  const trimmed = text.trimStart();
  if (ctype.startsWith("application/x-www-form-urlencoded") && !trimmed.startsWith("{") && !trimmed.startsWith("[")) {
    const out: Data = {};
    for (const [k, v] of new URLSearchParams(text)) out[k] = v;
    return out;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw badRequest(`failed to parse JSON input: ${goJsonError(text, err)}`);
  }
  if (value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) {
    throw badRequest(
      `failed to parse JSON input: json: cannot unmarshal ${goTypeName(value)} into Go value of type map[string]interface {}`,
    );
  }
  return value as Data;
}

export function queryData(query: URLSearchParams): Data {
  const out: Data = {};
  for (const [k, v] of query) if (k !== "help" && k !== "list") out[k] = v;
  return out;
}

export function header(raw: RawRequest, name: string): string | undefined {
  const v = raw.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** X-Vault-Token, else `Authorization: Bearer <token>`. */
export function tokenFrom(raw: RawRequest): string | undefined {
  const direct = header(raw, "x-vault-token");
  if (direct) return direct;
  const auth = header(raw, "authorization");
  const m = auth ? /^Bearer\s+(.+)$/i.exec(auth) : null;
  return m?.[1]?.trim() || undefined;
}

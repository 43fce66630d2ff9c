/**
 * A small HCL subset for ACL policies: `path "<glob>" { capabilities = [...] }`, legacy
 * `policy = "read"`, comments, and nested blocks (ignored). Throws Error on bad syntax.
 */

export interface PathRule {
  pattern: string;
  capabilities: string[];
}

const VALID_CAPS = new Set([
  "create",
  "read",
  "update",
  "delete",
  "list",
  "sudo",
  "deny",
  "patch",
  "subscribe",
  "recover",
]);
const LEGACY: Record<string, string[]> = {
  deny: ["deny"],
  read: ["read", "list"],
  write: ["create", "read", "update", "delete", "list"],
  sudo: ["create", "read", "update", "delete", "list", "sudo"],
};

type Tok = { kind: "str" | "ident" | "num" | "punct"; value: string; line: number };

function tokenize(text: string): Tok[] {
  const out: Tok[] = [];
  const re =
    /\s+|#[^\n]*|\/\/[^\n]*|\/\*[\s\S]*?\*\/|"((?:[^"\\\n]|\\.)*)"|([A-Za-z_][A-Za-z0-9_-]*)|(-?\d+(?:\.\d+)?)|([{}[\]=,])/y;
  let line = 1;
  while (re.lastIndex < text.length) {
    const start = re.lastIndex;
    const m = re.exec(text);
    if (!m) throw new Error(`At ${line}:${start + 1}: illegal char`);
    if (m[1] !== undefined) out.push({ kind: "str", value: m[1].replace(/\\(.)/g, "$1"), line });
    else if (m[2] !== undefined) out.push({ kind: "ident", value: m[2], line });
    else if (m[3] !== undefined) out.push({ kind: "num", value: m[3], line });
    else if (m[4] !== undefined) out.push({ kind: "punct", value: m[4], line });
    line += (m[0].match(/\n/g) ?? []).length;
  }
  return out;
}

class Parser {
  private i = 0;
  constructor(private readonly toks: Tok[]) {}

  done(): boolean {
    return this.i >= this.toks.length;
  }

  next(what: string): Tok {
    const t = this.toks[this.i++];
    if (!t) throw new Error(`unexpected end of input, expected ${what}`);
    return t;
  }

  peekIs(value: string): boolean {
    return this.toks[this.i]?.value === value && this.toks[this.i]?.kind === "punct";
  }

  expect(value: string): void {
    const t = this.next(`'${value}'`);
    if (t.kind !== "punct" || t.value !== value) throw new Error(`At ${t.line}: expected '${value}', got '${t.value}'`);
  }

  /** Parses any value; returns strings of a list, the scalar, or null for a block. */
  value(): string[] | string | null {
    const t = this.next("value");
    if (t.kind === "str" || t.kind === "num" || t.kind === "ident") return t.value;
    if (t.value === "[") {
      const items: string[] = [];
      while (!this.peekIs("]")) {
        const v = this.value();
        if (typeof v === "string") items.push(v);
        if (this.peekIs(",")) this.expect(",");
        else break;
      }
      this.expect("]");
      return items;
    }
    if (t.value === "{") {
      this.body(() => undefined);
      return null;
    }
    throw new Error(`At ${t.line}: unexpected '${t.value}'`);
  }

  /** Parses `key = value` pairs until `}`. */
  body(onPair: (key: string, value: string[] | string | null) => void): void {
    while (!this.peekIs("}")) {
      const key = this.next("key");
      if (key.kind !== "ident" && key.kind !== "str") throw new Error(`At ${key.line}: unexpected '${key.value}'`);
      if (this.peekIs("=")) this.expect("=");
      onPair(key.value, this.value());
      if (this.peekIs(",")) this.expect(",");
    }
    this.expect("}");
  }
}

export function parsePolicy(text: string): PathRule[] {
  const p = new Parser(tokenize(text));
  const rules: PathRule[] = [];
  while (!p.done()) {
    const key = p.next("path");
    if (key.kind !== "ident") throw new Error(`At ${key.line}: unexpected '${key.value}'`);
    if (key.value !== "path") {
      if (p.peekIs("=")) p.expect("=");
      p.value();
      continue;
    }
    const pattern = p.next("path name");
    if (pattern.kind !== "str") throw new Error(`At ${pattern.line}: path must be a string`);
    if (p.peekIs("=")) p.expect("=");
    p.expect("{");
    const caps = new Set<string>();
    p.body((k, v) => {
      if (k === "capabilities") {
        if (!Array.isArray(v)) throw new Error(`path "${pattern.value}": capabilities must be a list`);
        for (const c of v) {
          const cap = c.toLowerCase();
          if (!VALID_CAPS.has(cap)) throw new Error(`path "${pattern.value}": invalid capability "${c}"`);
          caps.add(cap);
        }
      } else if (k === "policy" && typeof v === "string") {
        const legacy = LEGACY[v.toLowerCase()];
        if (!legacy) throw new Error(`path "${pattern.value}": invalid policy "${v}"`);
        for (const c of legacy) caps.add(c);
      }
    });
    rules.push({ pattern: pattern.value.replace(/^\/+/, ""), capabilities: [...caps] });
  }
  return rules;
}

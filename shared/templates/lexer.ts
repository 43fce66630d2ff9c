/**
 * Splits a Go template into text and actions, applies `{{-` / `-}}` trimming, and tokenises
 * each action. Delimiters are the defaults Vault Agent uses, `{{` and `}}`.
 */
import { TemplateError } from "./template-error.ts";

export type TokenKind =
  | "field"
  | "variable"
  | "identifier"
  | "keyword"
  | "string"
  | "number"
  | "bool"
  | "nil"
  | "dot"
  | "pipe"
  | "lparen"
  | "rparen"
  | "comma"
  | "declare"
  | "assign";

export interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  /** Decoded value for strings; the name (without `.` / `$`) for fields and variables. */
  readonly value: string;
  /** Whitespace precedes it (a field chain needs none). */
  readonly spaced: boolean;
}

export type Segment =
  | { readonly kind: "text"; readonly text: string; readonly line: number }
  | { readonly kind: "action"; readonly tokens: readonly Token[]; readonly line: number }
  | { readonly kind: "comment"; readonly line: number };

const KEYWORDS = new Set(["if", "else", "end", "range", "with", "define", "template", "block", "break", "continue"]);
const SPACE = /[ \t\r\n]/;

export function lex(source: string): Segment[] {
  const segments: Segment[] = [];
  let pos = 0;
  let line = 1;
  let trimNext = false;
  const lineAt = (to: number) => {
    for (let i = pos; i < to; i++) if (source.charCodeAt(i) === 10) line++;
  };
  while (pos < source.length) {
    const open = source.indexOf("{{", pos);
    const end = open < 0 ? source.length : open;
    let text = source.slice(pos, end);
    if (trimNext) text = text.replace(/^[ \t\r\n]+/, "");
    const trimLeft = open >= 0 && source[open + 2] === "-" && SPACE.test(source[open + 3] ?? "");
    if (trimLeft) text = text.replace(/[ \t\r\n]+$/, "");
    if (text !== "") segments.push({ kind: "text", text, line });
    lineAt(end);
    pos = end;
    if (open < 0) break;
    const actionLine = line;
    const i = open + 2 + (trimLeft ? 2 : 0);
    const afterSpaces = skipSpaces(source, i);
    if (source.startsWith("/*", trimLeft ? afterSpaces : i)) {
      const close = source.indexOf("*/", i + 2);
      if (close < 0) throw new TemplateError(actionLine, "comment", "unclosed comment");
      let j = close + 2;
      const beforeEnd = skipSpaces(source, j);
      let trimRight = false;
      if (source.startsWith("-}}", beforeEnd) && beforeEnd > j) {
        trimRight = true;
        j = beforeEnd + 3;
      } else if (source.startsWith("}}", j)) {
        j += 2;
      } else {
        throw new TemplateError(actionLine, "comment", "comment ends before closing delimiter");
      }
      segments.push({ kind: "comment", line: actionLine });
      lineAt(j);
      pos = j;
      trimNext = trimRight;
      continue;
    }
    const { tokens, next, trimRight } = lexAction(source, i, actionLine);
    segments.push({ kind: "action", tokens, line: actionLine });
    lineAt(next);
    pos = next;
    trimNext = trimRight;
  }
  return segments;
}

function skipSpaces(s: string, i: number): number {
  while (i < s.length && SPACE.test(s[i] ?? "")) i++;
  return i;
}

function lexAction(s: string, start: number, line: number): { tokens: Token[]; next: number; trimRight: boolean } {
  const tokens: Token[] = [];
  let i = start;
  const push = (kind: TokenKind, text: string, spaced: boolean, value = text) =>
    tokens.push({ kind, text, value, spaced });
  for (;;) {
    const before = i;
    i = skipSpaces(s, i);
    const spaced = i > before || tokens.length === 0;
    if (i >= s.length) throw new TemplateError(line, "action", "unclosed action (missing }})");
    if (s.startsWith("-}}", i) && i > before) return { tokens, next: i + 3, trimRight: true };
    if (s.startsWith("}}", i)) return { tokens, next: i + 2, trimRight: false };
    const c = s[i] ?? "";
    if (c === '"') {
      const { value, next } = readQuoted(s, i, line);
      push("string", s.slice(i, next), spaced, value);
      i = next;
    } else if (c === "`") {
      const close = s.indexOf("`", i + 1);
      if (close < 0) throw new TemplateError(line, "raw string", "unterminated raw string");
      push("string", s.slice(i, close + 1), spaced, s.slice(i + 1, close));
      i = close + 1;
    } else if (c === "|") {
      push("pipe", c, spaced);
      i++;
    } else if (c === "(") {
      push("lparen", c, spaced);
      i++;
    } else if (c === ")") {
      push("rparen", c, spaced);
      i++;
    } else if (c === ",") {
      push("comma", c, spaced);
      i++;
    } else if (s.startsWith(":=", i)) {
      push("declare", ":=", spaced);
      i += 2;
    } else if (c === "=") {
      push("assign", "=", spaced);
      i++;
    } else if (c === "$") {
      const m = /^\$[A-Za-z0-9_]*/.exec(s.slice(i)) as RegExpExecArray;
      push("variable", m[0], spaced, m[0]);
      i += m[0].length;
    } else if (c === ".") {
      const m = /^\.[A-Za-z_][A-Za-z0-9_]*/.exec(s.slice(i));
      if (m) {
        push("field", m[0], spaced, m[0].slice(1));
        i += m[0].length;
      } else {
        push("dot", ".", spaced);
        i++;
      }
    } else if (/[0-9]/.test(c) || ((c === "-" || c === "+") && /[0-9]/.test(s[i + 1] ?? ""))) {
      const m = /^[-+]?(0x[0-9a-fA-F_]+|[0-9_]*\.?[0-9_]+([eE][-+]?[0-9]+)?)/.exec(s.slice(i)) as RegExpExecArray;
      push("number", m[0], spaced);
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(s.slice(i)) as RegExpExecArray;
      const word = m[0];
      const kind: TokenKind = KEYWORDS.has(word)
        ? "keyword"
        : word === "true" || word === "false"
          ? "bool"
          : word === "nil"
            ? "nil"
            : "identifier";
      push(kind, word, spaced);
      i += word.length;
    } else {
      throw new TemplateError(line, `character ${JSON.stringify(c)}`, `unexpected ${JSON.stringify(c)} in action`);
    }
  }
}

const ESCAPES: Record<string, string> = {
  n: "\n",
  t: "\t",
  r: "\r",
  a: "\x07",
  b: "\b",
  f: "\f",
  v: "\v",
  "\\": "\\",
  '"': '"',
  "'": "'",
};

function readQuoted(s: string, start: number, line: number): { value: string; next: number } {
  let out = "";
  let i = start + 1;
  while (i < s.length) {
    const c = s[i] ?? "";
    if (c === '"') return { value: out, next: i + 1 };
    if (c === "\n") break;
    if (c === "\\") {
      const e = s[i + 1] ?? "";
      if (e in ESCAPES) {
        out += ESCAPES[e];
        i += 2;
        continue;
      }
      const hex = e === "x" ? 2 : e === "u" ? 4 : e === "U" ? 8 : 0;
      const digits = s.slice(i + 2, i + 2 + hex);
      if (hex > 0 && new RegExp(`^[0-9a-fA-F]{${hex}}$`).test(digits)) {
        const code = parseInt(digits, 16);
        // Go's strconv: \u and \U must name a valid rune (no surrogate, at most U+10FFFF).
        if (!validRune(code))
          throw new TemplateError(
            line,
            "string escape",
            `escape sequence \\${e}${digits} is not a valid Unicode code point`,
          );
        out += String.fromCodePoint(code);
        i += 2 + hex;
        continue;
      }
      throw new TemplateError(line, "string escape", `unknown escape sequence \\${e} in string`);
    }
    out += c;
    i++;
  }
  throw new TemplateError(line, "string", "unterminated quoted string");
}

function validRune(code: number): boolean {
  return code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff);
}

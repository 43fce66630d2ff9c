/**
 * Parses the Go-template subset Vault Agent manifests use into a tree. Anything outside the
 * subset is a TemplateError naming the construct, so a pod is refused rather than rendered wrong.
 */
import type { Command, Operand, ParsedTemplate, Pipeline, SecretCall, TemplateNode } from "./ast.ts";
import { FUNCTION_NAMES } from "./function-names.ts";
import { lex, type Segment, type Token } from "./lexer.ts";
import { checkPrintfFormat } from "./printf.ts";
import { TemplateError, isTemplateError } from "./template-error.ts";

export const MAX_TEMPLATE_BYTES = 64 * 1024;
/** Nested if/with/range blocks; deeper templates are refused before anything renders (render-budget.ts bounds the rest). */
const MAX_BLOCK_DEPTH = 16;
/** Nested parenthesised pipelines, e.g. (index (index .a "b") "c"). */
const MAX_PAREN_DEPTH = 16;

interface Block {
  node: Extract<TemplateNode, { body: TemplateNode[] }>;
  inElse: boolean;
  /** Opened by `else if` / `else with`: closed by the same `end` as its parent. */
  chained: boolean;
}

export function parseTemplate(source: string): ParsedTemplate {
  if (Buffer.byteLength(source, "utf8") > MAX_TEMPLATE_BYTES) {
    throw new TemplateError(1, "size", `template is larger than ${MAX_TEMPLATE_BYTES} bytes`);
  }
  try {
    return parse(source);
  } catch (err) {
    // Input is untrusted: whatever else goes wrong (a JavaScript limit) refuses the template too.
    if (isTemplateError(err)) throw err;
    throw new TemplateError(
      1,
      "template",
      `template cannot be parsed (${err instanceof Error ? err.name : "unknown error"})`,
      { cause: err },
    );
  }
}

function parse(source: string): ParsedTemplate {
  const root: TemplateNode[] = [];
  const stack: Block[] = [];
  const secretCalls: SecretCall[] = [];
  const target = (): TemplateNode[] => {
    const top = stack[stack.length - 1];
    if (!top) return root;
    return top.inElse ? (top.node.elseBody ??= []) : top.node.body;
  };
  const segments: Segment[] = lex(source);
  for (const seg of segments) {
    if (seg.kind === "comment") continue;
    if (seg.kind === "text") {
      target().push({ kind: "text", text: seg.text });
      continue;
    }
    const tokens = seg.tokens;
    const first = tokens[0];
    if (!first) throw new TemplateError(seg.line, "empty action", "missing value for command");
    if (first.kind === "keyword") {
      const word = first.text;
      if (word === "if" || word === "with" || word === "range") {
        checkDepth(stack, word, seg.line);
        const node = block(word, tokens.slice(1), seg.line, secretCalls);
        target().push(node);
        stack.push({ node, inElse: false, chained: false });
      } else if (word === "else") {
        const top = stack[stack.length - 1];
        if (!top || top.inElse) throw new TemplateError(seg.line, "else", "unexpected {{else}}");
        top.inElse = true;
        const next = tokens[1];
        if (next !== undefined) {
          if (next.kind !== "keyword" || (next.text !== "if" && next.text !== "with")) {
            throw new TemplateError(
              seg.line,
              `else ${next.text}`,
              `{{else ${next.text}}} is not supported; only {{else}}, {{else if}} and {{else with}}`,
            );
          }
          const node = block(next.text, tokens.slice(2), seg.line, secretCalls);
          target().push(node);
          stack.push({ node, inElse: false, chained: true });
        }
      } else if (word === "end") {
        if (tokens.length > 1) throw new TemplateError(seg.line, "end", "unexpected arguments after {{end}}");
        let popped = stack.pop();
        if (!popped) throw new TemplateError(seg.line, "end", "unexpected {{end}}");
        while (popped?.chained) popped = stack.pop();
      } else {
        throw new TemplateError(seg.line, `{{${word}}}`, `{{${word}}} is outside leasekeeper's template subset`);
      }
      continue;
    }
    const pipe = parsePipeline(tokens, seg.line, secretCalls, false);
    target().push({ kind: "action", pipe });
  }
  const open = stack[stack.length - 1];
  if (open)
    throw new TemplateError(
      lastLine(segments),
      `{{${open.node.kind}}}`,
      `unexpected EOF: {{${open.node.kind}}} has no {{end}}`,
    );
  return { nodes: root, secretCalls };
}

/** A chained {{else if}} / {{else with}} shares its parent's level; every other open block is one level. */
function checkDepth(stack: readonly Block[], word: string, line: number): void {
  const depth = stack.filter((b) => !b.chained).length + 1;
  if (depth > MAX_BLOCK_DEPTH) {
    throw new TemplateError(
      line,
      `{{${word}}}`,
      `{{${word}}} nests ${depth} blocks deep; at most ${MAX_BLOCK_DEPTH} nested if/with/range blocks are allowed`,
    );
  }
}

function lastLine(segments: Segment[]): number {
  return segments[segments.length - 1]?.line ?? 1;
}

function block(
  kind: "if" | "with" | "range",
  tokens: Token[],
  line: number,
  calls: SecretCall[],
): Extract<TemplateNode, { body: TemplateNode[] }> {
  if (tokens.length === 0) throw new TemplateError(line, kind, `missing value for ${kind}`);
  const pipe = parsePipeline(tokens, line, calls, kind === "range");
  if (kind !== "range" && pipe.decl.length > 1) throw new TemplateError(line, kind, `too many declarations in ${kind}`);
  return { kind, pipe, body: [], elseBody: undefined };
}

interface Cursor {
  i: number;
  /** Open parentheses around the current position. */
  depth: number;
}

function parsePipeline(tokens: readonly Token[], line: number, calls: SecretCall[], isRange: boolean): Pipeline {
  let i = 0;
  const decl: string[] = [];
  let assign = false;
  const t0 = tokens[0];
  const t1 = tokens[1];
  if (t0?.kind === "variable" && (t1?.kind === "declare" || t1?.kind === "assign")) {
    decl.push(t0.value);
    assign = t1.kind === "assign";
    i = 2;
  } else if (
    isRange &&
    t0?.kind === "variable" &&
    t1?.kind === "comma" &&
    tokens[2]?.kind === "variable" &&
    tokens[3]?.kind === "declare"
  ) {
    decl.push(t0.value, tokens[2].value);
    i = 4;
  }
  const cursor = { i, depth: 0 };
  const pipe = readPipe(tokens, cursor, line, calls, false);
  if (cursor.i < tokens.length)
    throw new TemplateError(
      line,
      tokens[cursor.i]?.text ?? "",
      `unexpected ${JSON.stringify(tokens[cursor.i]?.text)} in command`,
    );
  return { ...pipe, decl, assign };
}

function readPipe(
  tokens: readonly Token[],
  cursor: Cursor,
  line: number,
  calls: SecretCall[],
  nested: boolean,
): Pipeline {
  const cmds: Command[] = [];
  let args: Operand[] = [];
  const finish = () => {
    if (args.length === 0) throw new TemplateError(line, "pipeline", "missing command in pipeline");
    checkCommand(args, cmds.length > 0, line, calls);
    cmds.push({ args, line });
    args = [];
  };
  while (cursor.i < tokens.length) {
    const t = tokens[cursor.i] as Token;
    if (t.kind === "rparen") {
      if (!nested) throw new TemplateError(line, ")", "unexpected right paren");
      break;
    }
    if (t.kind === "pipe") {
      finish();
      cursor.i++;
      continue;
    }
    args.push(readOperand(tokens, cursor, line, calls));
  }
  finish();
  return { decl: [], assign: false, cmds, line };
}

function readOperand(tokens: readonly Token[], cursor: Cursor, line: number, calls: SecretCall[]): Operand {
  const t = tokens[cursor.i] as Token;
  cursor.i++;
  const chain = (): string[] => {
    const names: string[] = [];
    while (tokens[cursor.i]?.kind === "field" && tokens[cursor.i]?.spaced === false) {
      names.push((tokens[cursor.i] as Token).value);
      cursor.i++;
    }
    return names;
  };
  switch (t.kind) {
    case "field":
      return { kind: "field", chain: [t.value, ...chain()] };
    case "dot":
      return { kind: "dot", chain: chain() };
    case "variable":
      return { kind: "variable", name: t.value, chain: chain() };
    case "string":
      return { kind: "string", value: t.value };
    case "bool":
      return { kind: "bool", value: t.text === "true" };
    case "nil":
      return { kind: "nil" };
    case "number": {
      const value = Number(t.text.replaceAll("_", ""));
      if (!Number.isFinite(value)) throw new TemplateError(line, t.text, `bad number syntax: ${t.text}`);
      return { kind: "number", value };
    }
    case "identifier":
      if (!FUNCTION_NAMES.has(t.text)) {
        throw new TemplateError(
          line,
          t.text,
          `function "${t.text}" is outside leasekeeper's template subset (supported: ${[...FUNCTION_NAMES].join(", ")})`,
        );
      }
      return { kind: "function", name: t.text };
    case "lparen": {
      if (++cursor.depth > MAX_PAREN_DEPTH)
        throw new TemplateError(line, "(", `parentheses nest deeper than ${MAX_PAREN_DEPTH}`);
      const pipe = readPipe(tokens, cursor, line, calls, true);
      if (tokens[cursor.i]?.kind !== "rparen") throw new TemplateError(line, "(", "unclosed left paren");
      cursor.i++;
      cursor.depth--;
      return { kind: "pipe", pipe, chain: chain() };
    }
    case "keyword":
      throw new TemplateError(line, `{{${t.text}}}`, `unexpected keyword "${t.text}" inside an action`);
    default:
      throw new TemplateError(line, t.text, `unexpected ${JSON.stringify(t.text)} in operand`);
  }
}

/** Checks arity-free facts known at parse time: literal printf formats and literal secret calls. */
function checkCommand(args: readonly Operand[], piped: boolean, line: number, calls: SecretCall[]): void {
  const head = args[0];
  if (head?.kind !== "function") {
    if (args.length > 1) throw new TemplateError(line, "arguments", "can't give arguments to a non-function value");
    return;
  }
  const rest = args.slice(1);
  if (head.name === "printf") {
    const format = rest[0];
    if (format?.kind === "string") checkPrintfFormat(format.value, line);
  }
  if (head.name === "secret") {
    if (piped) throw new TemplateError(line, "secret", "secret cannot take a piped argument");
    if (rest.length === 0) throw new TemplateError(line, "secret", "secret needs a path");
    if (!rest.every((a) => a.kind === "string")) {
      throw new TemplateError(
        line,
        "secret",
        'secret takes literal strings only (a path and optional "key=value" parameters)',
      );
    }
    const [path = "", ...pairs] = rest.map((a) => (a.kind === "string" ? a.value : ""));
    const params: Record<string, string> = {};
    for (const pair of pairs) {
      const eq = pair.indexOf("=");
      if (eq <= 0) throw new TemplateError(line, "secret", `secret parameter ${JSON.stringify(pair)} is not key=value`);
      params[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
    calls.push({ path, params, line });
  }
}

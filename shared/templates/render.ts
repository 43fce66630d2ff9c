/** Executes a parsed template: Go text/template semantics for the subset, secrets fetched on demand. */
import type { Command, Operand, ParsedTemplate, Pipeline, TemplateNode } from "./ast.ts";
import { FunctionError, callFunction, type SecretFetcher } from "./functions.ts";
import { printValue } from "./go-format.ts";
import { RenderBudget, yieldToEventLoop, type RenderLimits } from "./render-budget.ts";
import { TemplateError, isTemplateError } from "./template-error.ts";
import { SecretValue, goTypeName, isMap, truth, type Value } from "./values.ts";

export const MAX_OUTPUT_BYTES = 1024 * 1024;
const SECRET_FIELDS = new Set(["LeaseID", "LeaseDuration", "Renewable", "Data", "Warnings"]);

interface Scope {
  readonly fetch: SecretFetcher;
  readonly vars: Array<{ name: string; value: Value }>;
  readonly budget: RenderBudget;
  out: string[];
  size: number;
}

/**
 * Renders within RENDER_LIMITS (render-budget.ts). Errors of `fetch` (Vault) pass through with
 * their own retry meaning; every other failure is a TemplateError, so a template that trips a
 * JavaScript limit (a RangeError, say) is refused for good instead of being retried.
 */
export async function renderTemplate(
  template: ParsedTemplate,
  fetch: SecretFetcher,
  limits?: RenderLimits,
): Promise<string> {
  const fetchErrors = new WeakSet<object>();
  const guarded: SecretFetcher = (path, params) =>
    fetch(path, params).catch((err: unknown) => {
      if (typeof err === "object" && err !== null) fetchErrors.add(err);
      throw err;
    });
  const scope: Scope = {
    fetch: guarded,
    vars: [{ name: "$", value: undefined }],
    budget: new RenderBudget(limits),
    out: [],
    size: 0,
  };
  try {
    await walk(template.nodes, undefined, scope);
  } catch (err) {
    if (isTemplateError(err) || (typeof err === "object" && err !== null && fetchErrors.has(err))) throw err;
    throw new TemplateError(
      0,
      "render",
      `rendering failed (${err instanceof Error ? err.name : "unknown error"}); refused`,
      { cause: err },
    );
  }
  return scope.out.join("");
}

/** Counts a step against the budget and yields to the event loop between slices. */
async function step(scope: Scope, line: number): Promise<void> {
  if (scope.budget.step(line)) await yieldToEventLoop();
}

function emit(scope: Scope, text: string): void {
  scope.size += text.length;
  if (scope.size > MAX_OUTPUT_BYTES)
    throw new TemplateError(0, "output", `rendered output is larger than ${MAX_OUTPUT_BYTES} bytes`);
  scope.budget.wrote(text.length);
  scope.out.push(text);
}

async function walk(nodes: readonly TemplateNode[], dot: Value, scope: Scope): Promise<void> {
  scope.budget.enter(0);
  try {
    await walkNodes(nodes, dot, scope);
  } finally {
    scope.budget.leave();
  }
}

async function walkNodes(nodes: readonly TemplateNode[], dot: Value, scope: Scope): Promise<void> {
  for (const node of nodes) {
    await step(scope, node.kind === "text" ? 0 : node.pipe.line);
    const mark = scope.vars.length;
    switch (node.kind) {
      case "text":
        emit(scope, node.text);
        break;
      case "action": {
        const value = await evalPipeline(node.pipe, dot, scope);
        if (node.pipe.decl.length === 0) emit(scope, printValue(value));
        continue; // declarations stay visible until the enclosing block ends
      }
      case "if":
      case "with": {
        const value = await evalPipeline(node.pipe, dot, scope);
        if (truth(value)) await walk(node.body, node.kind === "with" ? value : dot, scope);
        else if (node.elseBody) await walk(node.elseBody, dot, scope);
        break;
      }
      case "range":
        await range(node, dot, scope);
        break;
    }
    scope.vars.length = mark;
  }
}

async function range(node: Extract<TemplateNode, { kind: "range" }>, dot: Value, scope: Scope): Promise<void> {
  const pipe: Pipeline = { ...node.pipe, decl: [] };
  const value = await evalPipeline(pipe, dot, scope);
  let entries: Array<[Value, Value]>;
  if (value === undefined || value === null) entries = [];
  else if (Array.isArray(value)) entries = value.map((v, i) => [i, v]);
  else if (isMap(value))
    entries = Object.keys(value)
      .sort()
      .map((k) => [k, value[k]]);
  else
    throw new TemplateError(node.pipe.line, "range", `range can't iterate over a value of type ${goTypeName(value)}`);
  if (entries.length === 0) {
    if (node.elseBody) await walk(node.elseBody, dot, scope);
    return;
  }
  const [first, second] = node.pipe.decl;
  for (const [key, elem] of entries) {
    const mark = scope.vars.length;
    if (second !== undefined && first !== undefined)
      scope.vars.push({ name: first, value: key }, { name: second, value: elem });
    else if (first !== undefined) scope.vars.push({ name: first, value: elem });
    await step(scope, node.pipe.line);
    await walk(node.body, elem, scope);
    scope.vars.length = mark;
  }
}

async function evalPipeline(pipe: Pipeline, dot: Value, scope: Scope): Promise<Value> {
  let value: Value = undefined;
  for (const [i, cmd] of pipe.cmds.entries()) value = await evalCommand(cmd, dot, scope, i > 0 ? { value } : undefined);
  if (pipe.decl.length > 0) {
    const name = pipe.decl[0] as string;
    if (pipe.assign) {
      const slot = [...scope.vars].reverse().find((v) => v.name === name);
      if (!slot) throw new TemplateError(pipe.line, name, `undefined variable: ${name}`);
      slot.value = value;
    } else {
      scope.vars.push({ name, value });
    }
  }
  return value;
}

async function evalCommand(
  cmd: Command,
  dot: Value,
  scope: Scope,
  piped: { value: Value } | undefined,
): Promise<Value> {
  await step(scope, cmd.line);
  const [head, ...rest] = cmd.args;
  if (head?.kind !== "function") {
    if (piped) throw new TemplateError(cmd.line, "pipeline", "can't give argument to non-function");
    return evalOperand(head as Operand, dot, scope, cmd.line);
  }
  const args: Value[] = [];
  for (const arg of rest) args.push(await evalOperand(arg, dot, scope, cmd.line));
  if (piped) args.push(piped.value);
  scope.budget.charge(stringBytes(args), cmd.line, head.name);
  let result: Value;
  try {
    result = await callFunction(head.name, args, scope.fetch);
  } catch (err) {
    if (err instanceof FunctionError) throw new TemplateError(cmd.line, head.name, err.message);
    throw err;
  }
  if (typeof result === "string") scope.budget.charge(result.length, cmd.line, head.name);
  await step(scope, cmd.line);
  return result;
}

function stringBytes(values: readonly Value[]): number {
  let n = 0;
  for (const v of values) if (typeof v === "string") n += v.length;
  return n;
}

async function evalOperand(op: Operand, dot: Value, scope: Scope, line: number): Promise<Value> {
  switch (op.kind) {
    case "dot":
      return chain(dot, op.chain, line);
    case "field":
      return chain(dot, op.chain, line);
    case "variable": {
      const slot = [...scope.vars].reverse().find((v) => v.name === op.name);
      if (!slot) throw new TemplateError(line, op.name, `undefined variable: ${op.name}`);
      return chain(slot.value, op.chain, line);
    }
    case "string":
    case "number":
    case "bool":
      return op.value;
    case "nil":
      return null;
    case "function":
      return evalCommand({ args: [op], line }, dot, scope, undefined);
    case "pipe": {
      scope.budget.enter(line);
      try {
        return chain(await evalPipeline(op.pipe, dot, scope), op.chain, line);
      } finally {
        scope.budget.leave();
      }
    }
  }
}

function chain(start: Value, names: readonly string[], line: number): Value {
  let value = start;
  for (const name of names) {
    if (value === undefined || value === null)
      throw new TemplateError(line, `.${name}`, `nil pointer evaluating interface {}.${name}`);
    if (value instanceof SecretValue) {
      if (!SECRET_FIELDS.has(name))
        throw new TemplateError(line, `.${name}`, `can't evaluate field ${name} in type *dependency.Secret`);
      value = value[name as keyof SecretValue];
    } else if (isMap(value)) {
      value = Object.hasOwn(value, name) ? value[name] : undefined;
    } else {
      throw new TemplateError(line, `.${name}`, `can't evaluate field ${name} in type ${goTypeName(value)}`);
    }
  }
  return value;
}

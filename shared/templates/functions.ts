/** The template functions of the subset, with Go's (and consul-template's) semantics and error texts. */
import { goJson } from "./go-format.ts";
import { printfFormatProblem, sprintf } from "./printf.ts";
import { SecretValue, goTypeName, isMap, truth, type Value } from "./values.ts";

/** Fetches one secret: a read without parameters, a write (e.g. pki/issue) with them. */
export type SecretFetcher = (path: string, params: Readonly<Record<string, string>>) => Promise<SecretValue>;

export class FunctionError extends Error {
  override readonly name = "FunctionError";
}

function wantString(fn: string, v: Value, position = 1): string {
  if (typeof v === "string") return v;
  throw new FunctionError(`error calling ${fn}: argument ${position} is ${goTypeName(v)}, not string`);
}

function arity(fn: string, args: readonly Value[], min: number, max = min): void {
  if (args.length < min || args.length > max) {
    throw new FunctionError(
      `wrong number of args for ${fn}: want ${min === max ? min : `${min}..${max}`} got ${args.length}`,
    );
  }
}

function compare(fn: string, a: Value, b: Value): boolean {
  const basic = (v: Value) => v === undefined || v === null || ["string", "number", "boolean"].includes(typeof v);
  if (!basic(a) || !basic(b))
    throw new FunctionError(`error calling ${fn}: non-comparable type ${goTypeName(basic(a) ? b : a)}`);
  if ((a ?? null) === null || (b ?? null) === null) return (a ?? null) === (b ?? null);
  if (typeof a !== typeof b) throw new FunctionError(`error calling ${fn}: incompatible types for comparison`);
  return a === b;
}

export async function callFunction(name: string, args: readonly Value[], fetch: SecretFetcher): Promise<Value> {
  switch (name) {
    case "secret": {
      const [path = "", ...pairs] = args.map((a, i) => wantString("secret", a, i + 1));
      const params: Record<string, string> = {};
      for (const pair of pairs) {
        const eq = pair.indexOf("=");
        params[pair.slice(0, eq)] = pair.slice(eq + 1);
      }
      return fetch(path, params);
    }
    case "printf": {
      if (args.length === 0) throw new FunctionError("wrong number of args for printf: want at least 1 got 0");
      const format = wantString("printf", args[0]);
      // A literal format was checked by the parser; here only the bounds matter (and a format from data is never quoted).
      const problem = printfFormatProblem(format, { fromData: true });
      if (problem) throw new FunctionError(`error calling printf: ${problem.detail}`);
      return sprintf(format, args.slice(1));
    }
    case "toJSON":
      arity(name, args, 1);
      return args[0] === undefined || args[0] === null ? "" : goJson(args[0], false);
    case "toJSONPretty":
      arity(name, args, 1);
      return goJson(args[0], true);
    case "base64Encode":
      arity(name, args, 1);
      return Buffer.from(wantString(name, args[0]), "utf8").toString("base64");
    case "base64Decode": {
      arity(name, args, 1);
      const text = wantString(name, args[0]);
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) {
        throw new FunctionError("error calling base64Decode: illegal base64 data");
      }
      return Buffer.from(text, "base64").toString("utf8");
    }
    case "index":
      return indexOf(args);
    case "eq":
      if (args.length < 2) throw new FunctionError("missing argument for comparison");
      return args.slice(1).some((b) => compare("eq", args[0], b));
    case "ne":
      arity(name, args, 2);
      return !compare("ne", args[0], args[1]);
    case "not":
      arity(name, args, 1);
      return !truth(args[0]);
    case "and":
      if (args.length === 0) throw new FunctionError("wrong number of args for and: want at least 1 got 0");
      return args.find((a) => !truth(a)) ?? args[args.length - 1];
    case "or":
      if (args.length === 0) throw new FunctionError("wrong number of args for or: want at least 1 got 0");
      return args.find((a) => truth(a)) ?? args[args.length - 1];
    case "len": {
      arity(name, args, 1);
      const v = args[0];
      if (typeof v === "string") return Buffer.byteLength(v, "utf8");
      if (Array.isArray(v)) return v.length;
      if (isMap(v)) return Object.keys(v).length;
      throw new FunctionError(`error calling len: len of type ${goTypeName(v)}`);
    }
    default:
      throw new FunctionError(`function "${name}" not defined`);
  }
}

function indexOf(args: readonly Value[]): Value {
  if (args.length === 0) throw new FunctionError("wrong number of args for index: want at least 1 got 0");
  let item = args[0];
  for (const key of args.slice(1)) {
    if (item === undefined || item === null) throw new FunctionError("error calling index: index of untyped nil");
    if (Array.isArray(item)) {
      if (typeof key !== "number" || !Number.isInteger(key))
        throw new FunctionError(`error calling index: cannot index slice/array with type ${goTypeName(key)}`);
      if (key < 0 || key >= item.length) throw new FunctionError(`error calling index: index out of range: ${key}`);
      item = item[key];
    } else if (isMap(item)) {
      if (typeof key !== "string")
        throw new FunctionError(`error calling index: value has type ${goTypeName(key)}; should be string`);
      item = Object.hasOwn(item, key) ? item[key] : undefined;
    } else if (item instanceof SecretValue) {
      throw new FunctionError("error calling index: can't index item of type *dependency.Secret");
    } else {
      throw new FunctionError(`error calling index: can't index item of type ${goTypeName(item)}`);
    }
  }
  return item;
}

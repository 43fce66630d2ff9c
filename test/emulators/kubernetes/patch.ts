/** JSON Patch (RFC 6902), JSON merge patch (RFC 7386) and a strategic-merge approximation. */
import type { Json } from "./types.ts";

export class PatchError extends Error {
  constructor(
    message: string,
    readonly malformed: boolean,
  ) {
    super(message);
    this.name = "PatchError";
  }
}

const isObject = (v: unknown): v is Record<string, Json> => typeof v === "object" && v !== null && !Array.isArray(v);
const clone = <T>(v: T): T => (v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T));

export function mergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return clone(patch);
  const out: Record<string, Json> = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** List fields merged by key in strategic merge patch (the ones the emulated kinds use). */
const MERGE_KEYS: Record<string, string> = {
  containers: "name",
  initContainers: "name",
  ephemeralContainers: "name",
  volumes: "name",
  env: "name",
  volumeMounts: "mountPath",
  ports: "containerPort",
  conditions: "type",
  containerStatuses: "name",
  initContainerStatuses: "name",
  ownerReferences: "uid",
  imagePullSecrets: "name",
  tolerations: "key",
  webhooks: "name",
  podIPs: "ip",
  hostAliases: "ip",
};
const SET_LISTS = new Set(["finalizers"]);

function strategicList(field: string, target: Json[], patch: Json[]): Json[] {
  if (SET_LISTS.has(field)) {
    const out = [...target];
    for (const v of patch) if (!out.includes(v)) out.push(v);
    return out;
  }
  const key = MERGE_KEYS[field];
  if (key === undefined) return clone(patch);
  if (patch.some((p) => isObject(p) && p.$patch === "replace"))
    return clone(patch.filter((p) => !(isObject(p) && p.$patch === "replace")));
  const out = target.map((t) => clone(t));
  for (const item of patch) {
    if (!isObject(item)) continue;
    const idx = out.findIndex((t) => isObject(t) && t[key] === item[key]);
    if (item.$patch === "delete") {
      if (idx >= 0) out.splice(idx, 1);
    } else if (idx >= 0) {
      out[idx] = strategicMergePatch(out[idx], item);
    } else {
      out.push(strategicMergePatch({}, item));
    }
  }
  return out;
}

export function strategicMergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return clone(patch);
  if (patch.$patch === "replace") {
    const rest = { ...patch };
    delete rest.$patch;
    return clone(rest);
  }
  if (patch.$patch === "delete") return undefined;
  const out: Record<string, Json> = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (
      k === "$patch" ||
      k.startsWith("$setElementOrder/") ||
      k.startsWith("$deleteFromPrimitiveList/") ||
      k === "$retainKeys"
    )
      continue;
    if (v === null) delete out[k];
    else if (Array.isArray(v) && Array.isArray(out[k])) out[k] = strategicList(k, out[k] as Json[], v);
    else if (Array.isArray(v)) out[k] = strategicList(k, [], v);
    else out[k] = strategicMergePatch(out[k], v);
  }
  for (const [k, v] of Object.entries(patch)) {
    if (!k.startsWith("$deleteFromPrimitiveList/")) continue;
    const field = k.slice("$deleteFromPrimitiveList/".length);
    if (Array.isArray(out[field]) && Array.isArray(v))
      out[field] = (out[field] as Json[]).filter((x) => !v.includes(x));
  }
  return out;
}

function decodePointer(path: string): string[] {
  if (path === "") return [];
  if (!path.startsWith("/")) throw new PatchError(`invalid JSON pointer ${JSON.stringify(path)}`, true);
  return path
    .slice(1)
    .split("/")
    .map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
}

function parentOf(doc: Json, tokens: string[], path: string): { parent: Json; last: string } {
  let cur = doc;
  for (const t of tokens.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[Number(t)];
    else if (isObject(cur)) cur = cur[t];
    else cur = undefined;
    if (cur === undefined) throw new PatchError(`doc is missing path: "${path}": missing value`, false);
  }
  const last = tokens[tokens.length - 1];
  if (last === undefined) throw new PatchError(`unable to operate on the document root`, false);
  return { parent: cur, last };
}

function getAt(doc: Json, path: string): Json {
  let cur = doc;
  for (const t of decodePointer(path)) {
    if (Array.isArray(cur)) cur = cur[Number(t)];
    else if (isObject(cur)) cur = Object.prototype.hasOwnProperty.call(cur, t) ? cur[t] : undefined;
    else cur = undefined;
    if (cur === undefined) throw new PatchError(`doc is missing path: "${path}": missing value`, false);
  }
  return cur;
}

function arrayIndex(arr: Json[], t: string, path: string, forAdd: boolean): number {
  if (forAdd && t === "-") return arr.length;
  if (!/^(0|[1-9]\d*)$/.test(t)) throw new PatchError(`unable to access invalid index: ${t}`, false);
  const i = Number(t);
  if (i > arr.length || (!forAdd && i === arr.length))
    throw new PatchError(`doc is missing path: "${path}": missing value`, false);
  return i;
}

function add(doc: Json, path: string, value: Json): Json {
  const tokens = decodePointer(path);
  if (tokens.length === 0) return clone(value);
  const { parent, last } = parentOf(doc, tokens, path);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, last, path, true), 0, clone(value));
  else if (isObject(parent)) parent[last] = clone(value);
  else throw new PatchError(`doc is missing path: "${path}": missing value`, false);
  return doc;
}

function remove(doc: Json, path: string): Json {
  const tokens = decodePointer(path);
  const { parent, last } = parentOf(doc, tokens, path);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, last, path, false), 1);
  else if (isObject(parent) && Object.prototype.hasOwnProperty.call(parent, last)) delete parent[last];
  else throw new PatchError(`Unable to remove nonexistent key: ${last}: missing value`, false);
  return doc;
}

function deepEqual(a: Json, b: Json): boolean {
  return JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b));
}

export function sortKeys(v: Json): Json {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (!isObject(v)) return v;
  const out: Record<string, Json> = {};
  for (const k of Object.keys(v).sort()) out[k] = sortKeys(v[k]);
  return out;
}

export const MAX_JSON_PATCH_OPS = 10000;

export function jsonPatch(target: Json, ops: Json): Json {
  if (!Array.isArray(ops))
    throw new PatchError("json: cannot unmarshal object into Go value of type jsonpatch.Patch", true);
  let doc = clone(target);
  for (const op of ops) {
    if (!isObject(op) || typeof op.op !== "string" || typeof op.path !== "string")
      throw new PatchError("Unexpected kind: invalid operation", true);
    switch (op.op) {
      case "add":
        doc = add(doc, op.path, op.value);
        break;
      case "remove":
        doc = remove(doc, op.path);
        break;
      case "replace":
        getAt(doc, op.path);
        doc = add(remove(doc, op.path), op.path, op.value);
        break;
      case "move": {
        if (typeof op.from !== "string") throw new PatchError("missing from", true);
        const v = getAt(doc, op.from);
        doc = add(remove(doc, op.from), op.path, v);
        break;
      }
      case "copy": {
        if (typeof op.from !== "string") throw new PatchError("missing from", true);
        doc = add(doc, op.path, getAt(doc, op.from));
        break;
      }
      case "test": {
        let actual: Json;
        try {
          actual = getAt(doc, op.path);
        } catch {
          throw new PatchError(`testing value ${op.path} failed: test failed`, false);
        }
        if (!deepEqual(actual, op.value)) throw new PatchError(`testing value ${op.path} failed: test failed`, false);
        break;
      }
      default:
        throw new PatchError(`Unexpected kind: ${op.op}`, true);
    }
  }
  return doc;
}

export { clone, deepEqual, isObject };

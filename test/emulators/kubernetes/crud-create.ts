/** Generic create (POST on a collection), spec §0: 201, name generation after admission. */
import { decodeObject, generateName, requireNamespace, stampNew } from "./object-meta.ts";
import type { ApiRequest, ApiResponse, ResourceHooks } from "./request.ts";
import { alreadyExists, invalid, required } from "./status.ts";
import { validateMeta } from "./validation.ts";
import type { KubeObject } from "./types.ts";

export async function createObject(
  req: ApiRequest,
  hooks: ResourceHooks,
  preDecoded?: KubeObject,
): Promise<ApiResponse> {
  const r = req.route.resource;
  const obj = preDecoded ?? decodeObject(req);
  requireNamespace(req);
  await hooks.beforeCreate?.(req, obj);
  const generated = (obj.metadata.name ?? "") === "" && (obj.metadata.generateName ?? "") !== "";
  if (generated) obj.metadata.name = generateName(obj.metadata.generateName ?? "");
  if ((obj.metadata.name ?? "") === "") {
    throw invalid(r.kind, "", [required("metadata.name", "name or generateName is required")], r.group);
  }
  const name = obj.metadata.name ?? "";
  const errors = [...validateMeta(obj, undefined), ...(hooks.validate?.(req, obj, undefined) ?? [])];
  if (errors.length > 0) throw invalid(r.kind, name, errors, r.group);
  const ns = obj.metadata.namespace ?? "";
  if (req.state.store.get(r.key, ns, name) !== undefined) {
    if (!generated) throw alreadyExists(r.plural, name, r.group);
    for (let i = 0; i < 8 && req.state.store.get(r.key, ns, obj.metadata.name ?? "") !== undefined; i++) {
      obj.metadata.name = generateName(obj.metadata.generateName ?? "");
    }
  }
  stampNew(obj);
  if (req.query.get("dryRun") === "All") return { code: 201, body: obj };
  const stored = req.state.store.put(r.key, obj);
  hooks.afterCreate?.(req, stored);
  return { code: 201, body: stored };
}

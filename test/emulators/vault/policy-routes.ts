/** sys/policy/<name> (legacy) and sys/policies/acl/<name>: read, write, delete, list. */
import type { Core } from "./core-types.ts";
import { badRequest, emptyError } from "./errors.ts";
import { emptyReply, logical } from "./envelope.ts";
import { optString } from "./fields.ts";
import type { Reply, Route, VaultRequest } from "./types.ts";

const MOUNT = "system";

export function policyRoutes(core: Core): Route[] {
  const write =
    (field: "policy" | "rules") =>
    (req: VaultRequest, m: RegExpExecArray): Reply => {
      const name = (m[1] ?? "").toLowerCase();
      if (name === "root") throw badRequest(`cannot update "root" policy`);
      const text =
        optString(req.data, "policy") ?? (field === "rules" ? optString(req.data, "rules") : undefined) ?? "";
      if (text.trim() === "") throw badRequest("'policy' parameter not supplied or empty");
      try {
        core.policies.set(name, text);
      } catch (err) {
        throw badRequest(`failed to parse policy: ${err instanceof Error ? err.message : String(err)}`);
      }
      return emptyReply();
    };
  const read =
    (key: "rules" | "policy") =>
    (_req: VaultRequest, m: RegExpExecArray): Reply => {
      const name = (m[1] ?? "").toLowerCase();
      const text = name === "root" ? "" : core.policies.get(name);
      if (text === undefined) throw emptyError(404);
      const data = { name, [key]: text };
      return logical({ data, mountType: MOUNT, extra: key === "rules" ? data : undefined });
    };
  const remove = (_req: VaultRequest, m: RegExpExecArray): Reply => {
    const name = (m[1] ?? "").toLowerCase();
    if (name === "root" || name === "default") throw badRequest(`cannot delete "${name}" policy`);
    core.policies.delete(name);
    return emptyReply();
  };
  const listAll = (legacy: boolean) => (): Reply => {
    const keys = core.policies.names();
    const data = legacy ? { keys, policies: keys } : { keys };
    return logical({ data, mountType: MOUNT, extra: legacy ? data : undefined });
  };
  return [
    { pattern: /^sys\/policy\/?$/, ops: { read: listAll(true), list: listAll(true) } },
    { pattern: /^sys\/policy\/([^/]+)$/, ops: { read: read("rules"), update: write("rules"), delete: remove } },
    { pattern: /^sys\/policies\/acl\/?$/, ops: { list: listAll(false) } },
    {
      pattern: /^sys\/policies\/acl\/([^/]+)$/,
      ops: { read: read("policy"), update: write("policy"), delete: remove },
    },
  ];
}

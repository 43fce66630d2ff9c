/**
 * auth/token/roles/<name> (vault/token_store.go `tsRoleEntry`, `tokenStoreRoleCreateUpdate`): the
 * subset leasekeeper's tests need: allowed_policies, orphan, renewable, path_suffix and the token_*
 * fields, including `token_type` (default `default-service`; `batch` makes create/<role> issue batch tokens).
 */
import type { Core } from "./core-types.ts";
import { createToken } from "./token-create.ts";
import { badRequest, emptyError } from "./errors.ts";
import { emptyReply, logical } from "./envelope.ts";
import { optBool, optString, optStrings } from "./fields.ts";
import { parseTokenParams } from "./token-params.ts";
import type { Route, TokenRole } from "./types.ts";

const MOUNT = "token";

export class TokenRoles {
  readonly byName = new Map<string, TokenRole>();
}

const roles = new WeakMap<Core["tokens"], TokenRoles>();

/** The token roles live beside the token store (one per storage). */
export function tokenRolesOf(core: Core): TokenRoles {
  let r = roles.get(core.tokens);
  if (!r) roles.set(core.tokens, (r = new TokenRoles()));
  return r;
}

export function tokenRoleRoutes(core: Core): Route[] {
  const get = (name: string) => tokenRolesOf(core).byName.get(name.toLowerCase());
  return [
    {
      pattern: /^auth\/token\/roles\/?$/,
      ops: {
        list: () => {
          const keys = [...tokenRolesOf(core).byName.keys()].sort();
          if (keys.length === 0) throw emptyError(404);
          return logical({ data: { keys }, mountType: MOUNT });
        },
      },
    },
    {
      pattern: /^auth\/token\/roles\/([^/]+)$/,
      ops: {
        update: (req, m) => {
          const name = (m[1] ?? "").toLowerCase();
          const old = get(name);
          const params = parseTokenParams(old ? req.data : { token_type: "default-service", ...req.data }, old);
          tokenRolesOf(core).byName.set(name, {
            ...params,
            name,
            allowed_policies: optStrings(req.data, "allowed_policies") ?? old?.allowed_policies ?? [],
            orphan: optBool(req.data, "orphan") ?? old?.orphan ?? false,
            renewable: optBool(req.data, "renewable") ?? old?.renewable ?? true,
            path_suffix: optString(req.data, "path_suffix") ?? old?.path_suffix ?? "",
          });
          return emptyReply();
        },
        read: (_req, m) => {
          const role = get(m[1] ?? "");
          if (!role) throw emptyError(404);
          return logical({ data: { ...role }, mountType: MOUNT });
        },
        delete: (_req, m) => (tokenRolesOf(core).byName.delete((m[1] ?? "").toLowerCase()), emptyReply()),
      },
    },
    {
      pattern: /^auth\/token\/create\/([^/]+)$/,
      ops: {
        update: (req, m) => {
          const role = get(m[1] ?? "");
          if (!role) throw badRequest(`unknown role ${m[1] ?? ""}`);
          return createToken(core, req, { orphan: false, role });
        },
      },
    },
  ];
}

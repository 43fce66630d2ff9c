/**
 * auth/token/*: create (token-create.ts), roles (token-roles.ts), lookup(-self|-accessor),
 * renew(-self), revoke(-self|-accessor|-orphan), accessors (vault/token_store.go).
 */
import type { Core } from "./core-types.ts";
import { authBlock } from "./auth-block.ts";
import { emptyReply, logical } from "./envelope.ts";
import { badRequest, VaultHttpError, wrapped } from "./errors.ts";
import { optDuration, optString } from "./fields.ts";
import { caller, createToken } from "./token-create.ts";
import { tokenRoleRoutes } from "./token-roles.ts";
import type { Reply, RenewParams, Route, TokenEntry, VaultRequest } from "./types.ts";

const MOUNT = "token";

/** Renewal goes back to the auth method that issued the token (its role must still exist). */
function renewParams(core: Core, entry: TokenEntry): RenewParams {
  const mount =
    entry.role === null || entry.path.startsWith("auth/token/")
      ? undefined
      : core.mounts.find((m) => m.renewParams && entry.path.startsWith(m.path));
  return mount?.renewParams?.(entry) ?? { defaultTtl: entry.creationTtl, maxTtl: entry.maxTtl };
}

function renewReply(core: Core, entry: TokenEntry, increment: number): Reply {
  if (entry.type === "batch") throw badRequest("batch tokens cannot be renewed");
  const { defaultTtl, maxTtl } = renewParams(core, entry);
  const warnings = core.tokens.renew(entry, increment, defaultTtl, maxTtl);
  return logical({ auth: authBlock(entry, core.tokens.ttlOf(entry)), warnings, mountType: MOUNT });
}

/** `lookupByAccessor`: the accessor index outlives expiry until the token is revoked. */
function byAccessor(core: Core, req: VaultRequest): TokenEntry {
  const accessor = optString(req.data, "accessor") ?? "";
  if (accessor === "") throw badRequest("missing accessor");
  const entry = core.tokens.getByAccessor(accessor, true);
  if (!entry) throw wrapped(400, "invalid accessor");
  return entry;
}

/** `revokeCommon`: unknown tokens are fine (204), batch tokens are refused. */
function revokeById(core: Core, id: string, orphan: boolean): Reply {
  if (id === "") throw badRequest("missing token ID");
  const entry = core.tokens.get(id);
  if (entry?.type === "batch") throw badRequest("batch tokens cannot be revoked");
  if (orphan) core.tokens.revokeOrphan(id);
  else core.tokens.revokeTree(id);
  return emptyReply();
}

export function tokenRoutes(core: Core): Route[] {
  const lookupSelf = (req: VaultRequest) =>
    logical({ data: core.tokens.describe(caller(req), true), mountType: MOUNT });
  // `handleLookup` uses `lookupInternal(ctx, id, false, true)`: expired-but-not-revoked tokens answer 200.
  const lookup = (req: VaultRequest) => {
    const id = optString(req.data, "token") || caller(req).id;
    const entry = core.tokens.getTainted(id);
    if (!entry) throw new VaultHttpError(403, "bad token");
    return logical({ data: core.tokens.describe(entry, true), mountType: MOUNT });
  };
  return [
    { pattern: /^auth\/token\/create$/, ops: { update: (req) => createToken(core, req, { orphan: false }) } },
    { pattern: /^auth\/token\/create-orphan$/, ops: { update: (req) => createToken(core, req, { orphan: true }) } },
    ...tokenRoleRoutes(core),
    { pattern: /^auth\/token\/lookup-self$/, ops: { read: lookupSelf, update: lookupSelf } },
    { pattern: /^auth\/token\/lookup$/, ops: { read: lookup, update: lookup } },
    {
      pattern: /^auth\/token\/lookup-accessor$/,
      ops: { update: (req) => logical({ data: core.tokens.describe(byAccessor(core, req), false), mountType: MOUNT }) },
    },
    {
      pattern: /^auth\/token\/renew-self$/,
      ops: { update: (req) => renewReply(core, caller(req), optDuration(req.data, "increment") ?? 0) },
    },
    {
      pattern: /^auth\/token\/renew$/,
      ops: {
        update: (req) => {
          const id = optString(req.data, "token") ?? "";
          if (id === "") throw badRequest("missing token ID");
          const entry = core.tokens.get(id);
          if (!entry) throw badRequest("token not found");
          return renewReply(core, entry, optDuration(req.data, "increment") ?? 0);
        },
      },
    },
    { pattern: /^auth\/token\/revoke-self$/, ops: { update: (req) => revokeById(core, caller(req).id, false) } },
    {
      pattern: /^auth\/token\/revoke$/,
      ops: { update: (req) => revokeById(core, optString(req.data, "token") ?? "", false) },
    },
    {
      pattern: /^auth\/token\/revoke-orphan$/,
      sudo: true,
      ops: { update: (req) => revokeById(core, optString(req.data, "token") ?? "", true) },
    },
    {
      // `handleUpdateRevokeAccessor`: the accessor resolves while the token is expired, but `Lookup` does not.
      pattern: /^auth\/token\/revoke-accessor$/,
      ops: {
        update: (req) => {
          const entry = byAccessor(core, req);
          if (!core.tokens.get(entry.id)) throw badRequest("token not found");
          core.tokens.revokeTree(entry.id);
          return emptyReply();
        },
      },
    },
    {
      pattern: /^auth\/token\/accessors\/$/,
      sudo: true,
      ops: {
        list: () => {
          const keys = core.tokens
            .all()
            .filter((t) => t.accessor !== "" && core.tokens.getTainted(t.id))
            .map((t) => t.accessor);
          return logical({ data: { keys }, mountType: MOUNT });
        },
      },
    },
  ];
}

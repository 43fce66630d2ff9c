/** auth/token/*: create, lookup(-self|-accessor), renew(-self), revoke(-self|-accessor|-orphan). */
import type { Core } from "./core-types.ts";
import { authBlock } from "./auth-block.ts";
import { emptyReply, logical } from "./envelope.ts";
import { badRequest, VaultHttpError, wrapped } from "./errors.ts";
import { optBool, optDuration, optInt, optString, optStringMap, optStrings, sanitizePolicies } from "./fields.ts";
import { SYSTEM_DEFAULT_TTL, SYSTEM_MAX_TTL, ttlCappedWarning } from "./durations.ts";
import type { Reply, Route, TokenEntry, VaultRequest } from "./types.ts";

const MOUNT = "token";

function caller(req: VaultRequest): TokenEntry {
  if (!req.token) throw new VaultHttpError(400, "missing client token");
  return req.token;
}

function isRoot(t: TokenEntry): boolean {
  return t.policies.includes("root");
}

function create(core: Core, req: VaultRequest, forceOrphan: boolean): Reply {
  const parent = caller(req);
  const d = req.data;
  const requested = optStrings(d, "policies");
  const noDefault = optBool(d, "no_default_policy") ?? false;
  let policies: string[];
  if (requested === undefined) policies = [...parent.policies];
  else policies = sanitizePolicies(requested, !noDefault);
  if (!isRoot(parent)) {
    const allowed = new Set([...parent.policies, "default"]);
    if (policies.some((p) => !allowed.has(p))) throw badRequest("child policies must be subset of parent");
  }
  const noParent = forceOrphan || (optBool(d, "no_parent") ?? false);
  if (noParent && !forceOrphan && !isRoot(parent)) {
    throw badRequest("root or sudo privileges required to create orphan token");
  }
  const ttlIn = optDuration(d, "ttl") ?? optDuration(d, "lease");
  const explicitMax = optDuration(d, "explicit_max_ttl") ?? 0;
  const period = optDuration(d, "period") ?? 0;
  const warnings: string[] = [];
  let ttl = period > 0 ? period : ttlIn ?? 0;
  if (ttl === 0 && !(policies.length === 1 && policies[0] === "root")) ttl = SYSTEM_DEFAULT_TTL;
  const maxTtl = explicitMax > 0 ? explicitMax : SYSTEM_MAX_TTL;
  if (ttl > maxTtl) {
    warnings.push(ttlCappedWarning(ttl, maxTtl));
    ttl = maxTtl;
  }
  const name = optString(d, "display_name");
  const displayName = name ? `token-${name.toLowerCase().replace(/[^a-z0-9]+/g, "-")}` : "token";
  const entry = core.tokens.create({
    policies,
    displayName,
    meta: optStringMap(d, "meta") ?? null,
    ttl,
    explicitMaxTtl: explicitMax,
    maxTtl: ttl === 0 ? 0 : maxTtl,
    period,
    renewable: optBool(d, "renewable") ?? true,
    parent: noParent ? null : parent.id,
    path: forceOrphan ? "auth/token/create-orphan" : "auth/token/create",
    numUses: optInt(d, "num_uses") ?? 0,
    role: null,
  });
  return logical({ auth: authBlock(entry, ttl), warnings, mountType: MOUNT });
}

function renewReply(core: Core, entry: TokenEntry, increment: number): Reply {
  let defaultTtl = entry.creationTtl;
  let maxTtl = entry.maxTtl;
  if (entry.role !== null) {
    const role = core.kubernetes.roles.get(entry.role);
    if (!role) throw wrapped(500, `role ${entry.role} does not exist during renewal`);
    defaultTtl = role.token_ttl || SYSTEM_DEFAULT_TTL;
    maxTtl = role.token_max_ttl || SYSTEM_MAX_TTL;
  }
  const warnings = core.tokens.renew(entry, increment, defaultTtl, maxTtl);
  return logical({ auth: authBlock(entry, core.tokens.ttlOf(entry)), warnings, mountType: MOUNT });
}

function byAccessor(core: Core, req: VaultRequest): TokenEntry {
  const accessor = optString(req.data, "accessor") ?? "";
  if (accessor === "") throw badRequest("missing accessor");
  const entry = core.tokens.getByAccessor(accessor);
  if (!entry) throw wrapped(400, "invalid accessor");
  return entry;
}

export function tokenRoutes(core: Core): Route[] {
  const lookupSelf = (req: VaultRequest) =>
    logical({ data: core.tokens.describe(caller(req), true), mountType: MOUNT });
  const lookup = (req: VaultRequest) => {
    const id = optString(req.data, "token") || caller(req).id;
    const entry = core.tokens.get(id);
    if (!entry) throw new VaultHttpError(403, "bad token");
    return logical({ data: core.tokens.describe(entry, true), mountType: MOUNT });
  };
  const revokeToken = (req: VaultRequest, orphan: boolean) => {
    const id = optString(req.data, "token") ?? "";
    if (id === "") throw badRequest("missing token ID");
    if (orphan) core.tokens.revokeOrphan(id);
    else core.tokens.revokeTree(id);
    return emptyReply();
  };
  return [
    { pattern: /^auth\/token\/create$/, ops: { update: (req) => create(core, req, false) } },
    { pattern: /^auth\/token\/create-orphan$/, ops: { update: (req) => create(core, req, true) } },
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
    {
      pattern: /^auth\/token\/revoke-self$/,
      ops: { update: (req) => (core.tokens.revokeTree(caller(req).id), emptyReply()) },
    },
    { pattern: /^auth\/token\/revoke$/, ops: { update: (req) => revokeToken(req, false) } },
    { pattern: /^auth\/token\/revoke-orphan$/, sudo: true, ops: { update: (req) => revokeToken(req, true) } },
    {
      pattern: /^auth\/token\/revoke-accessor$/,
      ops: { update: (req) => (core.tokens.revokeTree(byAccessor(core, req).id), emptyReply()) },
    },
    {
      pattern: /^auth\/token\/accessors\/$/,
      sudo: true,
      ops: {
        list: () => {
          const keys = core.tokens.all().filter((t) => core.tokens.get(t.id)).map((t) => t.accessor);
          return logical({ data: { keys }, mountType: MOUNT });
        },
      },
    },
  ];
}

/** sys/leases/* and the legacy sys/renew, sys/revoke, sys/revoke-prefix, sys/revoke-force aliases. */
import type { Core } from "./core-types.ts";
import { emptyError, badRequest } from "./errors.ts";
import { emptyReply, logical } from "./envelope.ts";
import { optBool, optDuration, optString } from "./fields.ts";
import type { Reply, Route, VaultRequest } from "./types.ts";

const MOUNT = "system";

function leaseIdOf(req: VaultRequest, fromUrl: string | undefined): string {
  const id = optString(req.data, "lease_id") || fromUrl || "";
  if (id === "") throw badRequest("lease_id must be specified");
  return id;
}

export function leaseRoutes(core: Core): Route[] {
  const renew = async (req: VaultRequest, m: RegExpExecArray): Promise<Reply> => {
    const id = leaseIdOf(req, m[1]);
    if (id.startsWith("auth/")) throw badRequest("tokens cannot be renewed through this endpoint");
    const { entry, warnings } = await core.leases.renew(id, optDuration(req.data, "increment") ?? 0);
    return logical({
      lease: { id: entry.id, duration: core.leases.ttlOf(entry), renewable: true },
      warnings,
      mountType: MOUNT,
    });
  };
  const revoke = async (req: VaultRequest, m: RegExpExecArray): Promise<Reply> => {
    const id = leaseIdOf(req, m[1]);
    if (optBool(req.data, "sync") === false) {
      core.leases.lazyRevoke(id);
      return emptyReply(202);
    }
    await core.leases.revoke(id);
    return emptyReply();
  };
  const revokePrefix =
    (force: boolean) =>
    async (req: VaultRequest, m: RegExpExecArray): Promise<Reply> => {
      const prefix = m[1] ?? "";
      if (!force && optBool(req.data, "sync") === false) {
        for (const e of core.leases.matchPrefix(prefix)) core.leases.lazyRevoke(e.id);
        return emptyReply(202);
      }
      await core.leases.revokePrefix(prefix, force);
      return emptyReply();
    };
  const lookup = (req: VaultRequest): Reply => {
    const id = leaseIdOf(req, undefined);
    const entry = core.leases.get(id);
    if (!entry) throw badRequest("invalid lease");
    return logical({ data: core.leases.describe(entry), mountType: MOUNT });
  };
  const list = (_req: VaultRequest, m: RegExpExecArray): Reply => {
    const keys = core.leases.list(m[1] ?? "");
    if (keys === null) throw emptyError(404);
    return logical({ data: { keys }, mountType: MOUNT });
  };
  return [
    { pattern: /^sys\/(?:leases\/)?revoke-prefix\/(.+)$/, sudo: true, ops: { update: revokePrefix(false) } },
    { pattern: /^sys\/(?:leases\/)?revoke-force\/(.+)$/, sudo: true, ops: { update: revokePrefix(true) } },
    { pattern: /^sys\/(?:leases\/)?renew(?:\/(.+))?$/, ops: { update: renew } },
    { pattern: /^sys\/(?:leases\/)?revoke(?:\/(.+))?$/, ops: { update: revoke } },
    { pattern: /^sys\/leases\/lookup$/, ops: { update: lookup } },
    { pattern: /^sys\/leases\/lookup\/(.*)$/, sudo: true, ops: { list } },
  ];
}

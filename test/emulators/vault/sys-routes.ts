/** The `sys/` mount: leases, policies, a minimal sys/mounts, sys/auth (auth-mounts.ts), sys/step-down. */
import type { Core } from "./core-types.ts";
import { emptyReply, logical } from "./envelope.ts";
import { leaseRoutes } from "./lease-routes.ts";
import { policyRoutes } from "./policy-routes.ts";
import { authMountRoutes } from "./auth-mounts.ts";
import type { Route } from "./types.ts";

function mountInfo(type: string, description: string, options: Record<string, string> | null = null) {
  return {
    accessor: `${type}_emulated`,
    config: { default_lease_ttl: 0, force_no_cache: false, max_lease_ttl: 0 },
    description,
    external_entropy_access: false,
    local: false,
    options,
    seal_wrap: false,
    type,
    uuid: `00000000-0000-0000-0000-${type
      .padEnd(12, "0")
      .slice(0, 12)
      .replace(/[^0-9a-f]/g, "0")}`,
  };
}

export function sysRoutes(core: Core): Route[] {
  const mounts = () => ({
    "cubbyhole/": mountInfo("cubbyhole", "per-token private secret storage"),
    "database/": mountInfo("database", ""),
    "secret/": mountInfo("kv", "key/value secret storage", { version: "2" }),
    "sys/": mountInfo("system", "system endpoints used for control, policy and debugging"),
  });
  return [
    ...leaseRoutes(core),
    ...policyRoutes(core),
    {
      pattern: /^sys\/mounts$/,
      ops: { read: () => logical({ data: mounts(), mountType: "system", extra: mounts() }) },
    },
    ...authMountRoutes(core),
    // http/sys_seal.go `handleSysStepDown` (forwarded by standbys): vault/ha.go `StepDown`; no-op without HA.
    { pattern: /^sys\/step-down$/, ops: { update: (req) => (req.node.ha?.stepDown(), emptyReply()) } },
  ];
}

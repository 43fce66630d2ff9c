/**
 * sys/auth: list, enable (`POST sys/auth/<path>` with `type` kubernetes or jwt) and disable auth
 * mounts (vault/logical_system.go `handleAuthTable`, `handleEnableAuth`, `handleDisableAuth`;
 * vault/auth.go `enableCredential`, `disableCredential`). Disabling revokes the tokens issued there.
 */
import type { Core } from "./core-types.ts";
import { kubernetesMount } from "./auth-kubernetes.ts";
import { jwtMount } from "./auth-jwt.ts";
import { KubernetesState } from "./k8s-state.ts";
import { badRequest } from "./errors.ts";
import { emptyReply, logical } from "./envelope.ts";
import { optString } from "./fields.ts";
import { randomHex } from "./ids.ts";
import type { Mount, Route } from "./types.ts";

const DEFAULT_AUTH: Record<string, { accessor: string; description: string }> = {
  "kubernetes/": { accessor: "kubernetes_emulated", description: "" },
  "token/": { accessor: "token_emulated", description: "token based credentials" },
};

function authInfo(mount: Mount, path: string) {
  const known = DEFAULT_AUTH[path];
  return {
    accessor: mount.accessor ?? known?.accessor ?? `auth_${mount.type}_emulated`,
    config: { default_lease_ttl: 0, force_no_cache: false, max_lease_ttl: 0, token_type: "default-service" },
    description: mount.description ?? known?.description ?? "",
    external_entropy_access: false,
    local: false,
    options: null,
    seal_wrap: false,
    type: mount.type,
    uuid: `00000000-0000-0000-0000-${(mount.accessor ?? mount.type)
      .replace(/[^0-9a-f]/g, "0")
      .padEnd(12, "0")
      .slice(-12)}`,
  };
}

function authTable(core: Core) {
  const table: Record<string, unknown> = {};
  for (const m of core.mounts) if (m.path.startsWith("auth/")) table[m.path.slice(5)] = authInfo(m, m.path.slice(5));
  return table;
}

function enable(core: Core, path: string, type: string, description: string): void {
  const full = `auth/${path}`;
  const clash = core.mounts.find((m) => m.path.startsWith(full) || full.startsWith(m.path));
  if (clash)
    throw badRequest(`path is already in use at ${clash.path.startsWith("auth/") ? clash.path.slice(5) : clash.path}`);
  let mount: Mount;
  if (type === "kubernetes") mount = kubernetesMount(core, path, new KubernetesState(core.kubernetes.reviews));
  else if (type === "jwt" || type === "oidc") mount = { ...jwtMount(core, path), type };
  else throw badRequest(`plugin not found in the catalog: ${type}`);
  core.mounts.push({ ...mount, accessor: `auth_${type}_${randomHex(4)}`, description });
}

function disable(core: Core, path: string): void {
  if (path === "token/") throw badRequest("token credential backend cannot be disabled");
  const i = core.mounts.findIndex((m) => m.path === `auth/${path}`);
  if (i === -1) return; // "we return success when the mount does not exist"
  core.mounts.splice(i, 1);
  for (const t of core.tokens.all()) if (t.path.startsWith(`auth/${path}`)) core.tokens.revokeTree(t.id);
}

export function authMountRoutes(core: Core): Route[] {
  const pathOf = (m: RegExpExecArray) => `${(m[1] ?? "").replace(/\/+$/, "")}/`;
  return [
    {
      pattern: /^sys\/auth$/,
      ops: { read: () => logical({ data: authTable(core), mountType: "system", extra: authTable(core) }) },
    },
    {
      pattern: /^sys\/auth\/(.+)$/,
      sudo: true,
      ops: {
        update: (req, m) => {
          const type = optString(req.data, "type") ?? "";
          if (type === "") throw badRequest("backend type must be specified as a string");
          enable(core, pathOf(m), type, optString(req.data, "description") ?? "");
          return emptyReply();
        },
        delete: (_req, m) => (disable(core, pathOf(m)), emptyReply()),
      },
    },
  ];
}

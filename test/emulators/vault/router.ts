/** The request pipeline: /v1 routing, raw sys handlers, sealed check, token + ACL, mounts. */
import { posix } from "node:path";
import type { Core } from "./core-types.ts";
import { emptyError, INVALID_TOKEN, multi, PERMISSION_DENIED, VaultHttpError, wrapped } from "./errors.ts";
import { errorReply } from "./envelope.ts";
import { header, operationOf, parseBody, queryData, tokenFrom } from "./request-parse.ts";
import { RAW_SYS } from "./sys-raw.ts";
import { forwardIfStandby } from "./ha-forward.ts";
import type { Mount, RawRequest, Reply, Route, VaultRequest } from "./types.ts";

function cleanPath(p: string): string {
  const cleaned = posix.normalize(p);
  return p.endsWith("/") && !cleaned.endsWith("/") ? `${cleaned}/` : cleaned;
}

function findMount(mounts: Mount[], path: string): Mount | undefined {
  return mounts
    .filter((m) => path.startsWith(m.path) || `${path}/` === m.path)
    .sort((a, b) => b.path.length - a.path.length)[0];
}

function findRoute(mount: Mount | undefined, path: string): { route: Route; match: RegExpExecArray } | undefined {
  for (const route of mount?.routes ?? []) {
    const match = route.pattern.exec(path);
    if (match) return { route, match };
  }
  return undefined;
}

async function dispatch(core: Core, raw: RawRequest): Promise<Reply> {
  let url: URL;
  try {
    url = new URL(raw.url, "http://vault.invalid");
  } catch {
    throw emptyError(400);
  }
  const cleaned = cleanPath(url.pathname);
  if (cleaned !== url.pathname) {
    const location = `${cleaned}${url.search}`;
    return {
      status: 301,
      headers: { location, "content-type": "text/html; charset=utf-8" },
      body: `<a href="${location}">Moved Permanently</a>.\n\n`,
    };
  }
  if (!url.pathname.startsWith("/v1/")) throw emptyError(404);
  let path: string;
  try {
    path = decodeURIComponent(url.pathname.slice(4));
  } catch {
    throw emptyError(400);
  }
  const rawHandler = RAW_SYS[path];
  if (rawHandler) return rawHandler(core, raw, url.searchParams);
  const forwarded = await forwardIfStandby(core, raw, url);
  if (forwarded) return forwarded;
  const mounts = core.mounts;

  const op = operationOf(raw.method, url.searchParams);
  if (op === null) throw emptyError(405);
  if (op === "list" && !path.endsWith("/")) path += "/";
  const data = op === "read" || op === "list" ? queryData(url.searchParams) : parseBody(raw);
  if (!core.seal.initialized || core.seal.sealed) throw new VaultHttpError(503, "Vault is sealed");
  if ((op === "update" || op === "patch") && path.endsWith("/")) throw badPathEnding();

  const mount = findMount(mounts, path);
  const found = findRoute(mount, path);
  const req: VaultRequest = {
    path,
    op,
    data,
    query: url.searchParams,
    headers: raw.headers,
    remoteAddress: raw.remoteAddress,
    token: undefined,
    node: core,
  };
  let consumeLastUse = false;
  if (!found?.route.unauthenticated) {
    const id = tokenFrom(raw);
    if (!id) throw new VaultHttpError(400, "missing client token");
    const token = core.tokens.get(id);
    if (!token) throw new VaultHttpError(403, INVALID_TOKEN);
    if (!core.policies.allows(token.policies, path, op, found?.route.sudo === true)) {
      throw new VaultHttpError(403, PERMISSION_DENIED);
    }
    if (token.numUses > 0) {
      token.numUses -= 1;
      consumeLastUse = token.numUses === 0;
    }
    req.token = token;
  }
  try {
    if (!mount) throw new VaultHttpError(404, `no handler for route "${path}". route entry not found.`);
    if (!found) throw wrapped(404, "unsupported path");
    const handler = found.route.ops[op];
    if (!handler) throw wrapped(405, "unsupported operation");
    return await handler(req, found.match);
  } finally {
    if (consumeLastUse && req.token) core.tokens.revokeTree(req.token.id);
  }
}

function badPathEnding(): VaultHttpError {
  return new VaultHttpError(400, "cannot write to a path ending in '/'");
}

/** Never throws: every failure becomes a Vault error body. */
export async function handleRequest(core: Core, raw: RawRequest): Promise<Reply> {
  let reply: Reply;
  try {
    reply = await dispatch(core, raw);
  } catch (err) {
    if (err instanceof VaultHttpError) reply = errorReply(err.status, err.text === null ? [] : [err.text]);
    else reply = errorReply(500, [multi(err instanceof Error ? err.message : String(err))]);
  }
  const ns = header(raw, "x-vault-namespace");
  if (ns !== undefined) reply = { ...reply, headers: { ...reply.headers, "x-vault-namespace": ns } };
  return reply;
}

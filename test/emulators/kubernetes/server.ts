/** The HTTP front: pause/fail injection, health, authentication, discovery, routing, authorization. */
import type { IncomingMessage, ServerResponse } from "node:http";
import { handleResource, isWatch, verbOf } from "./api.ts";
import { authenticateToken } from "./authn.ts";
import { discovery } from "./discovery.ts";
import { readBody, sendError, sendJson, sendTooManyRequests } from "./http-io.ts";
import type { ApiRequest } from "./request.ts";
import { parseResourcePath } from "./router.ts";
import type { EmulatorState } from "./state.ts";
import { ApiError, forbiddenRequest, internalError, notFoundPath, unauthorized } from "./status.ts";
import type { UserInfo } from "./types.ts";

const REASONS: Record<number, string> = {
  500: "InternalError",
  502: "InternalError",
  503: "ServiceUnavailable",
  504: "Timeout",
  409: "Conflict",
  404: "NotFound",
  403: "Forbidden",
  401: "Unauthorized",
  400: "BadRequest",
};

function injectedFailure(state: EmulatorState, req: IncomingMessage, res: ServerResponse, path: string): boolean {
  const rule = state.takeFailure(req.method ?? "GET", path);
  if (rule === undefined) return false;
  if (rule.status === 429) {
    sendTooManyRequests(res, rule.retryAfterSeconds ?? 1);
    return true;
  }
  const message =
    rule.status >= 500 ? `Internal error occurred: injected failure ${rule.status}` : `injected failure ${rule.status}`;
  const err = new ApiError(
    rule.status,
    REASONS[rule.status] ?? "InternalError",
    message,
    rule.retryAfterSeconds !== undefined ? { retryAfterSeconds: rule.retryAfterSeconds } : undefined,
  );
  sendError(res, err);
  return true;
}

const ANONYMOUS: UserInfo = { username: "system:anonymous", groups: ["system:unauthenticated"] };

function authenticate(state: EmulatorState, req: IncomingMessage): UserInfo {
  const header = req.headers.authorization ?? "";
  if (header === "" && state.options.anonymousAuth) return ANONYMOUS;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (m === null) throw unauthorized();
  const result = authenticateToken(state, m[1] ?? "", []);
  if (!result.ok) throw unauthorized();
  return result.user;
}

function authorize(state: EmulatorState, user: UserInfo, apiReq: Omit<ApiRequest, "user" | "body">): void {
  const { route } = apiReq;
  const r = route.resource;
  const verb = verbOf(apiReq.method, route.name !== undefined, isWatch(apiReq));
  const attrs = {
    user,
    verb,
    apiGroup: r.group,
    resource: r.plural,
    ...(route.subresource !== undefined ? { subresource: route.subresource } : {}),
    ...(route.namespace !== undefined ? { namespace: route.namespace } : {}),
    ...(route.name !== undefined ? { name: route.name } : {}),
  };
  const decision = state.authorize(attrs);
  if (decision.allowed) return;
  const res = route.subresource === undefined ? r.plural : `${r.plural}/${route.subresource}`;
  const subject = route.name === undefined ? r.plural : `${r.plural} ${JSON.stringify(route.name)}`;
  const scope =
    route.namespace === undefined ? "at the cluster scope" : `in the namespace ${JSON.stringify(route.namespace)}`;
  const reason = decision.reason !== undefined && decision.reason !== "" ? `: ${decision.reason}` : "";
  throw forbiddenRequest(
    `${subject} is forbidden: User ${JSON.stringify(user.username)} cannot ${verb} resource ${JSON.stringify(res)} in API group ${JSON.stringify(r.group)} ${scope}${reason}`,
    route.name ?? "",
    r.plural,
    r.group,
  );
}

async function serve(state: EmulatorState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? "/", "http://emulator");
  const path = url.pathname;
  await state.waitIfPaused();
  if (state.closed) {
    res.destroy();
    return;
  }
  if (injectedFailure(state, req, res, `${path}${url.search}`)) return;
  if (["/healthz", "/livez", "/readyz"].includes(path)) {
    res.writeHead(200, { "Content-Type": "text/plain; charset=utf-8" });
    res.end("ok");
    return;
  }
  const user = authenticate(state, req);
  state.traffic.identify(req, user.username);
  const doc = req.method === "GET" ? discovery(path, new URL(state.url).host) : undefined;
  if (doc !== undefined) {
    sendJson(res, 200, doc);
    return;
  }
  const route = parseResourcePath(path);
  if (route === undefined) throw notFoundPath();
  const partial = {
    state,
    method: req.method ?? "GET",
    route,
    query: url.searchParams,
    contentType: req.headers["content-type"] ?? "",
    accept: req.headers.accept ?? "",
    req,
    res,
  };
  authorize(state, user, partial);
  const body = ["POST", "PUT", "PATCH", "DELETE"].includes(partial.method) ? await readBody(req) : Buffer.alloc(0);
  const result = await handleResource({ ...partial, user, body });
  if (result !== undefined) sendJson(res, result.code, result.body);
}

/** The request listener: every failure becomes a Status response; nothing escapes. */
export function createRequestListener(state: EmulatorState): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const query = new URL(req.url ?? "/", "http://emulator");
    const watch = ["true", "1"].includes(query.searchParams.get("watch") ?? "") || query.pathname.includes("/watch/");
    state.traffic.open(req, res, watch);
    res.on("finish", () =>
      state.requests.push({
        method: req.method ?? "",
        path: req.url ?? "",
        status: res.statusCode,
        accept: req.headers.accept,
      }),
    );
    serve(state, req, res).catch((err: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (err instanceof ApiError) {
        if (err.code === 413) res.setHeader("Connection", "close");
        sendError(res, err);
        return;
      }
      state.internalErrors.push(err);
      process.stderr.write(
        `[kubernetes-emulator] internal error on ${req.method ?? ""} ${req.url ?? ""}: ${(err as Error).stack ?? String(err)}\n`,
      );
      sendError(res, internalError((err as Error).message));
    });
  };
}

import { delimiter } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { messageOf } from "../shared/errors/errors.ts";
import { NO_SERVER, defaultServer, isInClusterService, type ServerChoice } from "./server-default.ts";

/** A usage or setup problem of the CLI itself (exit code 2 for usage, 1 otherwise). */
export class CliError extends Error {
  override readonly name = "CliError";
  constructor(message: string, readonly exitCode: number = 1) {
    super(message);
  }
}

/** An answer of leasekeeper's API that is not 2xx: `{"error":{"code","message"}}`, or what came instead. */
export class ApiError extends Error {
  override readonly name = "ApiError";
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

export interface ApiClientOptions {
  /** Base URL of leasekeeper's HTTP functions, e.g. https://leasekeeper.example. */
  readonly server: string;
  readonly token: string;
  readonly fetch?: typeof fetch;
  /** Per request; calls with ?wait= get that much more. Default 30 s. */
  readonly timeoutMs?: number;
}

/** The on-call routes of docs/http-api.md over fetch, with a bearer token. */
export class ApiClient {
  readonly server: string;
  readonly #token: string;
  readonly #fetch: typeof fetch;
  readonly #timeoutMs: number;

  constructor(options: ApiClientOptions) {
    this.server = options.server.replace(/\/+$/, "");
    this.#token = options.token;
    this.#fetch = options.fetch ?? fetch;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
  }

  async get<T>(path: string, waitSeconds = 0): Promise<{ status: number; body: T }> {
    return this.#call<T>("GET", path, undefined, waitSeconds);
  }

  async post<T>(path: string, body: unknown, waitSeconds = 0): Promise<{ status: number; body: T }> {
    return this.#call<T>("POST", path, body, waitSeconds);
  }

  async #call<T>(method: "GET" | "POST", path: string, body: unknown, waitSeconds: number): Promise<{ status: number; body: T }> {
    let res: Response;
    try {
      res = await this.#fetch(`${this.server}${path}`, {
        method,
        headers: { authorization: `Bearer ${this.#token}`, accept: "application/json", ...(body === undefined ? {} : { "content-type": "application/json" }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.#timeoutMs + waitSeconds * 1000),
      });
    } catch (err) {
      const cause = (err as { cause?: unknown }).cause;
      throw new ApiError(0, "unreachable", `cannot reach ${this.server}: ${messageOf(cause ?? err)}`);
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text === "" ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (!res.ok) {
      const error = (parsed as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
      if (error && typeof error.code === "string" && typeof error.message === "string") throw new ApiError(res.status, error.code, error.message);
      throw new ApiError(res.status, `http_${res.status}`, text.trim().slice(0, 200) || res.statusText || "no body");
    }
    if (parsed === undefined) throw new ApiError(res.status, "bad_response", `${method} ${path} answered ${res.status} without JSON`);
    return { status: res.status, body: parsed as T };
  }
}

/**
 * The server URL: --server, else LEASEKEEPER_URL, else defaultServer() (the sandbox, or the
 * in-cluster Service from a pod). Plain http only to loopback or, from a pod, a cluster Service
 * (a bearer token travels with every call) unless allowed.
 */
export function serverUrl(flag: string | undefined, env: NodeJS.ProcessEnv, allowHttp: boolean, fallback: () => ServerChoice | undefined = () => defaultServer(env)): string {
  const raw = flag ?? (env.LEASEKEEPER_URL || undefined) ?? fallback()?.url;
  if (!raw) throw new CliError(NO_SERVER, 2);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new CliError(`--server / LEASEKEEPER_URL is not a URL: ${raw}`, 2);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new CliError(`--server must be http(s), not ${url.protocol}`, 2);
  const loopback = ["localhost", "127.0.0.1", "[::1]"].includes(url.hostname);
  if (url.protocol === "http:" && !loopback && !isInClusterService(url, env) && !allowHttp) {
    throw new CliError(`refusing to send a bearer token over plain http to ${url.host}; use https (or --insecure-http)`, 2);
  }
  return url.href.replace(/\/+$/, "");
}

export interface Credentials {
  readonly token: string;
  /** Where it came from, for messages (never the token). */
  readonly source: string;
}

/**
 * The bearer token: LEASEKEEPER_API_TOKEN (a static API token, or any token the server's
 * TokenReview accepts, e.g. `kubectl create token …`), else the current kubeconfig user's token
 * (KubeConfig.loadFromDefault: $KUBECONFIG, ~/.kube/config, in-cluster). A user with an exec or
 * auth-provider plugin gets its token through the client library; a client-certificate user has
 * no bearer token and is refused with a hint.
 */
export async function resolveCredentials(env: NodeJS.ProcessEnv, loadKubeConfig: (env: NodeJS.ProcessEnv) => KubeConfig = defaultKubeConfig): Promise<Credentials> {
  const apiToken = env.LEASEKEEPER_API_TOKEN?.trim();
  if (apiToken) return { token: apiToken, source: "LEASEKEEPER_API_TOKEN" };
  let kc: KubeConfig;
  try {
    kc = loadKubeConfig(env);
  } catch (err) {
    throw new CliError(`no LEASEKEEPER_API_TOKEN and the kubeconfig does not load: ${messageOf(err)}`);
  }
  const user = kc.getCurrentUser();
  const name = user?.name ?? "(none)";
  if (user?.token) return { token: user.token, source: `kubeconfig user ${name}` };
  if (user && (user.exec || user.authProvider)) {
    try {
      const init = await kc.applyToFetchOptions({});
      // The library builds a WHATWG Headers (typed as node-fetch's).
      const headers = init.headers as unknown as { get?: (name: string) => string | null; Authorization?: string } | undefined;
      const header = headers?.get?.("authorization") ?? headers?.Authorization ?? "";
      const bearer = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
      if (bearer) return { token: bearer, source: `kubeconfig user ${name} (${user.exec ? "exec plugin" : "auth provider"})` };
    } catch (err) {
      throw new CliError(`kubeconfig user ${name}: its ${user.exec ? "exec plugin" : "auth provider"} gave no token: ${messageOf(err)}`);
    }
  }
  const how = user?.certData || user?.certFile ? "authenticates with a client certificate" : user?.username ? "uses basic auth" : "has no bearer token";
  throw new CliError(
    `kubeconfig user ${name} ${how}; leasekeeper's API needs a bearer token: set LEASEKEEPER_API_TOKEN ` +
      "(an API token, or e.g. LEASEKEEPER_API_TOKEN=$(kubectl create token <service-account> -n <namespace>))",
  );
}

/** KubeConfig.loadFromDefault (which reads process.env), or the one file env.KUBECONFIG names. */
function defaultKubeConfig(env: NodeJS.ProcessEnv): KubeConfig {
  const kc = new KubeConfig();
  const files = (env.KUBECONFIG ?? "").split(delimiter).filter(Boolean);
  if (files.length === 1) kc.loadFromFile(files[0] as string);
  else kc.loadFromDefault();
  return kc;
}

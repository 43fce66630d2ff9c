import { delimiter } from "node:path";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { messageOf } from "../shared/errors/errors.ts";
import { NO_SERVER, defaultServer, isInClusterService, type ServerChoice } from "./server-default.ts";

/** A usage or setup problem of the CLI itself (exit code 2 for usage, 1 otherwise). */
export class CliError extends Error {
  override readonly name = "CliError";
  constructor(
    message: string,
    readonly exitCode: number = 1,
  ) {
    super(message);
  }
}

/** An answer of leasekeeper's API that is not 2xx: `{"error":{"code","message"}}`, or what came instead. */
export class ApiError extends Error {
  override readonly name = "ApiError";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
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

  async #call<T>(
    method: "GET" | "POST",
    path: string,
    body: unknown,
    waitSeconds: number,
  ): Promise<{ status: number; body: T }> {
    let res: Response;
    try {
      res = await this.#fetch(`${this.server}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.#token}`,
          accept: "application/json",
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
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
      if (error && typeof error.code === "string" && typeof error.message === "string")
        throw new ApiError(res.status, error.code, error.message);
      throw new ApiError(res.status, `http_${res.status}`, text.trim().slice(0, 200) || res.statusText || "no body");
    }
    if (parsed === undefined)
      throw new ApiError(res.status, "bad_response", `${method} ${path} answered ${res.status} without JSON`);
    return { status: res.status, body: parsed as T };
  }
}

/**
 * The server URL: --server, else LEASEKEEPER_URL, else defaultServer() (the sandbox, or the
 * in-cluster Service from a pod). Plain http only to loopback or, from a pod, a cluster Service
 * (a bearer token travels with every call) unless allowed.
 */
export function serverUrl(
  flag: string | undefined,
  env: NodeJS.ProcessEnv,
  allowHttp: boolean,
  fallback: () => ServerChoice | undefined = () => defaultServer(env),
): string {
  const raw = flag ?? (env.LEASEKEEPER_URL || undefined) ?? fallback()?.url;
  if (!raw) throw new CliError(NO_SERVER, 2);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new CliError(`--server / LEASEKEEPER_URL is not a URL: ${raw}`, 2);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:")
    throw new CliError(`--server must be http(s), not ${url.protocol}`, 2);
  const loopback = ["localhost", "127.0.0.1", "[::1]"].includes(url.hostname);
  if (url.protocol === "http:" && !loopback && !isInClusterService(url, env) && !allowHttp) {
    throw new CliError(
      `refusing to send a bearer token over plain http to ${url.host}; use https (or --insecure-http)`,
      2,
    );
  }
  return url.href.replace(/\/+$/, "");
}

export interface Credentials {
  readonly token: string;
  /** Where it came from, for messages (never the token). */
  readonly source: string;
}

export interface CredentialFlags {
  /** --token: sent as it is (a static API token, or a token TokenReview accepts for leasekeeper's audience). */
  readonly token?: string | undefined;
  /** --service-account namespace/name: request a short token for it. */
  readonly serviceAccount?: string | undefined;
  /** --audience: the audience of the requested token (the server's LEASEKEEPER_TOKEN_REVIEW_AUDIENCES). */
  readonly audience?: string | undefined;
}

/** Lifetime of the token the CLI requests: one command's worth (the API server's minimum is 10 minutes). */
const REQUESTED_TOKEN_SECONDS = 600;
export const DEFAULT_AUDIENCE = "leasekeeper";

/**
 * The bearer token. The kubeconfig user's own credentials never reach leasekeeper (an admin's
 * kubeconfig token can do anything the admin can; leasekeeper's TokenReview only accepts its own
 * audience): in order,
 * 1. --token / LEASEKEEPER_API_TOKEN, sent as it is;
 * 2. --service-account ns/name / LEASEKEEPER_SERVICE_ACCOUNT: a TokenRequest for that service account
 *    (what `kubectl create token name -n ns --audience leasekeeper --duration 10m` does), made with the
 *    kubeconfig user's credentials (token, exec plugin, auth provider or client certificate);
 * 3. a kubeconfig user that is itself a service account (its token's subject): a TokenRequest for it.
 * The audience is --audience / LEASEKEEPER_AUDIENCE, default `leasekeeper`.
 */
export async function resolveCredentials(
  env: NodeJS.ProcessEnv,
  loadKubeConfig: (env: NodeJS.ProcessEnv) => KubeConfig = defaultKubeConfig,
  flags: CredentialFlags = {},
): Promise<Credentials> {
  // `||`: an empty flag or variable counts as not given.
  const explicit = flags.token?.trim() || env.LEASEKEEPER_API_TOKEN?.trim();
  if (explicit) return { token: explicit, source: flags.token ? "--token" : "LEASEKEEPER_API_TOKEN" };
  const audience = flags.audience ?? env.LEASEKEEPER_AUDIENCE ?? DEFAULT_AUDIENCE;
  const named = flags.serviceAccount ?? env.LEASEKEEPER_SERVICE_ACCOUNT;
  let kc: KubeConfig;
  try {
    kc = loadKubeConfig(env);
  } catch (err) {
    throw new CliError(`no --token / LEASEKEEPER_API_TOKEN and the kubeconfig does not load: ${messageOf(err)}`);
  }
  const user = kc.getCurrentUser();
  const userName = user?.name ?? "(none)";
  let account: ServiceAccountRef | undefined;
  if (named !== undefined) {
    account = parseServiceAccount(named);
  } else {
    account = serviceAccountOf(await kubeconfigBearer(kc));
    if (!account) {
      throw new CliError(
        `kubeconfig user ${userName} is not a service account, and leasekeeper is never sent your own kubeconfig credentials: ` +
          "pass --service-account <namespace>/<name> (a short token for audience " +
          `${audience} is requested for it, as kubectl create token does) or --token / LEASEKEEPER_API_TOKEN`,
      );
    }
  }
  const token = await requestServiceAccountToken(kc, account, audience);
  return {
    token,
    source: `a ${REQUESTED_TOKEN_SECONDS / 60}-minute token of service account ${account.namespace}/${account.name} (audience ${audience})`,
  };
}

interface ServiceAccountRef {
  readonly namespace: string;
  readonly name: string;
}

function parseServiceAccount(value: string): ServiceAccountRef {
  const match = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/([a-z0-9]([-a-z0-9.]*[a-z0-9])?)$/.exec(value.trim());
  if (!match) throw new CliError(`--service-account wants <namespace>/<name>, not ${JSON.stringify(value)}`, 2);
  return { namespace: match[1] as string, name: match[3] as string };
}

/** The service account a Kubernetes service-account JWT belongs to (its subject; not verified: the API server decides). */
function serviceAccountOf(token: string | undefined): ServiceAccountRef | undefined {
  const payload = token?.split(".")[1];
  if (!payload) return undefined;
  try {
    const sub = (JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as { sub?: unknown }).sub;
    const match = typeof sub === "string" ? /^system:serviceaccount:([^:]+):([^:]+)$/.exec(sub) : null;
    return match ? { namespace: match[1] as string, name: match[2] as string } : undefined;
  } catch {
    return undefined;
  }
}

/** The kubeconfig user's bearer token, if it has one (static, exec plugin or auth provider); only read to find its service account. */
async function kubeconfigBearer(kc: KubeConfig): Promise<string | undefined> {
  const user = kc.getCurrentUser();
  if (user?.token) return user.token;
  if (!user || !(user.exec || user.authProvider)) return undefined;
  try {
    const init = await kc.applyToFetchOptions({});
    // The library builds a WHATWG Headers (typed as node-fetch's).
    const headers = init.headers as unknown as
      { get?: (name: string) => string | null; Authorization?: string } | undefined;
    const header = headers?.get?.("authorization") ?? headers?.Authorization ?? "";
    return /^Bearer\s+(\S+)$/i.exec(header)?.[1];
  } catch (err) {
    throw new CliError(
      `kubeconfig user ${user.name}: its ${user.exec ? "exec plugin" : "auth provider"} gave no token: ${messageOf(err)}`,
    );
  }
}

/** TokenRequest (POST serviceaccounts/<name>/token) with the kubeconfig user's credentials. */
async function requestServiceAccountToken(
  kc: KubeConfig,
  account: ServiceAccountRef,
  audience: string,
): Promise<string> {
  const core = kc.makeApiClient(CoreV1Api);
  let token: string | undefined;
  try {
    const answer = await core.createNamespacedServiceAccountToken({
      namespace: account.namespace,
      name: account.name,
      body: {
        apiVersion: "authentication.k8s.io/v1",
        kind: "TokenRequest",
        metadata: { name: account.name },
        spec: { audiences: [audience], expirationSeconds: REQUESTED_TOKEN_SECONDS },
      },
    });
    token = answer.status?.token;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    throw new CliError(
      `cannot request a token for service account ${account.namespace}/${account.name}${typeof code === "number" ? ` (${code})` : ""}: ${messageOf(err).split("\n")[0]?.slice(0, 300)}`,
    );
  }
  if (!token) throw new CliError(`the TokenRequest for ${account.namespace}/${account.name} answered without a token`);
  return token;
}

/** KubeConfig.loadFromDefault (which reads process.env), or the one file env.KUBECONFIG names. */
function defaultKubeConfig(env: NodeJS.ProcessEnv): KubeConfig {
  const kc = new KubeConfig();
  const files = (env.KUBECONFIG ?? "").split(delimiter).filter(Boolean);
  if (files.length === 1) kc.loadFromFile(files[0] as string);
  else kc.loadFromDefault();
  return kc;
}

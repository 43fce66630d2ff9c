/**
 * Helpers for tests that talk to the emulator: node-vault error capture, fake service-account
 * JWTs, a minimal TokenReview stub standing in for the Kubernetes API, polling.
 */
import { createServer, type IncomingMessage } from "node:http";
import { randomUUID } from "node:crypto";

export interface Failure {
  status: number | undefined;
  message: string;
  body: unknown;
}

/** Awaits a promise that must reject; returns node-vault's status / message / body. */
export async function failure(p: Promise<unknown>): Promise<Failure> {
  try {
    await p;
  } catch (err) {
    const e = err as { message?: string; response?: { statusCode?: number; body?: unknown } };
    return { status: e.response?.statusCode, message: e.message ?? String(err), body: e.response?.body };
  }
  throw new Error("expected the request to fail, but it succeeded");
}

export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 5_000,
  what = "condition",
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`waitFor: ${what} not met within ${timeoutMs} ms`);
}

export interface ServiceAccount {
  namespace: string;
  name: string;
  uid?: string;
}

/** A projected service-account token shape (unsigned; Vault does not verify it without pem_keys). */
export function fakeServiceAccountJwt(sa: ServiceAccount, extra: Record<string, unknown> = {}): string {
  const now = Math.floor(Date.now() / 1000);
  const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const claims = {
    aud: ["vault"],
    exp: now + 600,
    iat: now,
    nbf: now,
    iss: "https://kubernetes.default.svc.cluster.local",
    sub: `system:serviceaccount:${sa.namespace}:${sa.name}`,
    "kubernetes.io": {
      namespace: sa.namespace,
      serviceaccount: { name: sa.name, uid: sa.uid ?? randomUUID() },
      pod: { name: `${sa.name}-pod`, uid: randomUUID() },
    },
    ...extra,
  };
  return `${enc({ alg: "RS256", kid: "test", typ: "JWT" })}.${enc(claims)}.${Buffer.from("signature").toString("base64url")}`;
}

export interface TokenReviewStub {
  url: string;
  reviewerJwt: string;
  /** Registers a JWT the stub will authenticate as the given service account. */
  accept(jwt: string, sa: Required<ServiceAccount>, audiences?: string[]): void;
  requests: { authorization: string | undefined; body: unknown; path: string; method: string }[];
  close(): Promise<void>;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req as AsyncIterable<Buffer>) chunks.push(c);
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    return null;
  }
}

/** A tiny Kubernetes API answering only TokenReview, the way the API server does. */
export async function startTokenReviewStub(): Promise<TokenReviewStub> {
  const reviewerJwt = `reviewer-${randomUUID()}`;
  const known = new Map<string, { sa: Required<ServiceAccount>; audiences: string[] }>();
  const requests: TokenReviewStub["requests"] = [];
  const server = createServer((req, res) => {
    void (async () => {
      const body = await readJson(req);
      requests.push({ authorization: req.headers.authorization, body, path: req.url ?? "", method: req.method ?? "" });
      res.setHeader("content-type", "application/json");
      if (req.method !== "POST" || req.url !== "/apis/authentication.k8s.io/v1/tokenreviews") {
        res
          .writeHead(404)
          .end(JSON.stringify({ kind: "Status", apiVersion: "v1", status: "Failure", reason: "NotFound", code: 404 }));
        return;
      }
      if (req.headers.authorization !== `Bearer ${reviewerJwt}`) {
        res
          .writeHead(401)
          .end(
            JSON.stringify({ kind: "Status", apiVersion: "v1", status: "Failure", reason: "Unauthorized", code: 401 }),
          );
        return;
      }
      const spec = ((body ?? {}) as { spec?: { token?: string; audiences?: string[] } }).spec ?? {};
      const entry = known.get(spec.token ?? "");
      const requested = spec.audiences ?? [];
      const audOk =
        entry !== undefined && (requested.length === 0 || requested.some((a) => entry.audiences.includes(a)));
      const status =
        entry && audOk
          ? {
              authenticated: true,
              user: {
                username: `system:serviceaccount:${entry.sa.namespace}:${entry.sa.name}`,
                uid: entry.sa.uid,
                groups: ["system:serviceaccounts"],
              },
              audiences: requested.length > 0 ? requested.filter((a) => entry.audiences.includes(a)) : entry.audiences,
            }
          : { user: {}, error: "[invalid bearer token, token lookup failed]" };
      res
        .writeHead(201)
        .end(
          JSON.stringify({ kind: "TokenReview", apiVersion: "authentication.k8s.io/v1", metadata: {}, spec, status }),
        );
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const addr = server.address();
  if (addr === null || typeof addr === "string") throw new Error("token review stub: no address");
  return {
    url: `http://127.0.0.1:${addr.port}`,
    reviewerJwt,
    accept: (jwt, sa, audiences = ["vault"]) => void known.set(jwt, { sa, audiences }),
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * leasekeeper's HTTP Service inside the cluster: infra/base/service.yaml, Service `leasekeeper` in
 * namespace `leasekeeper`, port 80 (`http`, the container's 8080). Only reachable from a pod.
 */
export const IN_CLUSTER_URL = "http://leasekeeper.leasekeeper.svc";

export interface ServerChoice {
  readonly url: string;
  /** Where the URL came from, for messages. */
  readonly source: string;
}

export const NO_SERVER =
  "no server: pass --server or set LEASEKEEPER_URL. Without them the CLI uses the running sandbox (.sandbox/endpoints.json), " +
  `or, inside a pod, ${IN_CLUSTER_URL}. From a workstation: kubectl port-forward -n leasekeeper svc/leasekeeper 8080:80, ` +
  "then LEASEKEEPER_URL=http://127.0.0.1:8080";

/**
 * The server when neither --server nor LEASEKEEPER_URL names one: the `api` of a running sandbox
 * (.sandbox/endpoints.json in the working directory, else in this checkout), else the in-cluster
 * Service when the CLI runs in a pod (KUBERNETES_SERVICE_HOST is set), else none.
 */
export function defaultServer(
  env: NodeJS.ProcessEnv,
  cwd: string = process.cwd(),
  checkout: string | null = checkoutRoot() ?? null,
): ServerChoice | undefined {
  for (const dir of new Set([resolve(cwd), ...(checkout ? [checkout] : [])])) {
    const file = join(dir, ".sandbox", "endpoints.json");
    if (!existsSync(file)) continue;
    try {
      const api = (JSON.parse(readFileSync(file, "utf8")) as { api?: unknown }).api;
      if (typeof api === "string" && api !== "") return { url: api, source: file };
    } catch {
      // A half-written or foreign file: not a server.
    }
  }
  if (env.KUBERNETES_SERVICE_HOST) return { url: IN_CLUSTER_URL, source: "the in-cluster Service" };
  return undefined;
}

/**
 * Plain http is acceptable to a cluster-internal Service name when the CLI itself runs in a pod:
 * the request stays on the cluster network, and that Service has no TLS port for the API.
 */
export function isInClusterService(url: URL, env: NodeJS.ProcessEnv): boolean {
  return Boolean(env.KUBERNETES_SERVICE_HOST) && /\.svc(\.cluster\.local)?$/.test(url.hostname);
}

/** The directory holding this CLI's package.json (the checkout; `dist/` when compiled). */
function checkoutRoot(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    if (existsSync(join(dir, "package.json"))) return dir;
    dir = dirname(dir);
  }
  return undefined;
}

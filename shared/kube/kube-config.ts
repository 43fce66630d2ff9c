import { Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import { KubeConfig } from "@kubernetes/client-node";

type RequestContext = Parameters<KubeConfig["applySecurityAuthentication"]>[0];

/**
 * client-node 1.x builds a new http(s).Agent for every API call, so no connection is ever
 * reused (a TCP and TLS handshake per request). This KubeConfig swaps in one keep-alive agent
 * per cluster, built with the same TLS options, as client-go shares one transport. It also
 * bounds every API call (not watches) with a timeout, so a half-open connection cannot hang a
 * job forever.
 */
export class PooledKubeConfig extends KubeConfig {
  readonly #agents = new Map<string, HttpAgent | HttpsAgent>();
  readonly #timeoutMs: number;

  constructor(timeoutMs = 15_000) {
    super();
    this.#timeoutMs = timeoutMs;
  }

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    if (!context.getSignal()) context.setSignal(AbortSignal.timeout(this.#timeoutMs));
    const created = context.getAgent();
    const cluster = this.getCurrentCluster();
    if (!created || !cluster || cluster.proxyUrl) return;
    let pooled = this.#agents.get(cluster.server);
    if (!pooled) {
      const options = {
        ...(created as unknown as { options: object }).options,
        keepAlive: true,
        maxSockets: 64,
        maxFreeSockets: 16,
      };
      pooled = created instanceof HttpsAgent ? new HttpsAgent(options) : new HttpAgent(options);
      this.#agents.set(cluster.server, pooled);
    }
    created.destroy();
    context.setAgent(pooled);
  }
}

/** Loads a kubeconfig file when one is named, else the in-cluster service account. */
export function loadKubeConfig(kubeconfigPath: string | undefined, timeoutMs?: number): KubeConfig {
  const kc = new PooledKubeConfig(timeoutMs);
  if (kubeconfigPath) kc.loadFromFile(kubeconfigPath);
  else kc.loadFromDefault();
  return kc;
}

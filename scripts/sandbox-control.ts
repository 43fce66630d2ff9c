/**
 * The sandbox's test-infrastructure admin endpoint (only `npm run sandbox` starts it; no product
 * code imports it): `POST /vault/restart` restarts the emulated Vault container sealed, exactly as
 * the kubelet would report it (restartCount + 1, not Ready), so leasekeeper's pod watch unseals it.
 * Listens on 127.0.0.1 only. Also plays Vault's readiness probe (the pod is Ready iff unsealed).
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { VaultPodModel } from "../test/helpers/vault-pod.ts";

export interface SandboxControl {
  readonly url: string;
  close(): Promise<void>;
}

export async function startSandboxControl(pod: VaultPodModel, say: (line: string) => void): Promise<SandboxControl> {
  const probe = setInterval(() => pod.syncReadiness(), 250);
  probe.unref();
  const server = createServer((req, res) => {
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(`${JSON.stringify(body)}\n`);
    };
    if (req.url === "/vault/restart" && req.method === "POST") {
      pod.restart();
      say(
        `sandbox: Vault container restarted sealed (restartCount ${pod.restarts}); leasekeeper's pod watch should unseal it`,
      );
      reply(200, { restarted: "vault/vault-0", sealed: true, restartCount: pod.restarts });
      return;
    }
    reply(404, { error: "sandbox control: only POST /vault/restart" });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => {
      clearInterval(probe);
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Contract: the `vault-active` Service address (startVaultActiveService) — connections go to the
 * replica labelled vault-active=true (active and unsealed; vault-helm server-ha-active-service.yaml,
 * Vault's serviceregistration/kubernetes); with none, new connections are refused (ECONNREFUSED)
 * or hang until one appears; an established connection stays with its pod, as with kube-proxy.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Agent, request } from "node:http";
import vault from "node-vault";
import {
  startVaultActiveService,
  startVaultCluster,
  type VaultActiveService,
  type VaultEmulator,
} from "../emulators/vault/index.ts";
import { waitFor } from "../emulators/vault/testing.ts";

let nodes: VaultEmulator[] = [];
let svc: VaultActiveService;

interface Answer {
  status: number;
  body: string;
}

/** One request on a new connection (no keep-alive pool), as a fresh client would make it. */
function oneShot(
  path: string,
  opts: { method?: string; body?: unknown; token?: string; timeoutMs?: number; agent?: Agent } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const req = request(
      `${svc.url}/v1/${path}`,
      {
        method: opts.method ?? "GET",
        agent: opts.agent ?? false,
        headers: opts.token ? { "x-vault-token": opts.token } : {},
        signal: opts.timeoutMs ? AbortSignal.timeout(opts.timeoutMs) : undefined,
      },
      (res) => {
        let body = "";
        res.on("data", (c: Buffer) => (body += c.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on("error", (err: Error & { code?: string }) => reject(err));
    req.end(payload);
  });
}

/** sys/leader through the Service: the API address of the pod that answered. */
async function servedBy(): Promise<string> {
  const body = JSON.parse((await oneShot("sys/leader")).body) as { is_self: boolean; leader_address: string };
  return body.is_self ? body.leader_address : `a standby of ${body.leader_address}`;
}

const failed = (p: Promise<unknown>) =>
  p.then(
    () => "answered",
    (err: Error & { code?: string }) => err.code ?? err.name,
  );

test.before(async () => {
  nodes = await startVaultCluster(3, { ha: true, sealed: false });
  svc = await startVaultActiveService(nodes, { whenNoEndpoints: "refuse" });
});
test.after(async () => {
  await svc.close();
  for (const n of nodes) await n.close();
});

test("the Service follows the active, unsealed replica across a failover", async () => {
  const [a, b] = nodes as [VaultEmulator, VaultEmulator, VaultEmulator];
  assert.is(svc.endpoint(), a);
  assert.is(await servedBy(), a.url);
  const write = await oneShot("secret/data/svc", { method: "POST", body: { data: { n: 1 } }, token: a.rootToken });
  assert.is(write.status, 200);
  a.control.seal();
  await svc.settled();
  assert.is(svc.endpoint(), b);
  assert.is(await servedBy(), b.url);
  const read = await oneShot("secret/data/svc", { token: a.rootToken });
  assert.equal([read.status, JSON.parse(read.body).data.data], [200, { n: 1 }]);
  a.control.unseal(); // back as a standby: the label stays on replica 1
  await svc.settled();
  assert.is(svc.endpoint(), b);
});

test("no active replica: refuse (ECONNREFUSED), or hang until one is unsealed; switchable at run time", async () => {
  for (const n of nodes) n.control.seal();
  await svc.settled();
  assert.is(svc.endpoint(), undefined);
  assert.is(await failed(oneShot("sys/health")), "ECONNREFUSED");

  await svc.setWhenNoEndpoints("hang");
  assert.is(await failed(oneShot("sys/health", { timeoutMs: 300 })), "ABORT_ERR", "connection accepted, no answer");
  const pending = oneShot("sys/health");
  await new Promise((r) => setTimeout(r, 100));
  nodes[2]!.control.unseal();
  assert.is((await pending).status, 200, "the held connection went on to the new active replica");
  assert.is(svc.endpoint(), nodes[2]);

  for (const n of nodes) n.control.seal();
  await svc.setWhenNoEndpoints("refuse");
  assert.is(await failed(oneShot("sys/health")), "ECONNREFUSED");
  for (const n of nodes) n.control.unseal();
  await waitFor(() => svc.endpoint() !== undefined, 2_000, "an active replica");
  await svc.settled();
});

test("a keep-alive client (node-vault) keeps its socket to the old pod: 503 after the label moved", async () => {
  const first = svc.endpoint() as VaultEmulator;
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  assert.is((await oneShot("sys/health", { agent })).status, 200);
  const v = vault({ apiVersion: "v1", endpoint: svc.url, token: first.rootToken });
  await v.write("secret/data/sticky", { data: { n: 2 } });
  first.control.seal();
  await svc.settled();
  assert.is((await oneShot("sys/health", { agent })).status, 503, "same socket, same (now sealed) pod");
  const stale = await v.read("secret/data/sticky").then(
    () => 200,
    (e: { response?: { statusCode?: number } }) => e.response?.statusCode,
  );
  assert.is(stale, 503, "node-vault reuses its pooled connection to the sealed pod");
  agent.destroy();
  assert.is((await oneShot("sys/health")).status, 200, "a new connection reaches the new active pod");
  first.control.unseal();
});

test.run();

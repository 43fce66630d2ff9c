/**
 * The `vault-active` Service of an HA deployment as a plain TCP front: each new connection goes to
 * the replica that is active and unsealed now.
 *
 * vault-helm templates/server-ha-active-service.yaml selects pods labelled `vault-active: "true"`
 * (with `publishNotReadyAddresses: true`, so readiness does not matter); Vault sets that label
 * itself through service registration (serviceregistration/kubernetes/service_registration.go
 * `NotifyActiveStateChange`), true when it becomes active, false when it steps down or seals
 * (vault/ha.go). Like kube-proxy, an established connection stays with the pod it was sent to.
 * With no endpoint a ClusterIP either rejects new connections (`refuse`: ECONNREFUSED, kube-proxy's
 * REJECT rule for a Service without endpoints) or swallows them (`hang`: a blackholed address; the
 * emulator accepts the connection and holds it, sending its bytes on once an endpoint appears).
 * It is L4: with TLS replicas the handshake passes through to the replica.
 */
import { connect, createServer, type Server, type Socket } from "node:net";
import { memberOf, type VaultEmulator } from "./emulator.ts";
import { registerAddress, resolveAddress } from "./registry.ts";

export type NoEndpointsMode = "refuse" | "hang";

export interface VaultActiveService {
  /** http(s)://127.0.0.1:<port>, the scheme of the replicas. */
  readonly url: string;
  readonly port: number;
  readonly whenNoEndpoints: NoEndpointsMode;
  /** The replica new connections go to now (active and unsealed), if any. */
  endpoint(): VaultEmulator | undefined;
  setWhenNoEndpoints(mode: NoEndpointsMode): Promise<void>;
  /** Resolves once listening / not listening matches the replicas' state (after a seal, unseal, step-down). */
  settled(): Promise<void>;
  close(): Promise<void>;
}

const POLL_MS = 25;

function isEndpoint(replica: VaultEmulator): boolean {
  if (!resolveAddress(replica.url)) return false; // closed
  const core = memberOf(replica).core;
  if (core.seal.sealed || !core.seal.initialized) return false;
  return core.ha ? core.ha.isActive() : !core.seal.standby;
}

function pipe(client: Socket, target: VaultEmulator, buffered: Buffer[], open: Set<Socket>): void {
  const upstream = connect(Number(new URL(target.url).port), "127.0.0.1");
  open.add(client).add(upstream);
  for (const chunk of buffered) upstream.write(chunk);
  client.removeAllListeners("data");
  client.pipe(upstream);
  upstream.pipe(client);
  const end = () => {
    open.delete(client);
    open.delete(upstream);
    client.destroy();
    upstream.destroy();
  };
  for (const s of [client, upstream]) {
    s.on("error", end);
    s.on("close", end);
  }
}

export async function startVaultActiveService(
  replicas: VaultEmulator[],
  opts: { whenNoEndpoints?: NoEndpointsMode; port?: number } = {},
): Promise<VaultActiveService> {
  if (replicas.length === 0) throw new Error("startVaultActiveService: no replicas");
  let mode: NoEndpointsMode = opts.whenNoEndpoints ?? "refuse";
  const held = new Map<Socket, Buffer[]>();
  const open = new Set<Socket>();
  const endpoint = () => replicas.find(isEndpoint);
  const onConnection = (client: Socket) => {
    client.on("error", () => client.destroy());
    const target = endpoint();
    if (target) return pipe(client, target, [], open);
    if (mode === "refuse") return void client.destroy();
    const buffered: Buffer[] = [];
    held.set(client, buffered);
    client.on("data", (chunk: Buffer) => buffered.push(chunk));
    client.on("close", () => held.delete(client));
  };
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(opts.port ?? 0, "127.0.0.1", resolve));
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));

  let server: Server | undefined;
  let work = Promise.resolve();
  let closed = false;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const s = createServer(onConnection);
      s.once("error", reject);
      s.listen(port, "127.0.0.1", () => resolve());
      server = s;
    });
  const reconcile = () => {
    work = work.then(async () => {
      if (closed) return;
      const target = endpoint();
      for (const [client, buffered] of target ? held : []) {
        held.delete(client);
        pipe(client, target as VaultEmulator, buffered, open);
      }
      const wanted = target !== undefined || mode === "hang";
      if (wanted && !server) await listen();
      if (!wanted && server) {
        server.close(); // stops accepting at once; established connections go on
        server = undefined;
      }
    });
    return work;
  };
  const unsubscribe = replicas.map((r) => memberOf(r).core.seal.onChange(() => void reconcile()));
  const poll = setInterval(() => void reconcile(), POLL_MS);
  poll.unref();
  const scheme = new URL(replicas[0]!.url).protocol.replace(":", "");
  const url = `${scheme}://127.0.0.1:${port}`;
  const unregister = registerAddress(url, () => {
    const target = endpoint();
    return target ? memberOf(target) : undefined;
  });
  await reconcile();
  return {
    url,
    port,
    get whenNoEndpoints() {
      return mode;
    },
    endpoint,
    setWhenNoEndpoints: (next) => {
      mode = next;
      return reconcile();
    },
    settled: () => reconcile(),
    async close() {
      closed = true;
      clearInterval(poll);
      unregister();
      for (const u of unsubscribe) u();
      for (const client of [...held.keys(), ...open]) client.destroy();
      await work;
      server?.close();
      server = undefined;
    },
  };
}

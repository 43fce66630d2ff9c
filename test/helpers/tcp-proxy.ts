import { createServer, connect, type Socket } from "node:net";

/**
 * forward: a working path. hang: connections are accepted and bytes go nowhere (a Service whose
 * endpoints vanished behind a load balancer, a dropped route). refuse: nothing listens on the port
 * (a Service without endpoints: kube-proxy rejects the connection).
 */
export type ProxyMode = "forward" | "hang" | "refuse";

export interface TcpProxy {
  readonly port: number;
  /** Existing connections stop carrying bytes but stay open (a half-open TCP path); new ones work. */
  blackholeExisting(): number;
  /** Switches every connection, open and new: hang blackholes them, refuse closes the listener. */
  setMode(mode: ProxyMode): Promise<void>;
  close(): Promise<void>;
}

/** A loopback TCP proxy for fault tests: forwards to `targetPort` until told to go silent. */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const pairs = new Set<{ client: Socket; upstream: Socket | undefined; silent: boolean }>();
  let mode: ProxyMode = "forward";
  const server = createServer((client) => {
    const pair: { client: Socket; upstream: Socket | undefined; silent: boolean } = {
      client,
      upstream: undefined,
      silent: mode === "hang",
    };
    pairs.add(pair);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      pair.upstream?.destroy();
    };
    client.on("close", end);
    client.on("error", end);
    if (pair.silent) return;
    const upstream = connect(targetPort, "127.0.0.1");
    pair.upstream = upstream;
    client.on("data", (chunk) => {
      if (!pair.silent) upstream.write(chunk);
    });
    upstream.on("data", (chunk) => {
      if (!pair.silent) client.write(chunk);
    });
    upstream.on("close", () => {
      if (!pair.silent) end();
    });
    upstream.on("error", end);
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
  await listen(0);
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("tcp proxy: no address");
  const port = address.port;
  const destroyAll = () => {
    for (const pair of pairs) {
      pair.client.destroy();
      pair.upstream?.destroy();
    }
  };
  return {
    port,
    blackholeExisting() {
      let n = 0;
      for (const pair of pairs) {
        if (!pair.silent) n++;
        pair.silent = true;
      }
      return n;
    },
    async setMode(next) {
      if (next === mode) return;
      const was = mode;
      mode = next;
      if (was === "refuse") await listen(port);
      if (next === "hang") for (const pair of pairs) pair.silent = true;
      if (next === "refuse") {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        destroyAll();
        await closed;
      }
      if (next === "forward") for (const pair of [...pairs]) if (pair.silent) pair.client.destroy();
    },
    async close() {
      destroyAll();
      if (mode !== "refuse") await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

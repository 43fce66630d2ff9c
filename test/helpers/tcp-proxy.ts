import { createServer, connect, type Socket } from "node:net";

export interface TcpProxy {
  readonly port: number;
  /** Existing connections stop carrying bytes but stay open (a half-open TCP path); new ones work. */
  blackholeExisting(): number;
  close(): Promise<void>;
}

/** A loopback TCP proxy for fault tests: forwards to `targetPort` until told to go silent. */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const pairs = new Set<{ client: Socket; upstream: Socket; silent: boolean }>();
  const server = createServer((client) => {
    const upstream = connect(targetPort, "127.0.0.1");
    const pair = { client, upstream, silent: false };
    pairs.add(pair);
    client.on("data", (chunk) => {
      if (!pair.silent) upstream.write(chunk);
    });
    upstream.on("data", (chunk) => {
      if (!pair.silent) client.write(chunk);
    });
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on("close", end);
    upstream.on("close", () => {
      if (!pair.silent) end();
    });
    client.on("error", end);
    upstream.on("error", end);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("tcp proxy: no address");
  return {
    port: address.port,
    blackholeExisting() {
      let n = 0;
      for (const pair of pairs) {
        if (!pair.silent) n++;
        pair.silent = true;
      }
      return n;
    },
    async close() {
      for (const pair of pairs) {
        pair.client.destroy();
        pair.upstream.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

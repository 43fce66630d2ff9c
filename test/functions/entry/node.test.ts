import { suite } from "uvu";
import * as assert from "uvu/assert";
import { spawn } from "node:child_process";
import { seedExample, startStack, randomIndexKey, type Seeded, type Stack } from "../../helpers/stack.ts";
import { freePort } from "../../helpers/ports.ts";
import { opted, waitFor } from "../../e2e/harness.ts";

/** The one entry point as an operator runs it: config errors, roles, SIGTERM. */
const main = suite<{ stack: Stack; seeded: Seeded }>("main");

main.before(async (ctx) => {
  ctx.stack = await startStack({ postgres: false, podGraceSeconds: 0 });
  ctx.seeded = await seedExample(ctx.stack);
});
main.after(async (ctx) => {
  await ctx.stack?.close();
});

function run(env: Record<string, string>) {
  const child = spawn(process.execPath, ["--import", "tsx", "functions/entry/node.ts"], {
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr.on("data", (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, exited, out: () => out, err: () => err };
}

main("an invalid setting stops start-up with exit 2 and names the variable", async () => {
  const p = run({ LEASEKEEPER_INDEX_KEY: "too-short", LEASEKEEPER_ROLES: "watch,everything" });
  assert.is(await p.exited, 2);
  assert.match(p.err(), /LEASEKEEPER_INDEX_KEY=\(hidden\): must be 32 bytes/);
  assert.match(p.err(), /LEASEKEEPER_ROLES="watch,everything": unknown role "everything"/);
});

main("runs the chosen roles and stops cleanly on SIGTERM, finishing within the bound", async ({ stack, seeded }) => {
  const port = await freePort();
  const p = run({
    LEASEKEEPER_INDEX_KEY: randomIndexKey(),
    LEASEKEEPER_REDIS_URL: stack.redis.url,
    KUBECONFIG: stack.kubeconfigPath,
    VAULT_ADDR: stack.vault.url,
    VAULT_TOKEN: seeded.controllerToken,
    LEASEKEEPER_HTTP_PORT: String(port),
    LEASEKEEPER_HTTP_HOST: "127.0.0.1",
    LEASEKEEPER_ROLES: "watch,functions,workers",
    LEASEKEEPER_SHUTDOWN_TIMEOUT_SECONDS: "5",
  });
  await waitFor(
    "ready",
    async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.ok,
    20_000,
  );
  // The KV-only pod has no database lease; it proves the workers role runs.
  await stack.core.createNamespacedPod({
    namespace: "default",
    body: opted("main-1", { "leasekeeper.io/secret-creds.json": "secret/data/db-pass" }),
  });
  await waitFor("Secret", () =>
    stack.core.readNamespacedSecret({ namespace: "default", name: "main-1-leasekeeper" }).catch(() => undefined),
  );
  assert.not.match(p.out(), /"msg":"reconciled"/, "the reconciler role was not asked for");
  const started = Date.now();
  p.child.kill("SIGTERM");
  assert.is(await p.exited, 0);
  assert.ok(Date.now() - started < 10_000, "stopped within the shutdown bound");
  assert.match(p.out(), /"msg":"leasekeeper stopped"/);
  const refused = await fetch(`http://127.0.0.1:${port}/healthz`).then(
    () => false,
    () => true,
  );
  assert.ok(refused, "HTTP server closed");
});

main.run();

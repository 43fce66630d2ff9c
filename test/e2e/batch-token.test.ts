import { suite } from "uvu";
import * as assert from "uvu/assert";
import { createServer, request, type Server } from "node:http";
import vault from "node-vault";
import { seedExample, startStack, type Seeded, type Stack } from "../helpers/stack.ts";
import { opted, redisDump, startLeasekeeper, waitFor } from "./harness.ts";

/**
 * A pod whose Vault role issues batch tokens (token_type=batch): the login "succeeds" without an
 * accessor. leasekeeper must refuse it once — IssueFailed naming token_type=batch — instead of
 * retrying the issue in a loop. The Vault emulator has no batch tokens yet, so a proxy in front
 * of it answers logins for role "batchy" the way Vault does for a batch role (no accessor,
 * token_type batch, not renewable); everything else passes through unchanged.
 */
const batch = suite<{ stack: Stack; seeded: Seeded; proxy: Server; proxyUrl: string; logins: number }>("batch tokens");

function batchProxy(target: string, onLogin: () => void): Server {
  const upstream = new URL(target);
  return createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const isBatchLogin =
        req.url === "/v1/auth/kubernetes/login" &&
        (JSON.parse(body.toString() || "{}") as { role?: string }).role === "batchy";
      if (isBatchLogin) onLogin();
      const out = request(
        { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          const parts: Buffer[] = [];
          answer.on("data", (c: Buffer) => parts.push(c));
          answer.on("end", () => {
            let text = Buffer.concat(parts).toString();
            if (isBatchLogin && answer.statusCode === 200) {
              const json = JSON.parse(text) as { auth: Record<string, unknown> };
              json.auth = {
                ...json.auth,
                client_token: `hvb.${String(json.auth.client_token).slice(4)}`,
                accessor: "",
                token_type: "batch",
                renewable: false,
                orphan: true,
              };
              text = JSON.stringify(json);
            }
            const { "transfer-encoding": _chunked, ...rest } = answer.headers;
            const headers = { ...rest, "content-length": String(Buffer.byteLength(text)) };
            res.writeHead(answer.statusCode ?? 502, headers).end(text);
          });
        },
      );
      out.on("error", () => res.writeHead(502).end());
      out.end(body);
    });
  });
}

batch.before(async (ctx) => {
  ctx.stack = await startStack({ podGraceSeconds: 0 });
  ctx.seeded = await seedExample(ctx.stack);
  // Hand-made: a workload role like setup.sh's example, but with token_type=batch (which setup.sh never sets).
  const root = vault({ apiVersion: "v1", endpoint: ctx.stack.vault.url, token: ctx.stack.vault.rootToken });
  await root.write("auth/kubernetes/role/batchy", {
    bound_service_account_names: "postgres-vault",
    bound_service_account_namespaces: "default",
    token_policies: "postgres-app",
    audience: "vault",
    token_type: "batch",
  });
  ctx.logins = 0;
  ctx.proxy = batchProxy(ctx.stack.vault.url, () => ctx.logins++);
  await new Promise<void>((r) => ctx.proxy.listen(0, "127.0.0.1", r));
  ctx.proxyUrl = `http://127.0.0.1:${(ctx.proxy.address() as { port: number }).port}`;
});
batch.after(async (ctx) => {
  ctx.proxy?.close();
  await ctx.stack?.close();
});

batch(
  "a batch-token role fails the issue once with IssueFailed naming token_type=batch; other pods are served",
  async (ctx) => {
    const { stack, seeded } = ctx;
    const lk = await startLeasekeeper(stack, seeded, { VAULT_ADDR: ctx.proxyUrl });
    try {
      const pod = await stack.core.createNamespacedPod({
        namespace: "default",
        body: opted("batchy-app", { "leasekeeper.io/role": "batchy" }),
      });
      await stack.core.createNamespacedPod({ namespace: "default", body: opted("service-app") });
      const uid = pod.metadata?.uid ?? "";
      const events = async () =>
        (await stack.core.listNamespacedEvent({ namespace: "default", fieldSelector: `involvedObject.uid=${uid}` }))
          .items;
      const failed = await waitFor("IssueFailed", async () => (await events()).find((e) => e.reason === "IssueFailed"));
      assert.match(failed.message ?? "", /token_type=batch/);
      assert.match(failed.message ?? "", /VaultBatchToken/);
      await waitFor("the other pod's Secret", () =>
        stack.core
          .readNamespacedSecret({ namespace: "default", name: "service-app-leasekeeper" })
          .catch(() => undefined),
      );
      await new Promise((r) => setTimeout(r, 2000));
      // A slow backoff (first wait >= 4 s) rather than quick retries; by now at most one retry ran.
      assert.ok(ctx.logins >= 1 && ctx.logins <= 2, `no retry loop (${ctx.logins} logins as the batch role)`);
      const issueFailed = (await events()).filter((e) => e.reason === "IssueFailed").length;
      assert.ok(issueFailed >= 1 && issueFailed <= 2, `IssueFailed per failed run (${issueFailed})`);
      assert.not.ok(await lk.runtime.deps.index.has(uid), "nothing indexed for the refused pod");
      const failures =
        (await lk.runtime.metrics.jobs.get()).values.find(
          (v) => v.labels.queue === "issue" && v.labels.outcome === "failed",
        )?.value ?? 0;
      assert.ok(failures >= 1 && failures <= 2, `leasekeeper_jobs_total{outcome="failed"}: ${failures}`);
      // The batch token (the emulator's token behind it) never reaches logs, Redis or Events.
      const batchTokens = stack.vault.control
        .tokens()
        .filter((t) => t.role === "batchy")
        .map((t) => t.id.slice(4));
      assert.ok(batchTokens.length >= 1 && batchTokens.length <= 2, `${batchTokens.length} batch tokens`);
      const seen = [lk.logs.join(""), await redisDump(stack.redis.url), JSON.stringify(await events())].join("\n");
      for (const t of batchTokens) assert.not.ok(seen.includes(t), "the batch token leaked");
    } finally {
      await lk.stop();
    }
  },
);

batch.run();

/**
 * The Vault client's handling of login answers, against a stub speaking Vault's envelope: a role
 * with token_type=batch "succeeds" with a token that has no accessor and can be neither renewed
 * nor revoked. That must be a permanent error naming token_type=batch, never a retry, and the
 * token must not appear in it. (The Vault emulator has no batch tokens yet: this stub stands in.)
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createServer, type Server } from "node:http";
import { isPermanent } from "../../shared/errors/errors.ts";
import { createVaultClient } from "../../shared/vault/vault-client.ts";

const BATCH = "hvb.AAAAAQJbatch-token-SECRET";
const SERVICE = "hvs.service-token-SECRET";

function envelope(auth: Record<string, unknown>): string {
  return JSON.stringify({
    request_id: "r",
    lease_id: "",
    renewable: false,
    lease_duration: 0,
    data: null,
    wrap_info: null,
    warnings: null,
    auth,
    mount_type: "kubernetes",
  });
}

async function stub(answer: (role: string) => string): Promise<{ url: string; server: Server; logins: () => number }> {
  let logins = 0;
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      logins++;
      const role = (JSON.parse(body || "{}") as { role?: string }).role ?? "";
      res.writeHead(200, { "content-type": "application/json" }).end(answer(role));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const address = server.address() as { port: number };
  return { url: `http://127.0.0.1:${address.port}`, server, logins: () => logins };
}

const batchAuth = {
  client_token: BATCH,
  accessor: "",
  policies: ["default", "app"],
  token_policies: ["default", "app"],
  metadata: { role: "batchy" },
  lease_duration: 3600,
  renewable: false,
  entity_id: "e",
  token_type: "batch",
  orphan: true,
  mfa_requirement: null,
  num_uses: 0,
};
const serviceAuth = { ...batchAuth, client_token: SERVICE, accessor: "acc-1", renewable: true, token_type: "service" };

test("a batch-token login is a permanent VaultBatchToken error naming token_type=batch, without the token", async () => {
  const vault = await stub((role) => envelope(role === "batchy" ? batchAuth : serviceAuth));
  try {
    const client = createVaultClient({ endpoint: vault.url, controllerToken: undefined, timeoutMs: 2000 });
    const err = await client.kubernetesLogin("kubernetes", "batchy", "jwt").then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(isPermanent(err), `permanent, not retried (${(err as Error)?.name})`);
    assert.is((err as { reason?: string }).reason, "VaultBatchToken");
    assert.match((err as Error).message, /token_type=batch/);
    assert.match((err as Error).message, /role batchy/);
    assert.not.ok(
      JSON.stringify({ m: (err as Error).message, c: (err as { cause?: unknown }).cause }).includes("SECRET"),
      "no token in the error",
    );
    assert.is(vault.logins(), 1, "one request: nothing retried inside the client");
    const auth = await client.kubernetesLogin("kubernetes", "servicy", "jwt");
    assert.equal(
      { accessor: auth.accessor, renewable: auth.renewable, ttl: auth.ttlSeconds },
      { accessor: "acc-1", renewable: true, ttl: 3600 },
    );
  } finally {
    vault.server.close();
  }
});

test("an answer without token_type but without an accessor is refused the same way", async () => {
  const { token_type: _dropped, ...noType } = batchAuth;
  const vault = await stub(() => envelope(noType));
  try {
    const client = createVaultClient({ endpoint: vault.url, controllerToken: undefined, timeoutMs: 2000 });
    const err = await client.kubernetesLogin("kubernetes", "r", "jwt").then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.is((err as { reason?: string }).reason, "VaultBatchToken");
  } finally {
    vault.server.close();
  }
});

test.run();

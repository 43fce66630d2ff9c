/**
 * leasekeeper's Vault client against a token that has expired but that Vault's expiration manager
 * has not revoked yet: lookup-accessor still answers 200 (vault/token_store.go handleLookup reads
 * tainted entries) and revoke-accessor answers 400 "token not found". The client treats both as
 * "gone": nothing to trust, nothing left to revoke, no error.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import vault from "node-vault";
import { createVaultClient } from "../../shared/vault/vault-client.ts";
import { startVaultEmulator, type VaultEmulator } from "../emulators/vault/index.ts";

let v: VaultEmulator;
test.before(async () => {
  v = await startVaultEmulator({ expirationLagMs: 60_000 });
});
test.after(async () => {
  await v.close();
});

test("expired, not yet revoked: lookupAccessor → undefined, revokeAccessor → resolves", async () => {
  const root = vault({ apiVersion: "v1", endpoint: v.url, token: v.rootToken });
  const created = (await root.tokenCreate({ ttl: "2s", policies: ["default"] })) as { auth: { accessor: string } };
  const accessor = created.auth.accessor;
  const client = createVaultClient({ endpoint: v.url, controllerToken: () => v.rootToken, timeoutMs: 2000 });
  assert.ok(await client.lookupAccessor(accessor), "alive: its metadata");
  await new Promise((r) => setTimeout(r, 2500));
  const raw = await fetch(`${v.url}/v1/auth/token/lookup-accessor`, {
    method: "POST",
    headers: { "x-vault-token": v.rootToken },
    body: JSON.stringify({ accessor }),
  });
  assert.is(raw.status, 200, "Vault still answers for the expired token");
  assert.is(await client.lookupAccessor(accessor), undefined, "the client takes it as gone");
  await client.revokeAccessor(accessor);
});

test.run();

/**
 * Contract: an expired token is revoked by the expiration manager, not at the instant of expiry
 * (vault/token_store.go `lookupInternal`; vault/expiration.go). In between, the token no longer
 * authenticates, but `lookup-accessor` and `auth/token/lookup` (tainted lookups) still answer 200,
 * and `revoke-accessor` says `token not found`. The emulator's `expirationLagMs` widens that window.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import vault from "node-vault";
import { startVaultEmulator, type VaultEmulator } from "../emulators/vault/index.ts";
import { failure } from "../emulators/vault/testing.ts";

const LAG_MS = 60_000;
let emu: VaultEmulator;
const client = (token?: string) => vault({ apiVersion: "v1", endpoint: emu.url, token });
const INVALID_TOKEN = "2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n";

test.before(async () => {
  emu = await startVaultEmulator({ expirationLagMs: LAG_MS });
});
test.after(async () => {
  await emu.close();
});

test("expired, not yet revoked: no longer usable, but lookup-accessor and lookup still answer 200", async () => {
  const root = client(emu.rootToken);
  const { auth } = await client(emu.rootToken).tokenCreate({ policies: ["app"], ttl: "2s", meta: { pod: "web-1" } });
  await emu.control.clock.advance(5_000); // expired 3 s ago; the expiration manager lags 60 s

  const use = await failure(client(auth.client_token).tokenLookupSelf());
  assert.equal([use.status, use.message], [403, INVALID_TOKEN]);
  const byAccessor = (await root.tokenLookupAccessor({ accessor: auth.accessor })).data;
  assert.equal([byAccessor.accessor, byAccessor.id, byAccessor.meta], [auth.accessor, "", { pod: "web-1" }]);
  assert.ok(byAccessor.ttl <= 0, `ttl ${byAccessor.ttl} is not positive once expired`);
  assert.ok(Date.parse(byAccessor.expire_time) < emu.control.clock.now());
  assert.is((await root.write("auth/token/lookup", { token: auth.client_token })).data.accessor, auth.accessor);
  const revoke = await failure(root.tokenRevokeAccessor({ accessor: auth.accessor }));
  assert.equal([revoke.status, revoke.message], [400, "token not found"]);
  assert.ok(emu.control.tokens().find((t) => t.accessor === auth.accessor)?.revoked, "control reports it unusable");

  await emu.control.clock.advance(LAG_MS); // the expiration manager's pass revokes it
  const gone = await failure(root.tokenLookupAccessor({ accessor: auth.accessor }));
  assert.equal([gone.status, gone.message], [400, "1 error occurred:\n\t* invalid accessor\n\n"]);
  const lookup = await failure(root.write("auth/token/lookup", { token: auth.client_token }));
  assert.equal([lookup.status, lookup.message], [403, "bad token"]);
});

test("with no lag, clock.advance past expiry still revokes at once (settle semantics kept)", async () => {
  emu.control.setExpirationLag(0);
  const { auth } = await client(emu.rootToken).tokenCreate({ policies: ["app"], ttl: "2s" });
  assert.is((await client(emu.rootToken).tokenLookupAccessor({ accessor: auth.accessor })).data.ttl, 2);
  await emu.control.clock.advance(2_000);
  const gone = await failure(client(emu.rootToken).tokenLookupAccessor({ accessor: auth.accessor }));
  assert.is(gone.status, 400);
});

test.run();

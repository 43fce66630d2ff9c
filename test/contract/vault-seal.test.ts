import { test } from "uvu";
import * as assert from "uvu/assert";
import vault from "node-vault";
import { startVaultEmulator } from "../emulators/vault/index.ts";
import { failure } from "../emulators/vault/testing.ts";

test("uninitialised: health 501 body, seal-status, sealed 503, init then unseal with any 3 of 5", async () => {
  const emu = await startVaultEmulator({ initialized: false });
  try {
    const v = vault({ apiVersion: "v1", endpoint: emu.url });
    const health = await v.health();
    assert.equal({ i: health.initialized, s: health.sealed, sb: health.standby }, { i: false, s: true, sb: true });
    const raw = await fetch(`${emu.url}/v1/sys/health`);
    assert.is(raw.status, 501);
    assert.equal((await v.initialized()).initialized, false);
    const st = await v.status();
    assert.equal([st.initialized, st.sealed, st.t, st.n], [false, true, 0, 0]);
    const sealed = await failure(v.read("secret/data/x"));
    assert.equal([sealed.status, sealed.message], [503, "Vault is sealed"]);

    const bad = await failure(v.init({ secret_shares: 5, secret_threshold: 6 }));
    assert.equal(
      [bad.status, bad.message],
      [400, "invalid seal configuration: threshold cannot be larger than shares"],
    );
    const one = await failure(v.init({ secret_shares: 3, secret_threshold: 1 }));
    assert.is(one.message, "invalid seal configuration: threshold must be greater than one for multiple shares");

    const init = await v.init({ secret_shares: 5, secret_threshold: 3 });
    assert.is(init.keys.length, 5);
    assert.is(new Set(init.keys).size, 5);
    assert.ok(init.keys.every((k: string) => /^[0-9a-f]{66}$/.test(k)));
    assert.is(Buffer.from(init.keys_base64[0], "base64").toString("hex"), init.keys[0]);
    assert.match(init.root_token, /^hvs\./);
    assert.is(
      (await failure(v.init({ secret_shares: 1, secret_threshold: 1 }))).message,
      "Vault is already initialized",
    );
    assert.is((await v.status()).sealed, true);

    let s = await v.unseal({ key: init.keys[4] });
    assert.equal([s.sealed, s.progress, s.t], [true, 1, 3]);
    const nonce = s.nonce;
    assert.match(nonce, /^[0-9a-f-]{36}$/);
    s = await v.unseal({ key: init.keys[4] });
    assert.equal([s.progress, s.nonce], [1, nonce], "duplicate share is ignored");
    s = await v.unseal({ key: init.keys_base64[1] });
    assert.is(s.progress, 2);
    s = await v.unseal({ key: init.keys[2] });
    assert.equal([s.sealed, s.progress, s.nonce], [false, 0, ""]);
    assert.ok(typeof s.cluster_name === "string");

    const root = vault({ apiVersion: "v1", endpoint: emu.url, token: init.root_token });
    assert.equal((await root.tokenLookupSelf()).data.policies, ["root"]);
    assert.is(emu.rootToken, init.root_token);
  } finally {
    await emu.close();
  }
});

test("wrong share is detected only at the threshold: 400 and progress reset", async () => {
  const emu = await startVaultEmulator();
  try {
    const v = vault({ apiVersion: "v1", endpoint: emu.url, token: emu.rootToken });
    await v.seal();
    assert.is((await v.status()).sealed, true);
    await v.unseal({ key: emu.unsealKeys[0] });
    const wrongKey = "ab".repeat(33);
    const s = await v.unseal({ key: wrongKey });
    assert.is(s.progress, 2);
    const err = await failure(v.unseal({ key: emu.unsealKeys[1] }));
    assert.is(err.status, 400);
    assert.match(err.message, /^unable to retrieve stored keys: invalid key: failed to decrypt keys from storage/);
    const after = await v.status();
    assert.equal([after.sealed, after.progress, after.nonce], [true, 0, ""]);
    for (const k of emu.unsealKeys.slice(2)) await v.unseal({ key: k });
    assert.is((await v.status()).sealed, false);
  } finally {
    await emu.close();
  }
});

test("unseal input errors, reset, and reset on an unsealed vault", async () => {
  const emu = await startVaultEmulator();
  try {
    const v = vault({ apiVersion: "v1", endpoint: emu.url, token: emu.rootToken });
    assert.is((await failure(v.unseal({ reset: true }))).message, "vault is unsealed");
    emu.control.seal();
    const missing = await failure(v.unseal({}));
    assert.equal(
      [missing.status, missing.message],
      [400, "'key' must be specified in request body as JSON, or 'reset' set to true"],
    );
    assert.is(
      (await failure(v.unseal({ key: "!!not-a-key!!" }))).message,
      "'key' must be a valid hex or base64 string",
    );
    assert.is((await failure(v.unseal({ key: "asdf" }))).message, "invalid key: key is shorter than minimum 16 bytes");
    assert.is(
      (await failure(v.unseal({ key: "ab".repeat(40) }))).message,
      "invalid key: key is longer than maximum 33 bytes",
    );
    assert.is((await v.unseal({ key: emu.unsealKeys[0] })).progress, 1);
    const reset = await v.unseal({ reset: true, key: emu.unsealKeys[1] });
    assert.equal([reset.progress, reset.nonce], [0, ""]);
  } finally {
    await emu.close();
  }
});

test("sealed vault answers 503 on logical paths, raw sys paths keep working; restartSealed forgets progress", async () => {
  const emu = await startVaultEmulator();
  try {
    const v = vault({ apiVersion: "v1", endpoint: emu.url, token: emu.rootToken });
    await v.write("secret/data/keep", { data: { v: "1" } });
    const denied = await failure(vault({ apiVersion: "v1", endpoint: emu.url, token: "hvs.nope" }).seal());
    assert.is(denied.status, 403);
    const noToken = await failure(vault({ apiVersion: "v1", endpoint: emu.url }).seal());
    assert.equal([noToken.status, noToken.message], [500, "missing client token"]);
    await v.seal();
    await v.seal();
    const h = await fetch(`${emu.url}/v1/sys/health`);
    assert.is(h.status, 503);
    const body = (await h.json()) as Record<string, unknown>;
    assert.equal([body.sealed, body.standby, "cluster_name" in body], [true, true, false]);
    assert.is((await fetch(`${emu.url}/v1/sys/health?sealedcode=200`)).status, 200);
    assert.is((await fetch(`${emu.url}/v1/sys/health?sealedcode=abc`)).status, 400);
    const calls = [
      () => v.tokenLookupSelf(),
      () => v.read("secret/data/keep"),
      () => v.write("sys/leases/renew", { lease_id: "x" }),
    ];
    for (const call of calls) {
      const e = await failure(call());
      assert.equal([e.status, e.message], [503, "Vault is sealed"]);
    }
    const leader = await v.leader();
    assert.equal(leader, { ha_enabled: false });
    await v.unseal({ key: emu.unsealKeys[0] });
    emu.control.restartSealed();
    await new Promise((r) => setTimeout(r, 50)); // let the client notice its dropped keep-alive socket
    assert.is((await v.status()).progress, 0);
    for (const k of emu.unsealKeys.slice(0, 3)) await v.unseal({ key: k });
    assert.equal((await v.read("secret/data/keep")).data.data, { v: "1" }, "storage survives a restart");
  } finally {
    await emu.close();
  }
});

test("single-share vault: the share is the 32-byte key", async () => {
  const emu = await startVaultEmulator({ initialized: false });
  try {
    const v = vault({ apiVersion: "v1", endpoint: emu.url });
    const init = await v.init({ secret_shares: 1, secret_threshold: 1 });
    assert.match(init.keys[0], /^[0-9a-f]{64}$/);
    assert.is((await failure(v.unseal({ key: "cd".repeat(32) }))).status, 400);
    assert.is((await v.unseal({ key: init.keys_base64[0] })).sealed, false);
  } finally {
    await emu.close();
  }
});

test.run();

/**
 * Contract: a raft follower that starts not joined, as an unseal client sees it (vault/raft.go
 * `JoinRaftCluster`, vault/core.go `unsealWithRaft`, vault/logical_system.go `GetSealStatus`,
 * vault/init.go `Initialized`, http/sys_raft.go): uninitialised with t/n 0 until it has the leader's
 * challenge, then the leader's t/n; the final share answers sealed with progress 0 and the node
 * unseals shortly after, as a standby of the leader's cluster.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import vault from "node-vault";
import {
  startVaultActiveService,
  startVaultCluster,
  startVaultEmulator,
  type VaultActiveService,
  type VaultEmulator,
} from "../emulators/vault/index.ts";
import { failure, waitFor } from "../emulators/vault/testing.ts";

let leader: VaultEmulator;
let svc: VaultActiveService;
const followers: VaultEmulator[] = [];
const client = (n: VaultEmulator) => vault({ apiVersion: "v1", endpoint: n.url });
const sealStatus = async (n: VaultEmulator) => (await client(n).status()) as Record<string, unknown>;
const health = async (n: VaultEmulator) => (await fetch(`${n.url}/v1/sys/health`)).status;
const pick = (s: Record<string, unknown>) => [s.initialized, s.sealed, s.t, s.n, s.progress, s.nonce];

test.before(async () => {
  [leader] = (await startVaultCluster(1, { ha: true, sealed: false })) as [VaultEmulator];
  svc = await startVaultActiveService([leader]);
});
test.after(async () => {
  await svc.close();
  for (const f of followers) await f.close();
  await leader.close();
});

async function follower(opts: Parameters<typeof startVaultEmulator>[0]): Promise<VaultEmulator> {
  const f = await startVaultEmulator(opts);
  followers.push(f);
  return f;
}

test("manual join: uninitialised, then the leader's t/n; the last share answers sealed, the node unseals after", async () => {
  const f = await follower({ raft: { unsealDelayMs: 200 } });
  const before = await sealStatus(f);
  assert.equal(pick(before), [false, true, 0, 0, 0, ""]);
  assert.equal([before.type, before.storage_type], ["shamir", "raft"]);
  assert.is(await health(f), 501);
  const early = await failure(client(f).unseal({ key: leader.unsealKeys[0] }));
  assert.equal([early.status, early.message], [400, "Vault is not initialized"]);

  const nowhere = await failure(client(f).write("sys/storage/raft/join", { leader_api_addr: "http://127.0.0.1:1" }));
  assert.equal([nowhere.status, nowhere.message], [500, "failed to join raft cluster: failed to get raft challenge"]);
  assert.equal(await client(f).write("sys/storage/raft/join", { leader_api_addr: leader.url }), { joined: true });
  assert.equal(
    pick(await sealStatus(f)),
    [true, true, 3, 5, 0, ""],
    "t/n come from the leader; initialized while joining",
  );
  assert.is(await health(f), 503);

  const keys = leader.unsealKeys;
  assert.is((await client(f).unseal({ key: keys[0] })).progress, 1);
  assert.is((await client(f).unseal({ key: keys[1] })).progress, 2);
  const last = await client(f).unseal({ key: keys[2] });
  assert.equal([last.sealed, last.progress, last.nonce], [true, 0, ""], "the final share answers sealed, progress 0");
  await waitFor(() => !f.control.isSealed(), 3_000, "unsealed in the background");
  const after = await sealStatus(f);
  assert.equal([after.sealed, after.cluster_id], [false, (await sealStatus(leader)).cluster_id]);
  assert.is(await health(f), 429, "a standby of the leader's cluster");
  await vault({ apiVersion: "v1", endpoint: f.url, token: leader.rootToken }).write("secret/data/joined", {
    data: { ok: true },
  });
  assert.equal(
    (await vault({ apiVersion: "v1", endpoint: leader.url, token: leader.rootToken }).read("secret/data/joined")).data
      .data,
    { ok: true },
  );
  assert.equal(await client(f).write("sys/storage/raft/join", { leader_api_addr: leader.url }), { joined: true });
  const notRaft = await failure(client(leader).write("sys/storage/raft/join", { leader_api_addr: f.url }));
  assert.equal([notRaft.status, notRaft.message], [500, "raft backend not in use"]);
});

test("retry_join through the vault-active Service: uninitialised while no leader is unsealed, then joins and unseals", async () => {
  for (const n of [leader, ...followers]) n.control.seal(); // no active node anywhere
  const f = await follower({ raft: { retryJoin: [svc.url], retryIntervalMs: 300, unsealDelayMs: 100 } });
  await new Promise((r) => setTimeout(r, 400));
  assert.equal(pick(await sealStatus(f)), [false, true, 0, 0, 0, ""], "no leader to join yet");
  leader.control.unseal();
  await waitFor(async () => (await sealStatus(f)).initialized === true, 2_000, "challenge obtained");
  assert.equal(pick(await sealStatus(f)), [true, true, 3, 5, 0, ""]);
  for (const key of leader.unsealKeys.slice(0, 2)) await client(f).unseal({ key });
  const last = await client(f).unseal({ key: leader.unsealKeys[2] });
  assert.equal([last.sealed, last.progress], [true, 0]);
  await waitFor(() => !f.control.isSealed(), 3_000, "unsealed in the background");
  assert.is(await health(f), 429);
});

test("a wrong share at the threshold of a joining node: 500 (the challenge cannot be decrypted), progress reset", async () => {
  const f = await follower({ raft: { unsealDelayMs: 100 } });
  await client(f).write("sys/storage/raft/join", { leader_api_addr: leader.url });
  const [k1, k2, k3] = leader.unsealKeys as [string, string, string];
  const wrong = (k3.slice(0, 2) === "00" ? "01" : "00") + k3.slice(2); // same x coordinate as k3, other bytes
  await client(f).unseal({ key: k1 });
  await client(f).unseal({ key: k2 });
  const err = await failure(client(f).unseal({ key: wrong }));
  assert.equal([err.status, err.message], [500, "error decrypting challenge: cipher: message authentication failed"]);
  assert.equal(pick(await sealStatus(f)), [true, true, 3, 5, 0, ""]);
});

test.run();

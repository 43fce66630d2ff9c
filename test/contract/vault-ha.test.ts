/**
 * Contract: an HA cluster (startVaultCluster(n, { ha: true })) as clients of each pod see it —
 * http/sys_health.go codes on standbys, sys/leader, standbys forwarding requests to the active node
 * (http/handler.go `handleRequestForwarding`) over one shared storage, 307 with
 * X-Vault-No-Request-Forwarding, failover when the active node seals, step-down.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import vault from "node-vault";
import { startVaultCluster, type VaultEmulator } from "../emulators/vault/index.ts";
import { failure, waitFor } from "../emulators/vault/testing.ts";

let nodes: VaultEmulator[] = [];
const client = (n: VaultEmulator, token?: string) =>
  vault({ apiVersion: "v1", endpoint: n.url, token: token ?? n.rootToken });
const status = async (n: VaultEmulator, query = "") => (await fetch(`${n.url}/v1/sys/health${query}`)).status;
const leaderOf = async (n: VaultEmulator) =>
  (await (await fetch(`${n.url}/v1/sys/leader`)).json()) as Record<string, unknown>;

test.before(async () => {
  nodes = await startVaultCluster(3, { ha: true, sealed: false, electionDelayMs: 300 });
  await waitFor(() => nodes[0]!.control.isActive(), 2_000, "replica 0 active");
});
test.after(async () => {
  for (const n of nodes) await n.close();
});

test("sys/health: 200 on the active node, 429 on standbys; standbyok / standbycode / sealedcode honoured", async () => {
  const [a, b] = nodes as [VaultEmulator, VaultEmulator, VaultEmulator];
  assert.equal(await Promise.all(nodes.map((n) => status(n))), [200, 429, 429]);
  assert.is(await status(b, "?standbyok=true"), 200);
  assert.is(await status(b, "?standbycode=299"), 299);
  const body = (await (await fetch(`${b.url}/v1/sys/health`)).json()) as Record<string, unknown>;
  assert.equal(
    [body.standby, body.sealed, body.cluster_id],
    [true, false, ((await (await fetch(`${a.url}/v1/sys/health`)).json()) as Record<string, unknown>).cluster_id],
  );
  const leader = await leaderOf(b);
  assert.equal([leader.ha_enabled, leader.is_self, leader.leader_address], [true, false, a.url]);
  assert.equal([(await leaderOf(a)).is_self], [true]);
});

test("a standby forwards logical requests to the active node; state is the cluster's, not the pod's", async () => {
  const [a, b, c] = nodes as [VaultEmulator, VaultEmulator, VaultEmulator];
  await client(b).write("secret/data/shared", { data: { v: "via-standby" } });
  assert.equal((await client(a).read("secret/data/shared")).data.data, { v: "via-standby" });
  const served = a.control.requests().filter((r) => r.path === "secret/data/shared" && r.forwarded);
  assert.ok(served.length >= 1, "the active node served the forwarded write");
  const { auth } = await client(c).tokenCreate({ policies: ["default"] });
  assert.is((await client(a, auth.client_token).tokenLookupSelf()).data.accessor, auth.accessor);

  const redirect = await fetch(`${b.url}/v1/secret/data/shared?version=1`, {
    headers: { "x-vault-token": b.rootToken, "x-vault-no-request-forwarding": "true" },
    redirect: "manual",
  });
  assert.equal([redirect.status, redirect.headers.get("location")], [307, `${a.url}/v1/secret/data/shared?version=1`]);
  const seal = await failure(client(b).seal());
  assert.equal([seal.status, seal.message], [500, "vault cannot seal when in standby mode; please restart instead"]);
});

test("failover: the active node seals, a standby takes over after its election delay; no active node meanwhile", async () => {
  const [a, b, c] = nodes as [VaultEmulator, VaultEmulator, VaultEmulator];
  a.control.seal();
  assert.equal(await Promise.all(nodes.map((n) => status(n))), [503, 429, 429], "no active node yet");
  const lost = await failure(client(b).read("secret/data/shared"));
  assert.equal([lost.status, lost.message], [500, "local node not active but active cluster node not found"]);
  const noForward = await fetch(`${c.url}/v1/secret/data/shared`, {
    headers: { "x-vault-token": c.rootToken, "x-vault-no-request-forwarding": "1" },
  });
  assert.equal([noForward.status, await noForward.json()], [503, { errors: ["no active Vault instance found"] }]);
  const sealed = await failure(client(a).read("secret/data/shared"));
  assert.equal([sealed.status, sealed.message], [503, "Vault is sealed"]);
  assert.is((await fetch(`${a.url}/v1/sys/leader`)).status, 503, "sys/leader on a sealed HA node");

  await waitFor(() => b.control.isActive(), 2_000, "replica 1 active");
  assert.equal(await Promise.all(nodes.map((n) => status(n))), [503, 200, 429]);
  assert.equal(
    (await client(c).read("secret/data/shared")).data.data,
    { v: "via-standby" },
    "storage survived the failover",
  );
  a.control.unseal();
  assert.is(await status(a), 429, "an unsealed former leader comes back as a standby");
});

test("step-down (sys/step-down, forwarded from a standby) hands leadership to another node", async () => {
  const [a, b] = nodes as [VaultEmulator, VaultEmulator, VaultEmulator];
  await client(a).stepDown();
  assert.not.ok(b.control.isActive(), "the old leader gave up leadership");
  await waitFor(() => nodes.some((n) => n !== b && n.control.isActive()), 2_000, "a new leader");
  assert.is(await status(b), 429);
});

test.run();

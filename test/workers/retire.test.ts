/** retire jobs come through Redis (not trusted): only ids the pod's index record lists as retiring are revoked. */
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { PodRecord } from "../../shared/index/pod-record.ts";
import { createRevokeProcessor } from "../../workers/revoke.ts";
import { fakeJob, fakeWorld, type FakeWorld } from "../fakes/world/worker-deps.ts";

async function podWithRetiring(world: FakeWorld) {
  const mine = world.vault.mint("apps");
  const old = world.vault.mint("apps");
  const oldLease = (await world.vault.readSecret(old.token, "database/creds/r")).leaseId;
  const record: PodRecord = {
    uid: "u-1",
    namespace: "apps",
    name: "web",
    serviceAccount: "web",
    role: "r",
    authPath: "kubernetes",
    secretName: "web-leasekeeper",
    state: "issued",
    accessor: mine.accessor,
    tokenExpiresAt: Date.now() + 3_600_000,
    tokenTtlSeconds: 3600,
    tokenRenewable: true,
    leases: [],
    issuedAt: Date.now(),
    rotations: 1,
    retiring: [
      { kind: "lease", id: oldLease, revokeAt: Date.now() },
      { kind: "accessor", id: old.accessor, revokeAt: Date.now() },
    ],
  };
  await world.index.put(record);
  return { mine, old, oldLease };
}

const retire = (world: FakeWorld, data: { uid: string; kind: "lease" | "accessor"; id: string }) =>
  createRevokeProcessor(world.deps)(fakeJob(data, { name: "retire" })) as Promise<{ outcome: string }>;

test("ids the record lists as retiring are revoked and leave the list", async () => {
  const world = fakeWorld();
  const { old, oldLease } = await podWithRetiring(world);
  assert.is((await retire(world, { uid: "u-1", kind: "lease", id: oldLease })).outcome, "retired");
  assert.is((await retire(world, { uid: "u-1", kind: "accessor", id: old.accessor })).outcome, "retired");
  assert.ok(world.vault.leases.get(oldLease)?.revoked);
  assert.ok(world.vault.tokens.get(old.accessor)?.revoked);
  assert.equal((await world.index.get("u-1"))?.retiring, []);
});

test("an id from the payload alone — another workload's token or lease, the pod's current token — is never revoked", async () => {
  const world = fakeWorld();
  const { mine } = await podWithRetiring(world);
  const victim = world.vault.mint("payments");
  const victimLease = (await world.vault.readSecret(victim.token, "database/creds/r")).leaseId;
  const forged = [
    { uid: "u-1", kind: "accessor" as const, id: victim.accessor },
    { uid: "u-1", kind: "lease" as const, id: victimLease },
    { uid: "u-1", kind: "accessor" as const, id: mine.accessor },
    { uid: "no-such-pod", kind: "accessor" as const, id: victim.accessor },
  ];
  for (const data of forged) assert.is((await retire(world, data)).outcome, "not-retiring", JSON.stringify(data));
  assert.is(world.vault.count("revoke-"), 0, "no revocation reached Vault");
  assert.not.ok(victim.revoked || mine.revoked);
  assert.not.match(world.logs.join(""), new RegExp(victim.accessor), "the forged id is not logged");
});

test.run();

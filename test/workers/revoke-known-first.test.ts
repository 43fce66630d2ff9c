/**
 * revoke: what the index knows is revoked before anything is asked of the Secret or Vault's
 * lookup-accessor, so a failing lookup never keeps a known database user alive (in-memory fakes).
 */
import * as assert from "uvu/assert";
import type { RevokeOutcome } from "../../shared/jobs/job-types.ts";
import type { PodRef } from "../../shared/pods/pod-state.ts";
import { createRenewProcessor } from "../../workers/renew.ts";
import { createRevokeProcessor } from "../../workers/revoke.ts";
import { NAMESPACE, issuedPod, runProcessor, workerSuite, type WorkerFixture } from "../fakes/worker-fixture.ts";
import { rejection } from "../helpers/rejection.ts";

const test = workerSuite("revoke: index-known ids first");

const revoke = (f: WorkerFixture, ref: PodRef) =>
  runProcessor<RevokeOutcome>(createRevokeProcessor(f.deps), "revoke", {
    ...ref,
    source: "watch",
    reason: "pod deleted",
  });

test("lookup-accessor failing does not delay a revoke whose ids the index knows: no lookup is made", async ({ f }) => {
  const { ref, record } = await issuedPod(f, "web-1");
  f.kube.deletePod(NAMESPACE, "web-1");
  for (let i = 0; i < 6; i++) f.vault.failNext("lookupAccessor", 503, "upstream unavailable");
  assert.equal(await revoke(f, ref), { outcome: "revoked", leases: 1, tokenRevoked: true, secretDeleted: true });
  assert.equal(f.vault.liveLeases(), []);
  assert.not.ok(f.vault.tokenLive(record.accessor));
  assert.not.ok(
    f.vault.calls.includes("lookupAccessor"),
    "the Secret's accessor is the index's: revoked, not looked up",
  );
});

test("an accessor only the Secret names, lookup-accessor answering 503: the index's lease and token are revoked at once, the extra one on retry", async ({
  f,
}) => {
  const { ref } = await issuedPod(f, "web-2");
  // A rotation leaves the old token listed as retiring, in the Secret's annotations and the index.
  await runProcessor(createRenewProcessor(f.deps), "renew", { ...ref, force: true }, `renew-${ref.uid}-1700000000000`);
  const rotated = await f.record(ref.uid);
  const old = rotated.retiring.find((r) => r.kind === "accessor")?.id ?? "";
  assert.ok(f.vault.tokenLive(old), "the old token lives through the grace");
  // The index lost it (only the Secret names it now): it needs Vault's confirmation before it is revoked.
  await f.deps.index.put({ ...rotated, retiring: rotated.retiring.filter((r) => r.id !== old) });
  const known = rotated.leases.filter((l) => l.id !== "").map((l) => l.id);
  f.kube.deletePod(NAMESPACE, "web-2");
  f.vault.calls.length = 0;
  f.vault.failNext("lookupAccessor", 503, "upstream unavailable");

  assert.match((await rejection(revoke(f, ref))).message, "HTTP 503");
  const live = f.vault.liveLeases().map((l) => l.id);
  for (const id of known) assert.not.ok(live.includes(id), "the index's lease is revoked although the lookup failed");
  assert.not.ok(f.vault.tokenLive(rotated.accessor), "and the index's token");
  assert.ok(f.vault.tokenLive(old), "the Secret-only token waits for Vault's confirmation");
  assert.ok(
    f.vault.calls.indexOf("revokeLease") < f.vault.calls.indexOf("lookupAccessor"),
    "leases were revoked before the lookup",
  );
  assert.ok(await f.deps.index.get(ref.uid), "the record stays for the retry");

  assert.is((await revoke(f, ref)).outcome, "revoked");
  assert.not.ok(f.vault.tokenLive(old), "confirmed by lookup-accessor, then revoked");
  assert.equal(f.vault.liveLeases(), []);
});

test.run();

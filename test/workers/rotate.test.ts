/** Rotation by a forced renewal (on-call / CI rotate), with the in-memory fakes: new credentials now, old ones retired after the grace. */
import * as assert from "uvu/assert";
import type { RenewOutcome } from "../../shared/jobs/job-types.ts";
import { LABEL_POD_UID } from "../../shared/kube/labels.ts";
import type { PodRef } from "../../shared/pods/pod-state.ts";
import { createRenewProcessor } from "../../workers/renew.ts";
import {
  NAMESPACE,
  issuedPod,
  podFiles,
  queuedRetires,
  runProcessor,
  runToBackoff,
  runRetires,
  workerSuite,
  type WorkerFixture,
} from "../fakes/worker-fixture.ts";

const test = workerSuite("rotation");

/** What the operation worker enqueues for "rotate": a forced renew job with its own id. */
const rotate = (f: WorkerFixture, ref: PodRef) =>
  runProcessor<RenewOutcome>(
    createRenewProcessor(f.deps),
    "renew",
    { ...ref, force: true },
    `renew-${ref.uid}-1700000000000`,
  );
/** The same job when it cannot succeed: it waits out a failure backoff (and is never failed for good). */
const rotateToBackoff = (f: WorkerFixture, ref: PodRef) =>
  runToBackoff(
    createRenewProcessor(f.deps),
    "renew",
    { ...ref, force: true },
    { id: `renew-${ref.uid}-1700000000000` },
  );

/** Makes the pod's Secret look like another pod's, so writing it fails until someone frees the name. */
async function takeSecretName(f: WorkerFixture, name: string): Promise<void> {
  const secret = await f.kube.readSecret(NAMESPACE, name);
  if (!secret?.metadata) throw new Error("no Secret");
  secret.metadata.labels = { ...secret.metadata.labels, [LABEL_POD_UID]: "someone-else" };
  await f.kube.replaceSecret(NAMESPACE, name, secret);
}

test("a forced rotation replaces the token and every credential now; the old ones are revoked after the grace, not before", async ({
  f,
}) => {
  const { ref, record, pod } = await issuedPod(f, "web-1");
  const before = podFiles(f, pod)["creds.json"];
  assert.is((await rotate(f, ref)).outcome, "relogged-in");
  const after = await f.record(ref.uid);
  assert.is.not(after.accessor, record.accessor);
  assert.is.not(podFiles(f, pod)["creds.json"], before, "the pod's file holds new credentials");
  assert.is(after.rotations, 1);
  assert.is(await f.deps.producer.renewPending(record.renewJobId), false, "the renewal it replaced is cancelled");
  assert.is(after.renewJobId, `renew-${ref.uid}-2`);
  const oldLease = record.leases.find((l) => l.id !== "")?.id;
  assert.equal((await queuedRetires(f, ref.uid)).map((r) => [r.data.kind, r.data.id, r.delayMs]).sort(), [
    ["accessor", record.accessor, 30_000],
    ["lease", oldLease, 30_000],
  ]);
  assert.ok(
    f.vault.tokenLive(record.accessor),
    "the old token works through the grace (the kubelet has not refreshed the files yet)",
  );
  await runRetires(f, ref.uid);
  assert.not.ok(f.vault.tokenLive(record.accessor));
  assert.equal(
    f.vault.liveLeases().map((l) => l.accessor),
    [after.accessor],
    "only the new token's lease is live",
  );
});

test("a re-login whose Secret write fails leaves the pod its working credentials and revokes the new token", async ({
  f,
}) => {
  const { ref, record } = await issuedPod(f, "web-2");
  await takeSecretName(f, "web-2-leasekeeper");
  const backoff = await rotateToBackoff(f, ref);
  assert.match(backoff.state.error, "is not owned by this pod");
  assert.is(backoff.state.reason, "SecretNameTaken");
  const after = await f.record(ref.uid);
  assert.is(after.accessor, record.accessor);
  assert.equal(after.retiring, []);
  assert.ok(f.vault.tokenLive(record.accessor), "the pod's token still works");
  const fresh = f.vault.tokens.filter((t) => t.accessor !== record.accessor);
  assert.is(fresh.length, 1);
  assert.not.ok(f.vault.tokenLive(fresh[0]?.accessor ?? ""), "the new token is revoked");
  assert.equal(
    f.vault.liveLeases().map((l) => l.accessor),
    [record.accessor],
    "and the lease read under it with it",
  );
});

test("...and when Vault will not revoke the new token then, it stays recorded, is logged, and a retire job revokes it", async ({
  f,
}) => {
  const { ref, record } = await issuedPod(f, "web-3");
  await takeSecretName(f, "web-3-leasekeeper");
  f.vault.failNext("revokeAccessor", 500, "internal error");
  await rotateToBackoff(f, ref);
  const fresh = f.vault.tokens.find((t) => t.accessor !== record.accessor)?.accessor ?? "";
  assert.ok(f.vault.tokenLive(fresh), "Vault refused to revoke it");
  assert.ok(
    (await f.record(ref.uid)).retiring.some((r) => r.kind === "accessor" && r.id === fresh),
    "the record still names it",
  );
  assert.equal(
    (await queuedRetires(f, ref.uid)).map((r) => [r.data.kind, r.data.id, r.delayMs]),
    [["accessor", fresh, 0]],
  );
  assert.ok(
    f.logs.some((l) => l.includes("could not be revoked")),
    "it is logged",
  );
  assert.not.ok(
    f.logs.some((l) => l.includes(f.vault.tokens.find((t) => t.accessor === fresh)?.token ?? "?")),
    "never the token itself",
  );
  await runRetires(f, ref.uid);
  assert.not.ok(f.vault.tokenLive(fresh));
  assert.equal((await f.record(ref.uid)).retiring, []);
});

test.run();

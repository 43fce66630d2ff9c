/** renew (the act step; the decision is test/workers/renew-plan.test.ts), with the in-memory fakes. */
import * as assert from "uvu/assert";
import type { RenewOutcome } from "../../shared/jobs/job-types.ts";
import type { PodRef } from "../../shared/pods/pod-state.ts";
import { createRenewProcessor } from "../../workers/renew.ts";
import {
  DB,
  NAMESPACE,
  ROLE,
  issuedPod,
  podFiles,
  queuedRetires,
  runProcessor,
  runRetires,
  scheduledRenewal,
  workerSuite,
  type WorkerFixture,
} from "../fakes/worker-fixture.ts";

const test = workerSuite("renew processor");

const renew = (f: WorkerFixture, ref: PodRef, jobId: string | undefined) =>
  runProcessor<RenewOutcome>(createRenewProcessor(f.deps), "renew", { ...ref, force: false }, jobId);
const username = (f: WorkerFixture, name: string) =>
  (JSON.parse(podFiles(f, { metadata: { name } })["creds.json"] ?? "{}") as { username?: string }).username;
const TWO_THIRDS_OF_AN_HOUR = 2400_000;

test("due: token and lease are extended in place, the Secret is untouched, the next renewal is the next in sequence", async ({
  f,
}) => {
  const { ref, record } = await issuedPod(f, "web-1");
  const secretBefore = await f.kube.readSecret(NAMESPACE, "web-1-leasekeeper");
  f.advance(TWO_THIRDS_OF_AN_HOUR);
  const outcome = await renew(f, ref, record.renewJobId);
  assert.equal(outcome, { outcome: "renewed", leases: 2, rotated: 0, nextRenewInMs: TWO_THIRDS_OF_AN_HOUR });
  const [lease] = f.vault.liveLeases();
  assert.is(lease?.expiresAt, f.deps.now() + 3600_000, "the lease runs a full hour from now");
  assert.is(
    (await f.kube.readSecret(NAMESPACE, "web-1-leasekeeper"))?.metadata?.resourceVersion,
    secretBefore?.metadata?.resourceVersion,
  );
  const after = await f.record(ref.uid);
  assert.is(after.renewSeq, 2);
  assert.is(after.renewJobId, `renew-${ref.uid}-2`);
  assert.is((await scheduledRenewal(f, ref.uid))?.via, "timer");
  assert.not.ok(await f.deps.producer.renewPending(record.renewJobId), "the timer that ran is gone");
  assert.equal(await queuedRetires(f, ref.uid), []);
});

test("a lease near its max TTL is rotated: new credentials in the Secret now, the old lease revoked only after the grace", async ({
  f,
}) => {
  f.vault.secrets.set("database/creds/app", {
    ...DB,
    lease: { ttlSeconds: 3600, maxTtlSeconds: 4000, renewable: true },
  });
  const { ref, record } = await issuedPod(f, "web-2");
  const oldLease = record.leases.find((l) => l.id !== "")?.id ?? "";
  const oldUser = username(f, "web-2");
  f.advance(TWO_THIRDS_OF_AN_HOUR);
  assert.is((await renew(f, ref, record.renewJobId)).outcome, "renewed");
  const newLease = (await f.record(ref.uid)).leases.find((l) => l.id !== "")?.id;
  assert.ok(newLease && newLease !== oldLease, "a new lease is current");
  assert.is.not(username(f, "web-2"), oldUser, "the pod's file holds the new credentials");
  assert.equal(
    f.vault
      .liveLeases()
      .map((l) => l.id)
      .sort(),
    [oldLease, newLease].sort(),
    "the old lease lives on through the grace",
  );
  assert.equal(
    (await queuedRetires(f, ref.uid)).map((r) => [r.data.kind, r.data.id, r.delayMs]),
    [["lease", oldLease, 30_000]],
  );
  assert.ok(f.kube.events.some((e) => e.event.reason === "CredentialsRotated"));

  await runRetires(f, ref.uid);
  assert.equal(
    f.vault.liveLeases().map((l) => l.id),
    [newLease],
    "after the grace only the new lease is live",
  );
  assert.equal((await f.record(ref.uid)).retiring, []);
});

test("a lease Vault lost is replaced at once and the pod gets a Warning event", async ({ f }) => {
  const { ref, record } = await issuedPod(f, "web-3");
  const lost = record.leases.find((l) => l.id !== "")?.id ?? "";
  await f.vault.revokeLease(lost);
  f.advance(TWO_THIRDS_OF_AN_HOUR);
  assert.is((await renew(f, ref, record.renewJobId)).outcome, "renewed");
  assert.equal(
    f.vault.liveLeases().map((l) => l.id),
    (await f.record(ref.uid)).leases.map((l) => l.id).filter(Boolean),
  );
  assert.equal(username(f, "web-3"), `v-${(f.vault.liveLeases()[0]?.id ?? "").slice("database/creds/app/".length)}`);
  assert.ok(
    f.kube.events.some(
      (e) =>
        e.event.reason === "CredentialsRenewed" && e.event.type === "Warning" && e.event.message.includes("creds.json"),
    ),
  );
});

test("the pod token near its max TTL: log in again, read everything under the new token, retire the old token after the grace", async ({
  f,
}) => {
  f.vault.roles.set("app", { ...ROLE, tokenTtlSeconds: 3600, tokenMaxTtlSeconds: 4000 });
  const { ref, record } = await issuedPod(f, "web-4");
  f.advance(TWO_THIRDS_OF_AN_HOUR);
  assert.is((await renew(f, ref, record.renewJobId)).outcome, "relogged-in");
  const after = await f.record(ref.uid);
  assert.is.not(after.accessor, record.accessor);
  assert.ok(
    f.vault.tokenLive(after.accessor) && f.vault.tokenLive(record.accessor),
    "both tokens live through the grace",
  );
  assert.equal(
    f.vault.liveLeases().find((l) => l.accessor === after.accessor)?.id,
    after.leases.find((l) => l.id !== "")?.id,
    "the new lease is the new token's child",
  );
  assert.equal((await queuedRetires(f, ref.uid)).map((r) => r.data.kind).sort(), ["accessor", "lease"]);
  await runRetires(f, ref.uid);
  assert.not.ok(f.vault.tokenLive(record.accessor), "the old token is revoked after the grace");
  assert.ok(f.vault.tokenLive(after.accessor));
});

test("a renew job that is not the current one changes nothing", async ({ f }) => {
  const { ref } = await issuedPod(f, "web-5");
  const calls = f.vault.calls.length;
  assert.equal(await renew(f, ref, `renew-${ref.uid}-99`), { outcome: "stale" });
  assert.is(f.vault.calls.length, calls);
});

test("the pod is gone at renewal: a revoke is queued and nothing is renewed", async ({ f }) => {
  const { ref, record } = await issuedPod(f, "web-6");
  f.kube.deletePod(NAMESPACE, "web-6");
  assert.equal(await renew(f, ref, record.renewJobId), { outcome: "pod-gone" });
  const revoke = await f.deps.producer.queues.revoke.getJob(`revoke-${ref.uid}`);
  assert.is((revoke?.data as { reason?: string }).reason, "pod gone at renewal");
  assert.not.ok(f.vault.calls.includes("renewLease"));
});

test.run();

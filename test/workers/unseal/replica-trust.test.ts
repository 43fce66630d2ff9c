/**
 * Unseal jobs come through Redis, which is not trusted: a job only names a replica. Key shares go
 * to configured addresses, or to Vault pods re-read from the API server and re-checked against the
 * configured namespace, selector and StatefulSet owner; never more than the threshold per attempt;
 * pod addresses use https unless configured otherwise.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { randomBytes } from "node:crypto";
import type { Job } from "bullmq";
import type { V1Pod } from "@kubernetes/client-node";
import { startKmsEmulator, type KmsEmulator } from "../../emulators/kms/index.ts";
import { startVaultEmulator, type VaultEmulator } from "../../emulators/vault/index.ts";
import { startRedis, type RedisServer } from "../../helpers/redis.ts";
import { loadConfig } from "../../../shared/config/config.ts";
import type { UnsealJob, UnsealOutcome } from "../../../shared/jobs/job-types.ts";
import { createReplicaTrust } from "../../../shared/unseal/replica-trust.ts";
import type { ReplicaRef } from "../../../shared/unseal/replicas.ts";
import type { ReplicaSealStatus, VaultReplicaPort } from "../../../shared/unseal/vault-replica-client.ts";
import { createUnsealProcessor } from "../../../workers/unseal/processor.ts";
import { makeFixture, trustAddresses, type Fixture, type FixtureOptions } from "./fixture.ts";

let kms: KmsEmulator;
let redis: RedisServer;
let keyId: string;
const open: { close(): Promise<void> }[] = [];

test.before(async () => {
  kms = await startKmsEmulator();
  redis = await startRedis();
  keyId = (await kms.createKey({ alias: "alias/trust-test" })).keyId;
});
test.after(async () => {
  for (const o of open.reverse()) await o.close();
  await redis.stop();
  await kms.close();
});

async function sealedVault(): Promise<VaultEmulator> {
  const v = await startVaultEmulator({ sealed: true });
  open.push(v);
  return v;
}
async function fixtureWithKeysOf(v: VaultEmulator, extra: Partial<FixtureOptions> = {}): Promise<Fixture> {
  const f = makeFixture({ kms, keyId, redisUrl: redis.url, ...extra });
  open.push(f);
  await f.keys.save({ shares: v.unsealKeys.map((k) => Buffer.from(k, "hex")) }, { overwrite: false });
  return f;
}
const job = (replica: ReplicaRef): Job =>
  ({ id: "t", data: { replica, source: "api", requestedAt: Date.now() } satisfies UnsealJob }) as unknown as Job;
const hits = (v: VaultEmulator) => v.control.requests().filter((r) => r.path.startsWith("sys/"));

const POD_SETTINGS = {
  vaultReplicas: [],
  vaultPodNamespace: "vault",
  vaultPodSelector: "app.kubernetes.io/name=vault,component=server",
};
function vaultPod(
  overrides: { namespace?: string; labels?: Record<string, string>; owner?: string | undefined } = {},
): V1Pod {
  const owner = "owner" in overrides ? overrides.owner : "StatefulSet";
  return {
    metadata: {
      name: "vault-0",
      namespace: overrides.namespace ?? "vault",
      uid: randomBytes(8).toString("hex"),
      labels: overrides.labels ?? { "app.kubernetes.io/name": "vault", component: "server" },
      ownerReferences: owner
        ? [
            {
              apiVersion: owner === "StatefulSet" ? "apps/v1" : "v1",
              kind: owner,
              name: "vault",
              uid: "sts-uid",
              controller: true,
            },
          ]
        : [],
    },
    status: { podIP: "127.0.0.1" },
  };
}

test("a job naming an address outside LEASEKEEPER_VAULT_REPLICAS is refused; that address gets no request at all", async () => {
  const trusted = await sealedVault();
  const elsewhere = await sealedVault();
  const f = await fixtureWithKeysOf(trusted);
  const run = createUnsealProcessor(f.deps, trustAddresses(trusted.url));
  const out = (await run(job({ kind: "address", addr: elsewhere.url }))) as UnsealOutcome;
  assert.is(out.outcome, "refused");
  assert.equal(hits(elsewhere), [], "not even seal-status was asked");
  assert.ok(elsewhere.control.isSealed());
  // The configured one (also written with a trailing slash) is unsealed as before.
  const ok = (await run(job({ kind: "address", addr: `${trusted.url}/` }))) as UnsealOutcome;
  assert.is(ok.outcome, "unsealed");
});

test("pod jobs: only a pod in the configured namespace, matching the selector and controlled by a StatefulSet", async () => {
  const target = await sealedVault();
  const port = Number(new URL(target.url).port);
  const cases: Array<[string, ReplicaRef, V1Pod]> = [
    ["another namespace", { kind: "pod", namespace: "apps", name: "vault-0" }, vaultPod({ namespace: "apps" })],
    [
      "labels do not match",
      { kind: "pod", namespace: "vault", name: "vault-0" },
      vaultPod({ labels: { app: "mine" } }),
    ],
    ["no StatefulSet owner", { kind: "pod", namespace: "vault", name: "vault-0" }, vaultPod({ owner: undefined })],
    ["owned by a ReplicaSet", { kind: "pod", namespace: "vault", name: "vault-0" }, vaultPod({ owner: "ReplicaSet" })],
  ];
  for (const [why, ref, pod] of cases) {
    const f = await fixtureWithKeysOf(target, {
      pods: { listVaultPods: async () => [pod], readPod: async () => pod },
      settings: { podScheme: "http", podPort: port },
    });
    const out = (await createUnsealProcessor(f.deps, createReplicaTrust(POD_SETTINGS))(job(ref))) as UnsealOutcome;
    assert.is(out.outcome, "refused", why);
    assert.equal(hits(target), [], `${why}: the pod's address got a request`);
  }
  // With addresses configured, pods are not trusted at all.
  const byAddress = await fixtureWithKeysOf(target, {
    pods: { listVaultPods: async () => [], readPod: async () => vaultPod() },
    settings: { podScheme: "http", podPort: port },
  });
  const refused = (await createUnsealProcessor(
    byAddress.deps,
    trustAddresses("https://vault.example:8200"),
  )(job({ kind: "pod", namespace: "vault", name: "vault-0" }))) as UnsealOutcome;
  assert.is(refused.outcome, "refused");
  assert.equal(hits(target), []);
  // The Helm chart's pod, as the API server shows it now: unsealed at its current IP.
  const good = await fixtureWithKeysOf(target, {
    pods: { listVaultPods: async () => [], readPod: async () => vaultPod() },
    settings: { podScheme: "http", podPort: port },
  });
  const out = (await createUnsealProcessor(
    good.deps,
    createReplicaTrust(POD_SETTINGS),
  )(job({ kind: "pod", namespace: "vault", name: "vault-0" }))) as UnsealOutcome;
  assert.is(out.outcome, "unsealed");
});

test("a replica that stays sealed gets the threshold of shares per attempt and no more, even if it says it restarted", async () => {
  const keys = await sealedVault();
  for (const behaviour of ["progress keeps climbing", "progress falls back (claims a restart)"]) {
    const received: string[] = [];
    let progress = 0;
    const status = (): ReplicaSealStatus => ({
      initialized: true,
      sealed: true,
      threshold: 3,
      shares: 5,
      progress,
      nonce: "n",
    });
    const liar: VaultReplicaPort = {
      sealStatus: async () => status(),
      submitUnsealKey: async (_addr, share) => {
        received.push(Buffer.from(share).toString("hex"));
        progress = behaviour.startsWith("progress keeps") ? progress + 1 : progress === 2 ? 1 : progress + 1;
        return status();
      },
      resetUnseal: async () => {
        progress = 0;
        return status();
      },
      initialize: async () => {
        throw new Error("no");
      },
    };
    const f = await fixtureWithKeysOf(keys, { replicas: liar });
    const out = (await createUnsealProcessor(
      f.deps,
      trustAddresses("http://127.0.0.1:9"),
    )(job({ kind: "address", addr: "http://127.0.0.1:9" }))) as UnsealOutcome;
    assert.is(out.outcome === "bad-keys" || out.outcome === "unreachable", true, `${behaviour}: ${out.outcome}`);
    assert.ok(
      new Set(received).size <= 3,
      `${behaviour}: ${new Set(received).size} distinct shares of 5 sent to a replica that stayed sealed`,
    );
    if (behaviour.startsWith("progress keeps")) assert.is(received.length, 3, "stops after the threshold");
  }
});

test("pod addresses use https unless LEASEKEEPER_VAULT_POD_SCHEME says otherwise", () => {
  const base = { LEASEKEEPER_INDEX_KEY: randomBytes(32).toString("base64") };
  assert.is(loadConfig(base).vaultPodScheme, "https");
  assert.is(loadConfig({ ...base, LEASEKEEPER_VAULT_POD_SCHEME: "http" }).vaultPodScheme, "http");
  assert.throws(
    () => loadConfig({ ...base, LEASEKEEPER_VAULT_POD_SELECTOR: "app in vault" }),
    /LEASEKEEPER_VAULT_POD_SELECTOR/,
  );
});

test.run();

/**
 * What VaultPort and KubePort promise, written once and run against both the in-memory fakes
 * (test/fakes/fake-ports.test.ts) and the real clients on the emulators
 * (test/contract/port-contract.test.ts), so the fakes the worker tests use cannot drift from
 * what the real clients do on the wire.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import type { V1Pod } from "@kubernetes/client-node";
import { isPermanent, isRetryLater } from "../../shared/errors/errors.ts";
import { isAlreadyExists } from "../../shared/errors/kube-errors.ts";
import { FINALIZER_REVOKE } from "../../shared/kube/labels.ts";
import { buildPodSecret } from "../../shared/kube/pod-secret.ts";
import type { KubePort, VaultPort } from "../../shared/ports/vault-kube.ts";
import { rejection } from "../helpers/rejection.ts";

export interface VaultSubject {
  readonly vault: VaultPort;
  /** A service-account JWT of `namespace` that the role `role` at auth/kubernetes accepts. */
  jwt(): Promise<string>;
  readonly role: string;
  readonly namespace: string;
  /** Readable by the role: a KV secret whose data holds `password`, and a secret with a renewable lease. */
  readonly kvPath: string;
  readonly kvPassword: string;
  readonly leasePath: string;
  /** Not readable by the role. */
  readonly deniedPath: string;
  close(): Promise<void>;
}

export interface KubeSubject {
  readonly kube: KubePort;
  readonly namespace: string;
  /** Creates a pod running as `serviceAccount` in `namespace`. */
  createPod(name: string, serviceAccount: string): Promise<V1Pod>;
  close(): Promise<void>;
}

/** A uvu suite whose tests share one subject as `s`, set up before and closed after. */
function subjectSuite<S extends { close(): Promise<void> }>(name: string, setup: () => Promise<S>) {
  const test = suite<{ s: S }>(name);
  test.before(async (ctx) => {
    ctx.s = await setup();
  });
  test.after(async (ctx) => ctx.s?.close());
  return test;
}

export function vaultPortContract(name: string, setup: () => Promise<VaultSubject>): void {
  const test = subjectSuite(`VaultPort contract: ${name}`, setup);

  test("login as the pod: a renewable token with an accessor Vault maps back to the namespace", async ({ s }) => {
    const auth = await s.vault.kubernetesLogin("kubernetes", s.role, await s.jwt());
    assert.ok(auth.token.length > 0 && auth.accessor.length > 0 && auth.token !== auth.accessor);
    assert.ok(auth.ttlSeconds > 0);
    assert.is(auth.renewable, true);
    assert.is((await s.vault.lookupAccessor(auth.accessor))?.service_account_namespace, s.namespace);
    const renewed = await s.vault.renewSelf(auth.token, 60);
    assert.is(renewed.accessor, auth.accessor);
    assert.ok(renewed.ttlSeconds > 0 && renewed.ttlSeconds <= 60);
  });

  test("login refusals are permanent: an unknown role, a JWT Kubernetes does not know", async ({ s }) => {
    const role = await rejection(s.vault.kubernetesLogin("kubernetes", "no-such-role", await s.jwt()));
    assert.ok(isPermanent(role));
    assert.is(role.reason, "VaultInvalidRole");
    assert.ok(isPermanent(await rejection(s.vault.kubernetesLogin("kubernetes", s.role, "not-a-jwt"))));
  });

  test("read: KV has no lease; a dynamic secret has a renewable lease named after its path; a denied path is permanent", async ({
    s,
  }) => {
    const auth = await s.vault.kubernetesLogin("kubernetes", s.role, await s.jwt());
    const kv = await s.vault.readSecret(auth.token, s.kvPath);
    assert.is(kv.leaseId, "");
    assert.is(JSON.stringify(kv.data).includes(s.kvPassword), true);
    const leased = await s.vault.readSecret(auth.token, s.leasePath);
    assert.ok(leased.leaseId.startsWith(`${s.leasePath}/`));
    assert.ok(leased.leaseDurationSeconds > 0);
    assert.is(leased.renewable, true);
    const denied = await rejection(s.vault.readSecret(auth.token, s.deniedPath));
    assert.ok(isPermanent(denied));
    assert.is(denied.reason, "VaultPermissionDenied");
  });

  test("lease renew is capped by what was asked; revoked, it is gone for good and revoking again is fine", async ({
    s,
  }) => {
    const auth = await s.vault.kubernetesLogin("kubernetes", s.role, await s.jwt());
    const leased = await s.vault.readSecret(auth.token, s.leasePath);
    const renewal = await s.vault.renewLease(leased.leaseId, 120);
    assert.ok(renewal.ttlSeconds > 0 && renewal.ttlSeconds <= 120);
    await s.vault.revokeLease(leased.leaseId);
    await s.vault.revokeLease(leased.leaseId);
    assert.ok(isPermanent(await rejection(s.vault.renewLease(leased.leaseId, 120))));
  });

  test("revoke by accessor: the token stops working, lookup says unknown, revoking again is fine", async ({ s }) => {
    const auth = await s.vault.kubernetesLogin("kubernetes", s.role, await s.jwt());
    await s.vault.revokeAccessor(auth.accessor);
    assert.is(await s.vault.lookupAccessor(auth.accessor), undefined);
    assert.ok(isPermanent(await rejection(s.vault.readSecret(auth.token, s.kvPath))));
    assert.ok(isPermanent(await rejection(s.vault.renewSelf(auth.token, 60))));
    await s.vault.revokeAccessor(auth.accessor);
    await s.vault.revokeAccessor("no-such-accessor");
    assert.is(await s.vault.lookupAccessor("no-such-accessor"), undefined);
  });

  test.run();
}

export function kubePortContract(name: string, setup: () => Promise<KubeSubject>): void {
  const test = subjectSuite(`KubePort contract: ${name}`, setup);

  test("read and list pods; a missing pod reads as undefined", async ({ s }) => {
    const pod = await s.createPod("contract-a", "app");
    const read = await s.kube.readPod(s.namespace, "contract-a");
    assert.is(read?.metadata?.uid, pod.metadata?.uid);
    assert.ok((await s.kube.listPods([s.namespace])).some((p) => p.metadata?.uid === pod.metadata?.uid));
    assert.is(await s.kube.readPod(s.namespace, "no-such-pod"), undefined);
  });

  test("TokenRequest bound to the pod; a pod that is not there (or another UID) is refused", async ({ s }) => {
    const pod = await s.createPod("contract-b", "app");
    const request = {
      namespace: s.namespace,
      serviceAccount: "app",
      podName: "contract-b",
      podUid: pod.metadata?.uid ?? "",
      audience: "vault",
      expirationSeconds: 600,
    };
    assert.ok((await s.kube.requestPodToken(request)).length > 0);
    assert.ok(isPermanent(await rejection(s.kube.requestPodToken({ ...request, podName: "no-such-pod" }))));
    assert.ok(isRetryLater(await rejection(s.kube.requestPodToken({ ...request, podUid: "another-uid" }))));
  });

  test("TokenReview: a pod token is authenticated for its audience only; garbage is not", async ({ s }) => {
    const pod = await s.createPod("contract-r", "app");
    const token = await s.kube.requestPodToken({
      namespace: s.namespace,
      serviceAccount: "app",
      podName: "contract-r",
      podUid: pod.metadata?.uid ?? "",
      audience: "vault",
      expirationSeconds: 600,
    });
    assert.is(await s.kube.reviewToken(token, "vault"), true);
    assert.is(await s.kube.reviewToken(token, "someone-else"), false);
    assert.is(await s.kube.reviewToken("not-a-token", "vault"), false);
  });

  test("Secrets: create, AlreadyExists, replace at the read version only, list by pod UID, delete twice, release the finalizer", async ({
    s,
  }) => {
    const pod = await s.createPod("contract-c", "app");
    const ref = { namespace: s.namespace, name: "contract-c", uid: pod.metadata?.uid ?? "" };
    const request = {
      role: "app",
      authPath: "kubernetes",
      secretName: "contract-c-leasekeeper",
      secrets: [{ file: "creds.json", path: "secret/data/x" }],
    };
    const content = (text: string) => ({
      accessor: "acc",
      leases: [],
      retiring: [],
      files: { "creds.json": text },
      tagLease: (id: string) => `tag-${id}`,
    });
    await s.kube.createSecret(s.namespace, buildPodSecret(ref, request, content("one")));
    const again = await rejection(s.kube.createSecret(s.namespace, buildPodSecret(ref, request, content("one"))));
    assert.ok(isAlreadyExists(again), "a second create is AlreadyExists");
    const current = await s.kube.readSecret(s.namespace, request.secretName);
    assert.is(Buffer.from(current?.data?.["creds.json"] ?? "", "base64").toString(), "one");
    const next = buildPodSecret(ref, request, content("two"));
    next.metadata = { ...next.metadata, resourceVersion: current?.metadata?.resourceVersion };
    await s.kube.replaceSecret(s.namespace, request.secretName, next);
    const stale = await rejection(s.kube.replaceSecret(s.namespace, request.secretName, next));
    assert.ok(
      isRetryLater(stale) && !isAlreadyExists(stale),
      "a replace at an old version is a conflict, retried later",
    );
    const listed = await s.kube.listManagedSecrets([s.namespace], ref.uid);
    // Metadata only: the Secret's name and its recovery annotations, never its data.
    assert.equal(
      listed.map((x) => [x.metadata.name, x.metadata.resourceVersion, "data" in x]),
      [
        [
          request.secretName,
          (await s.kube.readSecret(s.namespace, request.secretName))?.metadata?.resourceVersion,
          false,
        ],
      ],
    );
    assert.equal(await s.kube.listManagedSecrets([s.namespace], "another-uid"), []);
    // Held by leasekeeper's finalizer: a delete marks the Secret; releasing it (another UID: nothing) finishes the deletion.
    await s.kube.deleteSecret(s.namespace, request.secretName);
    await s.kube.deleteSecret(s.namespace, request.secretName);
    const pending = await s.kube.readSecret(s.namespace, request.secretName);
    assert.ok(pending?.metadata?.deletionTimestamp, "a deleted Secret with a finalizer is only marked");
    assert.equal(pending?.metadata?.finalizers, [FINALIZER_REVOKE]);
    await s.kube.releaseSecret(s.namespace, request.secretName, "another-uid");
    assert.ok(await s.kube.readSecret(s.namespace, request.secretName), "another UID's release changes nothing");
    await s.kube.releaseSecret(s.namespace, request.secretName, pending?.metadata?.uid ?? "");
    assert.is(await s.kube.readSecret(s.namespace, request.secretName), undefined);
    await s.kube.releaseSecret(s.namespace, request.secretName, pending?.metadata?.uid ?? "");
  });

  test("Events on a pod are recorded", async ({ s }) => {
    const pod = await s.createPod("contract-d", "app");
    await s.kube.recordEvent(
      { namespace: s.namespace, name: "contract-d", uid: pod.metadata?.uid ?? "" },
      { reason: "CredentialsIssued", message: "Issued 1 file", type: "Normal" },
    );
  });

  test.run();
}

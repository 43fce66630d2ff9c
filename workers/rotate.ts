import type { V1Pod } from "@kubernetes/client-node";
import type { LeaseRecord, PodRecord, Retiring } from "../shared/index/pod-record.ts";
import type { PodRequest } from "../shared/pods/pod-contract.ts";
import { readPodContract } from "../shared/pods/read-contract.ts";
import type { PodRef } from "../shared/pods/pod-state.ts";
import { PermanentError, messageOf } from "../shared/errors/errors.ts";
import { loginAsPod, readSecrets, secretFiles, writePodSecret } from "./credentials.ts";
import type { WorkerDeps } from "./deps.ts";
import { withSharedDependencies } from "./refresh.ts";

/** The request a record was issued for, re-read from the pod (annotations may not have changed meaning). */
export function requestFor(deps: WorkerDeps, pod: V1Pod, record: PodRecord): PodRequest {
  const contract = readPodContract(pod, deps.settings);
  if (contract.kind === "request") return contract.request;
  // The pod's annotations became invalid after issue: keep serving what was issued.
  return {
    role: record.role,
    authPath: record.authPath,
    secretName: record.secretName,
    secrets: [...new Map(record.leases.map((l) => [l.file, { file: l.file, path: l.path }])).values()],
  };
}

/** When credentials replaced now are revoked: after the rotation grace, counted from the Secret write. */
function afterGrace(deps: WorkerDeps): number {
  return deps.now() + deps.settings.rotationGraceSeconds * 1000;
}

/**
 * Retires what a rotation replaced, once the Secret with their successors is written: each is
 * revoked the rotation grace after that write (the kubelet needs that long to show the pod the
 * new files), never sooner — not even when it would expire before; then Vault's expiry comes
 * first and the revocation finds it gone. Returns the record's retiring list with them in it.
 */
async function retireReplaced(
  deps: WorkerDeps,
  uid: string,
  before: readonly Retiring[],
  replaced: readonly Retiring[],
): Promise<Retiring[]> {
  const revokeAt = afterGrace(deps);
  const retiring = [...before, ...replaced.map((item) => ({ ...item, revokeAt }))];
  for (const item of replaced) await deps.producer.retire({ uid, kind: item.kind, id: item.id }, revokeAt - deps.now());
  return retiring;
}

/**
 * The pod token cannot be extended (or was lost with Redis): log in again as the pod, read
 * everything under the new token, update the Secret, and retire the old token (which takes
 * its leases with it) after the grace.
 */
export async function reloginAndRotate(
  deps: WorkerDeps,
  pod: V1Pod,
  ref: PodRef,
  record: PodRecord,
): Promise<PodRecord> {
  const request = requestFor(deps, pod, record);
  const auth = await loginAsPod(deps, pod, ref, request);
  // Until the new credentials are in the Secret, the old token stays current and the new one is
  // recorded as retiring: a crash or failure here leaves the pod its working credentials, and the
  // new token (with any lease read under it) is revoked with the pod at the latest.
  const pending: Retiring[] = [{ kind: "accessor", id: auth.accessor, revokeAt: deps.now() + auth.ttlSeconds * 1000 }];
  await deps.index.put({ ...record, retiring: [...record.retiring, ...pending] });
  // Each new lease is recorded as soon as it exists, so a crash before the Secret is written leaves its id.
  const pendingLeases: string[] = [];
  const onLease = async (lease: LeaseRecord) => {
    pendingLeases.push(lease.id);
    pending.push({ kind: "lease", id: lease.id, revokeAt: lease.expiresAt });
    await deps.index.put({ ...record, retiring: [...record.retiring, ...pending] });
  };
  let read: Awaited<ReturnType<typeof readSecrets>>;
  // What the Secret's annotations list as retiring; the times are set again once it is written.
  const replaced: Retiring[] = [{ kind: "accessor", id: record.accessor, revokeAt: afterGrace(deps) }];
  for (const lease of record.leases)
    if (lease.id) replaced.push({ kind: "lease", id: lease.id, revokeAt: afterGrace(deps) });
  const retiring: Retiring[] = [...record.retiring, ...replaced];
  try {
    read = await readSecrets(deps, auth.token, request.secrets, { ...request, onLease });
    const existing = await deps.kube.readSecret(ref.namespace, request.secretName);
    await writePodSecret(
      deps,
      { ref, request },
      { accessor: auth.accessor, leases: read.leases, retiring, files: read.files },
      existing,
    );
  } catch (err) {
    // Leases read under the new token go at once (synchronously), then the token itself.
    const unrevoked: Retiring[] = [];
    for (const id of pendingLeases) {
      await deps.vault.revokeLease(id).catch(() => unrevoked.push({ kind: "lease", id, revokeAt: 0 }));
    }
    await abandonLogin(deps, ref, record, [...pending.filter((p) => p.kind === "accessor"), ...unrevoked]);
    throw err;
  }
  const next: PodRecord = {
    ...record,
    state: "issued",
    accessor: auth.accessor,
    encryptedToken: deps.sealBox.seal(auth.token, ref.uid),
    tokenExpiresAt: deps.now() + auth.ttlSeconds * 1000,
    tokenTtlSeconds: auth.ttlSeconds,
    tokenRenewable: auth.renewable,
    retiring,
    secretName: request.secretName,
    leases: read.leases,
    rotations: record.rotations + 1,
  };
  next.retiring = await retireReplaced(deps, ref.uid, record.retiring, replaced);
  await deps.index.put(next);
  return next;
}

/**
 * A rotation that failed: its new token (with any lease read under it) is revoked now and the
 * record is put back as it was. If Vault refuses, `pending` stays recorded as retiring and a
 * retire job keeps trying, so the new token is never left unrevoked and unknown.
 */
async function abandonLogin(
  deps: WorkerDeps,
  ref: PodRef,
  record: PodRecord,
  pending: readonly Retiring[],
): Promise<void> {
  const token = pending.find((p) => p.kind === "accessor");
  try {
    if (token) await deps.vault.revokeAccessor(token.id);
  } catch (err) {
    deps.log.warn(
      { pod: `${ref.namespace}/${ref.name}`, uid: ref.uid, error: messageOf(err) },
      "rotation failed and its new pod token could not be revoked; a retire job will",
    );
    // Retire jobs revoke only what the record lists as retiring: list exactly what is left.
    await deps.index.put({ ...record, retiring: [...record.retiring, ...pending] });
    for (const item of pending) await deps.producer.retire({ uid: ref.uid, kind: item.kind, id: item.id }, 0);
    return;
  }
  await deps.index.put(record);
}

/**
 * Renders the files of some leases again under the current pod token (with every file sharing a
 * Vault request with them); replaced leases retire after the grace. When nothing changed (a KV
 * re-read with the same values) the Secret is left alone and `rotations` stays as it was.
 */
export async function rotateLeases(
  deps: WorkerDeps,
  live: { readonly pod: V1Pod; readonly ref: PodRef },
  record: PodRecord,
  replace: { readonly podToken: string; readonly stale: readonly LeaseRecord[] },
): Promise<PodRecord> {
  const { pod, ref } = live;
  const { podToken, stale } = replace;
  const request = requestFor(deps, pod, record);
  const wanted = withSharedDependencies(request.secrets, new Set(stale.map((l) => l.file)));
  const read = await readSecrets(deps, podToken, wanted, request);
  const existing = await deps.kube.readSecret(ref.namespace, record.secretName);
  if (!existing)
    throw new PermanentError(
      `Secret ${ref.namespace}/${record.secretName} disappeared while the pod lives`,
      "SecretMissing",
    );
  const current = secretFiles(existing);
  const files = { ...current, ...read.files };
  const rendered = new Set(wanted.map((s) => s.file));
  const replaced = record.leases.filter((l) => rendered.has(l.file));
  const leases = [...record.leases.filter((l) => !rendered.has(l.file)), ...read.leases];
  const changed =
    read.leases.some((l) => l.id !== "") || Object.entries(read.files).some(([file, text]) => current[file] !== text);
  if (!changed) return { ...record, leases };
  const old: Retiring[] = replaced.flatMap((l) =>
    l.id ? [{ kind: "lease" as const, id: l.id, revokeAt: afterGrace(deps) }] : [],
  );
  const annotated = [...record.retiring, ...old];
  await writePodSecret(
    deps,
    { ref, request },
    { accessor: record.accessor, leases, retiring: annotated, files },
    existing,
  );
  const retiring = await retireReplaced(deps, ref.uid, record.retiring, old);
  return { ...record, leases, retiring, rotations: record.rotations + 1 };
}

import type { V1Pod } from "@kubernetes/client-node";
import type { LeaseRecord, PodRecord, Retiring } from "../shared/index/pod-record.ts";
import { parsePodContract, type PodRequest } from "../shared/pods/pod-contract.ts";
import type { PodRef } from "../shared/pods/pod-state.ts";
import { PermanentError } from "../shared/errors/errors.ts";
import { loginAsPod, readSecrets, secretFiles, writePodSecret } from "./credentials.ts";
import type { WorkerDeps } from "./deps.ts";

/** The request a record was issued for, re-read from the pod (annotations may not have changed meaning). */
export function requestFor(deps: WorkerDeps, pod: V1Pod, record: PodRecord): PodRequest {
  const contract = parsePodContract(pod, deps.settings.defaultAuthPath);
  if (contract.kind === "request") return contract.request;
  // The pod's annotations became invalid after issue: keep serving what was issued.
  return {
    role: record.role,
    authPath: record.authPath,
    secretName: record.secretName,
    secrets: record.leases.map((l) => ({ file: l.file, path: l.path })),
  };
}

/** After the grace, but a little before Vault would expire it anyway, so the revocation is ours. */
function retireAt(deps: WorkerDeps, expiresAt: number): number {
  const now = deps.now();
  return Math.max(now, Math.min(now + deps.settings.rotationGraceSeconds * 1000, expiresAt - 1000));
}

/**
 * The pod token cannot be extended (or was lost with Redis): log in again as the pod, read
 * everything under the new token, update the Secret, and retire the old token (which takes
 * its leases with it) after the grace.
 */
export async function reloginAndRotate(deps: WorkerDeps, pod: V1Pod, ref: PodRef, record: PodRecord): Promise<PodRecord> {
  const request = requestFor(deps, pod, record);
  const auth = await loginAsPod(deps, pod, ref, request);
  const retiring: Retiring[] = [...record.retiring];
  const oldExpiry = record.state === "recovered" ? deps.now() : record.tokenExpiresAt;
  retiring.push({ kind: "accessor", id: record.accessor, revokeAt: retireAt(deps, oldExpiry) });
  for (const lease of record.leases) if (lease.id) retiring.push({ kind: "lease", id: lease.id, revokeAt: retireAt(deps, lease.expiresAt) });
  const next: PodRecord = {
    ...record,
    state: "issuing",
    accessor: auth.accessor,
    encryptedToken: deps.sealBox.seal(auth.token, ref.uid),
    tokenExpiresAt: deps.now() + auth.ttlSeconds * 1000,
    tokenTtlSeconds: auth.ttlSeconds,
    tokenRenewable: auth.renewable,
    retiring,
    secretName: request.secretName,
  };
  // The new accessor is recorded before any lease exists under it.
  await deps.index.put({ ...next, state: record.state === "recovered" ? "recovered" : "issued", leases: record.leases });
  const read = await readSecrets(deps, auth.token, request.secrets);
  const existing = await deps.kube.readSecret(ref.namespace, request.secretName);
  await writePodSecret(deps, ref, request, { accessor: auth.accessor, leases: read.leases, retiring, files: read.files }, existing);
  for (const item of retiring.slice(record.retiring.length)) {
    await deps.producer.retire({ uid: ref.uid, kind: item.kind, id: item.id }, item.revokeAt - deps.now());
  }
  return { ...next, state: "issued", leases: read.leases, rotations: record.rotations + 1 };
}

/** Replaces some leases with fresh ones read under the current pod token; the old ones retire after the grace. */
export async function rotateLeases(deps: WorkerDeps, pod: V1Pod, ref: PodRef, record: PodRecord, podToken: string, stale: readonly LeaseRecord[]): Promise<PodRecord> {
  const request = requestFor(deps, pod, record);
  const wanted = request.secrets.filter((s) => stale.some((l) => l.file === s.file));
  const read = await readSecrets(deps, podToken, wanted);
  const existing = await deps.kube.readSecret(ref.namespace, record.secretName);
  if (!existing) throw new PermanentError(`Secret ${ref.namespace}/${record.secretName} disappeared while the pod lives`, "SecretMissing");
  const files = { ...secretFiles(existing), ...read.files };
  const leases = record.leases.map((l) => read.leases.find((n) => n.file === l.file) ?? l);
  const retiring: Retiring[] = [...record.retiring];
  for (const lease of stale) if (lease.id) retiring.push({ kind: "lease", id: lease.id, revokeAt: retireAt(deps, lease.expiresAt) });
  await writePodSecret(deps, ref, request, { accessor: record.accessor, leases, retiring, files }, existing);
  for (const item of retiring.slice(record.retiring.length)) {
    await deps.producer.retire({ uid: ref.uid, kind: item.kind, id: item.id }, item.revokeAt - deps.now());
  }
  return { ...record, leases, retiring, rotations: record.rotations + 1 };
}

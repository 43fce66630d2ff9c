import type { V1Pod, V1Secret } from "@kubernetes/client-node";
import { PermanentError } from "../shared/errors/errors.ts";
import {
  buildPodSecret,
  isPodsSecret,
  leaseTagContext,
  mergedFinalizers,
  podServiceAccount,
} from "../shared/kube/pod-secret.ts";
import type { LeaseRecord, Retiring } from "../shared/index/pod-record.ts";
import type { PodRequest, SecretRequest } from "../shared/pods/pod-contract.ts";
import type { PodRef } from "../shared/pods/pod-state.ts";
import type { VaultAuth } from "../shared/ports/vault-kube.ts";
import type { WorkerDeps } from "./deps.ts";
import { loginRefusalVerdict } from "./login-verdict.ts";
import { TemplateReads } from "./template-reads.ts";

/** The pod's own identity logs in: a pod-bound service-account token, then Vault Kubernetes auth. */
export async function loginAsPod(deps: WorkerDeps, pod: V1Pod, ref: PodRef, request: PodRequest): Promise<VaultAuth> {
  const jwt = await deps.kube.requestPodToken({
    namespace: ref.namespace,
    serviceAccount: podServiceAccount(pod),
    podName: ref.name,
    podUid: ref.uid,
    audience: deps.settings.tokenAudience,
    expirationSeconds: deps.settings.tokenExpirationSeconds,
  });
  try {
    return await deps.vault.kubernetesLogin(request.authPath, request.role, jwt);
  } catch (err) {
    throw await loginRefusalVerdict(deps, err, jwt);
  }
}

/**
 * Called with each lease as soon as Vault created it, before the next read and before the Secret
 * is written: recorded there, a crash in between still leaves its id for a synchronous revoke.
 */
export type LeaseRecorder = (lease: LeaseRecord) => Promise<void>;

export interface ReadResult {
  readonly leases: LeaseRecord[];
  readonly files: Record<string, string>;
}

/**
 * Reads each requested secret with the pod token; every lease becomes a child of that token.
 * Templated files (vault.hashicorp.com/*) are rendered by TemplateReads, which may read several.
 */
export async function readSecrets(
  deps: WorkerDeps,
  podToken: string,
  secrets: readonly SecretRequest[],
  options: { readonly staticRefreshSeconds?: number | undefined; readonly onLease?: LeaseRecorder } = {},
): Promise<ReadResult> {
  const leases: LeaseRecord[] = [];
  const files: Record<string, string> = {};
  const templated = new TemplateReads(deps, podToken, options.staticRefreshSeconds, options.onLease);
  for (const secret of secrets) {
    if (secret.template !== undefined) {
      files[secret.file] = await templated.render(secret);
      continue;
    }
    const read = await deps.vault.readSecret(podToken, secret.path);
    const lease: LeaseRecord = {
      id: read.leaseId,
      path: secret.path,
      file: secret.file,
      expiresAt: deps.now() + read.leaseDurationSeconds * 1000,
      renewable: read.renewable,
      ttlSeconds: read.leaseDurationSeconds,
    };
    if (lease.id !== "") await options.onLease?.(lease);
    files[secret.file] = render(read.data);
    leases.push(lease);
  }
  return { leases: [...leases, ...templated.leases], files };
}

/** What a file holds by default: the JSON of the secret's data. */
export function render(data: unknown): string {
  return `${JSON.stringify(data ?? null, null, 2)}\n`;
}

/**
 * Creates or replaces the per-pod Secret. A Secret of that name that is not this pod's (label
 * and ownerReference with its UID, in its namespace) is never adopted or overwritten: whoever
 * created it first may have chosen its content.
 */
export async function writePodSecret(
  deps: WorkerDeps,
  target: { readonly ref: PodRef; readonly request: PodRequest },
  content: {
    accessor: string;
    leases: readonly LeaseRecord[];
    retiring: readonly Retiring[];
    files: Record<string, string>;
  },
  existing: V1Secret | undefined,
): Promise<void> {
  const { ref, request } = target;
  const context = leaseTagContext(ref);
  const desired = buildPodSecret(ref, request, { ...content, tagLease: (id) => deps.sealBox.tag(id, context) });
  if (existing === undefined) {
    await deps.kube.createSecret(ref.namespace, desired);
    return;
  }
  if (!isPodsSecret(existing, ref)) {
    throw new PermanentError(
      `Secret ${ref.namespace}/${request.secretName} already exists and is not owned by this pod (ownerReference to pod UID ${ref.uid}); refusing to adopt it — delete it or let the webhook choose the name`,
      "SecretNameTaken",
    );
  }
  desired.metadata = {
    ...desired.metadata,
    resourceVersion: existing.metadata?.resourceVersion,
    finalizers: mergedFinalizers(existing),
  };
  await deps.kube.replaceSecret(ref.namespace, request.secretName, desired);
}

/** Current file contents of the pod's Secret, decoded. */
export function secretFiles(secret: V1Secret | undefined): Record<string, string> {
  const files: Record<string, string> = {};
  for (const [key, value] of Object.entries(secret?.data ?? {}))
    files[key] = Buffer.from(value, "base64").toString("utf8");
  return files;
}

/**
 * Which per-pod Secret names a pod may use. Anyone who can create pods in a namespace could
 * otherwise claim another pod's Secret name first (`leasekeeper.io/secret-name`): the victim's
 * issue then keeps failing and its volume mounts the squatter's Secret. So a name is one of:
 *
 * - the default `<pod name>-leasekeeper` (no annotation);
 * - what the admission webhook assigns, `<pod name or generateName>-lk-<10 hex>` (random, so it
 *   cannot be guessed in advance);
 * - a name the user chose that is the pod's own name or starts with `<pod name>-`, and does not
 *   take the shape of another pod's default or webhook-assigned name.
 *
 * The worker also never adopts an existing Secret that is not the pod's own (pod-secret.ts).
 */
import { randomBytes } from "node:crypto";

const DEFAULT_SUFFIX = "-leasekeeper";
/** The webhook's names: a base, "-lk-", 10 hex digits. */
const ASSIGNED = /^(.+)-lk-[0-9a-f]{10}$/;

export interface NamedPod {
  readonly name?: string | undefined;
  readonly generateName?: string | undefined;
}

export function defaultSecretName(podName: string): string {
  const base = `${podName}${DEFAULT_SUFFIX}`;
  return base.length <= 253 ? base : base.slice(0, 253).replace(/[-.]+$/, "");
}

/** A pod name or generateName as the first part of a Secret name. */
function nameBase(text: string): string {
  return (
    text
      .toLowerCase()
      .replace(/[^-a-z0-9.]/g, "-")
      .replace(/^[^a-z0-9]+/, "")
      .replace(/[-.]+$/, "")
      .slice(0, 200) || "pod"
  );
}

/** The webhook's choice for a pod that may not have a name yet (generateName): its prefix plus randomness. */
export function assignedSecretName(pod: NamedPod): string {
  return `${nameBase(pod.name || pod.generateName || "pod")}-lk-${randomBytes(5).toString("hex")}`;
}

/** True for names of the webhook's shape, which users may not choose themselves. */
export function looksAssigned(secretName: string): boolean {
  return ASSIGNED.test(secretName);
}

/** Why `secretName` (from the annotation) is not one this pod may use, or undefined. */
export function secretNameProblem(secretName: string, pod: NamedPod): string | undefined {
  const podName = pod.name ?? "";
  const assigned = ASSIGNED.exec(secretName);
  if (assigned) {
    const base = assigned[1];
    if (podName !== "" && base === nameBase(podName)) return undefined;
    const gen = pod.generateName;
    if (gen && base === nameBase(gen) && (podName === "" || podName.startsWith(gen))) return undefined;
    return `"${secretName.slice(0, 80)}" has the shape of a name the admission webhook assigns to another pod (<pod name>-lk-<hex>)`;
  }
  if (podName === "")
    return "a pod without a fixed name (generateName) cannot choose its Secret name; leave it unset and the admission webhook assigns one";
  if (secretName === defaultSecretName(podName)) return undefined;
  if (secretName.endsWith(DEFAULT_SUFFIX))
    return `"${secretName.slice(0, 80)}" is another pod's default Secret name; only "${defaultSecretName(podName).slice(0, 80)}" ends in ${DEFAULT_SUFFIX} for this pod`;
  if (secretName !== podName && !secretName.startsWith(`${podName}-`)) {
    return `"${secretName.slice(0, 80)}" must be the pod's name or start with "${podName.slice(0, 80)}-" (so that no pod can claim another pod's Secret)`;
  }
  return undefined;
}

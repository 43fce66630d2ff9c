import type { V1Pod } from "@kubernetes/client-node";

/** A pod that will never run again: its credentials must go even if the object stays. */
export function isTerminal(pod: V1Pod): boolean {
  const phase = pod.status?.phase;
  return phase === "Succeeded" || phase === "Failed";
}

export interface PodRef {
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
}

export function podRef(pod: V1Pod): PodRef | undefined {
  const uid = pod.metadata?.uid;
  const namespace = pod.metadata?.namespace;
  const name = pod.metadata?.name;
  if (!uid || !namespace || !name) return undefined;
  return { uid, namespace, name };
}

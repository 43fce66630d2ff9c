/** Issued pods for the revoke tests: create an opted-in pod, wait for its Secret, return its database user and lease. */
import type { V1Secret } from "@kubernetes/client-node";
import type { Stack } from "../helpers/stack.ts";
import { opted, waitFor } from "./harness.ts";

export interface IssuedPod {
  readonly name: string;
  readonly uid: string;
  /** The PostgreSQL role Vault created for the pod. */
  readonly user: string;
  readonly password: string;
  readonly leaseId: string;
}

export async function secretOf(stack: Stack, pod: string): Promise<V1Secret | undefined> {
  try {
    return await stack.core.readNamespacedSecret({ namespace: "default", name: `${pod}-leasekeeper` });
  } catch {
    return undefined;
  }
}

export function credsOf(secret: V1Secret): { username: string; password: string } {
  return JSON.parse(Buffer.from(secret.data?.["creds.json"] ?? "", "base64").toString()) as {
    username: string;
    password: string;
  };
}

export async function issuedPod(stack: Stack, name: string): Promise<IssuedPod> {
  const pod = await stack.core.createNamespacedPod({ namespace: "default", body: opted(name) });
  const secret = await waitFor(`Secret of ${name}`, () => secretOf(stack, name));
  const leaseId =
    (JSON.parse(secret.metadata?.annotations?.["leasekeeper.io/lease-ids"] ?? "[]") as Array<{ id: string }>)[0]?.id ??
    "";
  const creds = credsOf(secret);
  return { name, uid: pod.metadata?.uid ?? "", user: creds.username, password: creds.password, leaseId };
}

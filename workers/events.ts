import { messageOf } from "../shared/errors/errors.ts";
import type { PodRef } from "../shared/pods/pod-state.ts";
import type { PodEvent } from "../shared/ports/vault-kube.ts";
import type { WorkerDeps } from "./deps.ts";

export type EventReason =
  "CredentialsIssued" | "CredentialsRenewed" | "CredentialsRotated" | "CredentialsRevoked" | "IssueFailed";

/**
 * Records a Kubernetes Event on the pod, or on its namespace when the pod is already gone
 * (`onNamespace`: the message then names the pod). Messages name files, paths and counts —
 * never a value. A failure to record is logged, not fatal: the credential work already happened.
 */
export async function podEvent(
  deps: WorkerDeps,
  ref: PodRef & { readonly onNamespace?: boolean },
  reason: EventReason,
  message: string,
): Promise<void> {
  const event: PodEvent = {
    reason,
    message,
    type: reason === "IssueFailed" || reason === "CredentialsRenewed" ? "Warning" : "Normal",
  };
  try {
    await deps.kube.recordEvent(
      ref.onNamespace
        ? { kind: "Namespace", namespace: ref.namespace }
        : { namespace: ref.namespace, name: ref.name, uid: ref.uid },
      event,
    );
  } catch (err) {
    deps.log.warn({ pod: `${ref.namespace}/${ref.name}`, reason, error: messageOf(err) }, "could not record pod event");
  }
}

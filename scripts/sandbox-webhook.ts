/**
 * The sandbox registers leasekeeper's admission webhook as infra/base/webhook.yaml ships it (same
 * rules, namespaceSelector leasekeeper.io/injector=on, failurePolicy), with the emulator reaching
 * leasekeeper by URL instead of the in-cluster Service and cert-manager's CA.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { AdmissionregistrationV1Api, KubeConfig, type V1MutatingWebhookConfiguration } from "@kubernetes/client-node";
import { parseAllDocuments } from "yaml";
import { INFRA_DIR } from "../test/helpers/rbac.ts";
import type { Stack } from "../test/helpers/stack.ts";

/** The label a namespace needs for the webhook to mutate its pods (docs/injector.md). */
export const INJECTOR_LABEL = { "leasekeeper.io/injector": "on" } as const;

export async function registerShippedWebhook(
  stack: Stack,
  admissionUrl: string,
  namespaces: readonly string[],
): Promise<string> {
  const shipped = parseAllDocuments(readFileSync(join(INFRA_DIR, "base", "webhook.yaml"), "utf8"))
    .map((d) => d.toJSON() as { kind?: string })
    .find((d) => d.kind === "MutatingWebhookConfiguration") as V1MutatingWebhookConfiguration | undefined;
  if (!shipped?.webhooks?.length) throw new Error("infra/base/webhook.yaml has no MutatingWebhookConfiguration");
  const body: V1MutatingWebhookConfiguration = {
    ...shipped,
    metadata: { name: shipped.metadata?.name ?? "leasekeeper", labels: shipped.metadata?.labels ?? {} },
    webhooks: shipped.webhooks.map((w) => ({ ...w, clientConfig: { url: admissionUrl } })),
  };
  for (const namespace of namespaces) {
    const ns = stack.kube.control.get("namespaces", "", namespace) ?? { metadata: { name: namespace } };
    stack.kube.control.put("namespaces", {
      ...ns,
      metadata: { ...ns.metadata, name: namespace, labels: { ...(ns.metadata?.labels ?? {}), ...INJECTOR_LABEL } },
    });
  }
  const kc = new KubeConfig();
  kc.loadFromFile(stack.kubeconfigPath);
  await kc.makeApiClient(AdmissionregistrationV1Api).createMutatingWebhookConfiguration({ body });
  return body.metadata?.name ?? "leasekeeper";
}

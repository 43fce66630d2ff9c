/**
 * A Vault server pod as the Helm chart and the kubelet show it, for the Kubernetes emulator: the
 * chart's labels, the pod IP leasekeeper dials (with LEASEKEEPER_VAULT_POD_PORT), restartCount
 * and readiness (Vault's readiness probe fails while sealed). Used by the sandbox, the unseal
 * benchmark and the e2e tests to model "the Vault container restarted sealed".
 */
import type { KubernetesEmulator, KubeObject } from "../emulators/kubernetes/index.ts";
import type { VaultEmulator } from "../emulators/vault/index.ts";

export const VAULT_POD_NAMESPACE = "vault";
export const VAULT_STATEFULSET_UID = "5e0c7a1e-0000-4000-8000-00000000va17";

export function vaultServerPod(opts: { name?: string; restarts: number; ready: boolean; podIP?: string }): KubeObject {
  const now = new Date().toISOString();
  const ip = opts.podIP ?? "127.0.0.1";
  return {
    metadata: {
      name: opts.name ?? "vault-0",
      namespace: VAULT_POD_NAMESPACE,
      labels: { "app.kubernetes.io/name": "vault", component: "server" },
      // The Helm chart's StatefulSet (the emulator has no StatefulSets; its GC leaves unknown owner kinds alone).
      ownerReferences: [
        {
          apiVersion: "apps/v1",
          kind: "StatefulSet",
          name: "vault",
          uid: VAULT_STATEFULSET_UID,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: { nodeName: "emulator-node", containers: [{ name: "vault", image: "hashicorp/vault:1.17" }] },
    status: {
      phase: "Running",
      podIP: ip,
      podIPs: [{ ip }],
      conditions: [{ type: "Ready", status: opts.ready ? "True" : "False", lastTransitionTime: now }],
      containerStatuses: [
        {
          name: "vault",
          image: "hashicorp/vault:1.17",
          imageID: "",
          ready: opts.ready,
          restartCount: opts.restarts,
          started: true,
          state: { running: { startedAt: now } },
        },
      ],
    },
  };
}

/**
 * The Vault emulator modelled as pod `vault/<name>` (pod IP 127.0.0.1: leasekeeper must use the
 * emulator's port as LEASEKEEPER_VAULT_POD_PORT). `restart()` is a container restart: Vault
 * sealed, restartCount + 1, not Ready — the pod update the kubelet sends and leasekeeper's pod
 * watch reacts to. `syncReadiness()` plays the readiness probe (Ready iff unsealed).
 */
export class VaultPodModel {
  #restarts = 0;
  #ready: boolean;

  constructor(
    private readonly kube: KubernetesEmulator,
    private readonly vault: VaultEmulator,
    private readonly name = "vault-0",
  ) {
    if (!kube.control.get("namespaces", "", VAULT_POD_NAMESPACE))
      kube.control.put("namespaces", { metadata: { name: VAULT_POD_NAMESPACE } });
    this.#ready = !vault.control.isSealed();
    this.#put();
  }

  get restarts(): number {
    return this.#restarts;
  }

  restart(): void {
    this.vault.control.restartSealed();
    this.#restarts++;
    this.#ready = false;
    this.#put();
  }

  /** Updates the pod's Ready condition when it no longer matches the seal state; true if it changed. */
  syncReadiness(): boolean {
    const ready = !this.vault.control.isSealed();
    if (ready === this.#ready) return false;
    this.#ready = ready;
    this.#put();
    return true;
  }

  #put(): void {
    this.kube.control.put("pods", vaultServerPod({ name: this.name, restarts: this.#restarts, ready: this.#ready }));
  }
}

/** KubePort in memory: pods, Secrets (with resourceVersion and the API server's 409s) and Events. */
import type { V1Pod, V1Secret } from "@kubernetes/client-node";
import { classifyKubeError } from "../../../shared/errors/kube-errors.ts";
import { FINALIZER_REVOKE, LABEL_MANAGED, LABEL_POD_UID } from "../../../shared/kube/labels.ts";
import type { KubePort, ObjectMetadata, PodEvent } from "../../../shared/ports/vault-kube.ts";

const key = (namespace: string, name: string) => `${namespace}/${name}`;
const clone = <T>(v: T): T => structuredClone(v);
const status = (code: number, reason: string) => ({
  code,
  body: JSON.stringify({ kind: "Status", reason, message: reason, code }),
});

export class FakeKube implements KubePort {
  readonly pods = new Map<string, V1Pod>();
  readonly secrets = new Map<string, V1Secret>();
  readonly events: Array<{ pod: { namespace: string; name: string; uid: string }; event: PodEvent }> = [];
  #version = 1;

  /** Adds (or replaces) a pod; returns it with a uid. */
  putPod(pod: V1Pod): V1Pod {
    const metadata = { ...pod.metadata, uid: pod.metadata?.uid ?? `uid-${this.#version++}` };
    const stored = { ...pod, metadata };
    this.pods.set(key(metadata.namespace ?? "", metadata.name ?? ""), stored);
    return clone(stored);
  }

  putSecret(secret: V1Secret): void {
    const at = key(secret.metadata?.namespace ?? "", secret.metadata?.name ?? "");
    // A Secret keeps its UID across updates, as the API server's; a new one gets its own.
    const uid = this.secrets.get(at)?.metadata?.uid ?? secret.metadata?.uid ?? `secret-uid-${this.#version}`;
    const metadata = { ...secret.metadata, uid, resourceVersion: String(this.#version++) };
    this.secrets.set(key(metadata.namespace ?? "", metadata.name ?? ""), { ...secret, metadata });
  }

  async readPod(namespace: string, name: string) {
    const pod = this.pods.get(key(namespace, name));
    return pod && clone(pod);
  }

  async listPods(namespaces: readonly string[]) {
    return [...this.pods.values()]
      .filter((p) => namespaces.length === 0 || namespaces.includes(p.metadata?.namespace ?? ""))
      .map(clone);
  }

  async requestPodToken(r: { namespace: string; podUid: string }) {
    return `jwt:${r.namespace}:${r.podUid}`;
  }

  async reviewToken(token: string) {
    return token.startsWith("jwt:");
  }

  async readSecret(namespace: string, name: string) {
    const secret = this.secrets.get(key(namespace, name));
    return secret && clone(secret);
  }

  async createSecret(namespace: string, secret: V1Secret) {
    const name = secret.metadata?.name ?? "";
    if (this.secrets.has(key(namespace, name)))
      throw classifyKubeError(status(409, "AlreadyExists"), `create secret ${namespace}/${name}`);
    this.putSecret({ ...secret, metadata: { ...secret.metadata, namespace } });
    return clone(this.secrets.get(key(namespace, name)) as V1Secret);
  }

  async replaceSecret(namespace: string, name: string, secret: V1Secret) {
    const current = this.secrets.get(key(namespace, name));
    if (!current) throw classifyKubeError(status(404, "NotFound"), `replace secret ${namespace}/${name}`);
    const expected = secret.metadata?.resourceVersion;
    if (expected !== undefined && expected !== current.metadata?.resourceVersion)
      throw classifyKubeError(status(409, "Conflict"), `replace secret ${namespace}/${name}`);
    this.putSecret({ ...secret, metadata: { ...secret.metadata, namespace, name } });
    return clone(this.secrets.get(key(namespace, name)) as V1Secret);
  }

  /** A Secret with finalizers is marked (deletionTimestamp) and stays until they are gone, as the API server does. */
  async deleteSecret(namespace: string, name: string) {
    const current = this.secrets.get(key(namespace, name));
    if (!current?.metadata) return;
    if ((current.metadata.finalizers ?? []).length === 0) this.secrets.delete(key(namespace, name));
    else current.metadata.deletionTimestamp ??= new Date();
  }

  async releaseSecret(namespace: string, name: string, uid: string) {
    const current = this.secrets.get(key(namespace, name));
    if (!current?.metadata || current.metadata.uid !== uid) return;
    const finalizers = (current.metadata.finalizers ?? []).filter((f) => f !== FINALIZER_REVOKE);
    if (finalizers.length === 0 && current.metadata.deletionTimestamp) this.secrets.delete(key(namespace, name));
    else this.putSecret({ ...current, metadata: { ...current.metadata, finalizers } });
  }

  /** Metadata only, as the API server answers a PartialObjectMetadataList request. */
  async listManagedSecrets(namespaces: readonly string[], podUid?: string): Promise<ObjectMetadata[]> {
    return [...this.secrets.values()]
      .filter((s) => namespaces.length === 0 || namespaces.includes(s.metadata?.namespace ?? ""))
      .filter(
        (s) =>
          s.metadata?.labels?.[LABEL_MANAGED] === "true" &&
          (podUid === undefined || s.metadata.labels[LABEL_POD_UID] === podUid),
      )
      .map((s) => ({ metadata: clone(s).metadata ?? {} }));
  }

  async recordEvent(pod: { namespace: string; name: string; uid: string }, event: PodEvent) {
    this.events.push({ pod: { ...pod }, event: { ...event } });
  }
}

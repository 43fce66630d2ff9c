/**
 * An in-memory KubePort for fast worker tests: pods, Secrets (AlreadyExists on create, optimistic
 * concurrency on replace), label-selected listing, TokenRequest bound to a pod, Events. Failures
 * have the shape of client-node's ApiException with the API server's Status body, classified by the real
 * classifier (shared/errors/kube-errors.ts). test/fakes/port-contract.ts holds it to the same
 * expectations as the real client on the emulator. `review` is the fake's TokenReview for FakeVault.
 */
import { randomUUID } from "node:crypto";
import type { V1Pod, V1Secret } from "@kubernetes/client-node";
import { classifyKubeError } from "../../shared/errors/kube-errors.ts";
import { FINALIZER_REVOKE, LABEL_MANAGED, LABEL_POD_UID } from "../../shared/kube/labels.ts";
import type { KubePort, ObjectMetadata, PodEvent, PodTokenRequest } from "../../shared/ports/vault-kube.ts";

interface Issued {
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly audience: string;
}

export class FakeKube implements KubePort {
  readonly pods = new Map<string, V1Pod>();
  readonly secrets = new Map<string, V1Secret>();
  readonly events: { pod: { namespace: string; name: string; uid: string }; event: PodEvent }[] = [];
  readonly #tokens = new Map<string, Issued>();
  readonly #faults: { method: "readPod" | "readSecret"; code: number }[] = [];
  #version = 1;

  /**
   * The next `count` calls of `method` get the API server's answer with this status (503: the
   * API server is overloaded or restarting), as client-node throws it and the real classifier sees it.
   */
  failNext(method: "readPod" | "readSecret", code: number, count = 1): void {
    for (let i = 0; i < count; i++) this.#faults.push({ method, code });
  }

  #enter(method: "readPod" | "readSecret", what: string): void {
    const at = this.#faults.findIndex((f) => f.method === method);
    if (at < 0) return;
    const [fault] = this.#faults.splice(at, 1);
    const code = fault?.code ?? 500;
    throw apiError(
      code,
      code === 503 ? "ServiceUnavailable" : "InternalError",
      "the server is currently unable to handle the request",
      what,
    );
  }

  /** Adds (or replaces) a pod; a uid is made up when it has none. Returns the stored copy. */
  addPod(pod: V1Pod): V1Pod {
    const namespace = pod.metadata?.namespace ?? "default";
    const stored: V1Pod = {
      ...structuredClone(pod),
      metadata: { ...pod.metadata, namespace, uid: pod.metadata?.uid ?? randomUUID() },
    };
    this.pods.set(key(namespace, stored.metadata?.name ?? ""), stored);
    return structuredClone(stored);
  }

  deletePod(namespace: string, name: string): void {
    this.pods.delete(key(namespace, name));
  }

  /** The fake's TokenReview: who a token from requestPodToken belongs to. */
  review(jwt: string): { namespace: string; serviceAccount: string } | undefined {
    // Vault's TokenReview fails like ours while the API server is in trouble: Vault then answers 403.
    if (this.reviewFailure !== undefined) return undefined;
    const issued = this.#tokens.get(jwt);
    return issued && { namespace: issued.namespace, serviceAccount: issued.serviceAccount };
  }

  /** Set to make TokenReview fail as an API server in trouble does (HTTP 503). */
  reviewFailure: number | undefined;

  async reviewToken(token: string, audience: string): Promise<boolean> {
    if (this.reviewFailure !== undefined) {
      const reason =
        this.reviewFailure === 403
          ? "Forbidden"
          : this.reviewFailure === 429
            ? "TooManyRequests"
            : "ServiceUnavailable";
      throw apiError(this.reviewFailure, reason, "token review failed (injected)", "token review");
    }
    return this.#tokens.get(token)?.audience === audience;
  }

  async readPod(namespace: string, name: string): Promise<V1Pod | undefined> {
    this.#enter("readPod", `read pod ${namespace}/${name}`);
    const pod = this.pods.get(key(namespace, name));
    return pod && structuredClone(pod);
  }

  async listPods(namespaces: readonly string[]): Promise<V1Pod[]> {
    return [...this.pods.values()]
      .filter((p) => inNamespaces(p.metadata?.namespace, namespaces))
      .map((p) => structuredClone(p));
  }

  async requestPodToken(r: PodTokenRequest): Promise<string> {
    const what = `token for ${r.namespace}/${r.podName}`;
    const pod = this.pods.get(key(r.namespace, r.podName));
    if (!pod) throw apiError(404, "NotFound", `pods "${r.podName}" not found`, what);
    if (pod.metadata?.uid !== r.podUid)
      throw apiError(
        409,
        "Conflict",
        `the UID in the bound object reference (${r.podUid}) does not match the UID in record`,
        what,
      );
    if ((pod.spec?.serviceAccountName || "default") !== r.serviceAccount)
      throw apiError(400, "BadRequest", "cannot bind token to pod running with different serviceaccount name.", what);
    if (r.expirationSeconds < 600)
      throw apiError(422, "Invalid", "spec.expirationSeconds: may not specify a duration less than 10 minutes", what);
    const token = `fake-jwt.${randomUUID()}`;
    this.#tokens.set(token, { namespace: r.namespace, serviceAccount: r.serviceAccount, audience: r.audience });
    return token;
  }

  async readSecret(namespace: string, name: string): Promise<V1Secret | undefined> {
    this.#enter("readSecret", `read secret ${namespace}/${name}`);
    const secret = this.secrets.get(key(namespace, name));
    return secret && structuredClone(secret);
  }

  async createSecret(namespace: string, secret: V1Secret): Promise<V1Secret> {
    const name = secret.metadata?.name ?? "";
    if (this.secrets.has(key(namespace, name)))
      throw apiError(409, "AlreadyExists", `secrets "${name}" already exists`, `create secret ${namespace}/${name}`);
    return this.#store(namespace, name, secret, randomUUID());
  }

  async replaceSecret(namespace: string, name: string, secret: V1Secret): Promise<V1Secret> {
    const what = `replace secret ${namespace}/${name}`;
    const current = this.secrets.get(key(namespace, name));
    if (!current) throw apiError(404, "NotFound", `secrets "${name}" not found`, what);
    const asked = secret.metadata?.resourceVersion;
    if (asked !== undefined && asked !== current.metadata?.resourceVersion) {
      throw apiError(
        409,
        "Conflict",
        `Operation cannot be fulfilled on secrets "${name}": the object has been modified; please apply your changes to the latest version and try again`,
        what,
      );
    }
    // deletionTimestamp is the API server's to set: an update keeps the one the Secret has.
    const deletionTimestamp = current.metadata?.deletionTimestamp;
    const kept = deletionTimestamp ? { ...secret, metadata: { ...secret.metadata, deletionTimestamp } } : secret;
    return this.#store(namespace, name, kept, current.metadata?.uid ?? randomUUID());
  }

  /** Secret deletions refused with this status (as client-node throws it) while set. */
  deleteFailure: number | undefined;

  /** A Secret with finalizers is marked (deletionTimestamp) and stays until they are gone, as the API server does. */
  async deleteSecret(namespace: string, name: string): Promise<void> {
    if (this.deleteFailure !== undefined)
      throw apiError(
        this.deleteFailure,
        "InternalError",
        "delete failed (injected)",
        `delete secret ${namespace}/${name}`,
      );
    const current = this.secrets.get(key(namespace, name));
    if (!current?.metadata) return;
    if ((current.metadata.finalizers ?? []).length === 0) this.secrets.delete(key(namespace, name));
    else current.metadata.deletionTimestamp ??= new Date();
  }

  async releaseSecret(namespace: string, name: string, uid: string): Promise<void> {
    const current = this.secrets.get(key(namespace, name));
    if (!current?.metadata || current.metadata.uid !== uid) return;
    const finalizers = (current.metadata.finalizers ?? []).filter((f) => f !== FINALIZER_REVOKE);
    current.metadata.finalizers = finalizers;
    current.metadata.resourceVersion = String(++this.#version);
    if (finalizers.length === 0 && current.metadata.deletionTimestamp) this.secrets.delete(key(namespace, name));
  }

  /** Metadata only, as the API server answers a PartialObjectMetadataList request. */
  async listManagedSecrets(namespaces: readonly string[], podUid?: string): Promise<ObjectMetadata[]> {
    return [...this.secrets.values()]
      .filter((s) => inNamespaces(s.metadata?.namespace, namespaces))
      .filter(
        (s) =>
          s.metadata?.labels?.[LABEL_MANAGED] === "true" &&
          (podUid === undefined || s.metadata.labels[LABEL_POD_UID] === podUid),
      )
      .map((s) => ({ metadata: structuredClone(s.metadata ?? {}) }));
  }

  async recordEvent(pod: { namespace: string; name: string; uid: string }, event: PodEvent): Promise<void> {
    this.events.push({ pod: { ...pod }, event: { ...event } });
  }

  /** The decoded files of a Secret, or undefined when there is none. */
  files(namespace: string, name: string): Record<string, string> | undefined {
    const data = this.secrets.get(key(namespace, name))?.data;
    return (
      data &&
      Object.fromEntries(
        Object.entries(data).map(([file, value]) => [file, Buffer.from(value, "base64").toString("utf8")]),
      )
    );
  }

  #store(namespace: string, name: string, secret: V1Secret, uid: string): V1Secret {
    const stored: V1Secret = {
      ...structuredClone(secret),
      metadata: { ...secret.metadata, name, namespace, uid, resourceVersion: String(++this.#version) },
    };
    this.secrets.set(key(namespace, name), stored);
    return structuredClone(stored);
  }
}

const key = (namespace: string, name: string) => `${namespace}/${name}`;
const inNamespaces = (namespace: string | undefined, namespaces: readonly string[]) =>
  namespaces.length === 0 || namespaces.includes(namespace ?? "");

/**
 * What client-node throws for an API server Status (an ApiException: code, the Status body as
 * text, headers; built by hand so the fast tests need not load client-node), classified as the
 * real client does.
 */
function apiError(code: number, reason: string, message: string, what: string): Error {
  const status = { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, code };
  return classifyKubeError(
    Object.assign(new Error(`HTTP-Code: ${code}`), { code, body: JSON.stringify(status), headers: {} }),
    what,
  );
}

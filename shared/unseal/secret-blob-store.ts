import type { V1Secret } from "@kubernetes/client-node";
import { kubeStatus } from "../errors/kube-errors.ts";
import type { KubePort } from "../ports/vault-kube.ts";
import { decodeEntry, keyStoreChanged, keyStoreExists, type KeyBlobStore } from "./key-blob-store.ts";

const LABEL_UNSEAL_KEYS = "leasekeeper.io/unseal-keys";

/**
 * Key store in one Kubernetes Secret: one data entry per ciphertext. Deliberately NOT labelled
 * leasekeeper.io/managed (that label marks per-pod credential Secrets, which revoke deletes).
 */
export function createSecretBlobStore(kube: KubePort, namespace: string, name: string): KeyBlobStore {
  const location = `secret ${namespace}/${name}`;

  const body = (
    secretName: string,
    entries: ReadonlyMap<string, Uint8Array>,
    metadata: Readonly<Record<string, string>>,
  ): V1Secret => ({
    apiVersion: "v1",
    kind: "Secret",
    type: "Opaque",
    metadata: {
      name: secretName,
      namespace,
      labels: { "app.kubernetes.io/managed-by": "leasekeeper", [LABEL_UNSEAL_KEYS]: "true" },
      annotations: Object.fromEntries(Object.entries(metadata).map(([k, v]) => [`leasekeeper.io/${k}`, v])),
    },
    data: Object.fromEntries([...entries].map(([k, v]) => [k, Buffer.from(v).toString("base64")])),
  });

  return {
    location,
    async read() {
      const secret = await kube.readSecret(namespace, name);
      if (!secret) return undefined;
      return new Map(Object.entries(secret.data ?? {}).map(([k, v]) => [k, decodeEntry(location, k, v)]));
    },
    async create(entries, options) {
      const existing = await kube.readSecret(namespace, name);
      if (existing && !options.overwrite) throw keyStoreExists(location);
      if (existing) {
        // Compare-and-set: replaces only the version read above; a concurrent writer's keys win (409 Conflict).
        const replacement = body(name, entries, options.metadata);
        replacement.metadata = { ...replacement.metadata, resourceVersion: existing.metadata?.resourceVersion };
        try {
          await kube.replaceSecret(namespace, name, replacement);
        } catch (err) {
          if (kubeStatus((err as Error).cause) === 409) throw keyStoreChanged(location);
          throw err;
        }
        return;
      }
      try {
        await kube.createSecret(namespace, body(name, entries, options.metadata));
      } catch (err) {
        // Created by someone else between the read and the create: create-only means refuse.
        if (kubeStatus((err as Error).cause) === 409) throw keyStoreExists(location);
        throw err;
      }
    },
    async probe(blob) {
      const probeName = `${name}-probe`;
      await kube.deleteSecret(namespace, probeName);
      await kube.createSecret(namespace, body(probeName, new Map([["probe", blob]]), { purpose: "write-probe" }));
      try {
        const back = await kube.readSecret(namespace, probeName);
        const value = back?.data?.probe;
        if (value === undefined) throw new Error(`key store ${location}: probe secret could not be read back`);
        return new Uint8Array(Buffer.from(value, "base64"));
      } finally {
        await kube.deleteSecret(namespace, probeName);
      }
    },
  };
}

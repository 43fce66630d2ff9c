import {
  AuthenticationV1Api,
  CoreV1Api,
  Observable,
  PatchStrategy,
  setHeaderOptions,
  type ConfigurationOptions,
  type CoreV1Event,
  type KubeConfig,
  type V1Pod,
  type V1Secret,
} from "@kubernetes/client-node";
import { classifyKubeError, kubeStatus } from "../errors/kube-errors.ts";
import type { EventSubject, KubePort, ObjectMetadata, PodEvent, PodTokenRequest } from "../ports/vault-kube.ts";
import { EventCorrelator } from "./event-correlator.ts";
import { FINALIZER_REVOKE, LABEL_MANAGED, LABEL_POD_UID } from "./labels.ts";

/** KubePort over @kubernetes/client-node. */
export function createKubeClient(kc: KubeConfig): KubePort {
  const core = kc.makeApiClient(CoreV1Api);
  const authn = kc.makeApiClient(AuthenticationV1Api);

  async function call<T>(what: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      throw classifyKubeError(err, what);
    }
  }

  async function orUndefined<T>(what: string, run: () => Promise<T>): Promise<T | undefined> {
    try {
      return await run();
    } catch (err) {
      if (kubeStatus(err) === 404) return undefined;
      throw classifyKubeError(err, what);
    }
  }

  async function perNamespace<T>(
    namespaces: readonly string[],
    all: () => Promise<{ items: T[] }>,
    one: (ns: string) => Promise<{ items: T[] }>,
  ): Promise<T[]> {
    if (namespaces.length === 0) return (await all()).items;
    const lists = await Promise.all(namespaces.map((ns) => one(ns)));
    return lists.flatMap((l) => l.items);
  }

  const sendEvent = eventSender(core);

  return {
    readPod: (namespace, name) =>
      orUndefined(`read pod ${namespace}/${name}`, () => core.readNamespacedPod({ namespace, name })),

    listPods: (namespaces) =>
      call("list pods", () =>
        perNamespace<V1Pod>(
          namespaces,
          () => core.listPodForAllNamespaces({}),
          (namespace) => core.listNamespacedPod({ namespace }),
        ),
      ),

    requestPodToken: (r: PodTokenRequest) =>
      call(`token for ${r.namespace}/${r.podName}`, async () => {
        const result = await core.createNamespacedServiceAccountToken({
          name: r.serviceAccount,
          namespace: r.namespace,
          body: {
            apiVersion: "authentication.k8s.io/v1",
            kind: "TokenRequest",
            metadata: { name: r.serviceAccount },
            spec: {
              audiences: [r.audience],
              expirationSeconds: r.expirationSeconds,
              boundObjectRef: { apiVersion: "v1", kind: "Pod", name: r.podName, uid: r.podUid },
            },
          },
        });
        const token = result.status?.token;
        if (!token) throw new Error("TokenRequest answered without a token");
        return token;
      }),

    reviewToken: (token, audience) =>
      call("token review", async () => {
        const review = await authn.createTokenReview({
          body: { apiVersion: "authentication.k8s.io/v1", kind: "TokenReview", spec: { token, audiences: [audience] } },
        });
        return review.status?.authenticated === true;
      }),

    readSecret: (namespace, name) =>
      orUndefined(`read secret ${namespace}/${name}`, () => core.readNamespacedSecret({ namespace, name })),

    createSecret: (namespace, secret: V1Secret) =>
      call(`create secret ${namespace}/${secret.metadata?.name ?? "?"}`, () =>
        core.createNamespacedSecret({ namespace, body: secret }),
      ),

    replaceSecret: (namespace, name, secret) =>
      call(`replace secret ${namespace}/${name}`, () =>
        core.replaceNamespacedSecret({ namespace, name, body: secret }),
      ),

    deleteSecret: async (namespace, name) => {
      await orUndefined(`delete secret ${namespace}/${name}`, () => core.deleteNamespacedSecret({ namespace, name }));
    },

    releaseSecret: secretReleaser(core, orUndefined),

    listManagedSecrets: async (namespaces, podUid) => {
      const labelSelector = podUid ? `${LABEL_MANAGED}=true,${LABEL_POD_UID}=${podUid}` : `${LABEL_MANAGED}=true`;
      const secrets = await call("list managed secrets", () =>
        perNamespace<V1Secret>(
          namespaces,
          () => core.listSecretForAllNamespaces({ labelSelector }, METADATA_ONLY),
          (namespace) => core.listNamespacedSecret({ namespace, labelSelector }, METADATA_ONLY),
        ),
      );
      // The answer's items are PartialObjectMetadata (decoded into the typed list's shape): keep the metadata only.
      return secrets.map((s): ObjectMetadata => ({ metadata: s.metadata ?? {} }));
    },

    recordEvent: (subject: EventSubject, event: PodEvent) => {
      const what =
        subject.kind === "Namespace" ? `namespace ${subject.namespace}` : `${subject.namespace}/${subject.name}`;
      return call(`event ${event.reason} on ${what}`, () => sendEvent(eventBody(subject, event)));
    },
  };
}

/**
 * Removes FINALIZER_REVOKE with a JSON patch that tests the UID and the finalizer at its index: a
 * Secret replaced meanwhile, or finalizers reordered by someone else, fail the test (422) and are
 * read again.
 */
function secretReleaser(
  core: CoreV1Api,
  orUndefined: <T>(what: string, run: () => Promise<T>) => Promise<T | undefined>,
): KubePort["releaseSecret"] {
  return async (namespace, name, uid) => {
    const what = `release secret ${namespace}/${name}`;
    for (let attempt = 1; ; attempt++) {
      const secret = await orUndefined(what, () => core.readNamespacedSecret({ namespace, name }));
      const index = secret?.metadata?.finalizers?.indexOf(FINALIZER_REVOKE) ?? -1;
      if (!secret || secret.metadata?.uid !== uid || index < 0) return;
      const path = `/metadata/finalizers/${index}`;
      const ops = [
        { op: "test", path: "/metadata/uid", value: uid },
        { op: "test", path, value: FINALIZER_REVOKE },
        { op: "remove", path },
      ];
      try {
        await core.patchNamespacedSecret(
          { namespace, name, body: ops },
          setHeaderOptions("Content-Type", PatchStrategy.JsonPatch),
        );
        return;
      } catch (err) {
        const status = kubeStatus(err);
        if (status === 404) return;
        if (status !== 422 || attempt >= 3) throw classifyKubeError(err, what);
      }
    }
  };
}

/** Events through a correlator (event-correlator.ts): created, an earlier occurrence patched (count), or dropped as spam. */
function eventSender(core: CoreV1Api): (body: CoreV1Event) => Promise<void> {
  const correlator = new EventCorrelator();
  return async (body) => {
    const next = correlator.correlate(body);
    if (next.kind === "skip") return;
    const namespace = body.metadata?.namespace ?? "";
    if (next.kind === "patch") {
      try {
        const { count, lastTimestamp, message } = next.patch;
        const stored = await core.patchNamespacedEvent(
          { name: next.name, namespace, body: { count, lastTimestamp: lastTimestamp.toISOString(), message } },
          setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
        );
        correlator.recorded(next.key, stored);
        return;
      } catch (err) {
        // Gone (the API server's event TTL): created again with the count so far, as client-go does.
        if (kubeStatus(err) !== 404) throw err;
        correlator.forget(next.key);
      }
    }
    const stored = await core.createNamespacedEvent({ namespace, body: next.event });
    correlator.recorded(next.key, stored);
  };
}

/**
 * Lists answered as meta.k8s.io/v1 PartialObjectMetadataList: the API server sends each object's
 * metadata only (labels, annotations, ownerReferences), never a Secret's data, so the credentials
 * never cross the wire for a list. The generated client sets `Accept` before the middleware runs;
 * this middleware replaces it (apiserver handlers/response.go, targetEncodingForTransform). The
 * plain `application/json` fallback keeps an old server answering with full objects working.
 */
const METADATA_ONLY: ConfigurationOptions = {
  middleware: [
    {
      pre: (context) => {
        context.setHeaderParam(
          "Accept",
          "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json",
        );
        return new Observable(Promise.resolve(context));
      },
      post: (context) => new Observable(Promise.resolve(context)),
    },
  ],
  middlewareMergeStrategy: "append",
};

/** An Event on a pod, or on a namespace (in that namespace: involvedObject.namespace must match, so `kubectl get events -n` shows it). */
function eventBody(subject: EventSubject, event: PodEvent): CoreV1Event {
  const now = new Date();
  const ns = subject.namespace;
  const involved =
    subject.kind === "Namespace"
      ? { kind: "Namespace", apiVersion: "v1", namespace: ns, name: ns }
      : { kind: "Pod", apiVersion: "v1", namespace: ns, name: subject.name, uid: subject.uid };
  return {
    metadata: { generateName: `${involved.name}.`, namespace: ns },
    involvedObject: involved,
    reason: event.reason,
    message: event.message.slice(0, 1024),
    type: event.type,
    source: { component: "leasekeeper" },
    firstTimestamp: now,
    lastTimestamp: now,
    count: 1,
    reportingComponent: "leasekeeper",
  };
}

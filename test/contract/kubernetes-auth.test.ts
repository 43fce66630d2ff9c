/** Contract: TokenRequest, TokenReview, SubjectAccessReview, authorizer hook and mutating admission webhooks. */
import * as assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { suite } from "uvu";
import {
  AdmissionregistrationV1Api,
  AuthenticationV1Api,
  AuthorizationV1Api,
  CoreV1Api,
  type V1Pod,
} from "@kubernetes/client-node";
import { startKubernetesEmulator, type KubernetesEmulator } from "../emulators/kubernetes/index.ts";
import { apiError, eventually, kubeConfigFor, podManifest } from "../emulators/kubernetes/testing.ts";

const test = suite("kubernetes emulator: tokens, reviews, admission");
let emu: KubernetesEmulator;
let core: CoreV1Api;
let authn: AuthenticationV1Api;
let webhook: Server;
let webhookUrl = "";
let webhookMode: "patch" | "deny" | "broken" = "patch";
const reviews: {
  request: {
    uid: string;
    name?: string;
    namespace: string;
    operation: string;
    object: V1Pod;
    kind: { kind: string };
    userInfo: { username: string };
  };
}[] = [];
const ns = "default";

test.before(async () => {
  emu = await startKubernetesEmulator({ podGraceSeconds: 1 });
  const kc = kubeConfigFor(emu);
  core = kc.makeApiClient(CoreV1Api);
  authn = kc.makeApiClient(AuthenticationV1Api);
  webhook = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => {
      body += c.toString();
    });
    req.on("end", () => {
      const review = JSON.parse(body);
      reviews.push(review);
      if (webhookMode === "broken") {
        res.writeHead(500);
        res.end("boom");
        return;
      }
      const response: Record<string, unknown> = { uid: review.request.uid, allowed: webhookMode === "patch" };
      if (webhookMode === "patch") {
        response.patchType = "JSONPatch";
        response.patch = Buffer.from(
          JSON.stringify([
            { op: "add", path: "/metadata/annotations", value: { "leasekeeper.io/secret-name": "x" } },
            { op: "add", path: "/metadata/labels/injected", value: "yes" },
          ]),
        ).toString("base64");
      } else {
        response.status = { code: 403, message: "no credentials role" };
      }
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", response }));
    });
  });
  await new Promise<void>((r) => webhook.listen(0, "127.0.0.1", () => r()));
  webhookUrl = `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/mutate`;
});
test.after(async () => {
  await emu.close();
  await new Promise((r) => webhook.close(r));
});

test("TokenRequest bound to a pod, TokenReview: valid, wrong audience, pod deleted", async () => {
  await core.createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name: "app-sa" } } });
  const pod = await core.createNamespacedPod({
    namespace: ns,
    body: podManifest("tok-pod", { serviceAccountName: "app-sa", nodeName: "n" }),
  });
  const tr = await core.createNamespacedServiceAccountToken({
    name: "app-sa",
    namespace: ns,
    body: {
      spec: {
        audiences: ["vault"],
        expirationSeconds: 600,
        boundObjectRef: { kind: "Pod", apiVersion: "v1", name: "tok-pod", uid: pod.metadata?.uid },
      },
    },
  });
  const token = tr.status?.token ?? "";
  assert.equal(token.split(".").length, 3);
  const claims = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString());
  assert.equal(claims.sub, "system:serviceaccount:default:app-sa");
  assert.deepEqual(claims.aud, ["vault"]);
  assert.equal(claims.exp - claims.iat, 600);
  assert.equal(claims["kubernetes.io"].pod.uid, pod.metadata?.uid);
  assert.ok(tr.status?.expirationTimestamp instanceof Date);
  const ok = await authn.createTokenReview({ body: { spec: { token, audiences: ["vault"] } } });
  assert.equal(ok.status?.authenticated, true);
  assert.equal(ok.status?.user?.username, "system:serviceaccount:default:app-sa");
  assert.deepEqual(ok.status?.audiences, ["vault"]);
  assert.deepEqual(ok.status?.user?.extra?.["authentication.kubernetes.io/pod-uid"], [pod.metadata?.uid]);
  assert.ok(ok.status?.user?.groups?.includes("system:serviceaccounts:default"));
  const wrongAud = await authn.createTokenReview({ body: { spec: { token } } });
  assert.equal(wrongAud.status?.authenticated, undefined);
  assert.equal(
    wrongAud.status?.error,
    '[invalid bearer token, token audiences ["vault"] is invalid for the target audiences ["https://kubernetes.default.svc.cluster.local"]]',
  );
  await core.deleteNamespacedPod({ name: "tok-pod", namespace: ns, gracePeriodSeconds: 0 });
  const gone = await authn.createTokenReview({ body: { spec: { token, audiences: ["vault"] } } });
  assert.equal(gone.status?.authenticated, undefined);
  assert.match(gone.status?.error ?? "", /service account token has been invalidated/);
  const empty = await apiError(authn.createTokenReview({ body: { spec: { token: "" } } }));
  assert.equal(empty.code, 400);
});

test("TokenRequest errors: short expiry 422, missing pod 404, UID mismatch 409, missing SA 404", async () => {
  const short = await apiError(
    core.createNamespacedServiceAccountToken({
      name: "default",
      namespace: ns,
      body: { spec: { audiences: ["x"], expirationSeconds: 599 } },
    }),
  );
  assert.equal(short.code, 422);
  assert.match(
    short.status.message ?? "",
    /spec.expirationSeconds: Invalid value: 599: may not specify a duration less than 10 minutes/,
  );
  const noPod = await apiError(
    core.createNamespacedServiceAccountToken({
      name: "default",
      namespace: ns,
      body: { spec: { audiences: ["x"], boundObjectRef: { kind: "Pod", name: "ghost" } } },
    }),
  );
  assert.equal(noPod.code, 404);
  assert.equal(noPod.status.message, 'pods "ghost" not found');
  await core.createNamespacedPod({ namespace: ns, body: podManifest("uid-pod") });
  const mismatch = await apiError(
    core.createNamespacedServiceAccountToken({
      name: "default",
      namespace: ns,
      body: { spec: { audiences: ["x"], boundObjectRef: { kind: "Pod", name: "uid-pod", uid: "wrong" } } },
    }),
  );
  assert.equal(mismatch.code, 409);
  assert.match(
    mismatch.status.message ?? "",
    /^Operation cannot be fulfilled on Pod "uid-pod": the UID in the bound object reference \(wrong\) does not match/,
  );
  const noSa = await apiError(
    core.createNamespacedServiceAccountToken({ name: "nobody", namespace: ns, body: { spec: { audiences: [] } } }),
  );
  assert.equal(noSa.code, 404);
  await core.deleteNamespacedPod({ name: "uid-pod", namespace: ns, gracePeriodSeconds: 0 });
});

test("SA tokens authenticate API calls; authorizer rules give 403 and drive SubjectAccessReview", async () => {
  const token = emu.control.issueToken({ namespace: ns, serviceAccount: "default" });
  const asSa = kubeConfigFor(emu, token).makeApiClient(CoreV1Api);
  assert.ok(Array.isArray((await asSa.listNamespacedPod({ namespace: ns })).items));
  emu.control.setRules([
    {
      users: ["system:serviceaccount:default:default"],
      verbs: ["get", "list", "watch"],
      apiGroups: [""],
      resources: ["pods"],
    },
  ]);
  try {
    await asSa.listNamespacedPod({ namespace: ns });
    const denied = await apiError(asSa.listNamespacedSecret({ namespace: ns }));
    assert.equal(denied.code, 403);
    assert.equal(
      denied.status.message,
      'secrets is forbidden: User "system:serviceaccount:default:default" cannot list resource "secrets" in API group "" in the namespace "default"',
    );
    const authz = kubeConfigFor(emu).makeApiClient(AuthorizationV1Api);
    const sar = (verb: string, resource: string) =>
      authz.createSubjectAccessReview({
        body: {
          spec: {
            user: "system:serviceaccount:default:default",
            groups: [],
            resourceAttributes: { namespace: ns, verb, resource },
          },
        },
      });
    assert.equal((await sar("get", "pods")).status?.allowed, true);
    assert.equal((await sar("delete", "pods")).status?.allowed, false);
    const adminStill = await core.listNamespacedSecret({ namespace: ns });
    assert.ok(adminStill.items);
  } finally {
    emu.control.setAuthorizer(undefined);
  }
});

test("mutating webhook: AdmissionReview request, JSONPatch applied, denial, failurePolicy Fail and Ignore", async () => {
  const admission = kubeConfigFor(emu).makeApiClient(AdmissionregistrationV1Api);
  const config = (policy: "Fail" | "Ignore") => ({
    metadata: { name: "leasekeeper" },
    webhooks: [
      {
        name: "pods.leasekeeper.io",
        admissionReviewVersions: ["v1"],
        sideEffects: "None",
        failurePolicy: policy,
        timeoutSeconds: 2,
        clientConfig: { url: webhookUrl },
        objectSelector: { matchLabels: { inject: "true" } },
        rules: [{ operations: ["CREATE"], apiGroups: [""], apiVersions: ["v1"], resources: ["pods"] }],
      },
    ],
  });
  await admission.createMutatingWebhookConfiguration({ body: config("Fail") });
  try {
    webhookMode = "patch";
    const skipped = await core.createNamespacedPod({ namespace: ns, body: podManifest("no-inject") });
    assert.equal(reviews.length, 0, "objectSelector excludes unlabeled pods");
    assert.equal(skipped.metadata?.labels?.injected, undefined);
    const patched = await core.createNamespacedPod({
      namespace: ns,
      body: podManifest("inj-", { labels: { inject: "true" } }),
    });
    assert.equal(patched.metadata?.labels?.injected, "yes");
    assert.equal(patched.metadata?.annotations?.["leasekeeper.io/secret-name"], "x");
    const req = reviews[0]?.request;
    assert.equal(req?.operation, "CREATE");
    assert.equal(req?.kind.kind, "Pod");
    assert.equal(req?.namespace, "default");
    assert.equal(req?.name, undefined, "no name yet for generateName pods");
    assert.equal(req?.object.metadata?.name, undefined);
    assert.equal(req?.object.metadata?.uid, undefined);
    assert.equal(req?.userInfo.username, "kubernetes-admin");
    webhookMode = "deny";
    const denied = await apiError(
      core.createNamespacedPod({ namespace: ns, body: podManifest("denied", { labels: { inject: "true" } }) }),
    );
    assert.equal(denied.code, 403);
    assert.equal(
      denied.status.message,
      'admission webhook "pods.leasekeeper.io" denied the request: no credentials role',
    );
    webhookMode = "broken";
    const failed = await apiError(
      core.createNamespacedPod({ namespace: ns, body: podManifest("failed", { labels: { inject: "true" } }) }),
    );
    assert.equal(failed.code, 500);
    assert.match(
      failed.status.message ?? "",
      /^Internal error occurred: failed calling webhook "pods.leasekeeper.io": /,
    );
    await admission.replaceMutatingWebhookConfiguration({
      name: "leasekeeper",
      body: {
        ...(await admission.readMutatingWebhookConfiguration({ name: "leasekeeper" })),
        webhooks: config("Ignore").webhooks,
      },
    });
    const ignored = await core.createNamespacedPod({
      namespace: ns,
      body: podManifest("ignored", { labels: { inject: "true" } }),
    });
    assert.equal(ignored.metadata?.labels?.injected, undefined, "admitted unchanged");
    await eventually(
      async () => (await core.readNamespacedPod({ name: "ignored", namespace: ns })).status?.phase === "Running",
      3000,
      "Running",
    );
  } finally {
    await admission.deleteMutatingWebhookConfiguration({ name: "leasekeeper" });
  }
});

test.run();

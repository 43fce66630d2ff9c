/** Which Secret names a pod may use (shared/pods/secret-name.ts), at the webhook and in the pod contract. */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Writable } from "node:stream";
import { secretNameProblem } from "../../shared/pods/secret-name.ts";
import { admissionRoute } from "../../functions/http/admission-route.ts";
import { createLogger } from "../../shared/observability/log.ts";

test("a chosen name carries the pod's own name; default and webhook shapes belong to their pod", () => {
  const ok = (name: string, pod: { name?: string; generateName?: string }) =>
    assert.is(secretNameProblem(name, pod), undefined, `${name} for ${JSON.stringify(pod)}`);
  const refused = (name: string, pod: { name?: string; generateName?: string }) =>
    assert.type(secretNameProblem(name, pod), "string", `${name} for ${JSON.stringify(pod)}`);
  ok("web", { name: "web" });
  ok("web-creds", { name: "web" });
  ok("web-leasekeeper", { name: "web" });
  ok("web-lk-0123456789", { name: "web" });
  ok("web-5d8-lk-0123456789", { name: "web-5d8-x7k2p", generateName: "web-5d8-" });
  ok("web-5d8-lk-0123456789", { generateName: "web-5d8-" }); // at admission, before the name exists
  refused("db-creds", { name: "web" });
  refused("webdb", { name: "web" });
  refused("web-db-leasekeeper", { name: "web" }); // pod "web-db"'s default
  refused("web-db-lk-0123456789", { name: "web" }); // pod "web-db"'s webhook name
  refused("web-leasekeeper", { name: "web-leasekeeper" });
  refused("web-5d8-lk-0123456789", { name: "evil", generateName: "web-5d8-" });
  refused("web-creds", { generateName: "web-" });
});

const log = createLogger("silent", new Writable({ write: (_c, _e, done) => done() }));
const app = admissionRoute({
  settings: {
    defaultAuthPath: "kubernetes",
    vaultAnnotations: true,
    staticSecretRenderIntervalSeconds: 300,
    namespaces: [],
  },
  log,
});
async function admit(metadata: Record<string, unknown>) {
  const res = await app.request("/", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      apiVersion: "admission.k8s.io/v1",
      kind: "AdmissionReview",
      request: {
        uid: "u",
        kind: { kind: "Pod" },
        operation: "CREATE",
        namespace: "apps",
        object: { metadata, spec: { containers: [{ name: "c", image: "i" }] } },
      },
    }),
  });
  return ((await res.json()) as { response: { allowed: boolean; status?: { message: string } } }).response;
}

test("the webhook refuses a chosen name that does not carry the pod's name, or that takes its own shape", async () => {
  const annotations = (name: string) => ({
    "leasekeeper.io/role": "r",
    "leasekeeper.io/secret-creds.json": "database/creds/r",
    "leasekeeper.io/secret-name": name,
  });
  const squat = await admit({ name: "evil", annotations: annotations("web-leasekeeper") });
  assert.is(squat.allowed, false);
  assert.match(
    squat.status?.message ?? "",
    /^annotation leasekeeper\.io\/secret-name: "web-leasekeeper" is another pod's default Secret name/,
  );
  const shaped = await admit({ name: "web", annotations: annotations("web-lk-0123456789") });
  assert.is(shaped.allowed, false);
  assert.match(shaped.status?.message ?? "", /assigned by leasekeeper's webhook/);
  const generated = await admit({ generateName: "web-", annotations: annotations("web-creds") });
  assert.is(generated.allowed, false);
  assert.match(generated.status?.message ?? "", /generateName/);
  assert.is((await admit({ name: "web", annotations: annotations("web-creds") })).allowed, true);
});

test.run();

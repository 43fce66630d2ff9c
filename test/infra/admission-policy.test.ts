/**
 * infra/admission-policy: the ValidatingAdmissionPolicies that limit what leasekeeper's own service
 * account may write (TokenRequests: audience vault, bound to a Pod; Secrets: only those it manages).
 * Schema-valid (admissionregistration.k8s.io/v1), bound with Deny, failing closed, and every name,
 * label, audience and user in their CEL is the one the code and infra/base use. (No CEL evaluator
 * ships with the project; the expressions are pinned here with what each must mean.)
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { loadConfig } from "../../shared/config/config.ts";
import { ENV } from "../../shared/config/env-vars.ts";
import { LABEL_MANAGED } from "../../shared/kube/labels.ts";
import { buildPodSecret } from "../../shared/kube/pod-secret.ts";
import type { KubeObject } from "../emulators/kubernetes/index.ts";
import { LEASEKEEPER_SA, LEASEKEEPER_USER } from "../helpers/rbac.ts";
import { KUBECTL, kustomize, schemaProblem } from "./build.ts";

let objects: KubeObject[] = [];
const config = loadConfig({ [ENV.indexKey]: Buffer.alloc(32).toString("base64") });
const policy = (name: string) =>
  objects.find((o) => o.kind === "ValidatingAdmissionPolicy" && o.metadata.name === name);
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- plain JSON from YAML
const expressions = (p: any): string[] =>
  [...(p?.spec.validations ?? []), ...(p?.spec.variables ?? [])].map((v: { expression: string }) => v.expression);

test.before(() => {
  if (KUBECTL === undefined)
    throw new Error("these checks need kubectl (bash scripts/install-system-deps.sh installs it)");
  objects = kustomize("admission-policy");
});

test("two v1 policies, each bound with Deny, failing closed, schema-valid", async () => {
  const policies = objects.filter((o) => o.kind === "ValidatingAdmissionPolicy");
  assert.equal(policies.map((p) => p.metadata.name).sort(), [
    "leasekeeper-secret-writes",
    "leasekeeper-token-requests",
  ]);
  for (const p of policies) {
    assert.is(p.apiVersion, "admissionregistration.k8s.io/v1");
    assert.is(p.spec.failurePolicy, "Fail", `${p.metadata.name} fails closed`);
    const binding = objects.find(
      (o) => o.kind === "ValidatingAdmissionPolicyBinding" && o.spec.policyName === p.metadata.name,
    );
    assert.equal(binding?.spec.validationActions, ["Deny"], `${p.metadata.name} is bound with Deny`);
    assert.is(binding?.spec.matchResources, undefined, "bound cluster-wide: every namespace");
    // Only leasekeeper's own service account (infra/base) is constrained; no one else's request is touched.
    assert.equal(p.spec.matchConditions, [
      { name: "leasekeeper-only", expression: `request.userInfo.username == '${LEASEKEEPER_USER}'` },
    ]);
  }
  assert.is(LEASEKEEPER_USER, `system:serviceaccount:${LEASEKEEPER_SA.namespace}:${LEASEKEEPER_SA.name}`);
  assert.ok(
    kustomize("base").some(
      (o) =>
        o.kind === "ServiceAccount" &&
        o.metadata.name === LEASEKEEPER_SA.name &&
        o.metadata.namespace === LEASEKEEPER_SA.namespace,
    ),
  );
  const problems: string[] = [];
  for (const o of objects) {
    const problem = await schemaProblem(o);
    if (problem !== undefined) problems.push(`${o.kind}/${o.metadata.name}: ${problem}`);
  }
  assert.equal(problems, []);
});

test("TokenRequests: only CREATE on serviceaccounts/token, audience exactly the configured one, bound to a Pod", () => {
  const p = policy("leasekeeper-token-requests");
  assert.equal(p?.spec.matchConstraints.resourceRules, [
    { apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["serviceaccounts/token"] },
  ]);
  assert.equal(expressions(p), [
    // The list must be exactly [audience]: no second audience (e.g. the API server's) rides along.
    `object.spec.audiences == ['${config.tokenAudience}']`,
    // An unbound token (no boundObjectRef) or one bound to a Secret/Node is refused.
    "has(object.spec.boundObjectRef) && object.spec.boundObjectRef.kind == 'Pod'",
  ]);
  assert.is(config.tokenAudience, "vault");
});

test("Secrets: create/update/delete only of Secrets labelled as managed (old and new object), or the unseal key store by name", () => {
  const p = policy("leasekeeper-secret-writes");
  assert.equal(p?.spec.matchConstraints.resourceRules, [
    { apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE", "UPDATE", "DELETE"], resources: ["secrets"] },
  ]);
  const labelled = (o: string) =>
    `${o} != null && has(${o}.metadata.labels) && '${LABEL_MANAGED}' in ${o}.metadata.labels && ${o}.metadata.labels['${LABEL_MANAGED}'] == 'true'`;
  const store = `request.namespace == '${config.unsealSecretNamespace}' && (request.name == '${config.unsealSecretName}' || request.name == '${config.unsealSecretName}-probe')`;
  assert.equal(p?.spec.variables, [
    { name: "newManaged", expression: labelled("object") },
    { name: "oldManaged", expression: labelled("oldObject") },
    { name: "unsealKeyStore", expression: store },
  ]);
  // CREATE: object labelled (oldObject is null). UPDATE: both labelled, so a foreign Secret can be neither
  // overwritten nor adopted by adding the label. DELETE: oldObject labelled (object is null).
  assert.equal(
    p?.spec.validations.map((v: { expression: string }) => v.expression),
    [
      "variables.unsealKeyStore || ((object == null || variables.newManaged) && (oldObject == null || variables.oldManaged))",
    ],
  );
  // What leasekeeper writes carries the label the policy requires, with the value it requires.
  const secret = buildPodSecret(
    { name: "web-1", namespace: "shop", uid: "u-1" },
    { secretName: "web-1-leasekeeper" } as never,
    { accessor: "a", leases: [], retiring: [], files: {}, tagLease: (id: string) => `tag-${id}` },
  );
  assert.is(secret.metadata?.labels?.[LABEL_MANAGED], "true");
});

test.run();

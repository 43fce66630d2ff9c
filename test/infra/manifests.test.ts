/**
 * infra/: every overlay builds with `kubectl kustomize`, every object validates against the
 * Kubernetes (and CRD) schemas, images are pinned, nothing is privileged, Secrets are referenced
 * and never inlined, and the manifests agree with the code (environment variables, BullMQ keys,
 * routes, RBAC loader).
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { QueueKeys } from "bullmq";
import { EVENTS_RESOURCE } from "../../functions/http/events-route.ts";
import { loadConfig } from "../../shared/config/config.ts";
import { ENV } from "../../shared/config/env-vars.ts";
import { QUEUE } from "../../shared/jobs/job-types.ts";
import type { KubeObject } from "../emulators/kubernetes/index.ts";
import { grantsFor, INFRA_DIR, loadKustomization } from "../helpers/rbac.ts";
import { join } from "node:path";
import { KUBECTL, kustomize, podTemplates, schemaProblem } from "./build.ts";

const BUILDS = [
  "base",
  "overlays/all-in-one",
  "overlays/scaled",
  "overlays/quickstart",
  "overlays/namespaced",
  "eventing",
  "monitoring",
  "admission-policy",
] as const;
const OVERLAYS = ["overlays/all-in-one", "overlays/scaled", "overlays/quickstart", "overlays/namespaced"] as const;
const built = new Map<string, KubeObject[]>();
const objectsOf = (dir: string): KubeObject[] => {
  const objects = built.get(dir);
  if (objects === undefined) throw new Error(`${dir} was not built`);
  return objects;
};
const all = () => [...built.values()].flat();
const KNOWN_ENV = new Set<string>([...Object.values(ENV), "NODE_EXTRA_CA_CERTS"]);

test.before(() => {
  if (KUBECTL === undefined)
    throw new Error("these checks need kubectl (bash scripts/install-system-deps.sh installs it)");
  for (const dir of BUILDS) built.set(dir, kustomize(dir));
});

test("every kustomization builds", () => {
  for (const dir of BUILDS) assert.ok(objectsOf(dir).length > 0, dir);
  const kinds = (dir: string) => objectsOf(dir).map((o) => `${o.kind}/${o.metadata.name}`);
  assert.equal(
    kinds("overlays/all-in-one").filter((k) => k.startsWith("Deployment/")),
    ["Deployment/leasekeeper"],
  );
  assert.equal(
    kinds("overlays/scaled")
      .filter((k) => k.startsWith("Deployment/"))
      .sort(),
    ["Deployment/leasekeeper-functions", "Deployment/leasekeeper-watcher", "Deployment/leasekeeper-workers"],
  );
  assert.ok(kinds("overlays/quickstart").includes("Deployment/leasekeeper-redis"));
});

test("every object validates against its schema (kubernetes-models)", async () => {
  const problems: string[] = [];
  for (const [dir, objects] of built) {
    for (const o of objects) {
      const problem = await schemaProblem(o);
      if (problem !== undefined) problems.push(`${dir}: ${o.kind}/${o.metadata.name}: ${problem}`);
    }
  }
  assert.equal(problems, []);
});

test("images are pinned (digest or exact version), nothing privileged, read-only, non-root, seccomp, drop ALL", () => {
  const problems: string[] = [];
  for (const { owner, spec } of podTemplates(all())) {
    const bad = (what: string) => problems.push(`${owner}: ${what}`);
    if (spec.hostNetwork || spec.hostPID || spec.hostIPC) bad("host namespaces");
    if ((spec.volumes ?? []).some((v: Record<string, unknown>) => v.hostPath !== undefined)) bad("hostPath volume");
    if (spec.securityContext?.runAsNonRoot !== true) bad("pod runAsNonRoot");
    if (spec.securityContext?.seccompProfile?.type !== "RuntimeDefault") bad("pod seccomp RuntimeDefault");
    for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
      if (
        !/^[a-z0-9.\-/:]+(@sha256:[0-9a-f]{64}|:v?\d+\.\d+\.\d+(-[A-Za-z0-9.]+)?)$/.test(c.image) ||
        c.image.endsWith(":latest")
      )
        bad(`${c.name}: image ${c.image} not pinned`);
      const sc = c.securityContext ?? {};
      if (sc.privileged === true) bad(`${c.name}: privileged`);
      if (sc.allowPrivilegeEscalation !== false) bad(`${c.name}: allowPrivilegeEscalation`);
      if (sc.readOnlyRootFilesystem !== true) bad(`${c.name}: readOnlyRootFilesystem`);
      if (!(sc.capabilities?.drop ?? []).includes("ALL") || (sc.capabilities?.add ?? []).length > 0)
        bad(`${c.name}: capabilities`);
      if (sc.seccompProfile !== undefined && sc.seccompProfile.type !== "RuntimeDefault") bad(`${c.name}: seccomp`);
      if (!c.resources?.requests?.cpu || !c.resources?.requests?.memory || !c.resources?.limits?.memory)
        bad(`${c.name}: resources`);
      if (!c.livenessProbe || !c.readinessProbe) bad(`${c.name}: probes`);
    }
  }
  assert.equal(problems, []);
});

test("leasekeeper containers: probes on /healthz and /readyz, roles and env names the code reads, Secrets referenced", () => {
  const problems: string[] = [];
  for (const dir of OVERLAYS) {
    for (const { owner, spec } of podTemplates(objectsOf(dir)).filter(
      (t) => t.labels["app.kubernetes.io/name"] === "leasekeeper",
    )) {
      const c = spec.containers[0];
      if (c.livenessProbe?.httpGet?.path !== "/healthz" || c.readinessProbe?.httpGet?.path !== "/readyz")
        problems.push(`${dir} ${owner}: probes`);
      const roles = String(c.env.find((e: { name: string }) => e.name === ENV.roles)?.value ?? "").split(",");
      if (!roles.includes("functions") && !roles.includes("all"))
        problems.push(`${dir} ${owner}: no HTTP listener for the probes (roles ${roles.join(",")})`);
      for (const e of c.env) {
        if (!KNOWN_ENV.has(e.name)) problems.push(`${dir} ${owner}: env ${e.name} is not read by leasekeeper`);
        if (/KEY|TOKEN|PASSWORD/.test(e.name) && !/_FILE$|_ID$/.test(e.name) && e.value !== undefined)
          problems.push(`${dir} ${owner}: ${e.name} inlined`);
      }
    }
    for (const cm of objectsOf(dir).filter((o) => o.kind === "ConfigMap" && o.metadata.name === "leasekeeper-config")) {
      for (const key of Object.keys(cm.data ?? {}))
        if (!KNOWN_ENV.has(key)) problems.push(`${dir}: ConfigMap key ${key} is not read by leasekeeper`);
    }
    if (objectsOf(dir).some((o) => o.kind === "Secret")) problems.push(`${dir}: a Secret is inlined`);
  }
  assert.equal(problems, []);
});

test("every leasekeeper Deployment of every overlay mounts a projected token for Vault where LEASEKEEPER_VAULT_JWT_FILE points", () => {
  const problems: string[] = [];
  const configMap = objectsOf("base").find((o) => o.kind === "ConfigMap" && o.metadata.name === "leasekeeper-config");
  for (const dir of OVERLAYS) {
    for (const { owner, spec } of podTemplates(objectsOf(dir)).filter(
      (t) => t.labels["app.kubernetes.io/name"] === "leasekeeper",
    )) {
      const c = spec.containers[0];
      const file = String(
        c.env.find((e: { name: string }) => e.name === ENV.vaultJwtFile)?.value ??
          configMap?.data?.[ENV.vaultJwtFile] ??
          "",
      );
      const mount = (c.volumeMounts ?? []).find((m: { mountPath: string }) => file.startsWith(`${m.mountPath}/`));
      const volume = (spec.volumes ?? []).find((v: { name: string }) => v.name === mount?.name);
      const token = (volume?.projected?.sources ?? []).find(
        (src: { serviceAccountToken?: { path: string } }) =>
          src.serviceAccountToken !== undefined && `${mount?.mountPath}/${src.serviceAccountToken.path}` === file,
      );
      if (token === undefined)
        problems.push(
          `${dir} ${owner}: ${ENV.vaultJwtFile}=${file} is not a projected service-account token it mounts`,
        );
      else if (token.serviceAccountToken.audience !== configMap?.data?.[ENV.tokenAudience])
        problems.push(`${dir} ${owner}: the token's audience is ${token.serviceAccountToken.audience}`);
      if (spec.serviceAccountName !== "leasekeeper")
        problems.push(`${dir} ${owner}: service account ${spec.serviceAccountName}`);
    }
  }
  assert.equal(problems, []);
});

test("every Deployment has a PodDisruptionBudget; Services and PDBs select pods that exist", () => {
  const problems: string[] = [];
  for (const dir of OVERLAYS) {
    const objects = objectsOf(dir);
    const templates = podTemplates(objects);
    const selects = (sel: Record<string, string>) =>
      templates.filter((t) => Object.entries(sel).every(([k, v]) => t.labels[k] === v));
    for (const o of objects.filter((x) => x.kind === "Service" || x.kind === "PodDisruptionBudget")) {
      const sel = o.kind === "Service" ? o.spec.selector : o.spec.selector.matchLabels;
      if (selects(sel).length === 0) problems.push(`${dir}: ${o.kind}/${o.metadata.name} selects no pods`);
    }
    const pdbs = objects.filter((x) => x.kind === "PodDisruptionBudget");
    for (const t of templates.filter((x) => x.owner !== "Deployment/leasekeeper-redis")) {
      if (
        !pdbs.some((p) =>
          Object.entries(p.spec.selector.matchLabels as Record<string, string>).every(([k, v]) => t.labels[k] === v),
        )
      )
        problems.push(`${dir}: ${t.owner} has no PDB`);
    }
    const api = objects.find((x) => x.kind === "Service" && x.metadata.name === "leasekeeper");
    if (selects(api?.spec.selector ?? {}).some((t) => t.owner.endsWith("-watcher") || t.owner.endsWith("-workers")))
      problems.push(`${dir}: watcher/workers behind the API Service`);
  }
  assert.equal(problems, []);
});

test("admission webhook: fails closed, opt-in by namespace, TLS from cert-manager, the route the code serves", () => {
  const objects = objectsOf("base");
  const hook = objects.find((o) => o.kind === "MutatingWebhookConfiguration");
  const w = hook?.webhooks[0];
  assert.is(w.failurePolicy, "Fail");
  assert.equal(w.namespaceSelector, { matchLabels: { "leasekeeper.io/injector": "on" } });
  assert.is(w.clientConfig.service.path, "/v1/admission/pods");
  const [ns, name] = String(hook?.metadata.annotations?.["cert-manager.io/inject-ca-from"]).split("/");
  const cert = objects.find((o) => o.kind === "Certificate" && o.metadata.namespace === ns && o.metadata.name === name);
  assert.ok(cert, "the Certificate named by cert-manager.io/inject-ca-from exists");
  assert.ok(cert?.spec.dnsNames.includes(`${w.clientConfig.service.name}.${w.clientConfig.service.namespace}.svc`));
  assert.is(
    objects.find((o) => o.kind === "Namespace" && o.metadata.name === "leasekeeper")?.metadata.labels?.[
      "leasekeeper.io/injector"
    ],
    "off",
  );
});

test("KEDA scales workers on BullMQ's real key for the issue backlog, and on the exported queue gauge", () => {
  const objects = objectsOf("overlays/scaled");
  const so = objects.find((o) => o.kind === "ScaledObject");
  assert.is(so?.spec.scaleTargetRef.name, "leasekeeper-workers");
  assert.ok(objects.some((o) => o.kind === "Deployment" && o.metadata.name === so?.spec.scaleTargetRef.name));
  const prefix = objectsOf("base").find((o) => o.kind === "ConfigMap")?.data?.[ENV.queuePrefix];
  const redis = so?.spec.triggers.find((t: { type: string }) => t.type === "redis");
  assert.is(redis.metadata.listName, new QueueKeys(prefix).getKeys(QUEUE.issue).wait);
  const prom = so?.spec.triggers.find((t: { type: string }) => t.type === "prometheus");
  assert.match(prom.metadata.query, /leasekeeper_queue_jobs\{/);
  assert.ok(
    objects.some((o) => o.kind === "TriggerAuthentication" && o.metadata.name === redis.authenticationRef.name),
  );
});

test("the leader-election Role names the Lease the ConfigMap configures", () => {
  const objects = objectsOf("base");
  const leaseName = objects.find((o) => o.kind === "ConfigMap")?.data?.[ENV.leaseName];
  const role = objects.find((o) => o.kind === "Role" && o.metadata.name === "leasekeeper-leader-election");
  assert.ok(role?.rules.some((r: { resourceNames?: string[] }) => r.resourceNames?.includes(leaseName)));
});

test("the e2e RBAC loader reads infra/base exactly as kubectl kustomize builds it", () => {
  const sorted = (g: ReturnType<typeof grantsFor>) => [...g].sort((a, b) => a.id.localeCompare(b.id));
  assert.equal(sorted(grantsFor(loadKustomization(join(INFRA_DIR, "base")))), sorted(grantsFor(objectsOf("base"))));
  assert.ok(grantsFor(objectsOf("base")).length > 0);
});

test("Knative ApiServerSource sends pods to the CloudEvents route with a read-only identity, authenticated (OIDC) as a sender RBAC allows", () => {
  const objects = objectsOf("eventing");
  const source = objects.find((o) => o.kind === "ApiServerSource");
  assert.is(source?.spec.sink.uri, "/v1/events/kubernetes");
  assert.is(source?.spec.sink.ref.name, "leasekeeper");
  const role = objects.find((o) => o.kind === "ClusterRole" && o.metadata.name === "leasekeeper-events");
  assert.equal(role?.rules, [{ apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch"] }]);
  // The token's audience is the one leasekeeper checks (default of LEASEKEEPER_EVENTS_AUDIENCE).
  assert.is(
    source?.spec.sink.audience,
    loadConfig({ [ENV.indexKey]: Buffer.alloc(32).toString("base64") }).eventsAudience,
  );
  // Knative's per-source OIDC service account (Eventing >= 1.14: kmeta.ChildName(name, "-oidc-<group>-<kind>"), lowercase) may create podevents, nothing more.
  const oidc = {
    namespace: String(source?.metadata.namespace),
    name: `${source?.metadata.name}-oidc-sources.knative.dev-apiserversource`.toLowerCase(),
  };
  assert.ok(oidc.name.length <= 63, "short enough that Knative does not hash the name");
  assert.equal(
    grantsFor(objects, oidc).map((g) => g.rule),
    [{ apiGroups: ["leasekeeper.io"], resources: [EVENTS_RESOURCE], verbs: ["create"] }],
  );
  assert.equal(
    grantsFor(objects, { namespace: "leasekeeper", name: "leasekeeper-events" }).map((g) => g.rule),
    [role?.rules[0]],
    "the adapter's own identity stays read-only",
  );
});

test.run();

/**
 * What infra/ ships, read from the files users deploy: the ConfigMap's settings
 * (infra/base/config.yaml), the leasekeeper container's environment and the projected
 * service-account token the Deployment mounts (infra/deployment/deployment.yaml). The
 * end-to-end stack runs leasekeeper with these, changed only where HARNESS_OVERRIDES says why;
 * test/infra/shipped-config.test.ts fails when the two drift apart.
 */
import { readFileSync } from "node:fs";
import { join, posix } from "node:path";
import type { KubeletOptions, KubeObject } from "../emulators/kubernetes/index.ts";
import { INFRA_DIR, parseYaml } from "./rbac.ts";

export interface ProjectedToken {
  /** Where the container sees the token file (mountPath + path). */
  readonly file: string;
  readonly audience: string;
  readonly expirationSeconds: number;
}

export interface ShippedSettings {
  /** infra/base/config.yaml's data. */
  readonly configMap: Readonly<Record<string, string>>;
  /** The leasekeeper container's literal `env` values (valueFrom entries are in `fromFields` / `fromSecrets`). */
  readonly env: Readonly<Record<string, string>>;
  /** env entries filled from the pod's own fields (fieldRef): variable → field path. */
  readonly fromFields: Readonly<Record<string, string>>;
  /** env entries filled from Secrets (created at install, docs/install.md): variable → "secret/key". */
  readonly fromSecrets: Readonly<Record<string, string>>;
  readonly serviceAccount: { readonly namespace: string; readonly name: string };
  /** Every projected service-account token the container mounts. */
  readonly projectedTokens: readonly ProjectedToken[];
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- plain JSON from YAML, read field by field
type Json = Record<string, any>;

export const DEPLOYMENT_FILE = join(INFRA_DIR, "deployment", "deployment.yaml");
export const CONFIGMAP_FILE = join(INFRA_DIR, "base", "config.yaml");

function only<T>(items: T[], what: string): T {
  if (items.length !== 1) throw new Error(`shipped: expected exactly one ${what}, found ${items.length}`);
  return items[0] as T;
}

/** The leasekeeper Deployment's pod settings as infra/deployment ships them. */
export function shippedSettings(): ShippedSettings {
  const configMap = only(
    (parseYaml(readFileSync(CONFIGMAP_FILE, "utf8")) as KubeObject[]).filter((o) => o.kind === "ConfigMap"),
    "ConfigMap",
  );
  const deployment = only(
    (parseYaml(readFileSync(DEPLOYMENT_FILE, "utf8")) as KubeObject[]).filter((o) => o.kind === "Deployment"),
    "Deployment",
  );
  const pod = deployment.spec.template.spec as Json;
  const container = only(
    (pod.containers as Json[]).filter((c) => c.name === "leasekeeper"),
    "leasekeeper container",
  );
  const env: Record<string, string> = {};
  const fromFields: Record<string, string> = {};
  const fromSecrets: Record<string, string> = {};
  for (const e of (container.env ?? []) as Json[]) {
    if (e.value !== undefined) env[e.name] = String(e.value);
    else if (e.valueFrom?.fieldRef) fromFields[e.name] = String(e.valueFrom.fieldRef.fieldPath);
    else if (e.valueFrom?.secretKeyRef)
      fromSecrets[e.name] = `${e.valueFrom.secretKeyRef.name}/${e.valueFrom.secretKeyRef.key}`;
    else throw new Error(`shipped: env ${e.name} has a source this reader does not know`);
  }
  const projectedTokens: ProjectedToken[] = [];
  for (const mount of (container.volumeMounts ?? []) as Json[]) {
    const volume = ((pod.volumes ?? []) as Json[]).find((v) => v.name === mount.name);
    for (const source of (volume?.projected?.sources ?? []) as Json[]) {
      const sat = source.serviceAccountToken;
      if (sat === undefined) continue;
      projectedTokens.push({
        file: posix.join(mount.mountPath, sat.path),
        audience: String(sat.audience ?? ""),
        expirationSeconds: Number(sat.expirationSeconds ?? 3600),
      });
    }
  }
  return {
    configMap: { ...(configMap.data as Record<string, string>) },
    env,
    fromFields,
    fromSecrets,
    serviceAccount: {
      namespace: deployment.metadata.namespace ?? "default",
      name: String(pod.serviceAccountName ?? "default"),
    },
    projectedTokens,
  };
}

/** The projected token LEASEKEEPER_VAULT_JWT_FILE names: what leasekeeper logs in to Vault with. */
export function controllerJwtMount(shipped: ShippedSettings): ProjectedToken {
  const file = shipped.env.LEASEKEEPER_VAULT_JWT_FILE ?? shipped.configMap.LEASEKEEPER_VAULT_JWT_FILE;
  const token = shipped.projectedTokens.find((t) => t.file === file);
  if (token === undefined)
    throw new Error(
      `shipped: LEASEKEEPER_VAULT_JWT_FILE (${file}) is not a projected service-account token the Deployment mounts`,
    );
  return token;
}

/**
 * The fake kubelet's Secret refresh in tests: at most 1.5 s, which the harness's 2 s rotation
 * grace outlasts, as the shipped 120 s outlasts a real kubelet's 60 s + 10 s jitter + cache.
 */
export const TEST_KUBELET: KubeletOptions = { syncPeriodMs: 1000, jitterMs: 500 };

/**
 * Every setting the end-to-end harness runs with that differs from what infra/ ships, and why.
 * Nothing else may differ (test/infra/shipped-config.test.ts). Tests that need more pass their
 * own values to startLeasekeeper for that test only.
 */
export const HARNESS_OVERRIDES: Readonly<Record<string, string>> = {
  VAULT_ADDR: "the test's Vault emulator listens on a loopback port, not at the vault-active Service",
  KUBECONFIG:
    "no in-cluster config here: a kubeconfig with leasekeeper's own service-account token (same identity, infra/base's RBAC enforced)",
  LEASEKEEPER_VAULT_JWT_FILE:
    "the kubelet's mount path does not exist here: the test writes a TokenRequest token with the volume's audience and expiry into its own folder",
  LEASEKEEPER_HTTP_PORT: "a free loopback port per test",
  LEASEKEEPER_HTTP_HOST: "listen on loopback only, not on every interface of the test machine",
  LEASEKEEPER_TLS_CERT_FILE:
    "cert-manager's Secret is not there; the admission route is tested over plain HTTP (test/functions/admission.test.ts, test/e2e/injector.test.ts)",
  LEASEKEEPER_TLS_KEY_FILE: "as LEASEKEEPER_TLS_CERT_FILE",
  LEASEKEEPER_LEADER_ELECTION:
    "one replica per test (some tests start a second one that must not wait for the Lease); active/standby is tested in test/functions/watch/leader-election.test.ts and test/infra/rbac-unused.test.ts",
  LEASEKEEPER_LOG_LEVEL: "debug, so the secret scans read every line leasekeeper can write",
  LEASEKEEPER_ROTATION_GRACE_SECONDS:
    "tests use TTLs of seconds; 2 s still outlasts the fake kubelet's Secret refresh in tests (TEST_KUBELET, at most 1.5 s), as the shipped 120 s outlasts a real kubelet's 60-70 s plus cache",
  LEASEKEEPER_SEALED_RETRY_MS: "tests seal Vault for seconds, not minutes",
};

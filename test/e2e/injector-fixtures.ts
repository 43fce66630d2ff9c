/**
 * The classic Vault Agent Injector manifests, unchanged, and the Vault setup they expect (KV v2
 * app config, PKI role, database role), plus webhook registration against the emulator.
 */
import { AdmissionregistrationV1Api, KubeConfig, type V1Pod } from "@kubernetes/client-node";
import vault from "node-vault";
import { ensureServiceAccount, type Stack } from "../helpers/stack.ts";

export const WEB_POLICY = `
path "secret/data/web/*" { capabilities = ["read"] }
path "pki/issue/example-dot-com" { capabilities = ["create", "update"] }
path "database/creds/postgres-role" { capabilities = ["read"] }
`;

export interface WebSeed {
  readonly kv: { username: string; password: string };
}

export async function seedWeb(stack: Stack, opts: { certTtl?: string } = {}): Promise<WebSeed> {
  const root = vault({ apiVersion: "v1", endpoint: stack.vault.url, token: stack.vault.rootToken });
  await root.write("sys/policy/web", { policy: WEB_POLICY });
  await root.write("auth/kubernetes/role/web", {
    bound_service_account_names: "web",
    bound_service_account_namespaces: "default",
    token_policies: "web",
    token_ttl: "24h",
    audience: "vault",
  });
  await root.write("pki/roles/example-dot-com", {
    allowed_domains: "example.com",
    allow_subdomains: true,
    max_ttl: "72h",
    ttl: opts.certTtl ?? "24h",
  });
  const kv = { username: "wizard", password: "kv-p@ss<&>-1" };
  await root.write("secret/data/web/config", { data: kv });
  await ensureServiceAccount(stack.core, "default", "web");
  return { kv };
}

/** The Deployment from the injector tutorials: KV as a connection string, a certificate with its CA, the private key. */
export function webDeployment(name: string, replicas: number, extra: Record<string, string> = {}) {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: "default", labels: { app: name } },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: {
          labels: { app: name },
          annotations: {
            "vault.hashicorp.com/agent-inject": "true",
            "vault.hashicorp.com/role": "web",
            "vault.hashicorp.com/agent-inject-secret-config.txt": "secret/data/web/config",
            "vault.hashicorp.com/agent-inject-template-config.txt": `{{- with secret "secret/data/web/config" -}}
postgresql://{{ .Data.data.username }}:{{ .Data.data.password }}@postgres:5432/wizard
{{- end -}}
`,
            "vault.hashicorp.com/agent-inject-secret-tls.crt": "pki/issue/example-dot-com",
            "vault.hashicorp.com/agent-inject-template-tls.crt": `{{- with secret "pki/issue/example-dot-com" "common_name=web.example.com" "ttl=24h" -}}
{{ .Data.certificate }}
{{ .Data.issuing_ca }}
{{- end }}
`,
            "vault.hashicorp.com/agent-inject-secret-tls.key": "pki/issue/example-dot-com",
            "vault.hashicorp.com/agent-inject-template-tls.key": `{{- with secret "pki/issue/example-dot-com" "common_name=web.example.com" "ttl=24h" -}}
{{ .Data.private_key }}
{{- end }}
`,
            "vault.hashicorp.com/agent-pre-populate-only": "true",
            "vault.hashicorp.com/agent-limits-cpu": "250m",
            ...extra,
          },
        },
        spec: {
          serviceAccountName: "web",
          containers: [
            { name: "web", image: "nginx:1.27" },
            { name: "metrics", image: "busybox:1.36" },
          ],
        },
      },
    },
  };
}

/** A pod whose file is `source`d by its shell entry point. */
export function exportPod(name: string): V1Pod {
  return {
    metadata: {
      name,
      namespace: "default",
      annotations: {
        "vault.hashicorp.com/agent-inject": "true",
        "vault.hashicorp.com/role": "web",
        "vault.hashicorp.com/agent-inject-secret-db-creds": "database/creds/postgres-role",
        "vault.hashicorp.com/agent-inject-template-db-creds": `{{- with secret "database/creds/postgres-role" -}}
export PGUSER="{{ .Data.username }}"
export PGPASSWORD="{{ .Data.password }}"
{{- end }}
`,
      },
    },
    spec: {
      serviceAccountName: "web",
      containers: [{ name: "app", image: "postgres:16", command: ["sh", "-c", ". /vault/secrets/db-creds && psql"] }],
    },
  };
}

/** The plainest injector pod: one secret, no template, default rendering. */
export function plainPod(
  name: string,
  path = "database/creds/postgres-role",
  extra: Record<string, string> = {},
): V1Pod {
  return {
    metadata: {
      name,
      namespace: "default",
      annotations: {
        "vault.hashicorp.com/agent-inject": "true",
        "vault.hashicorp.com/role": "web",
        "vault.hashicorp.com/agent-inject-secret-db-config": path,
        ...extra,
      },
    },
    spec: { serviceAccountName: "web", containers: [{ name: "app", image: "busybox:1.36" }] },
  };
}

/**
 * The emulator serves Deployments as objects but runs no controllers: create the pods the
 * ReplicaSet controller would, from the template, with a generateName (no name at admission).
 */
export async function createDeploymentPods(
  stack: Stack,
  deployment: ReturnType<typeof webDeployment>,
): Promise<V1Pod[]> {
  const pods: V1Pod[] = [];
  for (let i = 0; i < deployment.spec.replicas; i++) {
    const body: V1Pod = {
      metadata: {
        ...deployment.spec.template.metadata,
        generateName: `${deployment.metadata.name}-7d9f8c6b5-`,
        namespace: "default",
      },
      spec: structuredClone(deployment.spec.template.spec),
    };
    pods.push(await stack.core.createNamespacedPod({ namespace: "default", body }));
  }
  return pods;
}

export interface WebhookOptions {
  readonly name: string;
  readonly url: string;
  readonly failurePolicy: "Fail" | "Ignore";
  readonly timeoutSeconds?: number;
  readonly objectSelector?: Record<string, unknown>;
}

export async function registerWebhook(stack: Stack, opts: WebhookOptions): Promise<void> {
  const kc = new KubeConfig();
  kc.loadFromFile(stack.kubeconfigPath);
  const api = kc.makeApiClient(AdmissionregistrationV1Api);
  await api.createMutatingWebhookConfiguration({
    body: {
      metadata: { name: opts.name },
      webhooks: [
        {
          name: `${opts.name}.leasekeeper.io`,
          clientConfig: { url: opts.url },
          rules: [
            { operations: ["CREATE"], apiGroups: [""], apiVersions: ["v1"], resources: ["pods"], scope: "Namespaced" },
          ],
          failurePolicy: opts.failurePolicy,
          sideEffects: "None",
          admissionReviewVersions: ["v1"],
          timeoutSeconds: opts.timeoutSeconds ?? 10,
          reinvocationPolicy: "Never",
          ...(opts.objectSelector ? { objectSelector: opts.objectSelector } : {}),
        },
      ],
    },
  });
}

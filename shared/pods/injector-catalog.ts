/**
 * Which `vault.hashicorp.com/*` annotations leasekeeper refuses (it could not do what they ask
 * without a Vault Agent in the pod) and which it ignores (they configure the sidecar it never
 * adds). Everything else in the prefix is honoured (injector-annotations.ts) or ignored with a
 * warning. docs/injector.md has the same table for people.
 */
const P = "vault.hashicorp.com/";

export interface Refusal {
  readonly key: string;
  readonly prefix: boolean;
  readonly applies: (value: string) => boolean;
  readonly why: string;
}

const always = () => true;
const truthy = (v: string) => ["1", "t", "T", "TRUE", "true", "True"].includes(v);

export const REFUSED: readonly Refusal[] = [
  {
    key: `${P}agent-inject-command-`,
    prefix: true,
    applies: always,
    why: "commands run by the Vault Agent after rendering are not supported: leasekeeper adds no container that could run them",
  },
  {
    key: `${P}agent-inject-template-file-`,
    prefix: true,
    applies: always,
    why: "templates read from a file inside the agent container are not supported; put the template in agent-inject-template-<name>",
  },
  {
    key: `${P}agent-configmap`,
    prefix: false,
    applies: always,
    why: "a full Vault Agent configuration from a ConfigMap is not supported; use agent-inject-secret-/agent-inject-template- annotations",
  },
  {
    key: `${P}agent-inject-token`,
    prefix: false,
    applies: truthy,
    why: "leasekeeper never hands the pod's Vault token to the pod (it renews and revokes it centrally)",
  },
  {
    key: `${P}namespace`,
    prefix: false,
    applies: (v) => v !== "" && v !== "root",
    why: "Vault Enterprise namespaces are not supported yet",
  },
  {
    key: `${P}auth-type`,
    prefix: false,
    applies: (v) => v !== "" && v !== "kubernetes",
    why: "only Kubernetes auth is supported",
  },
  {
    key: `${P}auth-config-`,
    prefix: true,
    applies: always,
    why: "auto-auth parameters are not supported; leasekeeper logs in with a pod-bound service-account token",
  },
];

/** Configure the agent container or its connection to Vault: leasekeeper adds no agent and uses its own Vault client settings. */
export const IGNORED_EXACT: ReadonlySet<string> = new Set(
  [
    "agent-image",
    "agent-init-first",
    "agent-limits-cpu",
    "agent-limits-mem",
    "agent-limits-ephemeral",
    "agent-requests-cpu",
    "agent-requests-mem",
    "agent-requests-ephemeral",
    "agent-run-as-user",
    "agent-run-as-group",
    "agent-run-as-same-user",
    "agent-set-security-context",
    "agent-share-process-namespace",
    "agent-cache-enable",
    "agent-cache-use-auto-auth-token",
    "agent-cache-listener-port",
    "agent-cache-exit-on-err",
    "agent-copy-volume-mounts",
    "agent-service-account-token-volume-name",
    "agent-extra-secret",
    "agent-request-namespace",
    "agent-revoke-on-shutdown",
    "agent-revoke-grace",
    "agent-pre-populate",
    "agent-pre-populate-only",
    "agent-enable-quit",
    "agent-telemetry",
    "agent-json-patch",
    "agent-init-json-patch",
    "agent-disable-idle-connections",
    "agent-disable-keep-alives",
    "agent-auto-auth-exit-on-err",
    "agent-api-proxy",
    "service",
    "proxy-address",
    "tls-skip-verify",
    "tls-secret",
    "tls-server-name",
    "ca-cert",
    "ca-key",
    "client-cert",
    "client-key",
    "client-max-retries",
    "client-timeout",
    "log-level",
    "log-format",
    "template-config-exit-on-retry-failure",
    "template-max-connections-per-host",
    "go-max-procs",
    "auth-min-backoff",
    "auth-max-backoff",
  ].map((k) => `${P}${k}`),
);

export const IGNORED_PREFIXES: readonly string[] = [`${P}agent-limits-`, `${P}agent-requests-`, `${P}agent-telemetry-`];

import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { z } from "zod";
import { AUDIT_DEFAULTS } from "../audit/audit-log.ts";
import { DEFAULT_API_AUDIENCE } from "../kube/access-review.ts";
import { parseCiKeys } from "./ci-keys.ts";
import { ENV } from "./env-vars.ts";
import { parseLabelSelector } from "../kube/label-selector.ts";
import { parseContextPairs } from "../unseal/encryption-context.ts";
import { checkUnsealFields, unsealConfigOf, unsealKeysOf, type UnsealKeys } from "./unseal-config.ts";

export const ROLES = ["watch", "functions", "workers", "reconciler"] as const;
export type Role = (typeof ROLES)[number];

const seconds = (fallback: number, min = 0) => z.coerce.number().int().min(min).default(fallback);
const list = z
  .string()
  .default("")
  .transform((v) =>
    v
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s.length > 0),
  );
const bool = (fallback: boolean) =>
  z
    .enum(["true", "false", "1", "0", "yes", "no"])
    .default(fallback ? "true" : "false")
    .transform((v) => v === "true" || v === "1" || v === "yes");

const fields = z.object({
  /** Which roles this process runs: comma list of watch,functions,workers,reconciler or "all". */
  roles: z
    .string()
    .default("all")
    .transform((v, ctx) => {
      const parts = v
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean);
      if (parts.length === 0 || parts.includes("all")) return [...ROLES];
      for (const part of parts) {
        if (!(ROLES as readonly string[]).includes(part)) {
          ctx.addIssue({ code: "custom", message: `unknown role "${part}"; expected all or ${ROLES.join(", ")}` });
          return z.NEVER;
        }
      }
      return parts as Role[];
    }),
  redisUrl: z.string().url().default("redis://127.0.0.1:6379"),
  /** host:port list of Sentinels (the master named below is discovered through them). */
  redisSentinels: list,
  redisSentinelName: z.string().min(1).default("mymaster"),
  /** host:port list of Redis Cluster seed nodes. */
  redisClusterNodes: list,
  /** BullMQ prefix; the braces make it a Redis Cluster hash tag so a queue's keys share a slot. */
  queuePrefix: z.string().min(1).default("{leasekeeper}"),
  kubeconfig: z.string().optional(),
  /** Bound on each Kubernetes API call (watches excluded). */
  kubeTimeoutMs: seconds(15_000, 100),
  /** Namespaces to watch; empty means all namespaces. */
  namespaces: list,
  vaultAddr: z.string().url().default("http://127.0.0.1:8200"),
  vaultToken: z.string().optional(),
  vaultTokenFile: z.string().optional(),
  /** leasekeeper's own Kubernetes-auth role: log in as its service account instead of a static token. */
  vaultRole: z
    .string()
    .regex(/^[A-Za-z0-9_.@-]{1,128}$/)
    .optional(),
  vaultAuthPath: z
    .string()
    .regex(/^[A-Za-z0-9_\-/]+$/)
    .default("kubernetes"),
  vaultJwtFile: z.string().default("/var/run/secrets/kubernetes.io/serviceaccount/token"),
  vaultTimeoutMs: seconds(10_000, 100),
  /** 32 bytes, base64: AES-256-GCM key for pod tokens kept in Redis. */
  indexKey: z.string().transform((v, ctx) => {
    const key = Buffer.from(v, "base64");
    if (key.length !== 32) {
      ctx.addIssue({ code: "custom", message: "must be 32 bytes encoded as base64 (e.g. `openssl rand -base64 32`)" });
      return z.NEVER;
    }
    return key;
  }),
  tokenAudience: z.string().min(1).default("vault"),
  tokenExpirationSeconds: seconds(600, 600),
  defaultAuthPath: z
    .string()
    .regex(/^[A-Za-z0-9_\-/]+$/)
    .default("kubernetes"),
  /**
   * How long replaced credentials stay valid: longer than the kubelet takes to show the pod the
   * updated Secret (its sync period, 60 s plus up to 10 s jitter, plus its cache).
   */
  rotationGraceSeconds: seconds(120),
  renewJitterPercent: seconds(10).pipe(z.number().max(50)),
  reconcileIntervalSeconds: seconds(60, 1),
  issueConcurrency: seconds(16, 1),
  renewConcurrency: seconds(16, 1),
  revokeConcurrency: seconds(16, 1),
  vaultRateLimitPerSecond: seconds(500, 1),
  maxAttempts: seconds(8, 1),
  sealedRetryMs: seconds(2000, 50),
  /**
   * BullMQ job lock: a running job's lock is renewed every half of this, so a worker that dies
   * stops renewing and its job counts as stalled this long after its last renewal.
   */
  jobLockMs: seconds(10_000, 1000),
  /** How often each worker looks for stalled jobs (their lock lapsed) and hands them to a live worker. */
  jobStalledIntervalMs: seconds(5000, 500),
  /** Stalls a job survives (each one a worker that died or froze holding it) before it fails. */
  jobMaxStalledCount: seconds(10, 1),
  /** The per-pod lock: extended every third of this while its holder works; lapses this long after a worker dies. */
  podLockMs: seconds(10_000, 1000),
  httpPort: z.coerce.number().int().min(0).max(65535).default(8080),
  httpHost: z.string().default("0.0.0.0"),
  /** The same app over TLS (admission webhook) when a certificate and key are given. */
  httpsPort: z.coerce.number().int().min(0).max(65535).default(8443),
  tlsCertFile: z.string().optional(),
  tlsKeyFile: z.string().optional(),
  /** Static API tokens for the HTTP surface, comma separated sha256 hex digests. */
  apiTokens: list.pipe(
    z.array(z.string().regex(/^[0-9a-f]{64}$/, "each must be a sha256 hex digest (printf %s TOKEN | sha256sum)")),
  ),
  /**
   * CI hook keys (comma list; any one matches, for rotation), each `<secret>;verbs=…;namespaces=…[;name=…]`
   * (shared/config/ci-keys.ts): a key may only use the verbs and namespaces it names. Empty turns the hook off.
   */
  ciHmacSecrets: list.superRefine((entries, ctx) => {
    try {
      parseCiKeys(entries);
    } catch (err) {
      ctx.addIssue({ code: "custom", message: (err as Error).message });
    }
  }),
  /** Requests per minute per identity on the on-call / CI routes. */
  httpRateLimit: seconds(600, 1),
  /**
   * Audiences a caller's bearer token must carry (TokenReview): by default only tokens made for
   * leasekeeper (`kubectl create token … --audience leasekeeper`, the CLI), never the API server's.
   */
  tokenReviewAudiences: z
    .string()
    .default(DEFAULT_API_AUDIENCE)
    .transform((v) =>
      v
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s.length > 0),
    )
    .pipe(z.array(z.string()).min(1, "name at least one audience")),
  /** Audit records younger than this are never trimmed from the stream (default 30 days). */
  auditRetentionSeconds: seconds(AUDIT_DEFAULTS.retentionSeconds, 3600),
  /** Audit records per identity per minute of calls that changed nothing (accepted changes are always recorded). */
  auditRateLimit: seconds(AUDIT_DEFAULTS.perActorPerMinute, 1),
  /** POST /v1/events/kubernetes: "kubernetes" = bearer token (TokenReview for eventsAudience, or an API token) + create podevents.leasekeeper.io; "none" = unauthenticated, trusted networks only. */
  eventsAuth: z.enum(["kubernetes", "none"]).default("kubernetes"),
  /** The audience event senders' Kubernetes tokens must carry (Knative: the ApiServerSource's spec.sink.audience). */
  eventsAudience: z.string().min(1).default("leasekeeper"),
  /** Cloudflare Worker only: the cluster's API server (https), reached with a token. */
  kubeServer: z.string().url().optional(),
  kubeToken: z.string().min(1).optional(),
  kubeCaData: z.string().min(1).optional(),
  logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  shutdownTimeoutSeconds: seconds(25, 1),
  watchStallSeconds: seconds(300, 5),
  leaderElection: bool(false),
  leaseName: z.string().default("leasekeeper-watcher"),
  leaseNamespace: z.string().default("default"),
  leaseDurationSeconds: seconds(15, 2),
  identity: z.string().default(hostname()),
  /** Act on the Vault Agent Injector's vault.hashicorp.com/* annotations (off: leave them to the injector). */
  vaultAnnotations: bool(false),
  /** Default for vault.hashicorp.com/template-static-secret-render-interval: KV re-read period, seconds. */
  staticSecretRenderIntervalSeconds: seconds(300, 1),
  // ── Unseal (docs/unseal.md). Off unless LEASEKEEPER_UNSEAL=true. ──
  unsealEnabled: bool(false),
  /** KMS key id, ARN or alias/...; every Encrypt/Decrypt names it. */
  kmsKeyId: z.string().min(1).optional(),
  /** Default: the AWS SDK's (AWS_REGION). */
  kmsRegion: z.string().min(1).optional(),
  /** Default: the AWS SDK's (AWS_ENDPOINT_URL_KMS, then the public endpoint). */
  kmsEndpoint: z.string().url().optional(),
  /** Bound into every ciphertext's encryption context as cluster=<id>. */
  unsealClusterId: z
    .string()
    .regex(/^[A-Za-z0-9._:/-]{1,128}$/)
    .optional(),
  /** Extra encryption-context pairs, "k=v,k2=v2" (identifiers only; CloudTrail logs them). */
  unsealContext: z
    .string()
    .default("")
    .transform((v, ctx) => {
      try {
        return parseContextPairs(v);
      } catch (err) {
        ctx.addIssue({ code: "custom", message: (err as Error).message });
        return z.NEVER;
      }
    }),
  unsealKeyStore: z.enum(["secret", "file"]).default("secret"),
  unsealSecretName: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/)
    .max(240)
    .default("leasekeeper-unseal-keys"),
  unsealSecretNamespace: z.string().min(1).max(63).default("vault"),
  unsealKeyFile: z.string().min(1).optional(),
  /** Replica addresses (comma list of URLs); when set, pods are not looked up. */
  vaultReplicas: list.pipe(z.array(z.string().url())),
  vaultPodNamespace: z.string().min(1).max(63).default("vault"),
  /** Also re-checked on every pod an unseal job names (shared/unseal/replica-trust.ts). */
  vaultPodSelector: z
    .string()
    .min(1)
    .default("app.kubernetes.io/name=vault,component=server")
    .superRefine((v, ctx) => {
      try {
        parseLabelSelector(v);
      } catch (err) {
        ctx.addIssue({ code: "custom", message: (err as Error).message });
      }
    }),
  vaultPodPort: z.coerce.number().int().min(1).max(65535).default(8200),
  /** Key shares travel to pod IPs: TLS unless configured otherwise (plain http only for test beds). */
  vaultPodScheme: z.enum(["http", "https"]).default("https"),
  /** PEM CA bundle to verify replicas' TLS certificates (https). */
  vaultCaCertFile: z.string().min(1).optional(),
  /** The name replicas' certificates are verified against when dialled by pod IP (https). */
  vaultTlsServerName: z
    .string()
    .regex(/^[A-Za-z0-9.*-]{1,253}$/)
    .optional(),
  unsealSweepSeconds: seconds(10, 1),
  unsealConcurrency: seconds(4, 1),
  /** Tries per step (seal status, KMS, each share) before the job reports unreachable / kms-unavailable. */
  unsealRetries: seconds(5, 1),
  unsealAutoInit: bool(false),
  unsealInitShares: seconds(5, 1).pipe(z.number().max(255)),
  unsealInitThreshold: seconds(3, 1).pipe(z.number().max(255)),
  unsealStoreRootToken: bool(true),
});

const schema = fields
  .superRefine(checkUnsealFields)
  .superRefine((value, ctx) => {
    if (Boolean(value.tlsCertFile) !== Boolean(value.tlsKeyFile)) {
      const missing = value.tlsCertFile ? "tlsKeyFile" : "tlsCertFile";
      ctx.addIssue({
        code: "custom",
        path: [missing],
        message: "LEASEKEEPER_TLS_CERT_FILE and LEASEKEEPER_TLS_KEY_FILE go together",
      });
    }
  })
  .transform((value) => ({
    ...value,
    /** The unseal section: `enabled: true` carries every setting unseal needs. */
    unseal: unsealConfigOf(value),
    /** The KMS key settings when complete (the keys CLI needs them with unseal off too). */
    unsealKeys: unsealKeysOf(value),
    /** The TLS listener for the admission webhook, when a certificate and key are given. */
    tls: value.tlsCertFile && value.tlsKeyFile ? { certFile: value.tlsCertFile, keyFile: value.tlsKeyFile } : undefined,
  }));

export type Config = Readonly<Omit<z.infer<typeof schema>, "vaultToken"> & { vaultToken: string | undefined }>;

/** What the Cloudflare Worker reads from its bindings: the HTTP subset, by the same names as on Node. */
const httpFields = fields
  .pick({
    queuePrefix: true,
    apiTokens: true,
    ciHmacSecrets: true,
    httpRateLimit: true,
    maxAttempts: true,
    namespaces: true,
    vaultAnnotations: true,
    kubeServer: true,
    kubeToken: true,
    kubeCaData: true,
    tokenReviewAudiences: true,
    eventsAuth: true,
    eventsAudience: true,
    logLevel: true,
    auditRetentionSeconds: true,
    auditRateLimit: true,
  })
  .extend({
    redisUrl: z
      .string()
      .regex(/^rediss?:\/\//, "must be redis:// or rediss:// (use rediss:// with TLS from Cloudflare)"),
  });

export type HttpConfig = Readonly<z.infer<typeof httpFields>>;

/** Values never shown in a configuration error. */
const HIDDEN = new Set<string>(["indexKey", "vaultToken", "ciHmacSecrets", "kubeToken", "apiTokens"]);

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

/** Parses the environment once; an invalid value names the variable and what was expected. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const raw = rawFields(env);
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw configError(parsed.error.issues, raw);
  const data = parsed.data;
  let vaultToken = data.vaultToken;
  if (vaultToken === undefined && data.vaultTokenFile !== undefined) {
    try {
      vaultToken = readFileSync(data.vaultTokenFile, "utf8").trim();
    } catch (err) {
      throw new ConfigError(`${ENV.vaultTokenFile}=${data.vaultTokenFile}: cannot read the file`, { cause: err });
    }
  }
  return Object.freeze({ ...data, vaultToken, roles: Object.freeze([...data.roles]) as Role[] });
}

/** The unseal key settings, or a ConfigError naming what is missing (the keys CLI, scripts). */
export function requireUnsealKeys(config: Config): UnsealKeys {
  if (config.unsealKeys) return config.unsealKeys;
  throw new ConfigError(
    `${ENV.kmsKeyId} and ${ENV.unsealClusterId} are required (and ${ENV.unsealKeyFile} with ${ENV.unsealKeyStore}=file)`,
  );
}

/** The Cloudflare Worker's configuration, from its bindings (vars and secrets). */
export function loadHttpConfig(env: Readonly<Record<string, unknown>>): HttpConfig {
  const strings: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(env)) if (typeof value === "string") strings[key] = value;
  const raw = rawFields(strings);
  const parsed = httpFields.safeParse(raw);
  if (!parsed.success) throw configError(parsed.error.issues, raw);
  return Object.freeze(parsed.data);
}

/** Field name -> the variable's value, empty values as unset. */
function rawFields(env: Readonly<Record<string, string | undefined>>): Record<string, string | undefined> {
  const raw: Record<string, string | undefined> = {};
  for (const [field, variable] of Object.entries(ENV)) {
    const value = env[variable];
    raw[field] = value === undefined || value.trim() === "" ? undefined : value;
  }
  return raw;
}

/** One message naming each variable, what was expected, and its value unless it is a secret. */
function configError(issues: readonly z.core.$ZodIssue[], raw: Record<string, string | undefined>): ConfigError {
  const lines = issues.map((issue) => {
    const field = String(issue.path[0] ?? "");
    const variable = ENV[field as keyof typeof ENV] ?? field;
    const value = raw[field];
    const shown = HIDDEN.has(field)
      ? "(hidden)"
      : JSON.stringify(field === "redisUrl" ? withoutUserinfo(value) : value);
    return `${variable}=${value === undefined ? "(unset)" : shown}: ${issue.message}`;
  });
  return new ConfigError(`invalid configuration:\n  ${lines.join("\n  ")}`);
}

/** A URL as it may be shown: user and password replaced (a Redis URL carries its password). */
function withoutUserinfo(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  return value.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/]*@/i, "$1(hidden)@");
}

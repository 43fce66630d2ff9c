/**
 * Every environment variable leasekeeper reads, in one place, with its default and meaning.
 * `loadConfig` (config.ts) parses these once into a frozen, validated object.
 */
export const ENV = {
  roles: "LEASEKEEPER_ROLES",
  redisUrl: "LEASEKEEPER_REDIS_URL",
  queuePrefix: "LEASEKEEPER_QUEUE_PREFIX",
  kubeconfig: "KUBECONFIG",
  namespaces: "LEASEKEEPER_NAMESPACES",
  vaultAddr: "VAULT_ADDR",
  vaultToken: "VAULT_TOKEN",
  vaultTokenFile: "LEASEKEEPER_VAULT_TOKEN_FILE",
  vaultTimeoutMs: "LEASEKEEPER_VAULT_TIMEOUT_MS",
  indexKey: "LEASEKEEPER_INDEX_KEY",
  tokenAudience: "LEASEKEEPER_TOKEN_AUDIENCE",
  tokenExpirationSeconds: "LEASEKEEPER_TOKEN_EXPIRATION_SECONDS",
  defaultAuthPath: "LEASEKEEPER_DEFAULT_AUTH_PATH",
  rotationGraceSeconds: "LEASEKEEPER_ROTATION_GRACE_SECONDS",
  renewJitterPercent: "LEASEKEEPER_RENEW_JITTER_PERCENT",
  reconcileIntervalSeconds: "LEASEKEEPER_RECONCILE_INTERVAL_SECONDS",
  issueConcurrency: "LEASEKEEPER_ISSUE_CONCURRENCY",
  renewConcurrency: "LEASEKEEPER_RENEW_CONCURRENCY",
  revokeConcurrency: "LEASEKEEPER_REVOKE_CONCURRENCY",
  vaultRateLimitPerSecond: "LEASEKEEPER_VAULT_RATE_LIMIT",
  maxAttempts: "LEASEKEEPER_JOB_ATTEMPTS",
  sealedRetryMs: "LEASEKEEPER_SEALED_RETRY_MS",
  httpPort: "LEASEKEEPER_HTTP_PORT",
  httpHost: "LEASEKEEPER_HTTP_HOST",
  apiTokens: "LEASEKEEPER_API_TOKENS",
  logLevel: "LEASEKEEPER_LOG_LEVEL",
  shutdownTimeoutSeconds: "LEASEKEEPER_SHUTDOWN_TIMEOUT_SECONDS",
  watchStallSeconds: "LEASEKEEPER_WATCH_STALL_SECONDS",
  leaderElection: "LEASEKEEPER_LEADER_ELECTION",
  leaseName: "LEASEKEEPER_LEASE_NAME",
  leaseNamespace: "LEASEKEEPER_LEASE_NAMESPACE",
  leaseDurationSeconds: "LEASEKEEPER_LEASE_DURATION_SECONDS",
  identity: "LEASEKEEPER_IDENTITY",
} as const;

export type EnvKey = keyof typeof ENV;

/**
 * The whole test bed in one call: Kubernetes, Vault and KMS emulators, a private Redis and a
 * private PostgreSQL, seeded with the classic Vault + Kubernetes + PostgreSQL example. Used by
 * the end-to-end tests, the benchmark and `npm run sandbox`.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import vault from "node-vault";
import { startKmsEmulator, type KmsEmulator } from "../emulators/kms/index.ts";
import { startKubernetesEmulator, type KubernetesEmulator } from "../emulators/kubernetes/index.ts";
import { startVaultEmulator, type VaultEmulator } from "../emulators/vault/index.ts";
import { startPostgres, type PostgresServer } from "./postgres.ts";
import { startRedis, type RedisServer } from "./redis.ts";
import { enforceLeasekeeperRbac, INFRA_DIR, reportRbac, type RbacEnforcement } from "./rbac.ts";

export interface StackOptions {
  /** Folder for kubeconfig and endpoints; a temporary one by default. */
  readonly dir?: string;
  readonly postgres?: boolean;
  readonly ports?: { kubernetes?: number; vault?: number; kms?: number };
  /** Kubernetes emulator grace for pod deletion, seconds (tests use 0 or 1). */
  readonly podGraceSeconds?: number;
  /** Let requests without a token in as system:anonymous (kubectl sends none to plain-http servers). */
  readonly kubeAnonymous?: boolean;
  /** Enforce infra/base's RBAC for leasekeeper's service account (default true; see rbac.ts). */
  readonly rbac?: boolean;
  /** Names Redis's and PostgreSQL's temp dirs (lk-redis-<tag>-…, lk-pg-<tag>-…), so leftovers can be found. */
  readonly tempTag?: string;
  /** Redis in its own process group, out of reach of a Ctrl-C meant for the owner (the sandbox). */
  readonly redisOwnProcessGroup?: boolean;
}

export interface Stack {
  readonly dir: string;
  /** Admin kubeconfig: for the tests' own setup calls. */
  readonly kubeconfigPath: string;
  /** leasekeeper's kubeconfig: its own service account's token, rights as in infra/base (admin when rbac: false). */
  readonly leasekeeperKubeconfigPath: string;
  /** What infra/base's RBAC allowed and refused leasekeeper (undefined when rbac: false). */
  readonly rbac: RbacEnforcement | undefined;
  readonly kube: KubernetesEmulator;
  readonly vault: VaultEmulator;
  readonly kms: KmsEmulator;
  readonly redis: RedisServer;
  readonly postgres: PostgresServer | undefined;
  readonly kmsKeyId: string;
  readonly core: CoreV1Api;
  close(): Promise<void>;
}

export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), "lk-stack-"));
  mkdirSync(dir, { recursive: true });
  const started: Array<{ close?: () => Promise<void>; stop?: () => Promise<void> }> = [];
  try {
    const kube = await startKubernetesEmulator({ port: opts.ports?.kubernetes, podGraceSeconds: opts.podGraceSeconds ?? 1, anonymousAuth: opts.kubeAnonymous ?? false });
    started.push(kube);
    const vaultEmu = await startVaultEmulator({ port: opts.ports?.vault });
    started.push(vaultEmu);
    const kms = await startKmsEmulator({ port: opts.ports?.kms });
    started.push(kms);
    const redis = await startRedis({ ...(opts.tempTag ? { tag: opts.tempTag } : {}), ownProcessGroup: opts.redisOwnProcessGroup === true });
    started.push(redis);
    const postgres = opts.postgres === false ? undefined : await startPostgres(opts.tempTag ? { tag: opts.tempTag } : {});
    if (postgres) started.push(postgres);
    const { keyId } = await kms.createKey({ alias: "alias/leasekeeper-unseal", description: "leasekeeper unseal shares" });
    const kubeconfigPath = join(dir, "kubeconfig");
    await kube.writeKubeconfig(kubeconfigPath);
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfigPath);
    const core = kc.makeApiClient(CoreV1Api);
    const rbac = opts.rbac === false ? undefined : await enforceLeasekeeperRbac(kube, join(dir, "leasekeeper.kubeconfig"));
    return {
      dir,
      kubeconfigPath,
      leasekeeperKubeconfigPath: rbac ? join(dir, "leasekeeper.kubeconfig") : kubeconfigPath,
      rbac,
      kube,
      vault: vaultEmu,
      kms,
      redis,
      postgres,
      kmsKeyId: keyId,
      core,
      async close() {
        if (rbac) reportRbac(rbac);
        // In parallel: nothing depends on another part any more, and a stop should take the slowest part's time, not the sum.
        await Promise.all(started.map((part) => (part.close ?? part.stop)?.call(part).catch(() => undefined)));
        if (!opts.dir) rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    for (const part of started.reverse()) await (part.close ?? part.stop)?.call(part).catch(() => undefined);
    throw err;
  }
}

export interface SeedOptions {
  readonly dbDefaultTtl?: string;
  readonly dbMaxTtl?: string;
  readonly tokenTtl?: string;
  readonly tokenMaxTtl?: string;
  readonly audience?: string;
}

export interface Seeded {
  /** leasekeeper's own least-privilege Vault token. */
  readonly controllerToken: string;
  readonly kvPassword: string;
}

/** leasekeeper's own Vault policy, as installed by infra/vault/setup.sh. */
export const CONTROLLER_POLICY = readFileSync(join(INFRA_DIR, "vault", "leasekeeper-policy.hcl"), "utf8");

/** The example workload policy of infra/vault (role postgres). */
export const POSTGRES_POLICY = readFileSync(join(INFRA_DIR, "vault", "example-app-policy.hcl"), "utf8");

/** The example from the classic tutorial: database role, policy, Kubernetes auth role, KV secret, service account. */
export async function seedExample(stack: Stack, opts: SeedOptions = {}): Promise<Seeded> {
  const root = vault({ apiVersion: "v1", endpoint: stack.vault.url, token: stack.vault.rootToken });
  // Vault's own identity for TokenReview: a service account token (like Vault's pod token).
  await ensureServiceAccount(stack.core, "kube-system", "vault-auth");
  const reviewerJwt = stack.kube.control.issueToken({ namespace: "kube-system", serviceAccount: "vault-auth", expirationSeconds: 365 * 24 * 3600 });
  await root.write("auth/kubernetes/config", { kubernetes_host: stack.kube.url, token_reviewer_jwt: reviewerJwt });
  await root.write("sys/policy/postgres-policy", { policy: POSTGRES_POLICY });
  await root.write("sys/policy/leasekeeper", { policy: CONTROLLER_POLICY });
  await root.write("auth/kubernetes/role/postgres", {
    bound_service_account_names: "postgres-vault",
    bound_service_account_namespaces: "default",
    token_policies: "postgres-policy",
    token_ttl: opts.tokenTtl ?? "24h",
    token_max_ttl: opts.tokenMaxTtl ?? "24h",
    audience: opts.audience ?? "vault",
  });
  if (stack.postgres) {
    const pg = stack.postgres;
    await root.write("database/config/postgres", {
      plugin_name: "postgresql-database-plugin",
      connection_url: `postgresql://{{username}}:{{password}}@${pg.host}:${pg.port}/${pg.database}?sslmode=disable`,
      username: pg.user,
      password: pg.password,
      allowed_roles: "postgres-role",
    });
    await root.write("database/roles/postgres-role", {
      db_name: "postgres",
      creation_statements: `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'; GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{{name}}";`,
      default_ttl: opts.dbDefaultTtl ?? "1h",
      max_ttl: opts.dbMaxTtl ?? "24h",
    });
  }
  const kvPassword = randomBytes(9).toString("base64url");
  await root.write("secret/data/db-pass", { data: { password: kvPassword } });
  await ensureServiceAccount(stack.core, "default", "postgres-vault");
  const created = (await root.write("auth/token/create", { policies: ["leasekeeper"], ttl: "768h", no_default_policy: false })) as { auth: { client_token: string } };
  return { controllerToken: created.auth.client_token, kvPassword };
}

export async function ensureServiceAccount(core: CoreV1Api, namespace: string, name: string): Promise<void> {
  try {
    await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name, namespace } } });
  } catch (err) {
    if ((err as { code?: number }).code !== 409) throw err;
  }
}

export function randomIndexKey(): string {
  return randomBytes(32).toString("base64");
}

/** The environment leasekeeper needs to run against a stack, as its own least-privilege identity. */
export function leasekeeperEnv(stack: Stack, seeded: Seeded, httpPort: number | string): Record<string, string> {
  return {
    LEASEKEEPER_INDEX_KEY: randomIndexKey(),
    LEASEKEEPER_REDIS_URL: stack.redis.url,
    KUBECONFIG: stack.leasekeeperKubeconfigPath,
    VAULT_ADDR: stack.vault.url,
    VAULT_TOKEN: seeded.controllerToken,
    LEASEKEEPER_HTTP_PORT: String(httpPort),
    LEASEKEEPER_HTTP_HOST: "127.0.0.1",
  };
}

/**
 * The whole test bed in one call: Kubernetes, Vault and KMS emulators, a private Redis and a
 * private PostgreSQL, seeded with the classic Vault + Kubernetes + PostgreSQL example. Used by
 * the end-to-end tests, the benchmark and `npm run sandbox`.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { randomBytes } from "node:crypto";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import vault from "node-vault";
import { startKmsEmulator, type KmsEmulator } from "../emulators/kms/index.ts";
import {
  startKubernetesEmulator,
  type KubeletOptions,
  type KubernetesEmulator,
} from "../emulators/kubernetes/index.ts";
import { startVaultEmulator, type VaultEmulator } from "../emulators/vault/index.ts";
import { startPostgres, type PostgresServer } from "./postgres.ts";
import { startRedis, type RedisServer } from "./redis.ts";
import { enforceLeasekeeperRbac, reportRbac, type RbacEnforcement } from "./rbac.ts";
import { controllerJwtMount, shippedSettings, TEST_KUBELET } from "./shipped.ts";
import { vaultSetup } from "./vault-setup.ts";

export interface StackOptions {
  /** Folder for kubeconfig and endpoints; a temporary one by default. */
  readonly dir?: string;
  readonly postgres?: boolean;
  readonly ports?: { kubernetes?: number; vault?: number; kms?: number };
  /** Kubernetes emulator grace for pod deletion, seconds (tests use 0 or 1). */
  readonly podGraceSeconds?: number;
  /** Let requests without a token in as system:anonymous (kubectl sends none to plain-http servers). */
  readonly kubeAnonymous?: boolean;
  /** The fake kubelet's Secret-volume refresh (default TEST_KUBELET; the sandbox uses a real kubelet's 60 s + 10 s). */
  readonly kubelet?: KubeletOptions;
  /** Deployment → ReplicaSet → Pod controllers (the sandbox; tests that place these objects by hand keep them off). */
  readonly workloadControllers?: boolean;
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
    const kube = await startKubernetesEmulator({
      port: opts.ports?.kubernetes,
      podGraceSeconds: opts.podGraceSeconds ?? 1,
      anonymousAuth: opts.kubeAnonymous ?? false,
      workloadControllers: opts.workloadControllers ?? false,
    });
    started.push(kube);
    kube.kubelet.configure(opts.kubelet ?? TEST_KUBELET);
    const vaultEmu = await startVaultEmulator({ port: opts.ports?.vault });
    started.push(vaultEmu);
    const kms = await startKmsEmulator({ port: opts.ports?.kms });
    started.push(kms);
    const redis = await startRedis({
      ...(opts.tempTag ? { tag: opts.tempTag } : {}),
      ownProcessGroup: opts.redisOwnProcessGroup === true,
    });
    started.push(redis);
    const postgres =
      opts.postgres === false ? undefined : await startPostgres(opts.tempTag ? { tag: opts.tempTag } : {});
    if (postgres) started.push(postgres);
    const { keyId } = await kms.createKey({
      alias: "alias/leasekeeper-unseal",
      description: "leasekeeper unseal shares",
    });
    const kubeconfigPath = join(dir, "kubeconfig");
    await kube.writeKubeconfig(kubeconfigPath);
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfigPath);
    const core = kc.makeApiClient(CoreV1Api);
    const rbac =
      opts.rbac === false ? undefined : await enforceLeasekeeperRbac(kube, join(dir, "leasekeeper.kubeconfig"));
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
  /** setup.sh's DB_DEFAULT_TTL / DB_MAX_TTL (shipped defaults 1h / 24h). */
  readonly dbDefaultTtl?: string;
  readonly dbMaxTtl?: string;
  /** setup.sh's APP_TOKEN_TTL / APP_TOKEN_MAX_TTL: the pod tokens of role postgres (shipped 1h / 24h). */
  readonly tokenTtl?: string;
  readonly tokenMaxTtl?: string;
  /** setup.sh's AUDIENCE (shipped: vault). */
  readonly audience?: string;
  /** setup.sh's CONTROLLER_ROLE_TTL / CONTROLLER_ROLE_MAX_TTL: leasekeeper's own role (shipped 1h / 24h). */
  readonly controllerRoleTtl?: string;
  readonly controllerRoleMaxTtl?: string;
  /** setup.sh's CONTROLLER_TOKEN_TTL: the static token it writes (shipped 768h). */
  readonly controllerTokenTtl?: string;
}

export interface Seeded {
  /**
   * The static leasekeeper token setup.sh writes to CONTROLLER_TOKEN_FILE (policy leasekeeper, no
   * default policy). The shipped Deployment logs in with its role instead; tests of the static
   * path pass it as VAULT_TOKEN, and the secret scans look for it.
   */
  readonly controllerToken: string;
  readonly kvPassword: string;
}

/**
 * Configures Vault by running infra/vault/setup.sh as shipped (Kubernetes auth, the policies, the
 * example role postgres, the database engine, leasekeeper's role and a static token), then adds
 * what installing does not: the workload's KV value and the service accounts (kubectl's part).
 */
export async function seedExample(stack: Stack, opts: SeedOptions = {}): Promise<Seeded> {
  // Vault runs outside the emulated cluster, so it needs a reviewer token (setup.sh's
  // TOKEN_REVIEWER_JWT_FILE), as an external Vault does.
  await ensureServiceAccount(stack.core, "kube-system", "vault-auth");
  const reviewerFile = join(stack.dir, "vault-reviewer.jwt");
  writeFileSync(
    reviewerFile,
    stack.kube.control.issueToken({
      namespace: "kube-system",
      serviceAccount: "vault-auth",
      expirationSeconds: 365 * 24 * 3600,
    }),
    { mode: 0o600 },
  );
  const tokenFile = join(stack.dir, "leasekeeper-vault-token");
  const env: Record<string, string> = {
    VAULT_ADDR: stack.vault.url,
    VAULT_TOKEN: stack.vault.rootToken,
    K8S_HOST: stack.kube.url,
    TOKEN_REVIEWER_JWT_FILE: reviewerFile,
    CONTROLLER_TOKEN_FILE: tokenFile,
  };
  const optional: Record<string, string | undefined> = {
    APP_TOKEN_TTL: opts.tokenTtl,
    APP_TOKEN_MAX_TTL: opts.tokenMaxTtl,
    AUDIENCE: opts.audience,
    DB_DEFAULT_TTL: opts.dbDefaultTtl,
    DB_MAX_TTL: opts.dbMaxTtl,
    CONTROLLER_ROLE_TTL: opts.controllerRoleTtl,
    CONTROLLER_ROLE_MAX_TTL: opts.controllerRoleMaxTtl,
    CONTROLLER_TOKEN_TTL: opts.controllerTokenTtl,
  };
  for (const [key, value] of Object.entries(optional)) if (value !== undefined) env[key] = value;
  if (stack.postgres) {
    const pg = stack.postgres;
    const passwordFile = join(stack.dir, "db-password");
    writeFileSync(passwordFile, `${pg.password}\n`, { mode: 0o600 });
    env.DB_CONNECTION_URL = `postgresql://{{username}}:{{password}}@${pg.host}:${pg.port}/${pg.database}?sslmode=disable`;
    env.DB_USERNAME = pg.user;
    env.DB_PASSWORD_FILE = passwordFile;
  }
  await vaultSetup(env);
  // Workload data, not installation: the example policy lets the pod read this KV path.
  const root = vault({ apiVersion: "v1", endpoint: stack.vault.url, token: stack.vault.rootToken });
  const kvPassword = randomBytes(9).toString("base64url");
  await root.write("secret/data/db-pass", { data: { password: kvPassword } });
  await ensureServiceAccount(stack.core, "default", "postgres-vault");
  return { controllerToken: readFileSync(tokenFile, "utf8"), kvPassword };
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

/**
 * The environment leasekeeper runs with against a stack: infra/base's ConfigMap and the
 * Deployment's env, with the Secrets it references filled in and only the HARNESS_OVERRIDES
 * changed. Its own Vault identity is the shipped one: role leasekeeper with a token of the
 * projected volume's audience and expiry (written where LEASEKEEPER_VAULT_JWT_FILE points).
 */
export function leasekeeperEnv(stack: Stack, _seeded: Seeded, httpPort: number | string): Record<string, string> {
  const shipped = shippedSettings();
  const fields: Record<string, string> = {
    "metadata.namespace": shipped.serviceAccount.namespace,
    "metadata.name": "leasekeeper-test-0",
  };
  const secrets: Record<string, string> = {
    "leasekeeper-index-key/key": randomIndexKey(),
    "leasekeeper-redis/url": stack.redis.url,
  };
  const env: Record<string, string> = { ...shipped.configMap, ...shipped.env };
  for (const [name, path] of Object.entries(shipped.fromFields))
    env[name] = required(fields[path], `field ${path} of ${name}`);
  for (const [name, ref] of Object.entries(shipped.fromSecrets))
    env[name] = required(secrets[ref], `Secret ${ref} of ${name}`);
  return {
    ...env,
    VAULT_ADDR: stack.vault.url,
    KUBECONFIG: stack.leasekeeperKubeconfigPath,
    LEASEKEEPER_VAULT_JWT_FILE: mountControllerJwt(stack, shipped),
    LEASEKEEPER_HTTP_PORT: String(httpPort),
    LEASEKEEPER_HTTP_HOST: "127.0.0.1",
    LEASEKEEPER_TLS_CERT_FILE: "",
    LEASEKEEPER_TLS_KEY_FILE: "",
    LEASEKEEPER_LEADER_ELECTION: "false",
  };
}

function required(value: string | undefined, what: string): string {
  if (value === undefined)
    throw new Error(`leasekeeperEnv: the Deployment references ${what}, which the test stack does not provide`);
  return value;
}

/**
 * What the kubelet does for the Deployment's projected service-account token: a TokenRequest for
 * leasekeeper's service account with the volume's audience and expiry, written to a file and
 * refreshed at 80 % of its life. Returns the file's path.
 */
export function mountControllerJwt(stack: Stack, shipped = shippedSettings()): string {
  const mount = controllerJwtMount(shipped);
  const sa = shipped.serviceAccount;
  const control = stack.kube.control;
  if (control.get("namespaces", "", sa.namespace) === undefined)
    control.put("namespaces", { metadata: { name: sa.namespace } });
  if (control.get("serviceaccounts", sa.namespace, sa.name) === undefined)
    control.put("serviceaccounts", { metadata: { name: sa.name, namespace: sa.namespace } });
  const file = join(stack.dir, "mounts", `${randomBytes(4).toString("hex")}${mount.file}`);
  mkdirSync(dirname(file), { recursive: true });
  const write = () => {
    const jwt = control.issueToken({
      namespace: sa.namespace,
      serviceAccount: sa.name,
      audiences: [mount.audience],
      expirationSeconds: mount.expirationSeconds,
    });
    writeFileSync(file, jwt, { mode: 0o600 });
  };
  write();
  setInterval(() => {
    try {
      write();
    } catch {
      // the stack was closed: nothing reads the file any more
    }
  }, mount.expirationSeconds * 800).unref();
  return file;
}

/**
 * The benchmark's floor: the least any controller must do per pod for the same protocol, run in
 * its own process so its CPU can be set beside leasekeeper's. No framework, no queue, no cache:
 * plain keep-alive fetch to the Kubernetes and Vault HTTP APIs and one Redis command per pod.
 *
 * - issue: TokenRequest for the pod's service account (bound to the pod), Vault Kubernetes-auth
 *   login, read of the database credentials, Secret create, one HSET (the token sealed with
 *   AES-256-GCM, as any controller keeping it must)
 * - renew: token renew-self, lease renew, one HSET
 * - revoke: lease revoke (sync), token revoke by accessor, Secret delete, one DEL
 *
 * Started by scripts/bench.ts with BENCH_FLOOR (JSON of FloorConfig); prints FloorResult as JSON.
 * Pod creation and deletion (the cluster's work, not a controller's) happen outside the measured phases.
 */
import { createCipheriv, randomBytes } from "node:crypto";
import { Redis } from "ioredis";

export interface FloorConfig {
  readonly kubeUrl: string;
  /** The cluster admin's token: creates and deletes the floor's pods (not measured). */
  readonly adminToken: string;
  /** leasekeeper's own service-account token: TokenRequest and Secrets, as leasekeeper does them. */
  readonly kubeToken: string;
  readonly vaultUrl: string;
  /** A token with leasekeeper's Vault policy: lease renew / revoke and revoke-accessor. */
  readonly controllerToken: string;
  readonly redisUrl: string;
  readonly pods: number;
  readonly concurrency: number;
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly role: string;
  readonly secretPath: string;
  readonly audience: string;
}

export interface FloorPhase {
  readonly cpuMs: number;
  readonly seconds: number;
}

export interface FloorResult {
  readonly pods: number;
  readonly issue: FloorPhase;
  readonly renew: FloorPhase;
  readonly revoke: FloorPhase;
}

interface FloorPod {
  readonly name: string;
  readonly uid: string;
  token: string;
  accessor: string;
  leaseId: string;
}

const config = JSON.parse(process.env.BENCH_FLOOR ?? "null") as FloorConfig | null;
if (config === null) throw new Error("bench-floor: BENCH_FLOOR (JSON) is required; run it through npm run bench");
const cfg: FloorConfig = config;
const key = randomBytes(32);

async function call(url: string, init: { method: string; token: string; vault?: boolean; body?: unknown }) {
  const headers: Record<string, string> = {};
  if (!init.vault) headers.Authorization = `Bearer ${init.token}`;
  else if (init.token !== "") headers["X-Vault-Token"] = init.token;
  if (init.body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(url, {
    method: init.method,
    headers,
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`bench-floor: ${init.method} ${new URL(url).pathname} answered ${res.status}`);
  return text === "" ? {} : (JSON.parse(text) as Record<string, unknown>);
}
const kube = (path: string, method: string, body?: unknown, token = cfg.kubeToken) =>
  call(`${cfg.kubeUrl}${path}`, { method, token, body });
const vault = (path: string, method: string, token: string, body?: unknown) =>
  call(`${cfg.vaultUrl}/v1/${path}`, { method, token, vault: true, body });

function seal(token: string, uid: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(Buffer.from(uid));
  const sealed = Buffer.concat([cipher.update(token, "utf8"), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString("base64");
}

async function limit<T>(items: readonly T[], fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: cfg.concurrency }, async () => {
      while (next < items.length) await fn(items[next++] as T);
    }),
  );
}

async function measure(pods: readonly FloorPod[], fn: (pod: FloorPod) => Promise<void>): Promise<FloorPhase> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  await limit(pods, fn);
  const used = process.cpuUsage(cpu);
  return { cpuMs: (used.user + used.system) / 1000, seconds: (performance.now() - start) / 1000 };
}

const ns = cfg.namespace;
const redis = new Redis(cfg.redisUrl);
const redisKey = (pod: FloorPod) => `bench-floor:${pod.uid}`;

async function issue(pod: FloorPod): Promise<void> {
  const review = await kube(`/api/v1/namespaces/${ns}/serviceaccounts/${cfg.serviceAccount}/token`, "POST", {
    apiVersion: "authentication.k8s.io/v1",
    kind: "TokenRequest",
    spec: {
      audiences: [cfg.audience],
      expirationSeconds: 600,
      boundObjectRef: { apiVersion: "v1", kind: "Pod", name: pod.name, uid: pod.uid },
    },
  });
  const jwt = (review.status as { token: string }).token;
  const login = await vault("auth/kubernetes/login", "PUT", "", { role: cfg.role, jwt });
  const auth = login.auth as { client_token: string; accessor: string };
  pod.token = auth.client_token;
  pod.accessor = auth.accessor;
  const creds = await vault(cfg.secretPath, "GET", pod.token);
  pod.leaseId = creds.lease_id as string;
  await kube(`/api/v1/namespaces/${ns}/secrets`, "POST", {
    apiVersion: "v1",
    kind: "Secret",
    metadata: {
      name: `${pod.name}-floor`,
      namespace: ns,
      labels: { "bench.floor/pod-uid": pod.uid },
      annotations: { "bench.floor/accessor": pod.accessor, "bench.floor/lease-ids": JSON.stringify([pod.leaseId]) },
      ownerReferences: [{ apiVersion: "v1", kind: "Pod", name: pod.name, uid: pod.uid }],
    },
    data: { "creds.json": Buffer.from(JSON.stringify(creds.data)).toString("base64") },
  });
  await redis.hset(redisKey(pod), {
    token: seal(pod.token, pod.uid),
    accessor: pod.accessor,
    lease: pod.leaseId,
    expires: Date.now() + Number(creds.lease_duration) * 1000,
  });
}

async function renew(pod: FloorPod): Promise<void> {
  const self = await vault("auth/token/renew-self", "PUT", pod.token, { increment: "300s" });
  const lease = await vault("sys/leases/renew", "PUT", cfg.controllerToken, { lease_id: pod.leaseId, increment: 300 });
  const ttl = Math.min(Number((self.auth as { lease_duration: number }).lease_duration), Number(lease.lease_duration));
  await redis.hset(redisKey(pod), "expires", Date.now() + ttl * 1000);
}

async function revoke(pod: FloorPod): Promise<void> {
  await vault("sys/leases/revoke", "PUT", cfg.controllerToken, { lease_id: pod.leaseId, sync: true });
  await vault("auth/token/revoke-accessor", "PUT", cfg.controllerToken, { accessor: pod.accessor });
  await kube(`/api/v1/namespaces/${ns}/secrets/${pod.name}-floor`, "DELETE");
  await redis.del(redisKey(pod));
}

try {
  const run = randomBytes(3).toString("hex");
  const pods: FloorPod[] = [];
  const names = Array.from({ length: cfg.pods }, (_, i) => `floor-${run}-${i}`);
  await limit(names, async (name) => {
    const created = await kube(
      `/api/v1/namespaces/${ns}/pods`,
      "POST",
      {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name },
        spec: { serviceAccountName: cfg.serviceAccount, containers: [{ name: "app", image: "busybox" }] },
      },
      cfg.adminToken,
    );
    pods.push({ name, uid: (created.metadata as { uid: string }).uid, token: "", accessor: "", leaseId: "" });
  });
  const result: FloorResult = {
    pods: pods.length,
    issue: await measure(pods, issue),
    renew: await measure(pods, renew),
    revoke: await measure(pods, revoke),
  };
  await limit(pods, async (pod) => {
    await kube(`/api/v1/namespaces/${ns}/pods/${pod.name}`, "DELETE", { gracePeriodSeconds: 0 }, cfg.adminToken);
  });
  process.stdout.write(`${JSON.stringify(result)}\n`);
} finally {
  redis.disconnect();
}

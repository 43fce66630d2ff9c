/**
 * `npm run bench:webhook [-- --pods N] [--json]`: a burst of N pods (default 200) created with
 * generateName through the Kubernetes emulator, mutated by leasekeeper's admission webhook
 * (leasekeeper in its own process, Vault Agent Injector annotations). For each pod: the time
 * from admission (the create call answered, webhook included) to its Secret being present,
 * against 0.5 s — the kubelet's first retry for a Secret volume that does not exist yet.
 */
import { spawn } from "node:child_process";
import { AdmissionregistrationV1Api, KubeConfig, Watch } from "@kubernetes/client-node";
import { randomIndexKey, seedExample, startStack } from "../test/helpers/stack.ts";
import { freePort } from "../test/helpers/ports.ts";

const args = process.argv.slice(2);
const json = args.includes("--json");
const podsArg = args.indexOf("--pods");
const N = podsArg >= 0 ? Number(args[podsArg + 1]) : 200;
if (!Number.isInteger(N) || N < 1) throw new Error("--pods must be a positive integer");
const KUBELET_FIRST_RETRY_MS = 500;
const log = (line: string) => {
  if (!json) process.stderr.write(`${line}\n`);
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
};

const stack = await startStack({ podGraceSeconds: 0 });
const seeded = await seedExample(stack, { dbDefaultTtl: "300s", dbMaxTtl: "1h" });
const httpPort = await freePort();
const child = spawn(process.execPath, ["--import", "tsx", "functions/entry/node.ts"], {
  stdio: ["ignore", "ignore", "inherit"],
  env: {
    ...process.env,
    LEASEKEEPER_INDEX_KEY: randomIndexKey(),
    LEASEKEEPER_REDIS_URL: stack.redis.url,
    KUBECONFIG: stack.kubeconfigPath,
    VAULT_ADDR: stack.vault.url,
    VAULT_TOKEN: seeded.controllerToken,
    LEASEKEEPER_HTTP_PORT: String(httpPort),
    LEASEKEEPER_HTTP_HOST: "127.0.0.1",
    LEASEKEEPER_LOG_LEVEL: "warn",
    LEASEKEEPER_VAULT_ANNOTATIONS: "true",
    LEASEKEEPER_ISSUE_CONCURRENCY: process.env.LEASEKEEPER_ISSUE_CONCURRENCY ?? "64",
    LEASEKEEPER_RECONCILE_INTERVAL_SECONDS: "3600",
  },
});
const api = `http://127.0.0.1:${httpPort}`;

try {
  for (let i = 0; ; i++) {
    if (
      await fetch(`${api}/readyz`)
        .then((r) => r.ok)
        .catch(() => false)
    )
      break;
    if (i > 300) throw new Error("leasekeeper did not become ready");
    await sleep(100);
  }
  const kc = new KubeConfig();
  kc.loadFromFile(stack.kubeconfigPath);
  await kc.makeApiClient(AdmissionregistrationV1Api).createMutatingWebhookConfiguration({
    body: {
      metadata: { name: "leasekeeper" },
      webhooks: [
        {
          name: "pods.leasekeeper.io",
          clientConfig: { url: `${api}/v1/admission/pods` },
          failurePolicy: "Fail",
          sideEffects: "None",
          admissionReviewVersions: ["v1"],
          timeoutSeconds: 10,
          rules: [
            { operations: ["CREATE"], apiGroups: [""], apiVersions: ["v1"], resources: ["pods"], scope: "Namespaced" },
          ],
        },
      ],
    },
  });
  const secretSeen = new Map<string, number>();
  const watch = new Watch(kc);
  const secretWatch = await watch.watch(
    "/api/v1/namespaces/default/secrets",
    {},
    (type, obj: { metadata?: { name?: string } }) => {
      const name = obj.metadata?.name ?? "";
      if (type === "ADDED" && !secretSeen.has(name)) secretSeen.set(name, performance.now());
    },
    () => undefined,
  );

  log(`creating ${N} pods through the webhook …`);
  const admitted = new Map<string, number>();
  const createMs: number[] = [];
  const burstStart = performance.now();
  await Promise.all(
    Array.from({ length: N }, async () => {
      const sent = performance.now();
      const pod = await stack.core.createNamespacedPod({
        namespace: "default",
        body: {
          metadata: {
            generateName: "web-6b7c9d-",
            annotations: {
              "vault.hashicorp.com/agent-inject": "true",
              "vault.hashicorp.com/role": "postgres",
              "vault.hashicorp.com/agent-inject-secret-db-config": "database/creds/postgres-role",
            },
          },
          spec: { serviceAccountName: "postgres-vault", containers: [{ name: "app", image: "busybox:1.36" }] },
        },
      });
      const at = performance.now();
      createMs.push(at - sent);
      admitted.set(pod.metadata?.annotations?.["leasekeeper.io/secret-name"] ?? "", at);
    }),
  );
  if (admitted.has("")) throw new Error("a pod was admitted without a Secret name: the webhook did not mutate it");
  for (let i = 0; [...admitted.keys()].some((n) => !secretSeen.has(n)); i++) {
    if (i > 1200)
      throw new Error(`only ${[...admitted.keys()].filter((n) => secretSeen.has(n)).length}/${N} Secrets after 60 s`);
    await sleep(50);
  }
  const burstSeconds = (Math.max(...secretSeen.values()) - burstStart) / 1000;
  const latencies = [...admitted].map(([name, at]) => Math.max(0, (secretSeen.get(name) ?? NaN) - at));
  secretWatch.abort();
  const result = {
    pods: N,
    admissionToSecret: {
      p50Ms: pct(latencies, 50),
      p99Ms: pct(latencies, 99),
      maxMs: Math.max(...latencies),
      overKubeletRetry: latencies.filter((l) => l > KUBELET_FIRST_RETRY_MS).length,
    },
    createWithWebhook: { p50Ms: pct(createMs, 50), p99Ms: pct(createMs, 99) },
    kubeletFirstRetryMs: KUBELET_FIRST_RETRY_MS,
    burstSeconds,
  };
  if (json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } else {
    const r = (v: number) => v.toFixed(0);
    const rows: Array<[string, string, string]> = [
      [
        "admission → Secret present, p50 / p99",
        `${r(result.admissionToSecret.p50Ms)} / ${r(result.admissionToSecret.p99Ms)} ms`,
        `p99 <= ${KUBELET_FIRST_RETRY_MS} ms`,
      ],
      ["pods whose Secret came after 0.5 s", `${result.admissionToSecret.overKubeletRetry} of ${N}`, "0"],
      [
        "pod create incl. webhook, p50 / p99",
        `${r(result.createWithWebhook.p50Ms)} / ${r(result.createWithWebhook.p99Ms)} ms`,
        "",
      ],
      ["whole burst (first create → last Secret)", `${result.burstSeconds.toFixed(2)} s`, ""],
    ];
    for (const [what, value, target] of rows)
      process.stdout.write(`${what.padEnd(44)} ${value.padEnd(18)} ${target}\n`);
  }
} finally {
  child.kill("SIGTERM");
  await new Promise((r) => child.once("exit", r));
  await stack.close();
}

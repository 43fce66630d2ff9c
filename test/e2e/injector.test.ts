/**
 * Drop-in for the Vault Agent Injector, end to end: the webhook mutates pods the emulator
 * creates, leasekeeper issues the per-pod Secret before the kubelet gives up waiting, and the
 * files hold what Vault Agent would have written.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { X509Certificate, createPrivateKey } from "node:crypto";
import type { V1Pod, V1Secret } from "@kubernetes/client-node";
import vault from "node-vault";
import { seedExample, startStack, type Seeded, type Stack } from "../helpers/stack.ts";
import { canLogin, redisDump, startLeasekeeper, waitFor, type Harness } from "./harness.ts";
import {
  createDeploymentPods,
  exportPod,
  plainPod,
  registerWebhook,
  seedWeb,
  webDeployment,
  type WebSeed,
} from "./injector-fixtures.ts";

const e2e = suite<{
  stack: Stack;
  seeded: Seeded;
  web: WebSeed;
  lk: Harness;
  hang: Server;
  hangUrl: string;
  secrets: string[];
}>("injector");

e2e.before(async (ctx) => {
  ctx.stack = await startStack({ podGraceSeconds: 0 });
  ctx.seeded = await seedExample(ctx.stack);
  ctx.web = await seedWeb(ctx.stack);
  ctx.lk = await startLeasekeeper(ctx.stack, ctx.seeded, { LEASEKEEPER_VAULT_ANNOTATIONS: "true" });
  await registerWebhook(ctx.stack, {
    name: "leasekeeper",
    url: `${ctx.lk.runtime.httpUrl}/v1/admission/pods`,
    failurePolicy: "Fail",
    objectSelector: { matchExpressions: [{ key: "webhook-test", operator: "DoesNotExist" }] },
  });
  ctx.hang = createServer(() => undefined); // accepts and never answers: a webhook timeout
  await new Promise<void>((r) => ctx.hang.listen(0, "127.0.0.1", () => r()));
  ctx.hangUrl = `http://127.0.0.1:${(ctx.hang.address() as AddressInfo).port}/v1/admission/pods`;
  ctx.secrets = [ctx.web.kv.password];
});

e2e.after(async (ctx) => {
  ctx.hang?.closeAllConnections();
  await new Promise<void>((r) => (ctx.hang ? ctx.hang.close(() => r()) : r()));
  await ctx.lk?.stop();
  await ctx.stack?.close();
});

async function readSecret(stack: Stack, name: string): Promise<V1Secret | undefined> {
  try {
    return await stack.core.readNamespacedSecret({ namespace: "default", name });
  } catch {
    return undefined;
  }
}

function file(secret: V1Secret, key: string): string {
  const raw = secret.data?.[key];
  if (raw === undefined) throw new Error(`Secret has no ${key}`);
  return Buffer.from(raw, "base64").toString("utf8");
}

async function secretOfPod(stack: Stack, pod: V1Pod): Promise<V1Secret> {
  const name = pod.metadata?.annotations?.["leasekeeper.io/secret-name"] ?? "";
  return waitFor(`Secret ${name}`, () => readSecret(stack, name));
}

async function running(stack: Stack, name: string): Promise<V1Pod> {
  return waitFor(`pod ${name} Running`, async () => {
    const pod = await stack.core.readNamespacedPod({ namespace: "default", name });
    return pod.status?.phase === "Running" ? pod : undefined;
  });
}

e2e(
  "a tutorial Deployment (KV + PKI templates) runs unchanged: mutated at admission, files as Vault Agent writes them",
  async ({ stack, web, secrets }) => {
    const pods = await createDeploymentPods(stack, webDeployment("web", 2));
    for (const pod of pods) {
      const name = pod.metadata?.name ?? "";
      assert.match(name, /^web-7d9f8c6b5-/);
      const secretName = pod.metadata?.annotations?.["leasekeeper.io/secret-name"] ?? "";
      assert.match(secretName, /^web-7d9f8c6b5-lk-[0-9a-f]{10}$/, "random name chosen at admission (no pod name yet)");
      assert.is(pod.metadata?.annotations?.["vault.hashicorp.com/agent-inject-status"], "injected");
      assert.equal(
        pod.spec?.containers.map((c) => c.name),
        ["web", "metrics"],
        "no container added",
      );
      assert.is(pod.spec?.initContainers, undefined, "no init container added");
      const volume = pod.spec?.volumes?.find((v) => v.name === "leasekeeper-secrets");
      assert.equal(JSON.parse(JSON.stringify(volume?.secret ?? {})), {
        secretName,
        defaultMode: 0o440,
        items: [
          { key: "config.txt", path: "config.txt" },
          { key: "tls.crt", path: "tls.crt" },
          { key: "tls.key", path: "tls.key" },
        ],
      });
      for (const c of pod.spec?.containers ?? []) {
        assert.ok(
          c.volumeMounts?.some(
            (m) => m.name === "leasekeeper-secrets" && m.mountPath === "/vault/secrets" && m.readOnly === true,
          ),
          `mount in ${c.name}`,
        );
      }
      await running(stack, name);
      const secret = await secretOfPod(stack, pod);
      assert.is(file(secret, "config.txt"), `postgresql://${web.kv.username}:${web.kv.password}@postgres:5432/wizard`);
      const [leaf = "", ca = ""] = file(secret, "tls.crt").split(/\n(?=-----BEGIN CERTIFICATE-----)/);
      assert.ok(
        file(secret, "tls.crt").endsWith("-----END CERTIFICATE-----\n"),
        "trailing newline from the template kept",
      );
      const cert = new X509Certificate(leaf);
      const issuer = new X509Certificate(ca.trimEnd());
      assert.ok(cert.verify(issuer.publicKey), "certificate signed by the issuing CA in the same file");
      assert.is(cert.subject, "CN=web.example.com");
      const key = file(secret, "tls.key");
      assert.match(key, /^-----BEGIN RSA PRIVATE KEY-----\n[\s\S]+-----END RSA PRIVATE KEY-----\n$/);
      assert.ok(
        cert.checkPrivateKey(createPrivateKey(key)),
        "key file and certificate file come from one pki/issue call",
      );
      secrets.push(key.split("\n")[1] ?? "");
    }
  },
);

e2e(
  "export lines for `source`, and a plain agent-inject-secret with the injector's default rendering",
  async ({ stack, secrets }) => {
    const sourced = await stack.core.createNamespacedPod({ namespace: "default", body: exportPod("psql-1") });
    const s1 = await secretOfPod(stack, sourced);
    const text = file(s1, "db-creds");
    const m = /^export PGUSER="(v-[^"]+)"\nexport PGPASSWORD="([^"]+)"\n$/.exec(text);
    assert.ok(m, `export lines exactly, got ${JSON.stringify(text.replace(/PGPASSWORD="[^"]+"/, 'PGPASSWORD="…"'))}`);
    assert.ok(await canLogin(stack, { username: m?.[1] ?? "", password: m?.[2] ?? "" }));
    secrets.push(m?.[2] ?? "");

    const plain = await stack.core.createNamespacedPod({ namespace: "default", body: plainPod("plain-1") });
    const s2 = await secretOfPod(stack, plain);
    const lines = /^password: (\S+)\nusername: (\S+)\n$/.exec(file(s2, "db-config"));
    assert.ok(lines, "map template: `key: value` per line, keys sorted, trailing newline");
    assert.ok(await canLogin(stack, { username: lines?.[2] ?? "", password: lines?.[1] ?? "" }));
    secrets.push(lines?.[1] ?? "");
    await running(stack, "plain-1");
  },
);

e2e("KV v2 without a template renders Go's map printing of .Data, byte for byte", async ({ stack, web }) => {
  const pod = await stack.core.createNamespacedPod({
    namespace: "default",
    body: plainPod("kv-plain", "secret/data/web/config"),
  });
  const secret = await secretOfPod(stack, pod);
  const root = vault({ apiVersion: "v1", endpoint: stack.vault.url, token: stack.vault.rootToken });
  const read = (await root.read("secret/data/web/config")) as {
    data: { metadata: { created_time: string; version: number } };
  };
  const meta = read.data.metadata;
  assert.is(
    file(secret, "db-config"),
    `data: map[password:${web.kv.password} username:${web.kv.username}]\nmetadata: map[created_time:${meta.created_time} custom_metadata:<nil> deletion_time: destroyed:false version:${meta.version}]\n`,
  );
});

e2e(
  "KV re-read every template-static-secret-render-interval; the Secret changes only when the value does",
  async ({ stack, secrets }) => {
    const body = plainPod("kv-refresh", "secret/data/web/rotating", {
      "vault.hashicorp.com/agent-inject-template-db-config":
        '{{ with secret "secret/data/web/rotating" }}{{ .Data.data.token }}{{ end }}',
      "vault.hashicorp.com/template-static-secret-render-interval": "1s",
    });
    const root = vault({ apiVersion: "v1", endpoint: stack.vault.url, token: stack.vault.rootToken });
    await root.write("secret/data/web/rotating", { data: { token: "first-value-1" } });
    const pod = await stack.core.createNamespacedPod({ namespace: "default", body });
    const secret = await secretOfPod(stack, pod);
    assert.is(file(secret, "db-config"), "first-value-1");
    const version = secret.metadata?.resourceVersion;
    await new Promise((r) => setTimeout(r, 2_500));
    assert.is(
      (await readSecret(stack, secret.metadata?.name ?? ""))?.metadata?.resourceVersion,
      version,
      "unchanged value: no write",
    );
    await root.write("secret/data/web/rotating", { data: { token: "second-value-2" } });
    await waitFor(
      "the new KV value in the Secret",
      async () =>
        file((await readSecret(stack, secret.metadata?.name ?? "")) as V1Secret, "db-config") === "second-value-2",
      10_000,
    );
    secrets.push("first-value-1", "second-value-2");
  },
);

e2e(
  "a certificate without a lease is issued again at 2/3 of its life, key and certificate together",
  async ({ stack }) => {
    const root = vault({ apiVersion: "v1", endpoint: stack.vault.url, token: stack.vault.rootToken });
    await root.write("pki/roles/example-dot-com", { ttl: "6s" });
    const deployment = webDeployment("short", 1);
    for (const k of ["tls.crt", "tls.key"]) {
      const key =
        `vault.hashicorp.com/agent-inject-template-${k}` as keyof typeof deployment.spec.template.metadata.annotations;
      deployment.spec.template.metadata.annotations[key] = deployment.spec.template.metadata.annotations[key].replace(
        ' "ttl=24h"',
        "",
      );
    }
    const [pod] = await createDeploymentPods(stack, deployment);
    const first = await secretOfPod(stack, pod as V1Pod);
    const serial = new X509Certificate(file(first, "tls.crt")).serialNumber;
    const issuedAt = Date.now();
    const second = await waitFor(
      "a new certificate",
      async () => {
        const s = await readSecret(stack, first.metadata?.name ?? "");
        return s && new X509Certificate(file(s, "tls.crt")).serialNumber !== serial ? s : undefined;
      },
      12_000,
    );
    const after = Date.now() - issuedAt;
    assert.ok(after >= 2_500 && after < 6_000, `re-issued at about 2/3 of 6 s (after ${after} ms)`);
    const cert = new X509Certificate(file(second, "tls.crt"));
    assert.ok(
      cert.checkPrivateKey(createPrivateKey(file(second, "tls.key"))),
      "the new key matches the new certificate",
    );
    await root.write("pki/roles/example-dot-com", { ttl: "24h" });
  },
);

e2e(
  "a template outside the subset is refused at admission, naming the annotation and the construct",
  async ({ stack }) => {
    const body = plainPod("bad-template", "secret/data/web/config", {
      "vault.hashicorp.com/agent-inject-template-db-config":
        '{{ with secret "secret/data/web/config" }}{{ .Data.data | toYAML }}{{ end }}',
    });
    const err = await stack.core.createNamespacedPod({ namespace: "default", body }).then(
      () => undefined,
      (e: unknown) => e as { code?: number; body?: string },
    );
    assert.is(err?.code, 400);
    const message = String((JSON.parse(err?.body ?? "{}") as { message?: string }).message);
    assert.match(
      message,
      /^admission webhook "leasekeeper\.leasekeeper\.io" denied the request: annotation vault\.hashicorp\.com\/agent-inject-template-db-config: line 1: function "toYAML" is outside/,
    );
    const command = await stack.core
      .createNamespacedPod({
        namespace: "default",
        body: plainPod("bad-command", "secret/data/web/config", {
          "vault.hashicorp.com/agent-inject-command-db-config": "kill -HUP 1",
        }),
      })
      .then(
        () => undefined,
        (e: unknown) => e as { body?: string },
      );
    assert.match(String(command?.body), /agent-inject-command-db-config: commands run by the Vault Agent/);
  },
);

e2e("failurePolicy Fail: leasekeeper unreachable or too slow refuses the pod", async ({ stack, hangUrl }) => {
  await registerWebhook(stack, {
    name: "down",
    url: "http://127.0.0.1:9/v1/admission/pods",
    failurePolicy: "Fail",
    objectSelector: { matchLabels: { "webhook-test": "down" } },
  });
  await registerWebhook(stack, {
    name: "slow",
    url: hangUrl,
    failurePolicy: "Fail",
    timeoutSeconds: 1,
    objectSelector: { matchLabels: { "webhook-test": "slow" } },
  });
  for (const which of ["down", "slow"]) {
    const body = plainPod(`fail-${which}`);
    body.metadata = { ...body.metadata, labels: { "webhook-test": which } };
    const started = Date.now();
    const err = await stack.core.createNamespacedPod({ namespace: "default", body }).then(
      () => undefined,
      (e: unknown) => e as { code?: number; body?: string },
    );
    assert.is(err?.code, 500, which);
    assert.match(String(err?.body), new RegExp(`failed calling webhook \\\\"${which}\\.leasekeeper\\.io\\\\"`));
    if (which === "slow") {
      assert.match(String(err?.body), /context deadline exceeded/);
      assert.ok(Date.now() - started < 3_000, "the 1 s webhook timeout applies");
    }
  }
});

e2e("failurePolicy Ignore: the pod is created unmutated and still gets its credentials", async ({ stack }) => {
  await registerWebhook(stack, {
    name: "ignored",
    url: "http://127.0.0.1:9/v1/admission/pods",
    failurePolicy: "Ignore",
    objectSelector: { matchLabels: { "webhook-test": "ignore" } },
  });
  const body = plainPod("ignore-1");
  body.metadata = { ...body.metadata, labels: { "webhook-test": "ignore" } };
  const pod = await stack.core.createNamespacedPod({ namespace: "default", body });
  assert.is(pod.metadata?.annotations?.["leasekeeper.io/secret-name"], undefined, "not mutated");
  assert.not.ok(pod.spec?.volumes?.some((v) => v.name === "leasekeeper-secrets"));
  const secret = await waitFor("the default-named Secret", () => readSecret(stack, "ignore-1-leasekeeper"));
  assert.match(file(secret, "db-config"), /^password: \S+\nusername: v-\S+\n$/);
});

e2e("pods that are not opted in, or were injected by the real injector, pass untouched", async ({ stack }) => {
  const plain = await stack.core.createNamespacedPod({
    namespace: "default",
    body: { metadata: { name: "untouched" }, spec: { containers: [{ name: "c", image: "busybox:1.36" }] } },
  });
  assert.is(plain.metadata?.annotations, undefined);
  const injected = plainPod("by-injector");
  injected.metadata = {
    ...injected.metadata,
    annotations: { ...injected.metadata?.annotations, "vault.hashicorp.com/agent-inject-status": "injected" },
  };
  const pod = await stack.core.createNamespacedPod({ namespace: "default", body: injected });
  assert.not.ok(pod.spec?.volumes?.some((v) => v.name === "leasekeeper-secrets"));
  await new Promise((r) => setTimeout(r, 500));
  assert.is(await readSecret(stack, "by-injector-leasekeeper"), undefined, "no credentials issued for it");
});

e2e("no secret value (KV, database password, private key) in logs, Redis or Events", async ({ stack, lk, secrets }) => {
  const logs = lk.logs.join("");
  const dump = await redisDump(stack.redis.url);
  const events = JSON.stringify((await stack.core.listNamespacedEvent({ namespace: "default" })).items);
  assert.ok(secrets.length >= 6);
  for (const value of secrets.filter((s) => s.length >= 8)) {
    assert.not.ok(logs.includes(value), "value in logs");
    assert.not.ok(dump.includes(value), "value in Redis");
    assert.not.ok(events.includes(value), "value in Events");
  }
});

e2e.run();

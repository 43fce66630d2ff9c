/**
 * The TLS listener exists for the API server's admission calls. Its port is reachable from the
 * control plane (and, without a NetworkPolicy rule for it, from any pod), so it must serve the
 * admission webhook and health alone, never the on-call API, metrics or CloudEvents.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { startLeasekeeper } from "../../e2e/harness.ts";
import { seedExample, startStack } from "../../helpers/stack.ts";

function call(method: string, url: string, ca: string, body?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, ca, agent: false, headers: { "content-type": "application/json" } }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end(body);
  });
}

test("the TLS port answers admission and /healthz, and 404 for every other route", async () => {
  const dir = mkdtempSync(join(tmpdir(), "lk-tls-scope-"));
  const cert = join(dir, "tls.crt");
  const key = join(dir, "tls.key");
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=leasekeeper",
      "-addext",
      "subjectAltName=IP:127.0.0.1",
      "-keyout",
      key,
      "-out",
      cert,
    ],
    { stdio: "ignore" },
  );
  const ca = readFileSync(cert, "utf8");
  const stack = await startStack({ postgres: false, podGraceSeconds: 0 });
  const seeded = await seedExample(stack);
  const lk = await startLeasekeeper(stack, seeded, {
    LEASEKEEPER_ROLES: "functions",
    LEASEKEEPER_TLS_CERT_FILE: cert,
    LEASEKEEPER_TLS_KEY_FILE: key,
    LEASEKEEPER_HTTPS_PORT: "0",
    LEASEKEEPER_EVENTS_AUTH: "none",
  });
  try {
    const tls = lk.runtime.httpsUrl;
    assert.ok(tls, "TLS listener started");
    const review = JSON.stringify({
      apiVersion: "admission.k8s.io/v1",
      kind: "AdmissionReview",
      request: {
        uid: "u1",
        kind: { kind: "Pod" },
        operation: "CREATE",
        namespace: "default",
        object: { metadata: { name: "p" }, spec: { containers: [] } },
      },
    });
    assert.is(await call("POST", `${tls}/v1/admission/pods`, ca, review), 200, "admission is served");
    assert.is(await call("GET", `${tls}/healthz`, ca), 200, "health is served");
    const routes = [
      ["POST", "/v1/events/kubernetes"],
      ["POST", "/v1/revoke"],
      ["POST", "/v1/unseal"],
      ["POST", "/v1/hooks/ci"],
      ["GET", "/v1/leases"],
      ["GET", "/metrics"],
      ["GET", "/openapi.json"],
      ["GET", "/admin/queues"],
    ];
    for (const [method, path] of routes) {
      assert.is(
        await call(method ?? "GET", `${tls}${path}`, ca, method === "POST" ? "{}" : undefined),
        404,
        `${method} ${path} is not served over the TLS port`,
      );
    }
    // The plain listener still serves them (here: unauthenticated events, as configured).
    const plain = await fetch(`${lk.runtime.httpUrl}/v1/events/kubernetes`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    assert.ok(plain.status !== 404, "the plain listener serves the events route");
  } finally {
    await lk.stop();
    await stack.close();
  }
});

test.run();

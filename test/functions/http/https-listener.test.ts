import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync, readFileSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { Hono } from "hono";
import { startHttpsListener } from "../../../functions/http/https-listener.ts";
import { ConfigError, loadConfig } from "../../../shared/config/config.ts";
import { createLogger } from "../../../shared/observability/log.ts";

function selfSigned(dir: string, name: string, cn: string): { cert: string; key: string } {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
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
      `/CN=${cn}`,
      "-addext",
      "subjectAltName=IP:127.0.0.1",
      "-keyout",
      key,
      "-out",
      cert,
    ],
    { stdio: "ignore" },
  );
  return { cert, key };
}

function get(url: string, ca: string): Promise<{ status: number; body: string; subject: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, agent: false }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          body,
          subject: (res.socket as unknown as { getPeerCertificate(): { subject: { CN: string } } }).getPeerCertificate()
            .subject.CN,
        }),
      );
    });
    req.on("error", reject);
    req.end();
  });
}

test("serves the app over TLS and picks up a renewed certificate without a restart", async () => {
  const dir = mkdtempSync(join(tmpdir(), "lk-tls-"));
  const first = selfSigned(dir, "a", "first");
  const second = selfSigned(dir, "b", "second");
  const app = new Hono().get("/healthz", (c) => c.json({ status: "ok" }));
  const live = { cert: join(dir, "tls.crt"), key: join(dir, "tls.key") };
  writeFileSync(live.cert, readFileSync(first.cert));
  writeFileSync(live.key, readFileSync(first.key));
  const log = createLogger("silent", new Writable({ write: (_c, _e, done) => done() }));
  const listener = await startHttpsListener(
    app,
    { certFile: live.cert, keyFile: live.key, port: 0, host: "127.0.0.1", reloadEveryMs: 100 },
    log,
  );
  try {
    const one = await get(`${listener.url}/healthz`, readFileSync(first.cert, "utf8"));
    assert.is(one.status, 200);
    assert.is(one.subject, "first");
    await new Promise((r) => setTimeout(r, 50));
    writeFileSync(live.cert, readFileSync(second.cert));
    writeFileSync(live.key, readFileSync(second.key));
    await new Promise((r) => setTimeout(r, 400));
    const two = await get(`${listener.url}/healthz`, readFileSync(second.cert, "utf8"));
    assert.is(two.subject, "second", "renewed certificate served");
  } finally {
    await listener.close();
  }
});

test("a certificate without its key is a configuration error", () => {
  assert.throws(
    () =>
      loadConfig({
        LEASEKEEPER_INDEX_KEY: Buffer.alloc(32).toString("base64"),
        LEASEKEEPER_TLS_CERT_FILE: "/tmp/x.crt",
      }),
    (err: unknown) =>
      err instanceof ConfigError &&
      /LEASEKEEPER_TLS_KEY_FILE=\(unset\): LEASEKEEPER_TLS_CERT_FILE and LEASEKEEPER_TLS_KEY_FILE go together/.test(
        err.message,
      ),
  );
});

test.run();

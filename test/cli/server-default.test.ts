import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CliError, serverUrl } from "../../cli/http-client.ts";
import { IN_CLUSTER_URL, defaultServer } from "../../cli/server-default.ts";

const sandbox = (api: string) => {
  const dir = mkdtempSync(join(tmpdir(), "lk-default-"));
  mkdirSync(join(dir, ".sandbox"));
  writeFileSync(join(dir, ".sandbox", "endpoints.json"), JSON.stringify({ api }));
  return dir;
};
const empty = () => mkdtempSync(join(tmpdir(), "lk-default-"));

test("--server, then LEASEKEEPER_URL, then the sandbox's endpoints.json, then the in-cluster Service from a pod", () => {
  const dir = sandbox("http://127.0.0.1:41234");
  const inPod = { KUBERNETES_SERVICE_HOST: "10.96.0.1" };
  assert.equal(defaultServer({}, dir, null), {
    url: "http://127.0.0.1:41234",
    source: join(dir, ".sandbox", "endpoints.json"),
  });
  assert.equal(defaultServer(inPod, empty(), null), { url: IN_CLUSTER_URL, source: "the in-cluster Service" });
  assert.is(defaultServer({}, empty(), null), undefined);
  const fallback = () => defaultServer(inPod, dir, null);
  assert.is(
    serverUrl("https://flag.example", { LEASEKEEPER_URL: "https://env.example" }, false, fallback),
    "https://flag.example",
  );
  assert.is(serverUrl(undefined, { LEASEKEEPER_URL: "https://env.example" }, false, fallback), "https://env.example");
  assert.is(serverUrl(undefined, {}, false, fallback), "http://127.0.0.1:41234");
});

test("the in-cluster Service: http://leasekeeper.leasekeeper.svc (infra/base/service.yaml, port 80); plain http to it only from a pod", () => {
  assert.is(IN_CLUSTER_URL, "http://leasekeeper.leasekeeper.svc");
  const inPod = { KUBERNETES_SERVICE_HOST: "10.96.0.1" };
  assert.is(
    serverUrl(undefined, inPod, false, () => defaultServer(inPod, empty(), null)),
    IN_CLUSTER_URL,
  );
  assert.is(
    serverUrl("http://leasekeeper.leasekeeper.svc.cluster.local:80", inPod, false),
    "http://leasekeeper.leasekeeper.svc.cluster.local",
  );
  assert.throws(
    () => serverUrl("http://leasekeeper.leasekeeper.svc", {}, false),
    (e: unknown) => e instanceof CliError && /refusing to send a bearer token over plain http/.test(e.message),
  );
  assert.throws(
    () => serverUrl("http://leasekeeper.example.com", inPod, false),
    (e: unknown) => e instanceof CliError && e.exitCode === 2,
  );
  assert.throws(
    () => serverUrl(undefined, {}, false, () => undefined),
    (e: unknown) => e instanceof CliError && /no server/.test(e.message),
  );
});

test.run();

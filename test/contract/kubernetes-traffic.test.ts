/** Contract: the emulator's per-user traffic counters (requests, response bytes, watch streams apart). */
import * as assert from "node:assert/strict";
import { suite } from "uvu";
import { startKubernetesEmulator, type KubernetesEmulator } from "../emulators/kubernetes/index.ts";
import { eventually } from "../emulators/kubernetes/testing.ts";

const test = suite("kubernetes emulator: traffic counters");
let emu: KubernetesEmulator;
const ADMIN = "admin";

test.before(async () => {
  emu = await startKubernetesEmulator({ podGraceSeconds: 0 });
});
test.after(async () => {
  await emu.close();
});

const get = (path: string, token?: string) =>
  fetch(`${emu.url}${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});

test("a list counts one request and the bytes of its body, under the user it authenticated as", async () => {
  const before = emu.control.traffic();
  const body = await (await get("/api/v1/namespaces/default/pods", emu.adminToken)).arrayBuffer();
  const after = emu.control.traffic();
  const user = Object.keys(after).find((u) => (after[u]?.requests ?? 0) > (before[u]?.requests ?? 0));
  assert.ok(user, "a user's request count grew");
  assert.match(user, new RegExp(ADMIN));
  assert.equal((after[user]?.requests ?? 0) - (before[user]?.requests ?? 0), 1);
  assert.equal((after[user]?.responseBytes ?? 0) - (before[user]?.responseBytes ?? 0), body.byteLength);
  assert.equal((after[user]?.watches ?? 0) - (before[user]?.watches ?? 0), 0);
});

test("a request without credentials counts as unauthenticated (its 401 body too)", async () => {
  const before = emu.control.traffic()["(unauthenticated)"] ?? { requests: 0, responseBytes: 0 };
  const res = await get("/api/v1/namespaces/default/pods");
  assert.equal(res.status, 401);
  const body = await res.arrayBuffer();
  const after = emu.control.traffic()["(unauthenticated)"];
  assert.equal((after?.requests ?? 0) - before.requests, 1);
  assert.equal((after?.responseBytes ?? 0) - before.responseBytes, body.byteLength);
});

test("a watch counts as one stream; its events count as watch bytes, not response bytes", async () => {
  const admin = () => Object.entries(emu.control.traffic()).find(([u]) => u.includes(ADMIN))?.[1];
  const before = { ...admin() };
  const abort = new AbortController();
  const res = await fetch(
    `${emu.url}/api/v1/namespaces/default/pods?watch=true&resourceVersion=${emu.control.currentResourceVersion()}`,
    {
      headers: { authorization: `Bearer ${emu.adminToken}` },
      signal: abort.signal,
    },
  );
  const reader = res.body?.getReader();
  let received = 0;
  const reading = (async () => {
    for (;;) {
      const chunk = await reader?.read().catch(() => ({ done: true, value: undefined }));
      if (!chunk || chunk.done) return;
      received += chunk.value?.byteLength ?? 0;
    }
  })();
  emu.control.put("pods", {
    metadata: { name: "counted", namespace: "default" },
    spec: { containers: [{ name: "c", image: "busybox" }] },
  });
  await eventually(() => received > 0);
  await new Promise((r) => setTimeout(r, 100));
  const after = admin();
  assert.equal((after?.watches ?? 0) - (before.watches ?? 0), 1);
  assert.equal((after?.requests ?? 0) - (before.requests ?? 0), 0);
  assert.equal((after?.watchBytes ?? 0) - (before.watchBytes ?? 0), received);
  abort.abort();
  await reading;
});

test.run();

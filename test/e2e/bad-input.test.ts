import { suite } from "uvu";
import * as assert from "uvu/assert";
import { ensureServiceAccount, seedExample, startStack, type Seeded, type Stack } from "../helpers/stack.ts";
import { eventsToken, opted, startLeasekeeper, waitFor, type Harness } from "./harness.ts";

/** Bad annotations and events get a clear IssueFailed / 400 and never block other pods. */
const bad = suite<{ stack: Stack; seeded: Seeded; lk: Harness }>("bad input");

bad.before(async (ctx) => {
  ctx.stack = await startStack({ podGraceSeconds: 0 });
  ctx.seeded = await seedExample(ctx.stack);
  ctx.lk = await startLeasekeeper(ctx.stack, ctx.seeded);
  await ensureServiceAccount(ctx.stack.core, "default", "unbound-sa");
});

bad.after(async (ctx) => {
  await ctx.lk?.stop();
  await ctx.stack?.close();
});

const many: Record<string, string> = {};
for (let i = 0; i < 200; i++) many[`leasekeeper.io/secret-f${i}`] = "database/creds/postgres-role";

const CASES: Array<[string, Record<string, string>, RegExp, string?]> = [
  ["dotdot", { "leasekeeper.io/secret-creds.json": "database/../sys/seal" }, /relative segment/],
  ["absolute-url", { "leasekeeper.io/secret-creds.json": "http://attacker.invalid/v1/x" }, /is a URL/],
  ["too-many", many, /\d{3} secrets requested; at most 32/],
  ["oversized", { "leasekeeper.io/secret-creds.json": `database/creds/${"x".repeat(5000)}` }, /longer than 4096 bytes/],
  [
    "non-utf8",
    { "leasekeeper.io/secret-creds.json": Buffer.from([0x64, 0x62, 0x2f, 0xff, 0xfe]).toString("utf8") },
    /invalid UTF-8/,
  ],
  ["unknown-role", { "leasekeeper.io/role": "ghost" }, /invalid role name/],
  ["outside-policy", { "leasekeeper.io/secret-creds.json": "secret/data/not-mine" }, /permission denied/],
  ["unbound-sa", {}, /service account name not authorized/, "unbound-sa"],
];

bad(
  "each bad pod gets IssueFailed with a reason, and a good pod created with them is still issued",
  async ({ stack, lk }) => {
    const uids = new Map<string, string>();
    for (const [name, annotations, , serviceAccount] of CASES) {
      const body = opted(`bad-${name}`, annotations);
      if (serviceAccount) body.spec.serviceAccountName = serviceAccount;
      const pod = await stack.core.createNamespacedPod({ namespace: "default", body });
      uids.set(name, pod.metadata?.uid ?? "");
    }
    await stack.core.createNamespacedPod({ namespace: "default", body: opted("good") });
    await waitFor("good pod issued", () =>
      stack.core.readNamespacedSecret({ namespace: "default", name: "good-leasekeeper" }).catch(() => undefined),
    );

    for (const [name, , reason] of CASES) {
      const uid = uids.get(name) ?? "";
      const failed = await waitFor(`IssueFailed for ${name}`, async () => {
        const events = await stack.core.listNamespacedEvent({
          namespace: "default",
          fieldSelector: `involvedObject.uid=${uid}`,
        });
        return events.items.find((e) => e.reason === "IssueFailed");
      });
      assert.match(failed.message ?? "", reason, `${name}: ${failed.message}`);
      assert.is(failed.type, "Warning");
      assert.not.ok(await lk.runtime.deps.index.has(uid), `${name} left nothing in the index`);
    }
    // Permanent failures are not retried: each bad pod was tried once.
    const logins = stack.vault.control
      .requests()
      .filter((r) => r.path === "auth/kubernetes/login" && r.status >= 400).length;
    assert.ok(logins <= 3, `refused logins not retried (${logins})`);
  },
);

bad("malformed CloudEvents from an authenticated sender get a 400 that names the problem", async ({ stack, lk }) => {
  const url = `${lk.runtime.httpUrl}/v1/events/kubernetes`;
  const authorization = `Bearer ${eventsToken(stack)}`;
  const ce = {
    authorization,
    "ce-specversion": "1.0",
    "ce-id": "1",
    "ce-source": "s",
    "content-type": "application/json",
  };
  const cases: Array<[Record<string, string>, string | Uint8Array, number, RegExp]> = [
    [{ authorization, "content-type": "application/json" }, "{}", 400, /not a CloudEvent/],
    [{ ...ce, "ce-type": "dev.knative.apiserver.resource.add" }, "{oops", 400, /not valid JSON/],
    [
      { ...ce, "ce-type": "dev.knative.apiserver.resource.add" },
      JSON.stringify({ kind: "Pod", metadata: {} }),
      400,
      /name/,
    ],
    [{ ...ce, "ce-type": "io.example.nope" }, "{}", 400, /unsupported event type/],
    [{ ...ce, "ce-type": "dev.knative.apiserver.resource.add" }, new Uint8Array([0x7b, 0xff, 0x7d]), 400, /UTF-8/],
    [{ ...ce, "ce-type": "dev.knative.apiserver.resource.add" }, "x".repeat(2 * 1024 * 1024), 413, /larger than 1 MiB/],
  ];
  for (const [headers, body, status, pattern] of cases) {
    const res = await fetch(url, { method: "POST", headers, body });
    const json = (await res.json()) as { error?: { code: string; message: string } };
    assert.is(res.status, status);
    assert.match(json.error?.message ?? "", pattern);
  }
});

bad.run();

import { test } from "uvu";
import * as assert from "uvu/assert";
import vault from "node-vault";
import { connect } from "node:net";
import { request } from "node:http";
import { startVaultEmulator, type VaultEmulator } from "../emulators/vault/index.ts";
import { failure } from "../emulators/vault/testing.ts";

let emu: VaultEmulator;
const client = (token?: string) => vault({ apiVersion: "v1", endpoint: emu.url, token });

test.before(async () => {
  emu = await startVaultEmulator();
});
test.after(async () => {
  await emu.close();
});

/** Sends raw bytes, returns the raw response text (or "" when the server just closes). */
function rawExchange(payload: Buffer | string, waitMs = 1_000): Promise<string> {
  const url = new URL(emu.url);
  return new Promise((resolve) => {
    const socket = connect(Number(url.port), url.hostname);
    let out = "";
    const timer = setTimeout(() => (socket.destroy(), resolve(out)), waitMs);
    socket.on("data", (c) => (out += c.toString("latin1")));
    socket.on("close", () => (clearTimeout(timer), resolve(out)));
    socket.on("error", () => undefined);
    socket.write(payload);
  });
}

async function call(method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}) {
  const res = await fetch(`${emu.url}${path}`, {
    method,
    body,
    headers: { "x-vault-token": emu.rootToken, ...headers },
  });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

test("envelope: all nine keys, content-type, cache-control, trailing newline; 204 for writes", async () => {
  const w = await call("POST", "/v1/secret/data/env", JSON.stringify({ data: { k: "v" } }));
  assert.is(w.status, 200);
  const r = await call("GET", "/v1/secret/data/env");
  assert.equal([r.headers.get("content-type"), r.headers.get("cache-control")], ["application/json", "no-store"]);
  assert.ok(r.text.endsWith("}\n"));
  const body = JSON.parse(r.text) as Record<string, unknown>;
  assert.equal(Object.keys(body).sort(), [
    "auth",
    "data",
    "lease_duration",
    "lease_id",
    "mount_type",
    "renewable",
    "request_id",
    "warnings",
    "wrap_info",
  ]);
  const del = await call("DELETE", "/v1/secret/metadata/env");
  assert.equal([del.status, del.text], [204, ""]);
});

test("routing: non-/v1 404, unknown sub-path 404, wrong method 405, LIST verb and ?list=true, // redirect", async () => {
  assert.equal(await call("GET", "/nope").then((r) => [r.status, r.text]), [404, '{"errors":[]}\n']);
  const sub = await failure(client(emu.rootToken).read("database/whatever/x"));
  assert.equal([sub.status, sub.message], [404, "1 error occurred:\n\t* unsupported path\n\n"]);
  const op = await failure(client(emu.rootToken).delete("database/creds/x"));
  assert.equal([op.status, op.message], [405, "1 error occurred:\n\t* unsupported operation\n\n"]);
  assert.equal(await call("FROB", "/v1/secret/data/x").then((r) => [r.status, r.text]), [405, '{"errors":[]}\n']);
  assert.is((await call("GET", "/v1/secret/metadata/?list=maybe")).status, 400);
  assert.is((await call("PUT", "/v1/sys/health")).status, 405);
  await client(emu.rootToken).write("secret/data/dir/a", { data: { x: 1 } });
  const viaVerb = await client(emu.rootToken).list("secret/metadata/dir");
  const viaQuery = JSON.parse((await call("GET", "/v1/secret/metadata/dir?list=true")).text);
  assert.equal([viaVerb.data.keys, viaQuery.data.keys], [["a"], ["a"]]);
  const redirect = await fetch(`${emu.url}/v1/auth//login`, { method: "POST", redirect: "manual" });
  assert.equal([redirect.status, redirect.headers.get("location")], [301, "/v1/auth/login"]);
  assert.is(
    (await call("POST", "/v1/secret/data/dir/", "{}")).text,
    `{"errors":["cannot write to a path ending in '/'"]}\n`,
  );
});

test("garbage input never crashes or hangs the emulator", async () => {
  const bad = await call("POST", "/v1/secret/data/g", "{not json");
  assert.equal(
    [bad.status, bad.text],
    [400, `{"errors":["failed to parse JSON input: invalid character 'n' looking for beginning of value"]}\n`],
  );
  assert.is(
    JSON.parse((await call("POST", "/v1/secret/data/g", '{"data":')).text).errors[0],
    "failed to parse JSON input: unexpected EOF",
  );
  assert.is(
    JSON.parse((await call("POST", "/v1/secret/data/g", "[1,2]")).text).errors[0],
    "failed to parse JSON input: json: cannot unmarshal array into Go value of type map[string]interface {}",
  );
  assert.is((await call("PUT", "/v1/sys/unseal", "{{{")).status, 400);
  assert.is((await call("PUT", "/v1/sys/init", '{"secret_shares":"five"}')).status, 400);
  const utf = Buffer.concat([Buffer.from('{"data":{"k":"'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('"}}')]);
  assert.is((await call("POST", "/v1/secret/data/utf", utf)).status, 200);
  const wrongType = await failure(
    client(emu.rootToken).write("sys/leases/renew", { lease_id: "x", increment: { a: 1 } }),
  );
  assert.equal(
    [wrongType.status, wrongType.message.startsWith('error converting input {"a":1} for field "increment"')],
    [400, true],
  );
  const kvType = await failure(client(emu.rootToken).write("secret/data/t", { data: "not-a-map" }));
  assert.is(kvType.status, 400);
  const huge = await new Promise<number>((resolve) => {
    const u = new URL(emu.url);
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        method: "POST",
        path: "/v1/secret/data/huge",
        headers: { "content-length": String(33 * 1024 * 1024), "x-vault-token": emu.rootToken },
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on("error", () => resolve(-1));
    req.write(Buffer.alloc(1024, 0x61));
  });
  assert.is(huge, 413);
  assert.match(await rawExchange("\x00\x01\x02 garbage\r\n\r\n"), /^HTTP\/1\.1 400 Bad Request/);
  assert.match(
    await rawExchange(`LIST /v1/secret/metadata/ HTTP/1.1\r\nHost: x\r\nX-Vault-Token: ${emu.rootToken}\r\n\r\n`),
    /^HTTP\/1\.1 200 OK[\s\S]*"keys":\[/,
  );
  // a body shorter than its Content-Length waits (as Go does) without blocking anyone else
  const pending = rawExchange("POST /v1/sys/unseal HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n{", 300);
  assert.is((await client().health()).initialized, true);
  assert.is(await pending, "");
  const stillAlive = await client().health();
  assert.is(stillAlive.sealed, false);
});

test("KV v2: versions, ?version=, soft delete 404 with envelope body, destroy, metadata, cas", async () => {
  const root = client(emu.rootToken);
  assert.is((await root.write("secret/data/app", { data: { v: 1 } })).data.version, 1);
  assert.is((await root.write("secret/data/app", { data: { v: 2 } })).data.version, 2);
  assert.equal((await root.read("secret/data/app")).data.data, { v: 2 });
  assert.equal((await root.read("secret/data/app?version=1")).data.data, { v: 1 });
  const cas = await failure(root.write("secret/data/app", { data: { v: 3 }, options: { cas: 1 } }));
  assert.equal([cas.status, cas.message], [400, "check-and-set parameter did not match the current version"]);
  await root.delete("secret/data/app");
  const deleted = await failure(root.read("secret/data/app"));
  assert.equal([deleted.status, deleted.message], [404, "Status 404"]);
  const body = deleted.body as { data: { data: null; metadata: { deletion_time: string; version: number } } };
  assert.equal([body.data.data, body.data.metadata.version, body.data.metadata.deletion_time !== ""], [null, 2, true]);
  await root.write("secret/undelete/app", { versions: [2] });
  assert.equal((await root.read("secret/data/app")).data.data, { v: 2 });
  await root.write("secret/destroy/app", { versions: [1] });
  assert.is(
    ((await failure(root.read("secret/data/app?version=1"))).body as { data: { metadata: { destroyed: boolean } } })
      .data.metadata.destroyed,
    true,
  );
  const meta = (await root.read("secret/metadata/app")).data;
  assert.equal([meta.current_version, Object.keys(meta.versions)], [2, ["1", "2"]]);
  const never = await failure(root.read("secret/data/never"));
  assert.equal([never.status, never.body], [404, { errors: [] }]);
});

test("controls: failNext, latency, dropConnections, refuseConnections, request log", async () => {
  const v = client(emu.rootToken);
  emu.control.failNext("sys/leases/*", 2, 503, "Vault is sealed");
  const f1 = await failure(v.write("sys/leases/lookup", { lease_id: "x" }));
  assert.equal([f1.status, f1.message], [503, "Vault is sealed"]);
  await failure(v.write("sys/leases/lookup", { lease_id: "x" }));
  assert.is((await failure(v.write("sys/leases/lookup", { lease_id: "x" }))).message, "invalid lease");
  emu.control.addLatency(150);
  const t0 = Date.now();
  await v.health();
  assert.ok(Date.now() - t0 >= 140);
  emu.control.addLatency(0);
  emu.control.refuseConnections(1);
  const refused = await rawExchange("GET /v1/sys/health HTTP/1.1\r\nHost: x\r\n\r\n");
  assert.is(refused, "", "the refused connection is closed without a response");
  assert.match(
    await rawExchange("GET /v1/sys/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
    /^HTTP\/1\.1 200/,
  );
  const inflight = fetch(`${emu.url}/v1/sys/health`).then(
    () => "ok",
    () => "dropped",
  );
  emu.control.addLatency(300);
  await new Promise((r) => setTimeout(r, 50));
  emu.control.dropConnections();
  emu.control.addLatency(0);
  assert.is(await inflight, "dropped");
  assert.ok(emu.control.requests().some((r) => r.path === "sys/leases/lookup" && r.status === 503));
});

test.run();

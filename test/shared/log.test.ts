import { test } from "uvu";
import * as assert from "uvu/assert";
import { Writable } from "node:stream";
import { createLogger } from "../../shared/observability/log.ts";

test("tokens, passwords, keys and ciphertext are redacted at any depth", async () => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  const log = createLogger("info", sink);
  log.info(
    {
      token: "hvs.AAA",
      nested: { password: "p4ss", deeper: { ciphertext: "CIPHER", client_token: "hvs.BBB" } },
      pod: "default/web",
    },
    "hello",
  );
  log.info({ auth: { jwt: "eyJ.x.y" }, keys: ["k1"], data: { password: "x" } }, "second");
  await new Promise((r) => setTimeout(r, 20));
  const out = lines.join("");
  for (const secret of ["hvs.AAA", "p4ss", "CIPHER", "hvs.BBB", "eyJ.x.y", "k1"])
    assert.not.ok(out.includes(secret), `${secret} leaked`);
  assert.ok(out.includes("default/web"));
  assert.ok(out.includes("[redacted]"));
});

test.run();

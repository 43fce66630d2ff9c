import { suite } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { VaultUnavailableError } from "../../shared/errors/errors.ts";
import { createLogger } from "../../shared/observability/log.ts";
import type { VaultAuth } from "../../shared/ports/vault-kube.ts";
import { controllerToken } from "../../shared/vault/controller-token.ts";

/**
 * leasekeeper starts before Vault is unsealed (it is what unseals it): its own token is checked
 * once Vault answers, without a warning, and then renewed on schedule.
 */
const t = suite("controller token while Vault is sealed");

function capture() {
  const lines: Array<{ level: number; msg: string }> = [];
  const log = createLogger(
    "debug",
    new Writable({
      write(chunk: Buffer, _e, done) {
        for (const line of chunk.toString().split("\n").filter(Boolean))
          lines.push(JSON.parse(line) as { level: number; msg: string });
        done();
      },
    }),
  );
  return { log, lines };
}

const until = async (what: string, ok: () => boolean) => {
  const deadline = Date.now() + 3000;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

const auth = (token: string, ttlSeconds: number): VaultAuth => ({
  token,
  accessor: "acc",
  ttlSeconds,
  renewable: true,
});
const WARN = 40;

t(
  "a configured token: start does not warn while sealed; its TTL is learnt once Vault is unsealed, then it is renewed",
  async () => {
    const { log, lines } = capture();
    let sealed = true;
    const increments: number[] = [];
    const source = controllerToken("hvs.static", undefined, {
      login: async () => {
        throw new Error("no login configured");
      },
      renewSelf: async (_token, increment) => {
        if (sealed) throw new VaultUnavailableError("vault: renew pod token: Vault is sealed", "sealed");
        increments.push(increment);
        return auth("hvs.static", 2);
      },
      log,
      sealedRetryMs: 10,
    });
    await source.start();
    await new Promise((r) => setTimeout(r, 60));
    assert.is(source.current(), "hvs.static", "the token is used meanwhile");
    sealed = false;
    await until("TTL learnt", () => increments.length >= 1);
    assert.is(increments[0], 0, "the first call only reads the TTL");
    // Renewed at 2/3 of the 2 s TTL (schedule floor: 1 s), asking for the same TTL again.
    await until("renewed on schedule", () => increments.length >= 2);
    assert.is(increments[1], 2);
    source.stop();
    assert.equal(
      lines.filter((l) => l.level >= WARN),
      [],
      "no warning or error",
    );
    assert.equal(
      lines.map((l) => l.msg),
      [
        "Vault is sealed; leasekeeper checks its Vault token once it answers",
        "Vault answers again; leasekeeper's Vault token is current",
      ],
      "one line while waiting, one when Vault answers",
    );
  },
);

t("a role login: waits for the unseal instead of failing, then logs in", async () => {
  const { log, lines } = capture();
  const jwtFile = join(mkdtempSync(join(tmpdir(), "lk-ct-")), "token");
  writeFileSync(jwtFile, "jwt");
  let attempts = 0;
  const source = controllerToken(
    undefined,
    { role: "leasekeeper", authPath: "kubernetes", jwtFile },
    {
      login: async () => {
        attempts++;
        if (attempts < 4) throw new VaultUnavailableError("vault: kubernetes login: Vault is sealed", "sealed");
        return auth("hvs.login", 3600);
      },
      renewSelf: async () => auth("hvs.login", 3600),
      log,
      sealedRetryMs: 10,
    },
  );
  await source.start();
  assert.is(source.current(), undefined);
  await until("logged in", () => source.current() === "hvs.login");
  source.stop();
  assert.is(attempts, 4);
  assert.equal(
    lines.filter((l) => l.level >= WARN),
    [],
    "no warning or error",
  );
  assert.ok(lines.some((l) => l.msg === "logged in to Vault as leasekeeper"));
});

t("a renewal that meets a sealed Vault waits quietly and renews after the unseal", async () => {
  const { log, lines } = capture();
  let sealed = false;
  let renewed = 0;
  const source = controllerToken("hvs.static", undefined, {
    login: async () => {
      throw new Error("no login configured");
    },
    renewSelf: async () => {
      if (sealed) throw new VaultUnavailableError("Vault is sealed", "sealed");
      renewed++;
      return auth("hvs.static", 1);
    },
    log,
    sealedRetryMs: 10,
  });
  await source.start();
  sealed = true;
  await new Promise((r) => setTimeout(r, 1200));
  const during = renewed;
  sealed = false;
  await until("renewed after the unseal", () => renewed > during);
  source.stop();
  assert.equal(
    lines.filter((l) => l.level >= WARN),
    [],
  );
});

t.run();

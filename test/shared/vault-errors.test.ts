import { test } from "uvu";
import * as assert from "uvu/assert";
import { isVaultUnavailable } from "../../shared/errors/errors.ts";
import { classifyVaultError } from "../../shared/errors/vault-errors.ts";

test("a classified error keeps no request: no token, JWT or body in its cause chain", () => {
  const axiosLike = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:8200"), {
    code: "ECONNREFUSED",
    config: { headers: { "X-Vault-Token": "hvs.SECRET-TOKEN" }, data: '{"jwt":"eyJ.SECRET.JWT"}' },
    request: { _header: "X-Vault-Token: hvs.SECRET-TOKEN" },
  });
  const classified = classifyVaultError(axiosLike, "login");
  assert.is(classified.name, "VaultUnavailableError");
  const seen = new Set<unknown>();
  const dump = JSON.stringify(classified, (_k, v: unknown) => {
    if (typeof v === "object" && v !== null) {
      if (seen.has(v)) return undefined;
      seen.add(v);
      if (v instanceof Error) return { ...v, message: v.message, cause: (v as { cause?: unknown }).cause };
    }
    return v;
  });
  assert.not.ok(dump.includes("SECRET"), dump);
  assert.match(dump, /ECONNREFUSED/);
});

test("status and Vault's own error text survive sanitising", () => {
  const nodeVault = Object.assign(new Error("permission denied"), {
    response: { statusCode: 403, body: { errors: ["permission denied"] } },
    config: { headers: { "X-Vault-Token": "hvs.SECRET" } },
  });
  const classified = classifyVaultError(nodeVault, "read x");
  assert.is(classified.name, "PermanentError");
  assert.match(classified.message, /permission denied/);
  assert.not.ok(JSON.stringify((classified as { cause?: unknown }).cause).includes("SECRET"));
});

test("refused, reset and timed-out requests are Vault unavailable, like sealed: jobs wait instead of spending attempts", () => {
  const cases: Array<[unknown, string]> = [
    [Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:8200"), { code: "ECONNREFUSED" }), "unreachable"],
    [Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }), "unreachable"],
    [Object.assign(new Error("timeout of 1000ms exceeded"), { code: "ECONNABORTED" }), "timeout"],
    [
      Object.assign(new Error("Vault is sealed"), {
        response: { statusCode: 503, body: { errors: ["Vault is sealed"] } },
      }),
      "sealed",
    ],
  ];
  for (const [raw, reason] of cases) {
    const classified = classifyVaultError(raw, "renew lease x");
    assert.ok(isVaultUnavailable(classified), `${reason}: ${classified.name}`);
    assert.is((classified as { reason?: string }).reason, reason);
  }
  const overloaded = classifyVaultError(
    Object.assign(new Error("x"), { response: { statusCode: 503, body: { errors: ["overloaded, try again later"] } } }),
    "x",
  );
  assert.is(overloaded.name, "RetryLaterError", "a Vault that answers 503 for another reason is retried with backoff");
});

test.run();

/**
 * infra/vault/leasekeeper-policy.hcl grants exactly what leasekeeper's own token is used for:
 * every path the Vault client calls with the controller's token (and renew-self, with which
 * shared/vault/controller-token.ts keeps that token alive), and nothing else.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { INFRA_DIR } from "../helpers/rbac.ts";

const ROOT = join(INFRA_DIR, "..");
const policy = readFileSync(join(INFRA_DIR, "vault", "leasekeeper-policy.hcl"), "utf8");
const client = readFileSync(join(ROOT, "shared", "vault", "vault-client.ts"), "utf8");
const controller = readFileSync(join(ROOT, "shared", "vault", "controller-token.ts"), "utf8");

const granted = [...policy.matchAll(/^path "([^"]+)"/gm)].map((m) => m[1] as string).sort();

/** Paths of client.read/write calls made with the controller's token (`controller()`) in vault-client.ts (a call may span lines). */
const controllerCalls = [
  ...client.matchAll(/client\.(?:read|write)\(\s*"([^"]+)"(?:(?!client\.)[\s\S])*?controller\(\)/g),
].map((m) => m[1] as string);

test("every Vault call made with leasekeeper's token is granted, and renew-self keeps the token alive", () => {
  assert.ok(controllerCalls.length >= 4, `found the controller's calls (${controllerCalls.join(", ")})`);
  assert.ok(/deps\.renewSelf\(/.test(controller), "controller-token.ts renews leasekeeper's token with renew-self");
  const needed = [...new Set([...controllerCalls, "auth/token/renew-self"])].sort();
  assert.equal(granted, needed);
});

test("setup.sh gives the static controller token no default policy, so the policy alone must suffice", () => {
  const setup = readFileSync(join(INFRA_DIR, "vault", "setup.sh"), "utf8");
  assert.match(setup, /create-orphan[^\n]*no_default_policy\\?":true/);
  assert.ok(granted.includes("auth/token/renew-self"));
});

test.run();

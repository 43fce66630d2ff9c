import { test } from "uvu";
import * as assert from "uvu/assert";
import { ciScopeAllows, parseCiKey } from "../../shared/config/ci-keys.ts";
import { ConfigError, loadConfig } from "../../shared/config/config.ts";

const KEY = Buffer.alloc(32, 7).toString("base64");
const SECRET = "f".repeat(64);

test("a CI key entry: secret, verbs, namespaces, name", () => {
  const key = parseCiKey(`${SECRET};verbs=rotate+revoke;namespaces=shop+web;name=shop-deploy`, 1);
  assert.equal(key, {
    name: "shop-deploy",
    secret: SECRET,
    scope: { verbs: ["rotate", "revoke"], namespaces: ["shop", "web"] },
  });
  assert.equal(parseCiKey(`${SECRET};verbs=unseal`, 2), {
    name: "ci-key-2",
    secret: SECRET,
    scope: { verbs: ["unseal"], namespaces: [] },
  });
  assert.equal(parseCiKey(`${SECRET};verbs=*;namespaces=*`, 3).scope, {
    verbs: ["rotate", "revoke", "unseal"],
    namespaces: "*",
  });
});

test("the scope decides: verbs, namespaces, cluster-wide only with *", () => {
  const shop = parseCiKey(`${SECRET};verbs=rotate;namespaces=shop`, 1).scope;
  assert.ok(ciScopeAllows(shop, "rotate", "shop"));
  assert.not.ok(ciScopeAllows(shop, "rotate", "bank"));
  assert.not.ok(ciScopeAllows(shop, "revoke", "shop"));
  assert.not.ok(ciScopeAllows(shop, "unseal", undefined));
  assert.not.ok(ciScopeAllows(shop, "rotate", undefined), "a path-prefix scope spans namespaces");
  const all = parseCiKey(`${SECRET};verbs=revoke+unseal;namespaces=*`, 1).scope;
  assert.ok(ciScopeAllows(all, "revoke", undefined));
  assert.ok(ciScopeAllows(all, "unseal", undefined));
});

test("LEASEKEEPER_CI_HMAC_SECRETS: a key without a scope, or with a bad one, stops start-up without echoing the secret", () => {
  const cases: Array<[string, RegExp]> = [
    [SECRET, /entry 1: no scope; every CI key names what it may do/],
    [`${SECRET};verbs=rotate;namespaces=shop,${SECRET}`, /entry 2: no scope/],
    [`${SECRET};verbs=delete;namespaces=shop`, /entry 1: unknown verb "delete"/],
    [`${SECRET};verbs=rotate`, /entry 1: rotate and revoke need namespaces=/],
    [`${SECRET};verbs=rotate;namespaces=Shop_1`, /entry 1: namespaces must be namespace names/],
    [`${SECRET};verbs=rotate;namespaces=shop;scope=x`, /entry 1: unknown parameter "scope"/],
    ["short;verbs=unseal", /entry 1: the secret must be at least 32 characters/],
  ];
  for (const [value, pattern] of cases) {
    let message = "";
    try {
      loadConfig({ LEASEKEEPER_INDEX_KEY: KEY, LEASEKEEPER_CI_HMAC_SECRETS: value });
    } catch (err) {
      assert.instance(err, ConfigError);
      message = (err as Error).message;
    }
    assert.match(message, /LEASEKEEPER_CI_HMAC_SECRETS=\(hidden\)/, value);
    assert.match(message, pattern, message);
    assert.not.ok(message.includes(SECRET), "the secret is never shown");
  }
  const ok = loadConfig({
    LEASEKEEPER_INDEX_KEY: KEY,
    LEASEKEEPER_CI_HMAC_SECRETS: `${SECRET};verbs=rotate;namespaces=shop, ${"e".repeat(40)};verbs=unseal`,
  });
  assert.is(ok.ciHmacSecrets.length, 2);
});

test.run();

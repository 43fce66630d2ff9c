import { test } from "uvu";
import * as assert from "uvu/assert";
import { ConfigError, loadConfig } from "../../shared/config/config.ts";

const KEY = Buffer.alloc(32, 7).toString("base64");

test("defaults are filled and the result is frozen", () => {
  const config = loadConfig({ LEASEKEEPER_INDEX_KEY: KEY });
  assert.equal(config.roles, ["watch", "functions", "workers", "reconciler"]);
  assert.is(config.tokenAudience, "vault");
  assert.is(config.tokenExpirationSeconds, 600);
  assert.is(config.queuePrefix, "{leasekeeper}");
  assert.equal(config.namespaces, []);
  assert.is(config.rotationGraceSeconds, 120, "outlasts a kubelet's Secret refresh (60 s + 10 s jitter + cache)");
  assert.ok(Object.isFrozen(config));
});

test("lists and numbers are parsed", () => {
  const config = loadConfig({
    LEASEKEEPER_INDEX_KEY: KEY,
    LEASEKEEPER_ROLES: "watch, workers",
    LEASEKEEPER_NAMESPACES: "default,apps",
    LEASEKEEPER_ROTATION_GRACE_SECONDS: "5",
  });
  assert.equal(config.roles, ["watch", "workers"]);
  assert.equal(config.namespaces, ["default", "apps"]);
  assert.is(config.rotationGraceSeconds, 5);
});

test("an invalid value names the variable and what was expected", () => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{}, /LEASEKEEPER_INDEX_KEY=\(unset\)/],
    [{ LEASEKEEPER_INDEX_KEY: "c2hvcnQ=" }, /LEASEKEEPER_INDEX_KEY=\(hidden\): must be 32 bytes/],
    [
      { LEASEKEEPER_INDEX_KEY: KEY, LEASEKEEPER_ROLES: "watch,dance" },
      /LEASEKEEPER_ROLES="watch,dance": unknown role "dance"/,
    ],
    [
      { LEASEKEEPER_INDEX_KEY: KEY, LEASEKEEPER_TOKEN_EXPIRATION_SECONDS: "60" },
      /LEASEKEEPER_TOKEN_EXPIRATION_SECONDS="60"/,
    ],
    [{ LEASEKEEPER_INDEX_KEY: KEY, VAULT_ADDR: "not a url" }, /VAULT_ADDR="not a url"/],
    [{ LEASEKEEPER_INDEX_KEY: KEY, LEASEKEEPER_LEADER_ELECTION: "maybe" }, /LEASEKEEPER_LEADER_ELECTION="maybe"/],
  ];
  for (const [env, pattern] of cases) {
    let message = "";
    try {
      loadConfig(env);
    } catch (err) {
      assert.instance(err, ConfigError);
      message = (err as Error).message;
    }
    assert.match(message, pattern);
  }
});

test("a Redis password is never echoed in a config error", () => {
  try {
    loadConfig({ LEASEKEEPER_INDEX_KEY: KEY, LEASEKEEPER_REDIS_URL: "redis://user:s3cr3t^pass@bad host:6379" });
    assert.unreachable("should have thrown");
  } catch (err) {
    assert.match((err as Error).message, /LEASEKEEPER_REDIS_URL="redis:\/\/\(hidden\)@bad host:6379"/);
    assert.not.match((err as Error).message, /s3cr3t/);
  }
});

test("the controller token is never echoed in a config error", () => {
  try {
    loadConfig({ VAULT_TOKEN: "hvs.supersecret", LEASEKEEPER_INDEX_KEY: "bad" });
    assert.unreachable("should have thrown");
  } catch (err) {
    assert.not.match((err as Error).message, /supersecret/);
  }
});

test.run();

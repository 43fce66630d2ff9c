import { test } from "uvu";
import * as assert from "uvu/assert";
import { mustLoginAgain } from "../../shared/vault/controller-token.ts";

const H = 3600;

test("leasekeeper's own token: a capped renewal is not a reason to log in again until the max TTL is near", () => {
  // Role leasekeeper with token_ttl = token_max_ttl = 24 h: renewals at 2/3 grant 8 h, 2.7 h, … — all fine.
  for (const granted of [8 * H, 2.7 * H, 900, 91]) assert.not.ok(mustLoginAgain(granted, 24 * H), `${granted} s left`);
  assert.ok(mustLoginAgain(89, 24 * H), "a third of 89 s is too little room for a login");
});

test("short TTLs scale the room down (a 4 s role renews, and logs in again near its 9 s max)", () => {
  assert.not.ok(mustLoginAgain(4, 4));
  assert.not.ok(mustLoginAgain(3, 4));
  assert.ok(mustLoginAgain(2, 4));
});

test("simulated against Vault's cap: one login per max TTL with token_ttl = token_max_ttl = 24 h", () => {
  let now = 0;
  let issued = 0;
  let granted = 24 * H;
  let logins = 0;
  while (now < 72 * H) {
    now += (granted * 2) / 3;
    const next = Math.min(24 * H, issued + 24 * H - now);
    if (mustLoginAgain(next, 24 * H)) {
      logins++;
      issued = now;
      granted = 24 * H;
    } else {
      granted = next;
    }
  }
  assert.is(logins, 3, "one login per day");
});

test.run();

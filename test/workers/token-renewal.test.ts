import { test } from "uvu";
import * as assert from "uvu/assert";
import type { PodRecord } from "../../shared/index/pod-record.ts";
import { podRecord } from "../fakes/pod-record.ts";
import { renewDelayMs } from "../../workers/schedule.ts";
import { tokenRenewalPlan } from "../../workers/token-renewal.ts";

const H = 3600;
const base = podRecord({ tokenTtlSeconds: 24 * H });
const lease = (ttlSeconds: number, expiresAt: number) => ({
  id: `database/creds/r/${ttlSeconds}`,
  path: "database/creds/r",
  file: "creds.json",
  expiresAt,
  renewable: true,
  ttlSeconds,
});

/**
 * Runs a pod's renewals the way the renew job does, against a model of Vault's renew-self cap
 * (issue time + max TTL); returns how many renewals were plain and when it logged in again.
 */
function simulate(opts: { tokenTtl: number; tokenMax: number; leaseTtl: number; grace: number; hours: number }) {
  let now = 0;
  let issued = 0;
  const record: PodRecord = {
    ...base,
    tokenTtlSeconds: opts.tokenTtl,
    tokenExpiresAt: opts.tokenTtl * 1000,
    leases: [lease(opts.leaseTtl, opts.leaseTtl * 1000)],
  };
  let plain = 0;
  const relogins: number[] = [];
  while (now < opts.hours * H * 1000) {
    now += renewDelayMs(record, now, 10, () => 0.5);
    if (record.tokenExpiresAt <= now) throw new Error(`the token expired at ${now / 1000} s while the pod lived`);
    const plan = tokenRenewalPlan(record, opts.grace);
    const granted = Math.min(plan.incrementSeconds, Math.floor((issued + opts.tokenMax * 1000 - now) / 1000));
    if (granted < plan.neededSeconds) {
      relogins.push(now / 1000);
      issued = now;
      record.tokenExpiresAt = now + opts.tokenTtl * 1000;
    } else {
      plain++;
      record.tokenExpiresAt = now + granted * 1000;
    }
    record.leases = [lease(opts.leaseTtl, now + opts.leaseTtl * 1000)];
  }
  return { plain, relogins };
}

test("token_ttl = token_max_ttl (the sandbox's 24h/24h, 1 h leases): plain renewals, one login per max TTL", () => {
  const { plain, relogins } = simulate({ tokenTtl: 24 * H, tokenMax: 24 * H, leaseTtl: H, grace: 120, hours: 72 });
  assert.ok(plain >= 90, `${plain} plain renewals`);
  assert.is(relogins.length, 3, `one re-login per day (at ${relogins.join(", ")} s)`);
  assert.ok((relogins[0] ?? 0) > 23 * H, "only when the max TTL really runs out");
  for (let i = 1; i < relogins.length; i++) assert.ok((relogins[i] ?? 0) - (relogins[i - 1] ?? 0) > 23 * H);
});

test("asks for the longest lease plus grace and slack; needs the next cycle plus grace and slack", () => {
  const plan = tokenRenewalPlan({ tokenTtlSeconds: 24 * H, leases: [lease(H, 0), lease(2 * H, 0)] }, 120);
  assert.is(plan.incrementSeconds, 2 * H + 125);
  assert.is(plan.neededSeconds, Math.ceil(0.9 * H + 125));
});

test("without leases the token paces itself: it asks for its own TTL", () => {
  const plan = tokenRenewalPlan(
    {
      tokenTtlSeconds: H,
      leases: [{ id: "", path: "secret/data/x", file: "kv", expiresAt: 0, renewable: false, ttlSeconds: 0 }],
    },
    30,
  );
  assert.equal(plan, { incrementSeconds: H, neededSeconds: Math.ceil(0.9 * H + 35) });
  const { relogins } = simulate({ tokenTtl: H, tokenMax: 24 * H, leaseTtl: 10 * 60, grace: 120, hours: 25 });
  assert.is(relogins.length, 1, "1 h tokens renewed for 23 h, replaced once before 24 h");
});

test("a max TTL shorter than the lease cycle logs in again before the token would take the leases with it", () => {
  const { relogins } = simulate({ tokenTtl: 30, tokenMax: 30, leaseTtl: 6, grace: 2, hours: 0.05 });
  assert.ok(relogins.length >= 5, `${relogins.length} re-logins in 3 min with a 30 s max TTL`);
});

test.run();

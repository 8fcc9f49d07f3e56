// The client against the real api workers: the metering flow, each way a track is
// refused, and idempotency.
import { test } from "node:test";
import assert from "node:assert/strict";
import { DreamApi, DreamApiError } from "../dist/index.js";
import { raised, register, shipped } from "./stack.mjs";

const FREE_AND_PRO = [
  { id: "free", name: "Free", priceCents: 0, limit: 3 },
  { id: "pro", name: "Pro", priceCents: 900, limit: 50, features: ["More calls"], popular: true },
];

test("a platform meters an end-user to the tier limit, upgrades them, and reads usage, users, stats, its log, its revenue and itself", async () => {
  const { platformId, apiKey } = await register(raised());
  const dream = new DreamApi({ apiKey, baseUrl: raised() });

  const tiers = await dream.setTiers(FREE_AND_PRO);
  assert.deepEqual(tiers.map((t) => [t.id, t.limit]), [["free", 3], ["pro", 50]]);
  assert.match(tiers[1].stripePriceId, /^price_/, "a paid tier gets its Stripe price");
  assert.deepEqual(await dream.tiers(), tiers);

  for (const count of [1, 2, 3]) {
    const allowed = await dream.track("ada");
    assert.equal(allowed.allowed, true);
    assert.equal(allowed.usage.count, count);
    assert.equal(allowed.plan, "free");
  }
  const denied = await dream.track("ada");
  assert.equal(denied.allowed, false);
  assert.equal(denied.reason, "tier_limit_reached");
  assert.equal(denied.userId, "ada");
  assert.deepEqual([denied.usage.count, denied.usage.remaining], [3, 0]);
  assert.ok(denied.requestId, "a denial names its request");

  const upgraded = await dream.setPlan("ada", "pro");
  assert.deepEqual([upgraded.plan, upgraded.usage.limit, upgraded.usage.count], ["pro", 50, 3]);
  assert.equal((await dream.track("ada", { amount: 2 })).usage.count, 5);
  const usage = await dream.usage("ada");
  assert.deepEqual([usage.userId, usage.plan, usage.usage.count, usage.usage.remaining], ["ada", "pro", 5, 45]);

  const users = [];
  for await (const user of dream.users()) users.push([user.userId, user.plan]);
  assert.deepEqual(users, [["ada", "pro"]]);

  const stats = await dream.stats({ days: 7 });
  assert.equal(stats.daily.length, 7);
  assert.deepEqual([stats.totalCalls, stats.deniedCalls, stats.uniqueUsers], [4, 1, 1]);

  const log = await dream.logs({ userId: "ada", limit: 2 });
  assert.deepEqual(log.entries.map((e) => [e.status, e.code, e.amount]), [[200, null, 2], [403, "tier_limit_reached", 1]]);
  assert.equal(log.entries[1].requestId, denied.requestId, "the denial's entry names its request");
  const older = await dream.logs({ userId: "ada", limit: 2, before: log.nextBefore });
  assert.deepEqual(older.entries.map((e) => e.status), [200, 200]);
  assert.equal((await dream.logs({ status: 403 })).entries.length, 1);
  const revenue = await dream.revenue();
  assert.deepEqual([revenue.currency, revenue.mrrCents, revenue.activeSubscriptions, revenue.daily.length], ["usd", 0, 0, 90],
    "a plan set by hand is not revenue");

  const platform = await dream.platform();
  assert.equal(platform.platformId, platformId);
  assert.deepEqual([platform.plan, platform.mode, platform.preview], ["free", "preview", true]);
  assert.equal(platform.usage.count, 5, "the platform quota counts units across end-users");
});

test("rotating the key switches the client to the new key while the old one lasts its grace period", async () => {
  const { apiKey: first } = await register(raised());
  const dream = new DreamApi({ apiKey: first, baseUrl: raised() });
  const before = Date.now();
  const rotated = await dream.rotateKey({ graceSeconds: 120 });
  assert.match(rotated.apiKey, /^pk_live_/);
  assert.notEqual(rotated.apiKey, first);
  const expires = Date.parse(rotated.previousKeyExpiresAt);
  assert.ok(expires >= before + 118_000 && expires <= Date.now() + 122_000, rotated.previousKeyExpiresAt);

  const old = new DreamApi({ apiKey: first, baseUrl: raised() });
  assert.equal((await old.track("grace")).allowed, true, "the old key works in its grace period");
  assert.equal((await dream.track("grace")).usage.count, 2, "the client now speaks with the new key");

  // A rotation with no grace, from the new key, ends the old key's grace at once.
  await dream.rotateKey();
  const refused = await old.usage("grace").catch((e) => e);
  assert.ok(refused instanceof DreamApiError, String(refused));
  assert.deepEqual([refused.status, refused.code], [401, "invalid_api_key"]);
  assert.ok(refused.requestId, "the error carries X-Request-Id");
  assert.equal((await dream.usage("grace")).usage.count, 2);
});

test("a track over the platform's monthly quota is an answer naming platform_quota_reached", async () => {
  const { apiKey } = await register(shipped());
  const dream = new DreamApi({ apiKey, baseUrl: shipped() });
  assert.equal((await dream.track("first", { amount: 5 })).allowed, true, "the free plan meters 5 calls");
  const denied = await dream.track("second");
  assert.equal(denied.allowed, false);
  assert.equal(denied.reason, "platform_quota_reached");
  assert.deepEqual([denied.usage.count, denied.usage.limit], [5, 5], "the platform's usage, not the end-user's");
  assert.equal((await dream.usage("second")).usage.count, 0, "nothing was counted");
});

test("the 101st track of an end-user in a minute is an answer naming rate_limited, sent once, with when to retry", async () => {
  const { apiKey } = await register(raised());
  let sent = 0;
  const counting = (url, init) => (sent++, fetch(url, init));
  const dream = new DreamApi({ apiKey, baseUrl: raised(), fetch: counting });
  await dream.setTiers([{ id: "free", name: "Free", priceCents: 0, limit: null }]);
  for (let batch = 0; batch < 5; batch++) {
    const answers = await Promise.all(Array.from({ length: 20 }, () => dream.track("busy")));
    assert.ok(answers.every((a) => a.allowed === true));
  }
  sent = 0;
  const denied = await dream.track("busy");
  assert.equal(sent, 1, "a rate-limited track is not retried");
  assert.equal(denied.allowed, false);
  assert.equal(denied.reason, "rate_limited");
  assert.ok(denied.retryAfterSeconds >= 1 && denied.retryAfterSeconds <= 60, `retryAfterSeconds ${denied.retryAfterSeconds}`);
  assert.equal(denied.usage.count, 100);
});

test("an idempotency key reused for the same end-user counts once, and calls without one each count", async () => {
  const { apiKey } = await register(raised());
  const dream = new DreamApi({ apiKey, baseUrl: raised() });
  const first = await dream.track("buyer", { idempotencyKey: "order-42" });
  const again = await dream.track("buyer", { idempotencyKey: "order-42" });
  assert.deepEqual([first.usage.count, again.usage.count], [1, 1], "the repeat is the first answer");
  await dream.track("buyer");
  await dream.track("buyer");
  assert.equal((await dream.usage("buyer")).usage.count, 3, "each call gets a key of its own");
});

test("an answer the contract calls an error throws DreamApiError, not a denial", async () => {
  const { apiKey } = await register(raised());
  const dream = new DreamApi({ apiKey, baseUrl: raised() });
  const bad = await dream.track("not a valid id!").catch((e) => e);
  assert.ok(bad instanceof DreamApiError);
  assert.deepEqual([bad.status, bad.code], [400, "invalid_request"]);
  assert.ok(bad.message.length > 0);
  const unknown = await dream.setPlan("ada", "gold").catch((e) => e);
  assert.deepEqual([unknown.status, unknown.code], [400, "invalid_request"]);
});

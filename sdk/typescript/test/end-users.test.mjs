// End-users: metering with their own session token, listing them page by page, and
// selling them a paid tier through the Stripe stand-in.
import { test } from "node:test";
import assert from "node:assert/strict";
import { DreamApi, DreamApiError } from "../dist/index.js";
import { endUserOf, eventually, pay, raised, register } from "./stack.mjs";

test("an end-user's session token meters their own calls without a userId, and is asked for on every call", async () => {
  const { platformId, apiKey } = await register(raised());
  await new DreamApi({ apiKey, baseUrl: raised() }).setTiers([{ id: "free", name: "Free", priceCents: 0, limit: 2 }]);
  const { userId, token } = await endUserOf(platformId);
  let asked = 0;
  const dream = new DreamApi({ token: async () => (asked++, token), baseUrl: raised() });

  const first = await dream.track();
  assert.deepEqual([first.allowed, first.userId, first.usage.count], [true, userId, 1]);
  assert.equal(first.preview, true, "the answer says the platform is in preview");
  assert.equal((await dream.track({ idempotencyKey: "click-1" })).usage.count, 2);
  assert.equal(asked, 2, "the token is asked for on every call");
  const denied = await dream.track();
  assert.deepEqual([denied.allowed, denied.reason], [false, "tier_limit_reached"]);
  const own = await dream.usage();
  assert.deepEqual([own.userId, own.usage.count], [userId, 2], "usage() reads the token's own user");

  const many = await dream.track({ amount: 2 }).catch((e) => e);
  assert.ok(many instanceof DreamApiError);
  assert.deepEqual([many.status, many.code], [403, "forbidden"], "an end-user meters one call at a time");
  const other = await dream.usage("someone-else").catch((e) => e);
  assert.deepEqual([other.status, other.code], [403, "forbidden"]);
  const override = await dream.setPlan(userId, "free").catch((e) => e);
  assert.deepEqual([override.status, override.code], [403, "forbidden"]);
});

test("without a token the end-user's call is refused as unauthenticated", async () => {
  const dream = new DreamApi({ token: () => null, baseUrl: raised() });
  const error = await dream.track().catch((e) => e);
  assert.deepEqual([error.status, error.code], [401, "unauthenticated"]);
});

test("users() follows nextCursor through every page", async () => {
  const { apiKey } = await register(raised());
  const pages = [];
  const recording = (url, init) => (pages.push(new URL(url).searchParams.get("cursor")), fetch(url, init));
  const dream = new DreamApi({ apiKey, baseUrl: raised(), fetch: recording });
  const ids = ["u1", "u2", "u3", "u4", "u5"];
  for (const id of ids) await dream.track(id);
  pages.length = 0;

  const seen = [];
  for await (const user of dream.users({ limit: 2 })) seen.push(user.userId);
  assert.deepEqual(seen, ids);
  assert.deepEqual(pages, [null, "u2", "u4"], "three pages, each from the last one's cursor");
});

test("an end-user buys a paid tier through checkout, is moved to it, and gets a portal", async () => {
  const { apiKey } = await register(raised());
  const dream = new DreamApi({ apiKey, baseUrl: raised() });
  await dream.setTiers([
    { id: "free", name: "Free", priceCents: 0, limit: 5 },
    { id: "pro", name: "Pro", priceCents: 900, limit: 50 },
  ]);
  const session = await dream.checkout({
    userId: "buyer",
    tier: "pro",
    successUrl: "https://app.example/ok",
    cancelUrl: "https://app.example/no",
  });
  assert.match(session.sessionId, /^cs_/);
  assert.equal(session.preview, true);
  await pay(session.url);
  const bought = await eventually(() => dream.usage("buyer"), (u) => u.plan === "pro");
  assert.deepEqual([bought.plan, bought.usage.limit], ["pro", 50], "Stripe's webhook moved the end-user to Pro");

  const portal = await dream.portal({ userId: "buyer", returnUrl: "https://app.example/account" });
  assert.match(portal.url, /^http/);
  const none = await dream.portal({ userId: "never-bought", returnUrl: "https://app.example/" }).catch((e) => e);
  assert.deepEqual([none.status, none.code], [404, "not_found"]);
});

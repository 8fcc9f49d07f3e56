// examples/express as a developer runs it (`node server.js`, its own process on a free
// loopback port), against the api worker of the test stack.
import { test } from "node:test";
import assert from "node:assert/strict";
import { assertServedUpToTheLimitThenRefused } from "./checks.mjs";
import { api, countOf, freePort, getAs, inCheckout, platformWithTiers, startProcess } from "./stack.mjs";

/** The example's server with `env` (DREAM_API_KEY, DREAM_API_URL, …): its /quote address. */
async function startServer(t, env) {
  const port = await freePort();
  const server = await startProcess(process.execPath, ["server.js"], {
    cwd: inCheckout("examples/express"),
    env: { HOST: "127.0.0.1", PORT: String(port), ...env },
    readyUrl: `http://127.0.0.1:${port}/quote`,
    startMs: 15_000,
  });
  t.after(server.stop);
  return `http://127.0.0.1:${port}/quote`;
}

test("GET /quote serves each end-user up to their tier's limit, every quote counted in dream-api, then answers 402", { timeout: 60_000 }, async (t) => {
  const { apiKey } = await platformWithTiers([{ id: "free", name: "Free", priceCents: 0, limit: 3 }]);
  const quote = await startServer(t, { DREAM_API_KEY: apiKey, DREAM_API_URL: api() });

  await assertServedUpToTheLimitThenRefused({
    url: quote,
    apiKey,
    userId: "alice",
    limit: 3,
    served: (answer, n) => {
      assert.equal(typeof answer.body.quote, "string");
      assert.deepEqual([answer.body.plan, answer.body.remaining], ["free", 3 - n]);
    },
  });

  const bob = await getAs(quote, "bob");
  assert.equal(bob.status, 200, "another end-user of the same app still has their own quotes");
  assert.equal(await countOf(apiKey, "bob"), 1);
});

test("GET /quote without X-User-Id is a 400 that counts nothing", { timeout: 30_000 }, async (t) => {
  const { apiKey } = await platformWithTiers([{ id: "free", name: "Free", priceCents: 0, limit: 3 }]);
  const res = await fetch(await startServer(t, { DREAM_API_KEY: apiKey, DREAM_API_URL: api() }));
  assert.equal(res.status, 400);
  assert.equal((await res.json()).error, "missing_user");
  const users = await fetch(`${api()}/v1/users`, { headers: { authorization: `Bearer ${apiKey}` } }).then((r) => r.json());
  assert.deepEqual(users.users, [], "no end-user was metered");
});

test("a burst over an end-user's 100 calls a minute is answered 429 with Retry-After, and counts nothing", { timeout: 90_000 }, async (t) => {
  const { apiKey } = await platformWithTiers([{ id: "free", name: "Free", priceCents: 0, limit: 1_000 }]);
  const quote = await startServer(t, { DREAM_API_KEY: apiKey, DREAM_API_URL: api() });

  // Sequential, so that the minute-long window (opened by the first call) holds exactly 100.
  for (let n = 1; n <= 100; n++) {
    const answer = await getAs(quote, "carol");
    assert.equal(answer.status, 200, `call ${n} of the minute is served: ${JSON.stringify(answer.body)}`);
  }
  const refused = await getAs(quote, "carol");
  assert.equal(refused.status, 429, JSON.stringify(refused.body));
  assert.equal(refused.body.error, "rate_limited");
  const wait = Number(refused.headers.get("retry-after"));
  assert.ok(wait >= 1 && wait <= 60, `Retry-After is within the minute: ${wait}`);
  assert.match(refused.body.message, new RegExp(`${wait} seconds`));
  assert.equal(await countOf(apiKey, "carol"), 100);
});

test("while dream-api cannot be reached, the server fails closed with 503 by default and serves uncounted with DREAM_FAIL_OPEN=1", { timeout: 60_000 }, async (t) => {
  const unreachable = `http://127.0.0.1:${await freePort()}`;
  const env = { DREAM_API_KEY: "pk_live_unreachable", DREAM_API_URL: unreachable };

  const closed = await getAs(await startServer(t, env), "dave");
  assert.equal(closed.status, 503);
  assert.equal(closed.body.error, "metering_unavailable");

  const open = await getAs(await startServer(t, { ...env, DREAM_FAIL_OPEN: "1" }), "dave");
  assert.equal(open.status, 200, JSON.stringify(open.body));
  assert.equal(open.headers.get("x-metering"), "degraded");
  assert.equal(typeof open.body.quote, "string");
});

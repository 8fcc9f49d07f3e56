// Failures between the client and dream-api, made by loopback proxies in front of the
// real worker: retries that never count twice, timeouts, Retry-After, failing open.
import { test } from "node:test";
import assert from "node:assert/strict";
import { DreamApi, DreamApiError } from "../dist/index.js";
import { closedPort, proxy, raised, register, relay } from "./stack.mjs";

const INTERNAL = JSON.stringify({ error: { code: "internal", message: "Something broke." } });

function answer(res, status, body, headers = {}) {
  res.writeHead(status, { "content-type": "application/json", "x-request-id": "req_proxy", ...headers });
  res.end(body);
}

async function platform() {
  const { apiKey } = await register(raised());
  return { apiKey, direct: new DreamApi({ apiKey, baseUrl: raised() }) };
}

test("a track retried through two dropped connections and a 503 counts exactly once", async (t) => {
  const { apiKey, direct } = await platform();
  const flaky = await proxy(raised(), async (n, forward, req, res) => {
    if (n === 0) return req.socket.destroy(); // dropped before reaching dream-api
    const upstream = await forward();
    if (n === 1) return req.socket.destroy(); // counted, but the answer is lost
    if (n === 2) return answer(res, 503, INTERNAL); // counted again? not with the same key
    relay(res, upstream);
  });
  t.after(flaky.close);
  const dream = new DreamApi({ apiKey, baseUrl: flaky.url, maxRetries: 3 });
  const tracked = await dream.track("retried");
  assert.equal(tracked.allowed, true);
  assert.equal(tracked.usage.count, 1);
  assert.equal(flaky.requests.length, 4);
  const keys = new Set(flaky.requests.map((r) => JSON.parse(r.body).idempotencyKey));
  assert.equal(keys.size, 1, "every attempt carries the same idempotency key");
  assert.ok([...keys][0]?.length > 0);
  assert.equal((await direct.usage("retried")).usage.count, 1);
});

test("after maxRetries (2 by default) a 5xx throws with the answer's status, code and request id", async (t) => {
  const { apiKey } = await platform();
  const down = await proxy(raised(), (n, forward, req, res) => answer(res, 503, INTERNAL));
  t.after(down.close);
  const error = await new DreamApi({ apiKey, baseUrl: down.url }).tiers().catch((e) => e);
  assert.ok(error instanceof DreamApiError);
  assert.deepEqual([error.status, error.code, error.requestId], [503, "internal", "req_proxy"]);
  assert.equal(down.requests.length, 3, "one call and two retries");
});

test("Retry-After is waited for before the retry", async (t) => {
  const { apiKey } = await platform();
  const busy = await proxy(raised(), async (n, forward, req, res) => {
    if (n === 0) return answer(res, 503, INTERNAL, { "retry-after": "1" });
    relay(res, await forward());
  });
  t.after(busy.close);
  const started = Date.now();
  const tiers = await new DreamApi({ apiKey, baseUrl: busy.url }).tiers();
  assert.ok(Date.now() - started >= 1000, `retried after ${Date.now() - started} ms`);
  assert.equal(tiers[0].id, "free");
  assert.equal(busy.requests.length, 2);
});

test("a 429 on a tier change is retried, and a rate-limited track is answered without a retry", async (t) => {
  const { apiKey } = await platform();
  const limited = JSON.stringify({ error: { code: "rate_limited", message: "Slow down." }, userId: "u", plan: "free" });
  const limiting = await proxy(raised(), async (n, forward, req, res) => {
    if (n === 0 || req.url === "/v1/usage/track") return answer(res, 429, limited, { "retry-after": "1" });
    relay(res, await forward());
  });
  t.after(limiting.close);
  const dream = new DreamApi({ apiKey, baseUrl: limiting.url });
  const tiers = await dream.setTiers([{ id: "basic", name: "Basic", priceCents: 0, limit: 10 }]);
  assert.deepEqual(tiers.map((t) => t.id), ["basic"]);
  assert.equal(limiting.requests.length, 2);
  const denied = await dream.track("u");
  assert.deepEqual([denied.allowed, denied.reason, denied.retryAfterSeconds], [false, "rate_limited", 1]);
  assert.equal(limiting.requests.length, 3, "the track was sent once");
});

test("a 4xx is not retried", async (t) => {
  const relaying = await proxy(raised(), async (n, forward, req, res) => relay(res, await forward()));
  t.after(relaying.close);
  const dream = new DreamApi({ apiKey: "pk_live_wrong", baseUrl: relaying.url });
  const error = await dream.track("u").catch((e) => e);
  assert.deepEqual([error.status, error.code], [401, "invalid_api_key"]);
  assert.match(error.requestId, /\S/);
  assert.equal(relaying.requests.length, 1);
});

test("an attempt with no answer within timeoutMs ends as a timeout, and the call returns within its bound", async (t) => {
  const silent = await proxy(raised(), () => {}); // reads the request, never answers
  t.after(silent.close);
  const dream = new DreamApi({ apiKey: "pk_live_unused", baseUrl: silent.url, timeoutMs: 300, maxRetries: 1 });
  const started = Date.now();
  const error = await dream.track("u").catch((e) => e);
  const took = Date.now() - started;
  assert.ok(error instanceof DreamApiError, String(error));
  assert.deepEqual([error.status, error.code], [0, "timeout"]);
  assert.equal(silent.requests.length, 2, "a timed-out attempt is retried");
  assert.ok(took >= 600 && took < 2000, `returned after ${took} ms`);
});

test("with failOpen a track that cannot reach dream-api is let through as degraded", async () => {
  const port = await closedPort();
  const dream = new DreamApi({ apiKey: "pk_live_unused", baseUrl: `http://127.0.0.1:${port}`, failOpen: true, maxRetries: 1 });
  const result = await dream.track("u");
  assert.equal(result.allowed, true);
  assert.equal(result.degraded, true);
  assert.equal(result.error.code, "network_error");
  const usage = await dream.usage("u").catch((e) => e);
  assert.equal(usage.code, "network_error", "only track fails open");
});

test("by default a track that cannot reach dream-api throws network_error (fails closed)", async () => {
  const port = await closedPort();
  const dream = new DreamApi({ apiKey: "pk_live_unused", baseUrl: `http://127.0.0.1:${port}`, maxRetries: 1 });
  const error = await dream.track("u").catch((e) => e);
  assert.ok(error instanceof DreamApiError, String(error));
  assert.deepEqual([error.status, error.code], [0, "network_error"]);
});

test("failOpen lets a track through after 5xx answers but never hides a refused key", async (t) => {
  const down = await proxy(raised(), (n, forward, req, res) => answer(res, 502, INTERNAL));
  t.after(down.close);
  const degraded = await new DreamApi({ apiKey: "pk_live_unused", baseUrl: down.url, failOpen: true, maxRetries: 0 }).track("u");
  assert.deepEqual([degraded.allowed, degraded.degraded, degraded.error.status], [true, true, 502]);
  const wrong = new DreamApi({ apiKey: "pk_live_wrong", baseUrl: raised(), failOpen: true });
  const error = await wrong.track("u").catch((e) => e);
  assert.deepEqual([error.status, error.code], [401, "invalid_api_key"]);
});

// Webhooks to developers as a developer's server would check them: every delivery the
// api worker makes must verify with the official Standard Webhooks library
// (npm `standardwebhooks`), unchanged, and a tampered one must not.
//
// Needs the stack scripts/test.sh starts: DREAM_API_URL (an api worker that lets
// webhook endpoints be loopback addresses) and DREAM_RECEIVER_URL (the stand-ins'
// webhook receiver, which records each request as it came).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';

const API = process.env.DREAM_API_URL;
const RECEIVER = process.env.DREAM_RECEIVER_URL;

async function call(key, method, path, body) {
  const res = await fetch(`${API}${path}`, {
    method,
    headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
    body: body && JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** Waits (10 s at most) until the receiver `name` has `n` requests; returns them. */
async function received(name, n) {
  for (let i = 0; i < 50; i++) {
    const { requests } = await (await fetch(`${RECEIVER}/dev/received/${name}`)).json();
    if (requests.length >= n) return requests;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  assert.fail(`${name} did not get ${n} requests within 10 s`);
}

test('every delivery verifies with the official standardwebhooks package, with both secrets while a rotated one overlaps', async () => {
  assert.ok(API && RECEIVER, 'run by scripts/test.sh, which starts the worker and the receiver');
  const registered = await fetch(`${API}/v1/developers`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'CF-Connecting-IP': `10.251.${process.pid % 250}.${Date.now() % 250}` },
    body: JSON.stringify({ email: 'fidelity@example.com' }),
  });
  assert.equal(registered.status, 201);
  const { apiKey } = await registered.json();
  const name = `fidelity-${process.pid}-${Date.now()}`;
  const created = await call(apiKey, 'POST', '/v1/webhooks', { url: `${RECEIVER}/${name}`, events: ['key.rotated'] });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const { id, secret } = created.body;

  // A test message, then a key rotation: both signed with the one secret.
  assert.equal((await call(apiKey, 'POST', `/v1/webhooks/${id}/test`)).status, 202);
  const [first] = await received(name, 1);
  const rotated = await call(apiKey, 'POST', '/v1/keys/rotate', { graceSeconds: 60 });
  assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
  const key = rotated.body.apiKey;
  const [, second] = await received(name, 2);
  const official = new Webhook(secret);
  assert.deepEqual(official.verify(first.body, first.headers), { type: 'webhook.test', timestamp: JSON.parse(first.body).timestamp, data: {} });
  const rotation = official.verify(second.body, second.headers);
  assert.equal(rotation.type, 'key.rotated');
  assert.equal(rotation.data.previousKeyExpiresAt, rotated.body.previousKeyExpiresAt);

  // Tampered with, or checked with another secret: refused.
  assert.throws(() => official.verify(first.body.replace('webhook.test', 'webhook.tesT'), first.headers), WebhookVerificationError);
  const other = new Webhook(`whsec_${Buffer.alloc(32, 7).toString('base64')}`);
  assert.throws(() => other.verify(first.body, first.headers), WebhookVerificationError);

  // After rotating the endpoint's secret, a delivery verifies with the new secret and,
  // for the overlap, with the old one too.
  const rotatedSecret = await call(key, 'POST', `/v1/webhooks/${id}/rotate-secret`);
  assert.equal(rotatedSecret.status, 200, JSON.stringify(rotatedSecret.body));
  assert.equal((await call(key, 'POST', `/v1/webhooks/${id}/test`)).status, 202);
  const [, , third] = await received(name, 3);
  assert.equal(third.headers['webhook-signature'].split(' ').length, 2);
  for (const s of [rotatedSecret.body.secret, secret]) {
    assert.equal(new Webhook(s).verify(third.body, third.headers).type, 'webhook.test');
  }
});

test('300 simultaneous tracks raise each usage and quota alert once, every one verified by the official package', async () => {
  // A new platform on the default api worker: the free plan's quota is 5 calls a month.
  // With a tier limit of 5 too, one end-user's 4th call is 80 % of both and the 5th 100 %.
  const registered = await fetch(`${API}/v1/developers`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'CF-Connecting-IP': `10.252.${process.pid % 250}.${Date.now() % 250}` },
    body: JSON.stringify({ email: 'fidelity@example.com' }),
  });
  assert.equal(registered.status, 201);
  const { apiKey } = await registered.json();
  const tiers = await call(apiKey, 'PUT', '/v1/tiers', { tiers: [{ id: 'free', name: 'Free', priceCents: 0, limit: 5 }] });
  assert.equal(tiers.status, 200, JSON.stringify(tiers.body));
  const name = `fidelity-alerts-${process.pid}-${Date.now()}`;
  const created = await call(apiKey, 'POST', '/v1/webhooks', {
    url: `${RECEIVER}/${name}`,
    events: ['usage.threshold_reached', 'platform.quota_threshold_reached'],
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));

  const answers = await Promise.all(
    Array.from({ length: 300 }, () => call(apiKey, 'POST', '/v1/usage/track', { userId: 'alice' })),
  );
  assert.equal(answers.filter((a) => a.status === 200).length, 5);
  await received(name, 4);
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const all = (await (await fetch(`${RECEIVER}/dev/received/${name}`)).json()).requests;
  assert.equal(all.length, 4, JSON.stringify(all.map((r) => r.body)));
  const official = new Webhook(created.body.secret);
  const seen = all
    .map((r) => official.verify(r.body, r.headers))
    .map((m) => `${m.type} ${m.data.threshold} ${m.data.usage.count}`)
    .sort();
  assert.deepEqual(seen, [
    'platform.quota_threshold_reached 100 5',
    'platform.quota_threshold_reached 80 4',
    'usage.threshold_reached 100 5',
    'usage.threshold_reached 80 4',
  ]);
});

// The api worker and @clerk/backend must agree on every session token: what the
// official verifier accepts, the worker accepts; what it rejects, the worker rejects.
//
// Needs the stack scripts/test.sh starts: DREAM_API_RAISED_URL (an api worker wired to
// the Clerk stand-in), DREAM_CLERK_URL and DREAM_CLERK_SECRET_KEY.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, createPublicKey } from 'node:crypto';
import { verifyToken } from '@clerk/backend';

const API = process.env.DREAM_API_RAISED_URL;
const CLERK = process.env.DREAM_CLERK_URL;
const SECRET = process.env.DREAM_CLERK_SECRET_KEY;
const PARTY = 'http://127.0.0.1:8790';

async function clerk(method, path, body) {
  const res = await fetch(`${CLERK}${path}`, {
    method,
    headers: { Authorization: `Bearer ${SECRET}`, 'Content-Type': 'application/json' },
    body: body && JSON.stringify(body),
  });
  return res.json();
}

async function mint(userId, azp, expiresInSeconds) {
  const res = await fetch(`${CLERK}/dev/sessions`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ user_id: userId, azp, expires_in_seconds: expiresInSeconds }),
  });
  return (await res.json()).jwt;
}

const b64url = (buf) => Buffer.from(buf).toString('base64url');

test('the worker accepts exactly the session tokens @clerk/backend accepts', async () => {
  assert.ok(API && CLERK && SECRET, 'run by scripts/test.sh, which starts the worker and the Clerk stand-in');
  const registered = await fetch(`${API}/v1/developers`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'CF-Connecting-IP': `10.250.${process.pid % 250}.${Date.now() % 250}` },
    body: JSON.stringify({ email: 'fidelity@example.com' }),
  });
  assert.equal(registered.status, 201);
  const { platformId } = await registered.json();
  const user = await clerk('POST', '/v1/users', { email_address: ['agree@example.com'] });
  await clerk('PATCH', `/v1/users/${user.id}/metadata`, { public_metadata: { platformId } });

  const valid = await mint(user.id, PARTY, 60);
  const [header, payload, signature] = valid.split('.');
  const claims = JSON.parse(Buffer.from(payload, 'base64url'));
  const { keys } = await clerk('GET', '/v1/jwks');
  const publicPem = createPublicKey({ key: keys[0], format: 'jwk' }).export({ type: 'spki', format: 'pem' });
  const hs256 = (() => {
    const h = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid: keys[0].kid }));
    const p = payload;
    return `${h}.${p}.${b64url(createHmac('sha256', publicPem).update(`${h}.${p}`).digest())}`;
  })();

  const tokens = {
    valid,
    expired: await mint(user.id, PARTY, -30),
    'another party': await mint(user.id, 'https://elsewhere.example', 60),
    tampered: `${header}.${b64url(JSON.stringify({ ...claims, sub: 'user_other' }))}.${signature}`,
    'alg none': `${b64url(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${payload}.`,
    'HS256 with the public key': hs256,
    'unknown kid': `${b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: 'ins_unknown' }))}.${payload}.${signature}`,
  };

  for (const [name, token] of Object.entries(tokens)) {
    const official = await verifyToken(token, { secretKey: SECRET, apiUrl: CLERK, authorizedParties: [PARTY] })
      .then(() => true, () => false);
    const res = await fetch(`${API}/v1/usage/track`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: '{}',
    });
    const worker = res.status === 200;
    assert.equal(worker, official, `${name}: @clerk/backend says ${official}, the worker answered ${res.status}`);
    if (!worker) assert.equal(res.status, 401, `${name}: a refused token is 401`);
  }
  assert.equal((await verifyToken(valid, { secretKey: SECRET, apiUrl: CLERK })).sub, user.id, 'the valid token is valid');
});

test('the dashboard backend accepts events signed by stripe-node and refuses others', async () => {
  const backend = process.env.DREAM_PLATFORM_AUTH_URL;
  const secret = process.env.DREAM_STRIPE_WEBHOOK_SECRET;
  assert.ok(backend && secret, 'run by scripts/test.sh, which starts the dashboard backend');
  const { default: Stripe } = await import('stripe');
  const stripe = new Stripe('sk_test_unused');
  const user = await clerk('POST', '/v1/users', { email_address: ['signed@example.com'] });
  // The plan belongs to the developer's platform: create it first, as the dashboard does.
  const credentials = await fetch(`${backend}/v1/credentials`, {
    method: 'POST', headers: { Authorization: `Bearer ${await mint(user.id, PARTY, 60)}` },
  });
  assert.equal(credentials.status, 201);
  const { platformId } = await credentials.json();
  const payload = JSON.stringify({
    id: `evt_fidelity_${user.id}`, object: 'event', type: 'checkout.session.completed', created: Math.floor(Date.now() / 1000),
    data: { object: { id: 'cs_fidelity', client_reference_id: platformId, subscription: `sub_${user.id}`, customer: `cus_${user.id}`,
      metadata: { dreamApiPlatform: platformId } } },
  });
  const post = (header) => fetch(`${backend}/webhooks/stripe`, {
    method: 'POST', headers: { 'Content-Type': 'application/json', 'Stripe-Signature': header }, body: payload,
  });

  const forged = await post(stripe.webhooks.generateTestHeaderString({ payload, secret: 'whsec_someone_else' }));
  assert.equal(forged.status, 400);
  assert.notEqual((await clerk('GET', `/v1/users/${user.id}`)).public_metadata.plan, 'paid');

  const signed = await post(stripe.webhooks.generateTestHeaderString({ payload, secret }));
  assert.equal(signed.status, 200);
  assert.deepEqual(await signed.json(), { received: true });
  assert.equal((await clerk('GET', `/v1/users/${user.id}`)).public_metadata.plan, 'paid');
});

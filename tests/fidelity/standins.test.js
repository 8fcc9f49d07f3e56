// The stand-ins, checked by the official SDKs: what @clerk/backend and stripe-node
// accept from them, and what they make of their errors and webhooks.
//
// Run by scripts/test.sh (which builds the stand-ins first); STANDINS_BIN points at
// the binary. Each run starts its own stand-ins on spare ports and stops them by PID.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { createPublicKey } from 'node:crypto';
import { verifyToken } from '@clerk/backend';
import Stripe from 'stripe';

const CLERK_PORT = 18891;
const STRIPE_PORT = 18892;
const HOOK_PORT = 18893;
const CLERK = `http://127.0.0.1:${CLERK_PORT}`;
const STRIPE = `http://127.0.0.1:${STRIPE_PORT}`;
const CLERK_SECRET = 'sk_test_fidelity';
const STRIPE_SECRET = 'sk_test_fidelity';
const WEBHOOK_SECRET = 'whsec_fidelity';

let standins;
let hook;
const delivered = [];

before(async () => {
  hook = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      delivered.push({ body: Buffer.concat(chunks).toString('utf8'), signature: req.headers['stripe-signature'] });
      res.writeHead(200).end('{}');
    });
  }).listen(HOOK_PORT, '127.0.0.1');
  standins = spawn(process.env.STANDINS_BIN, [
    '--clerk', `127.0.0.1:${CLERK_PORT}`, '--stripe', `127.0.0.1:${STRIPE_PORT}`,
    '--webhook', `http://127.0.0.1:${HOOK_PORT}/hook`,
  ], {
    env: { ...process.env, CLERK_SECRET_KEY: CLERK_SECRET, STRIPE_SECRET_KEY: STRIPE_SECRET, STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  for (let i = 0; i < 200; i++) {
    try {
      const res = await fetch(`${CLERK}/sign-in`);
      if (res.ok) return;
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('the stand-ins did not start');
});

after(() => {
  standins?.kill();
  hook?.close();
});

async function clerkApi(method, path, body) {
  const res = await fetch(`${CLERK}${path}`, {
    method,
    headers: { Authorization: `Bearer ${CLERK_SECRET}`, 'Content-Type': 'application/json' },
    body: body && JSON.stringify(body),
  });
  return res.json();
}

async function mint(userId, extra = {}) {
  const res = await fetch(`${CLERK}/dev/sessions`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ user_id: userId, azp: 'http://127.0.0.1:8790', ...extra }),
  });
  return (await res.json()).jwt;
}

test('@clerk/backend verifies the stand-in tokens with the published key as jwtKey', async () => {
  const user = await clerkApi('POST', '/v1/users', { email_address: ['fid@example.com'] });
  await clerkApi('PATCH', `/v1/users/${user.id}/metadata`, { public_metadata: { plan: 'paid', platformId: 'plt_0123456789ab' } });
  const token = await mint(user.id);
  const { keys } = await clerkApi('GET', '/v1/jwks');
  const jwtKey = createPublicKey({ key: keys[0], format: 'jwk' }).export({ type: 'spki', format: 'pem' });
  const claims = await verifyToken(token, { jwtKey, authorizedParties: ['http://127.0.0.1:8790'] });
  assert.equal(claims.sub, user.id);
  assert.equal(claims.metadata.platformId, 'plt_0123456789ab');
});

test('@clerk/backend fetches the stand-in JWKS with the secret key and verifies', async () => {
  const user = await clerkApi('POST', '/v1/users', { email_address: ['fid2@example.com'] });
  const claims = await verifyToken(await mint(user.id), { secretKey: CLERK_SECRET, apiUrl: CLERK });
  assert.equal(claims.sub, user.id);
});

test('@clerk/backend rejects an expired stand-in token and one for another party', async () => {
  const user = await clerkApi('POST', '/v1/users', { email_address: ['fid3@example.com'] });
  await assert.rejects(verifyToken(await mint(user.id, { expires_in_seconds: -30 }), { secretKey: CLERK_SECRET, apiUrl: CLERK }));
  await assert.rejects(verifyToken(await mint(user.id), { secretKey: CLERK_SECRET, apiUrl: CLERK, authorizedParties: ['https://elsewhere.example'] }));
});

const stripe = new Stripe(STRIPE_SECRET, { host: '127.0.0.1', port: STRIPE_PORT, protocol: 'http', maxNetworkRetries: 0 });

test('stripe-node creates a checkout session and, after Pay, a portal session', async () => {
  const product = await stripe.products.create({ name: 'Pro', metadata: { platformId: 'plt_0123456789ab' } });
  const price = await stripe.prices.create({ product: product.id, unit_amount: 900, currency: 'usd', recurring: { interval: 'month' } });
  assert.equal(price.unit_amount, 900);
  const session = await stripe.checkout.sessions.create({
    mode: 'subscription',
    line_items: [{ price: price.id, quantity: 1 }],
    success_url: 'http://127.0.0.1:8790/done',
    cancel_url: 'http://127.0.0.1:8790/cancel',
    client_reference_id: 'user_fid',
  });
  assert.match(session.url, /^http:\/\/127\.0\.0\.1:18892\/c\/pay\//);
  const paid = await fetch(session.url, { method: 'POST', redirect: 'manual' });
  assert.equal(paid.status, 303);
  const completed = await stripe.checkout.sessions.retrieve(session.id);
  assert.equal(completed.status, 'complete');
  const portal = await stripe.billingPortal.sessions.create({ customer: completed.customer, return_url: 'http://127.0.0.1:8790/settings' });
  assert.match(portal.url, /\/p\/session\//);
  const subscription = await stripe.subscriptions.retrieve(completed.subscription);
  assert.equal(subscription.status, 'active');
});

test('stripe-node raises its own error classes for the stand-in errors', async () => {
  await assert.rejects(stripe.products.create({}), (e) => {
    assert.ok(e instanceof Stripe.errors.StripeInvalidRequestError);
    assert.equal(e.param, 'name');
    assert.equal(e.code, 'parameter_missing');
    return true;
  });
  await assert.rejects(stripe.prices.retrieve('price_nope'), (e) => {
    assert.ok(e instanceof Stripe.errors.StripeInvalidRequestError);
    assert.equal(e.code, 'resource_missing');
    assert.equal(e.statusCode, 404);
    return true;
  });
  const wrongKey = new Stripe('sk_test_wrong', { host: '127.0.0.1', port: STRIPE_PORT, protocol: 'http', maxNetworkRetries: 0 });
  await assert.rejects(wrongKey.products.create({ name: 'x' }), (e) => e instanceof Stripe.errors.StripeAuthenticationError);
});

test('stripe-node reads an unknown parameter and an injected 500 as its own error classes', async () => {
  await assert.rejects(stripe.products.create({ name: 'Pro', descripton: 'misspelt' }), (e) => {
    assert.ok(e instanceof Stripe.errors.StripeInvalidRequestError);
    assert.equal(e.statusCode, 400);
    assert.equal(e.param, 'descripton');
    assert.equal(e.message, 'Received unknown parameter: descripton');
    return true;
  });
  const fault = await fetch(`${STRIPE}/dev/faults`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ method: 'POST', path: '/v1/products', status: 500 }),
  });
  assert.equal(fault.status, 200);
  await assert.rejects(stripe.products.create({ name: 'Pro' }), (e) => {
    assert.ok(e instanceof Stripe.errors.StripeAPIError);
    assert.equal(e.statusCode, 500);
    return true;
  });
  const product = await stripe.products.create({ name: 'Pro' });
  assert.match(product.id, /^prod_/);
});

test('stripe-node accepts the stand-in webhook signatures', async () => {
  for (let i = 0; i < 100 && delivered.length < 2; i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(delivered.length >= 2, 'the checkout above delivered its events');
  for (const { body, signature } of delivered) {
    const event = stripe.webhooks.constructEvent(body, signature, WEBHOOK_SECRET);
    assert.match(event.id, /^evt_/);
  }
  assert.throws(() => stripe.webhooks.constructEvent(delivered[0].body, delivered[0].signature, 'whsec_other'));
});

test('stripe-node signs the VECTORS.md payload exactly as dream-core expects', () => {
  // The same check dream-core applies (VECTORS.md, vector 2): both must agree.
  const payload = '{"id":"evt_test_webhook","object":"event","type":"checkout.session.completed"}';
  const header = stripe.webhooks.generateTestHeaderString({ payload, secret: 'whsec_test_secret', timestamp: 1700000000 });
  assert.equal(header, 't=1700000000,v1=1fa73ff7286785daa8168695a709e92ce31d02a9202648cb27a1c5f2e233f517');
});

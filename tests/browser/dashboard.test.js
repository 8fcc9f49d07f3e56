// The dashboard as a developer meets it, in headless Chromium against the local stack:
// sign in (Clerk stand-in), create credentials and copy the API key, define tiers, see
// the calls their backend makes counted, upgrade through Stripe Checkout (Stripe
// stand-in, the plan following its webhook), and preview the pricing page.
//
// Needs the stack scripts/test.sh starts: DASHBOARD_URL (the built dashboard, served as
// Pages serves it), DREAM_API_URL (the api worker the dashboard's config points at) and
// DREAM_ARTIFACTS (where the screenshots go; target/browser-artifacts otherwise).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const DASHBOARD = process.env.DASHBOARD_URL?.replace(/\/$/, '');
const API = process.env.DREAM_API_URL?.replace(/\/$/, '');
const ARTIFACTS = process.env.DREAM_ARTIFACTS
  ?? fileURLToPath(new URL('../../target/browser-artifacts', import.meta.url));

const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

let browser;

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  // Playwright starts Chromium without its sandbox unless asked (chromiumSandbox), which
  // is what lets it run as root in CI containers.
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium' });
});

after(async () => {
  await browser?.close();
});

// step PAGE WHAT FN: runs one step of the flow; a failure names the step, what the page
// was saying (its alerts: problems, refused fields) and where the browser was, instead
// of a bare timeout.
async function step(page, what, fn) {
  try {
    return await fn();
  } catch (error) {
    const firstLine = String(error.message).split('\n')[0].replace(/\.$/, '');
    const alerts = (await page.getByRole('alert').evaluateAll((els) => els.map((el) => el.innerText)).catch(() => []))
      .map((text) => text.replace(/\s+/g, ' ').trim())
      .filter(Boolean);
    const said = alerts.length ? `; the page says: ${alerts.join(' | ')}` : '';
    throw new Error(`${what}: ${firstLine}${said} (browser at ${page.url()})`, { cause: error });
  }
}

// The whole text of an element, trimmed; an exact match, so that "3 / 5" is not found
// in "13 / 50".
const exactly = (text) => new RegExp(`^\\s*${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`);

// seeText LOCATOR TEXT: waits until the element shows TEXT (a string, exactly, or a
// RegExp); on timeout, says what it showed instead.
async function seeText(locator, text, what, timeout) {
  const pattern = typeof text === 'string' ? exactly(text) : text;
  try {
    await locator.filter({ hasText: pattern }).first().waitFor({ timeout });
  } catch (error) {
    const shown = await locator.first().textContent({ timeout: 1000 }).catch(() => null);
    const wanted = typeof text === 'string' ? JSON.stringify(text) : String(text);
    throw new Error(`${what}: expected ${wanted}, the page shows ${JSON.stringify(shown?.trim() ?? null)}`, { cause: error });
  }
}

// What an element shows: its text, or its value for a form field (a key may be shown
// in a read-only input, ready to select).
async function shownText(locator) {
  await locator.waitFor();
  const text = await locator.evaluate((el) => (el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement ? el.value : el.textContent));
  return text.trim();
}

// atPath PAGE PATH: waits until the browser is on the dashboard at PATH (any query), and
// returns the URL it arrived at (the dashboard may tidy its query away right after).
async function atPath(page, path) {
  let arrived;
  await page.waitForURL((url) => {
    if (url.origin !== new URL(DASHBOARD).origin || url.pathname !== path) return false;
    arrived = url;
    return true;
  });
  return arrived;
}

// What the clipboard holds once it holds EXPECTED, or after TIMEOUT ms whatever it holds:
// a copy completes after the click that starts it (the Clipboard API is asynchronous).
async function clipboardOnce(page, expected, timeout = 5000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const text = (await page.evaluate(() => navigator.clipboard.readText())).trim();
    if (text === expected || Date.now() > deadline) return text;
    await page.waitForTimeout(100);
  }
}

// A developer's backend metering one call for one of its end-users.
async function track(apiKey, userId) {
  const res = await fetch(`${API}/v1/usage/track`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${apiKey}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ userId }),
  });
  const body = await res.text();
  assert.equal(res.status, 200, `POST /v1/usage/track answered ${res.status}: ${body}`);
}

async function screenshot(page, name, viewport) {
  if (viewport) await page.setViewportSize(viewport);
  await page.screenshot({ path: join(ARTIFACTS, name), fullPage: true });
}

async function signIn(page, email) {
  await page.goto(`${DASHBOARD}/`);
  await page.getByRole('heading', { name: 'dream-api', exact: true }).first().waitFor();
  await page.getByRole('link', { name: 'Sign in', exact: true }).click();
  // The Clerk stand-in's sign-in page: any email signs in, and a first sign-in creates
  // the user, so a fresh email is a new developer.
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await atPath(page, '/dashboard');
}

// Returns the key and the platform id the dashboard shows once credentials exist.
async function createCredentials(page) {
  await page.getByRole('button', { name: 'Create credentials', exact: true }).click();
  const apiKey = await shownText(page.getByTestId('api-key'));
  assert.match(apiKey, /^pk_live_[A-Za-z0-9]+$/, 'the new API key is shown');
  await page.getByRole('button', { name: 'Copy API key', exact: true }).click();
  assert.equal(await clipboardOnce(page, apiKey), apiKey, 'Copy API key puts the key shown on the clipboard');
  const platformId = await shownText(page.getByTestId('platform-id'));
  assert.match(platformId, /^\S+$/, 'the platform id is shown');
  return { apiKey, platformId };
}

// The tiers editor: one group (fieldset) per tier, the innermost groups holding a
// "Tier id" field.
function tierGroups(page) {
  return page.getByRole('group')
    .filter({ has: page.getByLabel('Tier id', { exact: true }) })
    .filter({ hasNot: page.getByRole('group') });
}

async function fillTier(group, { id, name, price, limit }) {
  await group.getByLabel('Tier id', { exact: true }).fill(id);
  await group.getByLabel('Name', { exact: true }).fill(name);
  await group.getByLabel('Price (USD)', { exact: true }).fill(price);
  await group.getByLabel('Monthly limit', { exact: true }).fill(limit);
}

async function defineTiers(page, tiers) {
  await page.getByRole('link', { name: 'Tiers', exact: true }).click();
  await atPath(page, '/tiers');
  const groups = tierGroups(page);
  await groups.first().waitFor();
  assert.equal(await groups.count(), 1, 'a new platform starts with one tier (Free)');
  await fillTier(groups.nth(0), tiers[0]);
  for (const [i, tier] of tiers.slice(1).entries()) {
    await page.getByRole('button', { name: 'Add tier', exact: true }).click();
    await groups.nth(i + 1).waitFor();
    await fillTier(groups.nth(i + 1), tier);
  }
  await page.getByRole('button', { name: 'Save tiers', exact: true }).click();
  await seeText(page.getByRole('status'), /Saved/, 'after Save tiers');
}

// The plan follows Stripe's webhook, which may land after the redirect back: reload
// until the badge and the quota show it.
async function waitForPaidPlan(page, timeout = 30_000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    try {
      await seeText(page.getByTestId('plan-badge'), 'PAID', 'the plan badge', 5000);
      await seeText(page.getByTestId('usage-text'), /\/ 500 calls this month\s*$/, 'the usage text', 5000);
      return;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`not upgraded within ${timeout} ms: ${error.message}`, { cause: error });
    }
    await page.reload();
  }
}

test('a developer signs in, sets up tiers, sees usage, upgrades and previews pricing', { timeout: 180_000 }, async () => {
  assert.ok(DASHBOARD && API, 'run by scripts/test.sh, which serves the dashboard and starts the workers');
  const context = await browser.newContext({ viewport: DESKTOP });
  context.setDefaultTimeout(15_000);
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(DASHBOARD).origin });
  const page = await context.newPage();
  const email = `browser-${Date.now()}-${process.pid}@example.com`;
  const tiers = [
    { id: 'free', name: 'Free', price: '0', limit: '5' },
    { id: 'pro', name: 'Pro', price: '9', limit: '50' },
  ];

  try {
    await step(page, 'signing in through the Clerk stand-in', () => signIn(page, email));
    await step(page, 'a new developer\'s dashboard: the free plan and the navigation', async () => {
      await seeText(page.getByTestId('plan-badge'), 'FREE', 'the plan badge');
      for (const name of ['Dashboard', 'Tiers', 'Stripe']) {
        await page.getByRole('link', { name, exact: true }).first().waitFor();
      }
    });
    const { apiKey, platformId } = await step(page, 'creating credentials', () => createCredentials(page));

    await step(page, 'saving tiers Free (5 calls) and Pro ($9, 50 calls)', () => defineTiers(page, tiers));

    await step(page, 'the developer\'s backend meters three calls', async () => {
      for (let i = 0; i < 3; i++) await track(apiKey, 'browser-user');
    });
    await step(page, 'the dashboard counts the three calls', async () => {
      await page.goto(`${DASHBOARD}/dashboard`);
      await seeText(page.getByTestId('usage-text'), '3 / 5 calls this month', 'the usage text');
      await page.getByRole('progressbar').first().waitFor();
    });

    await step(page, 'upgrading through Stripe Checkout', async () => {
      await page.getByRole('button', { name: 'Upgrade', exact: true }).click();
      await page.getByRole('button', { name: 'Pay', exact: true }).click();
      const back = await atPath(page, '/dashboard');
      assert.equal(back.searchParams.get('upgraded'), '1', 'checkout returns to /dashboard?upgraded=1');
    });
    await step(page, 'the plan becomes paid', () => waitForPaidPlan(page));
    await step(page, 'screenshots of the dashboard', async () => {
      await screenshot(page, 'dashboard-desktop.png', DESKTOP);
      await screenshot(page, 'dashboard-phone.png', PHONE);
      await page.setViewportSize(DESKTOP);
    });

    await step(page, 'the pricing preview shows both tiers', async () => {
      // The navigation links the preview once there is a platform to preview.
      await page.getByRole('link', { name: 'Preview', exact: true }).click();
      await atPath(page, `/preview/${platformId}`);
      await page.getByRole('heading', { name: 'Pricing', exact: true }).first().waitFor();
      const articles = page.getByRole('article');
      for (const tier of tiers) await articles.filter({ hasText: tier.name }).first().waitFor();
      assert.equal(await articles.count(), tiers.length, 'one card per tier');
      await screenshot(page, 'preview-desktop.png');
      await screenshot(page, 'preview-phone.png', PHONE);
    });
  } catch (error) {
    await page.screenshot({ path: join(ARTIFACTS, 'failure.png'), fullPage: true }).catch(() => {});
    throw error;
  } finally {
    await context.close();
  }
});

// In production the dashboard signs in with ClerkJS, loaded from the instance's Frontend
// API for the publishable key in config.json. Here the config says so and the browser is
// handed a stand-in ClerkJS (requests to that Frontend API are answered by the test), whose
// session gives a token the Clerk stand-in minted: the dashboard must load the script with
// the key and call the workers with that token.
test('with the production sign-in, the dashboard uses the session token ClerkJS gives', { timeout: 60_000 }, async () => {
  const clerk = process.env.DREAM_CLERK_URL;
  assert.ok(DASHBOARD && clerk && process.env.DREAM_PLATFORM_AUTH_URL, 'run by scripts/test.sh');
  // A developer signed in at the Clerk stand-in: its sign-in answers with the token in the redirect.
  const signedIn = await fetch(`${clerk}/sign-in`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ email: `clerkjs-${Date.now()}@example.com`, redirect_url: `${DASHBOARD}/` }),
  });
  const token = new URL(signedIn.headers.get('location')).searchParams.get('__session');
  assert.ok(token, 'the Clerk stand-in signed the developer in');

  const context = await browser.newContext({ viewport: DESKTOP });
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  await page.route(`${DASHBOARD}/config.json`, (route) => route.fulfill({
    contentType: 'application/json',
    body: JSON.stringify({
      apiUrl: API,
      platformAuthUrl: process.env.DREAM_PLATFORM_AUTH_URL,
      stripeOauthUrl: process.env.DREAM_STRIPE_OAUTH_URL,
      auth: { kind: 'clerk', publishableKey: 'pk_test_ZHJlYW0tYXBp', frontendApi: 'clerk.dream-api.test' },
    }),
  }));
  await page.route('https://clerk.dream-api.test/**', (route) => route.fulfill({
    contentType: 'text/javascript',
    body: `window.__clerkKey = document.currentScript.dataset.clerkPublishableKey;
      window.Clerk = { loaded: false, load: async function () { this.loaded = true; },
        session: { getToken: async () => ${JSON.stringify(token)} },
        openSignIn: () => {}, signOut: async () => {} };`,
  }));
  try {
    await page.goto(`${DASHBOARD}/dashboard`);
    await step(page, 'the dashboard signed in through ClerkJS', async () => {
      await seeText(page.getByTestId('plan-badge'), 'FREE', 'the plan badge');
      await page.getByRole('button', { name: 'Create credentials', exact: true }).waitFor();
    });
    assert.equal(await page.evaluate(() => window.__clerkKey), 'pk_test_ZHJlYW0tYXBp', 'ClerkJS is loaded with the publishable key');
    assert.equal(await page.evaluate(() => window.Clerk.loaded), true, 'and Clerk.load() was awaited');
  } catch (error) {
    await page.screenshot({ path: join(ARTIFACTS, 'failure-clerkjs.png'), fullPage: true }).catch(() => {});
    throw error;
  } finally {
    await context.close();
  }
});

test('a developer connects their Stripe account and disconnects it again', { timeout: 90_000 }, async () => {
  assert.ok(DASHBOARD, 'run by scripts/test.sh');
  const context = await browser.newContext({ viewport: DESKTOP });
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  try {
    await step(page, 'signing in and creating credentials', async () => {
      await signIn(page, `connect-${Date.now()}-${process.pid}@example.com`);
      await page.getByRole('button', { name: 'Create credentials', exact: true }).click();
      await page.getByTestId('api-key').waitFor();
    });
    await step(page, 'the Stripe page says preview', async () => {
      await page.getByRole('link', { name: 'Stripe', exact: true }).click();
      await atPath(page, '/settings');
      await page.getByText('preview', { exact: true }).first().waitFor();
    });
    await step(page, 'connecting through Stripe (OAuth)', async () => {
      await page.getByRole('button', { name: 'Connect with Stripe', exact: true }).click();
      await page.getByRole('button', { name: 'Connect my Stripe account', exact: true }).click();
      const back = await atPath(page, '/settings');
      assert.equal(back.searchParams.get('connected'), '1', 'Stripe sends the developer back connected');
      await seeText(page.getByRole('status'), /Stripe is connected/, 'the notice');
      await page.getByText('production', { exact: true }).first().waitFor();
    });
    await screenshot(page, 'stripe-connected.png');
    await step(page, 'disconnecting', async () => {
      await page.getByRole('button', { name: 'Disconnect', exact: true }).click();
      await page.getByRole('button', { name: 'Connect with Stripe', exact: true }).waitFor();
      await page.getByText('preview', { exact: true }).first().waitFor();
    });
  } catch (error) {
    await page.screenshot({ path: join(ARTIFACTS, 'failure-connect.png'), fullPage: true }).catch(() => {});
    throw error;
  } finally {
    await context.close();
  }
});

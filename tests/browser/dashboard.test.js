// The dashboard's other flows in headless Chromium against the local stack: a developer
// upgrades their own plan through Stripe Checkout (the plan following its webhook),
// signs in through ClerkJS in production, and connects and disconnects their Stripe
// account.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  API, DASHBOARD, DESKTOP, PHONE, atPath, copyShown, createCredentials, defineTiers, freshEmail, goTo,
  screenshot, seeText, signIn, step, track, useBrowser, waitForPaidPlan, withPage,
} from './lib.js';
import { dashboardHeaders, headersFor, watchPolicy } from './csp.js';

const browser = useBrowser();

test('a developer signs in, sets up tiers, sees usage, upgrades and previews pricing', { timeout: 180_000 }, async () => {
  const tiers = [
    { id: 'free', name: 'Free', price: '0', limit: '5' },
    { id: 'pro', name: 'Pro', price: '9', limit: '50' },
  ];
  await withPage(browser(), 'upgrade', { clipboard: true }, async ({ page }) => {
    await step(page, 'signing in through the Clerk stand-in', () => signIn(page, freshEmail('browser')));
    await step(page, 'a new developer\'s dashboard: the free plan and the navigation', async () => {
      await seeText(page.getByTestId('plan-badge'), 'FREE', 'the plan badge');
      for (const name of ['Dashboard', 'Tiers', 'Settings']) {
        await page.getByRole('link', { name, exact: true }).first().waitFor();
      }
    });
    const { apiKey, platformId } = await step(page, 'creating credentials and copying the key', async () => {
      const created = await createCredentials(page);
      assert.equal(await copyShown(page, 'api-key', 'Copy API key'), created.apiKey);
      return created;
    });

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
    await step(page, 'the dashboard says so', () => seeText(page.getByRole('status'), /You are on the paid plan now: 500 calls a month\./, 'the notice'));
    await step(page, 'screenshots of the paid dashboard', async () => {
      await screenshot(page, 'dashboard-paid-desktop.png', DESKTOP);
      await screenshot(page, 'dashboard-paid-phone.png', PHONE);
      await page.setViewportSize(DESKTOP);
    });

    await step(page, 'the pricing preview shows both tiers', async () => {
      // The navigation links the preview once there is a platform to preview.
      await goTo(page, 'Preview', `/preview/${platformId}`);
      await page.getByRole('heading', { name: 'Pricing', exact: true }).first().waitFor();
      const articles = page.getByRole('article');
      for (const tier of tiers) await articles.filter({ hasText: tier.name }).first().waitFor();
      assert.equal(await articles.count(), tiers.length, 'one card per tier');
    });
  });
});

// In production the dashboard signs in with ClerkJS, loaded from the instance's Frontend
// API for the publishable key in config.json. Here the config says so and the browser is
// handed a stand-in ClerkJS (requests to that Frontend API are answered by the test), whose
// session gives a token the Clerk stand-in minted: the dashboard must load the script with
// the key and call the workers with that token, under the production Content Security
// Policy.
test('with the production sign-in, the dashboard uses the session token ClerkJS gives', { timeout: 60_000 }, async () => {
  const clerk = process.env.DREAM_CLERK_URL;
  assert.ok(clerk && process.env.DREAM_PLATFORM_AUTH_URL, 'run by scripts/test.sh');
  // A developer signed in at the Clerk stand-in: its sign-in answers with the token in the redirect.
  const signedIn = await fetch(`${clerk}/sign-in`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ email: freshEmail('clerkjs'), redirect_url: `${DASHBOARD}/` }),
  });
  const token = new URL(signedIn.headers.get('location')).searchParams.get('__session');
  assert.ok(token, 'the Clerk stand-in signed the developer in');

  const config = {
    apiUrl: API,
    platformAuthUrl: process.env.DREAM_PLATFORM_AUTH_URL,
    stripeOauthUrl: process.env.DREAM_STRIPE_OAUTH_URL,
    auth: { kind: 'clerk', publishableKey: 'pk_test_ZHJlYW0tYXBp', frontendApi: 'clerk.dream-api.test' },
  };
  // The page is served with the policy scripts/workers.sh writes for that config.json (the
  // one a deploy writes), which must let ClerkJS load. A page answered through routing
  // counts as public to Chromium, so it reaches the loopback workers only with the
  // user's leave (Local Network Access), given here.
  const production = headersFor(dashboardHeaders(config), '/dashboard')['content-security-policy'];
  assert.match(production, /script-src [^;]*https:\/\/clerk\.dream-api\.test/, 'the policy names the Frontend API');
  await withPage(browser(), 'clerkjs', { permissions: ['local-network-access'] }, async ({ context, page }) => {
    const policy = await watchPolicy(context);
    await page.route(`${DASHBOARD}/dashboard`, async (route) => {
      const response = await route.fetch();
      await route.fulfill({ response, headers: { ...response.headers(), 'content-security-policy': production } });
    });
    await page.route(`${DASHBOARD}/config.json`, (route) => route.fulfill({
      contentType: 'application/json',
      body: JSON.stringify(config),
    }));
    await page.route('https://clerk.dream-api.test/**', (route) => route.fulfill({
      contentType: 'text/javascript',
      body: `window.__clerkKey = document.currentScript.dataset.clerkPublishableKey;
        window.Clerk = { loaded: false, load: async function () { this.loaded = true; },
          session: { getToken: async () => ${JSON.stringify(token)} },
          openSignIn: () => {}, signOut: async () => {}, addListener: () => () => {} };`,
    }));
    const served = await page.goto(`${DASHBOARD}/dashboard`);
    assert.equal(served.headers()['content-security-policy'], production, 'the page is under the production policy');
    await step(page, 'the dashboard signed in through ClerkJS', async () => {
      await seeText(page.getByTestId('plan-badge'), 'FREE', 'the plan badge');
      await page.getByRole('button', { name: 'Create credentials', exact: true }).waitFor();
    });
    assert.equal(await page.evaluate(() => window.__clerkKey), 'pk_test_ZHJlYW0tYXBp', 'ClerkJS is loaded with the publishable key');
    assert.equal(await page.evaluate(() => window.Clerk.loaded), true, 'and Clerk.load() was awaited');
    policy.assertNone('ClerkJS under the production policy');
  });
});

test('a developer connects their Stripe account and disconnects it again', { timeout: 90_000 }, async () => {
  await withPage(browser(), 'connect', {}, async ({ page }) => {
    await step(page, 'signing in and creating credentials', async () => {
      await signIn(page, freshEmail('connect'));
      await createCredentials(page);
    });
    await step(page, 'the settings say preview', async () => {
      await goTo(page, 'Settings', '/settings');
      await page.getByText('preview', { exact: true }).first().waitFor();
    });
    await step(page, 'connecting through Stripe (OAuth)', async () => {
      await page.getByRole('button', { name: 'Connect with Stripe', exact: true }).click();
      await page.getByRole('button', { name: 'Connect my Stripe account', exact: true }).click();
      const back = await atPath(page, '/settings');
      assert.equal(back.searchParams.get('connected'), '1', 'Stripe sends the developer back connected');
      await seeText(page.getByRole('status'), /Stripe is connected/, 'the notice');
      await page.getByText('production', { exact: true }).first().waitFor();
      await page.getByText(/Connected to acct_/).first().waitFor();
    });
    await screenshot(page, 'stripe-connected.png');
    await step(page, 'disconnecting, confirmed in a dialog', async () => {
      await page.getByRole('button', { name: 'Disconnect', exact: true }).click();
      await page.getByRole('dialog', { name: 'Disconnect Stripe?' }).getByRole('button', { name: 'Disconnect Stripe', exact: true }).click();
      await page.getByRole('button', { name: 'Connect with Stripe', exact: true }).waitFor();
      await page.getByText('preview', { exact: true }).first().waitFor();
    });
  });
});

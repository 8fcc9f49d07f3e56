// A new developer's first ten minutes, start to end, at desktop and at phone width, each
// with a fresh developer: the landing page's quickstart copied, sign-in, credentials,
// the first call copied from the dashboard and run as copied (curl in bash, the SDK in
// Node), two tiers defined (one mistake made and put right on the way), usage counted
// without a reload, the pricing preview bought as the demo end-user, and back. Any
// console error or warning fails it; every page visited is kept as a screenshot.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  API, DASHBOARD, WIDTHS, atPath, copyShown, createCredentials, freshEmail, goTo, saveStatus, screenshot,
  seeText, shownText, signIn, step, tierGroups, useBrowser, withPage,
} from './lib.js';
import { assertAllowedJson, assertAllowedPrinted, runCurl, runSdk, useSdk } from './snippets.js';

const browser = useBrowser();
const sdkProject = useSdk();

for (const { name: width, viewport } of WIDTHS) {
  test(`a new developer goes from the landing page to a paying demo end-user (${width})`, { timeout: 240_000 }, async () => {
    await withPage(browser(), `journey-${width}`, { viewport, clipboard: true }, async ({ page }) => {
      const shot = (name) => screenshot(page, `${name}-${width}.png`);

      const quickstart = await step(page, 'the landing page\'s quickstart, copied', async () => {
        await page.goto(`${DASHBOARD}/`);
        await page.getByRole('heading', { name: 'dream-api', level: 1, exact: true }).waitFor();
        await page.getByRole('heading', { name: 'Quickstart', level: 2, exact: true }).waitFor();
        const curl = await copyShown(page, 'quickstart-curl', 'Copy the curl example');
        const sdk = await copyShown(page, 'quickstart-sdk', 'Copy the SDK example');
        for (const [what, text] of [['curl', curl], ['SDK', sdk]]) {
          assert.ok(text.includes(API), `the ${what} example calls the API at ${API}: ${text}`);
          assert.ok(text.includes('DREAM_API_KEY'), `the ${what} example reads the key from DREAM_API_KEY: ${text}`);
        }
        assert.match(sdk, /from\s+["']@dream-api\/client["']/, 'the SDK example imports @dream-api/client');
        const openapi = page.getByRole('link', { name: 'OpenAPI document', exact: true });
        assert.equal(await openapi.getAttribute('href'), `${API}/openapi.json`);
        const readme = page.getByRole('link', { name: 'README', exact: true });
        assert.equal(await readme.getAttribute('href'), '/README.md');
        const served = await fetch(`${DASHBOARD}/README.md`);
        assert.equal(served.status, 200, 'the README is served beside the app');
        assert.match(await served.text(), /dream-api/);
        await shot('landing');
        return { curl, sdk };
      });

      const email = freshEmail(`journey-${width}`);
      await step(page, 'signing in through the Clerk stand-in', async () => {
        await signIn(page, email, () => shot('sign-in'));
        await page.getByRole('heading', { name: 'Dashboard', level: 1, exact: true }).waitFor();
        await seeText(page.getByTestId('account-email'), email, 'the header\'s email');
        await shot('dashboard-new');
      });

      const { apiKey, platformId } = await step(page, 'creating credentials and copying the key', async () => {
        const created = await createCredentials(page);
        assert.equal(await copyShown(page, 'api-key', 'Copy API key'), created.apiKey);
        await shot('dashboard-credentials');
        return created;
      });

      const firstCall = await step(page, '"Your first call", copied and run as copied', async () => {
        await page.getByRole('heading', { name: 'Your first call', exact: true }).waitFor();
        const curl = await copyShown(page, 'first-call-curl', 'Copy the first call');
        const sdk = await copyShown(page, 'first-call-sdk', 'Copy the SDK call');
        for (const [what, text] of [['curl', curl], ['SDK', sdk]]) {
          assert.ok(text.includes(apiKey), `the first call (${what}) uses the new key: ${text}`);
          assert.ok(text.includes(API), `the first call (${what}) calls ${API}: ${text}`);
        }
        assertAllowedJson(await runCurl(curl), 'the first call with curl');
        assertAllowedPrinted(await runSdk(sdkProject(), `first-call-${width}`, sdk), 'the first call with the SDK');
        return { curl, sdk };
      });

      await step(page, 'the landing page\'s examples run with DREAM_API_KEY set to the new key', async () => {
        assertAllowedJson(await runCurl(quickstart.curl, apiKey), 'the quickstart\'s curl example');
        assertAllowedPrinted(await runSdk(sdkProject(), `quickstart-${width}`, quickstart.sdk, apiKey), 'the quickstart\'s SDK example');
      });

      await step(page, 'defining Free (5 calls) and Pro ($9, 50 calls), Pro\'s name forgotten and then given', async () => {
        await goTo(page, 'Tiers', '/tiers');
        const groups = tierGroups(page);
        await groups.first().waitFor();
        assert.equal(await groups.count(), 1, 'a new platform starts with one tier');
        const free = groups.nth(0);
        await free.getByLabel('Tier id', { exact: true }).fill('free');
        await free.getByLabel('Name', { exact: true }).fill('Free');
        await free.getByLabel('Price (USD)', { exact: true }).fill('0');
        await free.getByLabel('Monthly limit', { exact: true }).fill('5');
        await page.getByRole('button', { name: 'Add tier', exact: true }).click();
        const pro = groups.nth(1);
        await pro.waitFor();
        await pro.getByLabel('Tier id', { exact: true }).fill('pro');
        const proName = pro.getByLabel('Name', { exact: true });
        await proName.fill('');
        // Leaving the empty name for the next field shows the editor's message.
        await pro.getByLabel('Price (USD)', { exact: true }).click();
        const message = page.getByText('Tier 2: name is required', { exact: true });
        await message.first().waitFor();
        assert.equal(await proName.getAttribute('aria-invalid'), 'true', 'the empty name is marked invalid');
        await seeText(saveStatus(page), 'Unsaved changes', 'the save status');
        await shot('tiers');
        await pro.getByLabel('Price (USD)', { exact: true }).fill('9');
        await pro.getByLabel('Monthly limit', { exact: true }).fill('50');
        await proName.fill('Pro');
        await pro.getByLabel('Monthly limit', { exact: true }).click();
        await message.first().waitFor({ state: 'hidden' });
        assert.notEqual(await proName.getAttribute('aria-invalid'), 'true', 'the name is no longer marked invalid');
        await page.getByRole('button', { name: 'Save tiers', exact: true }).click();
        await seeText(saveStatus(page), 'Saved', 'the save status');
        await shot('tiers-saved');
      });

      await step(page, 'the dashboard counts a call metered with the copied snippet, without a reload', async () => {
        await goTo(page, 'Dashboard', '/dashboard');
        const usage = page.getByTestId('usage-text');
        await seeText(usage, '4 / 5 calls this month', 'the usage text after four calls');
        await seeText(page.getByTestId('refreshed-at'), /^\s*Updated at \d{1,2}:\d{2}:\d{2}( [AP]M)?\s*$/, 'the refresh time');
        await page.evaluate(() => { window.__sameDocument = true; });
        assertAllowedJson(await runCurl(firstCall.curl), 'the first call again');
        await seeText(usage, '5 / 5 calls this month', 'the usage text, refreshed by itself', 25_000);
        assert.equal(await page.evaluate(() => window.__sameDocument), true, 'the dashboard was not reloaded');
        await shot('dashboard-usage');
      });

      await step(page, 'the pricing preview: the demo end-user buys Pro through the Stripe stand-in', async () => {
        await page.getByRole('link', { name: 'Try demo', exact: true }).click();
        await atPath(page, `/preview/${platformId}`);
        await page.getByRole('heading', { name: 'Pricing', level: 1, exact: true }).waitFor();
        assert.match(await shownText(page.getByTestId('preview-banner')), new RegExp(`Preview of ${platformId}`));
        const cards = page.getByRole('article');
        await cards.filter({ hasText: 'Pro' }).first().waitFor();
        assert.equal(await cards.count(), 2, 'one card per tier');
        await shot('preview');
        await page.getByRole('button', { name: 'Try Pro as the demo end-user', exact: true }).click();
        const pay = page.getByRole('button', { name: 'Pay', exact: true });
        await pay.waitFor();
        await shot('checkout');
        await pay.click();
        const back = await atPath(page, `/preview/${platformId}`);
        assert.equal(back.searchParams.get('demo'), 'purchased', 'checkout comes back to ?demo=purchased');
        await seeText(page.getByTestId('demo-tier'), 'The demo end-user is on Pro.', 'the demo\'s tier', 30_000);
        await cards.filter({ hasText: 'Pro' }).filter({ hasText: 'Demo end-user\'s plan' }).first().waitFor();
        await shot('preview-purchased');
      });

      await step(page, 'back to the dashboard', async () => {
        await page.getByRole('link', { name: 'Back to the dashboard', exact: true }).click();
        await atPath(page, '/dashboard');
        await page.getByRole('heading', { name: 'Dashboard', level: 1, exact: true }).waitFor();
        await seeText(page.getByTestId('usage-text'), '5 / 5 calls this month', 'the usage text');
      });
    });
  });
}

// axe-core on every page of the dashboard, at desktop and phone width: the landing page
// signed out and in, the dashboard before and after credentials, the tiers before
// credentials, the dashboard with usage charted, an end-user and the Revenue card, the
// request log, the rotate dialog open, the tiers with a message showing (and the usage
// alerts), the webhooks page with an endpoint, its secret and a delivered test, its
// rotate dialog, settings, the pricing preview and the not-found page. Any violation of
// impact serious or critical fails, named by rule, impact and the elements it found.
// Every page is kept as a screenshot.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { audit, describeViolations } from './axe.js';
import {
  DASHBOARD, RECEIVER, WIDTHS, createCredentials, freshEmail, goTo, screenshot, seeText, signIn, step, tierGroups,
  track, useBrowser, withPage,
} from './lib.js';

const browser = useBrowser();

for (const { name: width, viewport } of WIDTHS) {
  test(`every page passes axe's serious and critical rules (${width})`, { timeout: 180_000 }, async () => {
    // Without the page's Content-Security-Policy, so that axe can be added to it.
    await withPage(browser(), `a11y-${width}`, { viewport, bypassCSP: true }, async ({ page }) => {
      const found = [];
      const check = async (name, ready) => {
        await step(page, `the page "${name}"`, ready);
        await screenshot(page, `a11y-${name}-${width}.png`);
        found.push(...describeViolations(name, await audit(page)));
      };
      const heading = (name) => page.getByRole('heading', { name, level: 1, exact: true }).waitFor();

      await check('landing-signed-out', async () => {
        await page.goto(`${DASHBOARD}/`);
        await heading('dream-api');
        await page.getByTestId('quickstart-curl').waitFor();
      });
      await check('dashboard-new', async () => {
        await signIn(page, freshEmail(`a11y-${width}`));
        await page.getByRole('button', { name: 'Create credentials', exact: true }).waitFor();
      });
      // A newcomer may look at the tiers before creating credentials: the page says where
      // to start, and asks the backend nothing it would refuse.
      await check('tiers-before-credentials', async () => {
        await goTo(page, 'Tiers', '/tiers');
        await heading('Tiers');
        await page.getByRole('main').getByRole('link', { name: /credentials/ }).waitFor();
      });
      await check('landing-signed-in', async () => {
        await page.goto(`${DASHBOARD}/`);
        await heading('dream-api');
        await page.getByRole('button', { name: 'Sign out', exact: true }).waitFor();
      });
      let platformId;
      let apiKey;
      await check('dashboard-credentials', async () => {
        await page.goto(`${DASHBOARD}/dashboard`);
        ({ platformId, apiKey } = await createCredentials(page));
        await page.getByTestId('first-call-curl').waitFor();
      });
      // Usage charted, an end-user listed with their billing period, the Revenue card.
      await check('dashboard-activity', async () => {
        for (let i = 0; i < 3; i++) await track(apiKey, 'a11y-user');
        await page.reload();
        await page.getByRole('group', { name: /^3 calls and 0 denied/ }).waitFor();
        await page.getByTestId('end-user-period').first().waitFor();
        await page.getByRole('heading', { name: 'Revenue', exact: true }).waitFor();
      });
      await check('logs', async () => {
        await goTo(page, 'Logs', '/logs');
        await heading('Logs');
        await page.getByTestId('log-row').nth(2).waitFor();
      });
      await check('rotate-dialog', async () => {
        await goTo(page, 'Dashboard', '/dashboard');
        await page.getByRole('button', { name: 'Rotate key', exact: true }).click();
        await page.getByRole('dialog', { name: 'Rotate the API key?' }).waitFor();
      });
      await check('tiers-message', async () => {
        await page.keyboard.press('Escape');
        await page.getByRole('dialog').waitFor({ state: 'hidden' });
        await goTo(page, 'Tiers', '/tiers');
        const first = tierGroups(page).first();
        await first.getByLabel('Name', { exact: true }).fill('');
        await first.getByLabel('Monthly limit', { exact: true }).click();
        await page.getByText('Tier 1: name is required', { exact: true }).first().waitFor();
        await page.getByLabel('Alert at these percents of a limit', { exact: true }).waitFor();
      });
      await check('webhooks', async () => {
        await page.getByRole('button', { name: 'Discard changes', exact: true }).click();
        await goTo(page, 'Webhooks', '/webhooks');
        await heading('Webhooks');
        await page.getByLabel('Endpoint URL', { exact: true }).fill(`${RECEIVER}/a11y-${width}-${Date.now()}-${process.pid}`);
        await page.getByRole('button', { name: 'Add endpoint', exact: true }).click();
        await page.getByTestId('webhook-secret').waitFor();
        await page.getByRole('button', { name: 'Send test', exact: true }).click();
        await seeText(page.getByTestId('delivery-status'), 'Delivered', 'the test\'s delivery', 30_000);
      });
      await check('webhook-rotate-dialog', async () => {
        await page.getByRole('button', { name: 'Rotate secret', exact: true }).click();
        await page.getByRole('dialog', { name: 'Rotate the signing secret?' }).waitFor();
      });
      await check('settings', async () => {
        await page.keyboard.press('Escape');
        await page.getByRole('dialog').waitFor({ state: 'hidden' });
        await goTo(page, 'Settings', '/settings');
        await heading('Settings');
        await page.getByRole('button', { name: 'Connect with Stripe', exact: true }).waitFor();
      });
      await check('preview', async () => {
        await goTo(page, 'Preview', `/preview/${platformId}`);
        await heading('Pricing');
        await page.getByRole('article').first().waitFor();
      });
      await check('not-found', async () => {
        await page.goto(`${DASHBOARD}/no-such-page`);
        await heading('Not found');
        await page.getByRole('link', { name: 'Home', exact: true }).waitFor();
      });
      assert.deepEqual(found, [], `axe found serious or critical violations:\n  ${found.join('\n  ')}`);
    });
  });
}

// The session is shared by the tabs of a browser: two tabs signed in at once both show
// the dashboard, and signing out in one signs the other out as it stands, without a
// reload.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DASHBOARD, freshEmail, seeText, signIn, step, useBrowser, withPage } from './lib.js';

const browser = useBrowser();

test('signing out in one tab signs out the other without a reload', { timeout: 90_000 }, async () => {
  await withPage(browser(), 'session', {}, async ({ context, page: first }) => {
    const email = freshEmail('session');
    await step(first, 'signing in in the first tab', () => signIn(first, email));
    const second = await context.newPage();
    for (const [tab, page] of [['first', first], ['second', second]]) {
      await step(page, `the ${tab} tab shows the dashboard and the email`, async () => {
        if (page === second) await page.goto(`${DASHBOARD}/dashboard`);
        await page.getByRole('heading', { name: 'Dashboard', level: 1, exact: true }).waitFor();
        await seeText(page.getByTestId('account-email'), email, 'the header\'s email');
        await page.getByTestId('plan-badge').waitFor();
      });
    }
    await second.evaluate(() => { window.__sameDocument = true; });

    await step(first, 'signing out in the first tab', async () => {
      await first.getByRole('button', { name: 'Sign out', exact: true }).click();
      await first.getByRole('link', { name: 'Sign in', exact: true }).first().waitFor();
      assert.equal(await first.getByTestId('account-email').count(), 0, 'the first tab no longer shows the email');
    });
    await step(second, 'the second tab says it is signed out', async () => {
      await second.getByText('You are signed out.', { exact: true }).waitFor({ timeout: 5000 });
      // Signing in is a way to another page, so a link (styled as a button) does as well.
      const signInAgain = (role) => second.getByRole('main').getByRole(role, { name: 'Sign in', exact: true });
      await signInAgain('button').or(signInAgain('link')).first().waitFor();
      assert.equal(await second.getByTestId('account-email').count(), 0, 'the second tab no longer shows the email');
      assert.equal(await second.getByTestId('plan-badge').count(), 0, 'nor the developer\'s plan');
      assert.equal(await second.evaluate(() => window.__sameDocument), true, 'the second tab was not reloaded');
    });
  });
});

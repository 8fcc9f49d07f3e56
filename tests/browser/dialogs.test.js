// The dashboard's dialogs with the keyboard alone (Tab, Shift+Tab, Enter, Space,
// Escape): rotating the API key and disconnecting Stripe. A dialog takes the focus, keeps
// it while it is open, gives it back to the button that opened it when closed, and does
// what it says when confirmed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  atPath, createCredentials, focused, freshEmail, hasFocus, nav, seeText, shownText, signIn, step, tabTo,
  useBrowser, withPage,
} from './lib.js';

const browser = useBrowser();
// Half an hour off UTC, so that a time shown in UTC cannot pass for local time.
const TIME_ZONE = 'Asia/Kolkata';

// Presses KEY a number of times with the dialog open: the focus must stay inside it
// every time, and move (a dialog of three controls or more wraps around).
async function assertFocusStaysIn(page, dialog, key, presses = 8) {
  const seen = new Set();
  for (let i = 0; i < presses; i++) {
    await page.keyboard.press(key);
    assert.ok(await hasFocus(dialog, true), `after ${i + 1} × ${key} the focus left the dialog for ${await focused(page)}`);
    seen.add(await focused(page));
  }
  assert.ok(seen.size >= 2, `${key} moves the focus between the dialog's controls (it stayed on ${[...seen]})`);
}

// openWith PAGE OPENER DIALOG KEY: the opener reached by Tab and pressed with KEY opens
// DIALOG, which holds the focus.
async function openWith(page, opener, dialog, key = 'Enter') {
  await tabTo(page, opener);
  await page.keyboard.press(key);
  await dialog.waitFor();
  assert.ok(await hasFocus(dialog, true), `the open dialog has the focus (it is on ${await focused(page)})`);
}

async function escapeReturnsFocus(page, opener, dialog) {
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'hidden' });
  assert.ok(await hasFocus(opener), `Escape gives the focus back to the button that opened the dialog (it is on ${await focused(page)})`);
}

// The first H:MM in TEXT, as minutes after midnight (12-hour times read either way).
function minutesShown(text) {
  const match = /(\d{1,2}):(\d{2})(?::\d{2})?\s*([AP]M)?/i.exec(text);
  assert.ok(match, `a time is shown: ${text}`);
  let hours = Number(match[1]) % (match[3] ? 12 : 24);
  if (match[3]?.toUpperCase() === 'PM') hours += 12;
  return hours * 60 + Number(match[2]);
}

// Minutes after midnight of DATE in TIME_ZONE.
function localMinutes(date, timeZone) {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, hour: 'numeric', minute: 'numeric', hourCycle: 'h23' })
    .formatToParts(date);
  const part = (type) => Number(parts.find((p) => p.type === type).value);
  return part('hour') * 60 + part('minute');
}

// TEXT shows the time of EXPIRY (give or take a minute either way) in the browser's time
// zone, not in UTC.
function assertLocalTime(text, expiry, what) {
  const shown = minutesShown(text);
  const near = (minutes) => [-1, 0, 1].some((d) => (minutes + d + 1440) % 1440 === shown);
  assert.ok(near(localMinutes(expiry, TIME_ZONE)), `${what} shows the expiry in local time (${TIME_ZONE}, about ${expiry.toISOString()}): ${text}`);
  assert.ok(!near(localMinutes(expiry, 'UTC')), `${what} is not in UTC: ${text}`);
}

test('the rotate dialog works with the keyboard alone, and the previous key\'s end is in local time', { timeout: 90_000 }, async () => {
  await withPage(browser(), 'rotate-dialog', { timezoneId: TIME_ZONE }, async ({ page }) => {
    const { apiKey } = await step(page, 'signing in and creating credentials', async () => {
      await signIn(page, freshEmail('rotate'));
      return createCredentials(page);
    });
    const opener = page.getByRole('button', { name: 'Rotate key', exact: true });
    const dialog = page.getByRole('dialog', { name: 'Rotate the API key?' });

    await step(page, 'opening "Rotate key" with Enter, moving around, closing with Escape', async () => {
      await openWith(page, opener, dialog, 'Enter');
      await assertFocusStaysIn(page, dialog, 'Tab');
      await assertFocusStaysIn(page, dialog, 'Shift+Tab');
      await escapeReturnsFocus(page, opener, dialog);
    });

    await step(page, 'rotating with a grace of one hour, the default', async () => {
      await page.keyboard.press('Enter');
      await dialog.waitFor();
      const grace = dialog.getByLabel('Keep the current key working for', { exact: true });
      assert.equal(await grace.evaluate((el) => el.selectedOptions[0]?.textContent.trim()), '1 hour', 'the grace defaults to one hour');
      const options = await grace.evaluate((el) => [...el.options].map((o) => o.textContent.trim()));
      assert.deepEqual(options, ['1 hour', '24 hours', 'No overlap: the current key stops now']);
      await tabTo(page, dialog.getByRole('button', { name: 'Rotate now', exact: true }), 10);
      await page.keyboard.press('Space');
      const expiry = new Date(Date.now() + 3600_000);
      const key = page.getByTestId('api-key');
      await key.filter({ hasNotText: apiKey }).first().waitFor();
      const newKey = await shownText(key);
      assert.match(newKey, /^pk_live_[A-Za-z0-9]+$/);
      assert.notEqual(newKey, apiKey, 'a new key is shown');
      const until = page.getByText(/^Your previous key works until .+\.$/);
      await until.first().waitFor();
      assertLocalTime(await until.first().innerText(), expiry, 'the end of the grace');

      // While the previous key works, the dashboard says so, also after a reload.
      const notice = page.getByTestId('previous-key-notice');
      for (const when of ['after rotating', 'after a reload']) {
        if (when === 'after a reload') await page.reload();
        await seeText(notice, /^\s*Your previous key still works until .+\.\s*$/, `the previous-key notice ${when}`);
        assertLocalTime(await notice.innerText(), expiry, `the previous-key notice ${when}`);
      }
    });
  });
});

test('the Disconnect dialog works with the keyboard alone', { timeout: 90_000 }, async () => {
  await withPage(browser(), 'disconnect-dialog', {}, async ({ page }) => {
    await step(page, 'signing in and creating credentials', async () => {
      await signIn(page, freshEmail('disconnect'));
      await createCredentials(page);
    });
    await step(page, 'connecting Stripe with the keyboard, through the stand-in\'s approve page', async () => {
      await tabTo(page, nav(page).getByRole('link', { name: 'Settings', exact: true }));
      await page.keyboard.press('Enter');
      await atPath(page, '/settings');
      await tabTo(page, page.getByRole('button', { name: 'Connect with Stripe', exact: true }));
      await page.keyboard.press('Enter');
      await tabTo(page, page.getByRole('button', { name: 'Connect my Stripe account', exact: true }));
      await page.keyboard.press('Enter');
      await atPath(page, '/settings');
      await page.getByText(/Connected to acct_/).first().waitFor();
      await page.getByText('production', { exact: true }).first().waitFor();
    });
    const opener = page.getByRole('button', { name: 'Disconnect', exact: true });
    const dialog = page.getByRole('dialog', { name: 'Disconnect Stripe?' });
    await step(page, 'opening "Disconnect" with Enter, moving around, closing with Escape', async () => {
      await openWith(page, opener, dialog, 'Enter');
      await assertFocusStaysIn(page, dialog, 'Tab', 5);
      await assertFocusStaysIn(page, dialog, 'Shift+Tab', 5);
      await escapeReturnsFocus(page, opener, dialog);
      await page.getByText(/Connected to acct_/).first().waitFor();
    });
    await step(page, 'disconnecting with Space on "Disconnect Stripe"', async () => {
      await page.keyboard.press('Enter');
      await dialog.waitFor();
      await tabTo(page, dialog.getByRole('button', { name: 'Disconnect Stripe', exact: true }), 10);
      await page.keyboard.press('Space');
      await page.getByRole('button', { name: 'Connect with Stripe', exact: true }).waitFor();
      await page.getByText('preview', { exact: true }).first().waitFor();
    });
  });
});

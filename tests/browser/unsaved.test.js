// Unsaved tier edits are not lost by accident: the app's own links ask first (confirm),
// and so does the browser on a reload (beforeunload). Declining stays with the edit;
// accepting leaves it unsaved.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  assertOneHeader, atPath, createCredentials, freshEmail, goTo, nav, saveStatus, seeText, signIn, step, tierGroups, useBrowser,
  withPage,
} from './lib.js';

const browser = useBrowser();
const LEAVE = 'You have unsaved changes to your tiers. Leave without saving them?';

test('leaving the tiers with unsaved changes asks first, by link and by reload', { timeout: 90_000 }, async () => {
  await withPage(browser(), 'unsaved', {}, async ({ page }) => {
    // Each dialog the page opens, answered with `answer`.
    const dialogs = [];
    let answer = 'dismiss';
    page.on('dialog', async (dialog) => {
      dialogs.push({ type: dialog.type(), message: dialog.message() });
      await (answer === 'accept' ? dialog.accept() : dialog.dismiss());
    });
    const nextDialog = async (count) => {
      const deadline = Date.now() + 5000;
      while (dialogs.length < count && Date.now() < deadline) await page.waitForTimeout(50);
      assert.equal(dialogs.length, count, `dialog ${count} appeared (dialogs so far: ${JSON.stringify(dialogs)})`);
      return dialogs[count - 1];
    };
    const name = () => tierGroups(page).first().getByLabel('Name', { exact: true });
    // Typed, as a developer would (a page the user has not interacted with may leave
    // without asking).
    const edit = async (text) => {
      await name().click();
      await page.keyboard.press('ControlOrMeta+A');
      await page.keyboard.type(text);
      await seeText(saveStatus(page), 'Unsaved changes', 'the save status');
    };

    await step(page, 'signing in, creating credentials, opening the tiers', async () => {
      await signIn(page, freshEmail('unsaved'));
      await createCredentials(page);
      await goTo(page, 'Tiers', '/tiers');
      await tierGroups(page).first().waitFor();
      assert.equal(await name().inputValue(), 'Free');
    });

    await step(page, 'the Dashboard link asks; declining stays with the edit', async () => {
      await edit('Starter');
      await assertOneHeader(page);
      await nav(page).first().getByRole('link', { name: 'Dashboard', exact: true }).click();
      const asked = await nextDialog(1);
      assert.deepEqual(asked, { type: 'confirm', message: LEAVE });
      await page.waitForTimeout(300);
      assert.equal(new URL(page.url()).pathname, '/tiers', 'still on the tiers');
      assert.equal(await name().inputValue(), 'Starter', 'with the edit');
      await seeText(saveStatus(page), 'Unsaved changes', 'the save status');
    });

    await step(page, 'accepting leaves for the dashboard, the edit unsaved', async () => {
      answer = 'accept';
      await nav(page).first().getByRole('link', { name: 'Dashboard', exact: true }).click();
      assert.deepEqual(await nextDialog(2), { type: 'confirm', message: LEAVE });
      await atPath(page, '/dashboard');
      await page.getByRole('heading', { name: 'Dashboard', level: 1, exact: true }).waitFor();
      await goTo(page, 'Tiers', '/tiers');
      await tierGroups(page).first().waitFor();
      assert.equal(await name().inputValue(), 'Free', 'the edit was not saved');
    });

    await step(page, 'a reload with an unsaved edit asks (beforeunload)', async () => {
      await edit('Starter');
      await page.reload();
      assert.equal((await nextDialog(3)).type, 'beforeunload');
      await tierGroups(page).first().waitFor();
      assert.equal(await name().inputValue(), 'Free', 'after the reload, the saved tiers');
    });
  });
});

// The Webhooks page and the usage alerts, as a developer uses them at desktop width:
// an endpoint added at the stand-ins' webhook receiver (a bad URL refused on the way,
// with the API's message beside the field), its secret seen once and copied, a test
// sent and its history settling on Delivered, the receiver holding exactly that message
// signed with that secret; the secret rotated (both secrets sign for a while) and the
// endpoint deleted, each through its dialog; alert thresholds saved on the tiers page
// and still there after a reload. Then an endpoint that answers 410 Gone is shown
// disabled. Every step is kept as a screenshot.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import {
  PHONE, DESKTOP, RECEIVER, answerWith, atPath, copyShown, createCredentials, freshEmail, goTo, hasFocus, received,
  screenshot, seeText, shownText, signIn, step, useBrowser, withPage,
} from './lib.js';

const browser = useBrowser();

// The API refuses the bad URL on purpose, and Chromium logs every 4xx answer.
const REFUSED_URL = {
  kind: 'console error',
  text: 'Failed to load resource: the server responded with a status of 400 (Bad Request)',
  why: 'the test submits a URL the API refuses, to see its message beside the field',
};

// A receiver name of this run only, so that what it got is this test's alone.
const receiverName = (what) => `${what}-${Date.now()}-${process.pid}`;

// Whether SIGNATURE (`webhook-signature`: space-separated `v1,<base64>` entries) holds
// an entry by SECRET over `{id}.{timestamp}.{body}` (Standard Webhooks).
function signedBy(secret, headers, body) {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const content = `${headers['webhook-id']}.${headers['webhook-timestamp']}.${body}`;
  const expected = createHmac('sha256', key).update(content).digest();
  return headers['webhook-signature'].split(' ').some((entry) => {
    const [version, value] = entry.split(',');
    const given = Buffer.from(value ?? '', 'base64');
    return version === 'v1' && given.length === expected.length && timingSafeEqual(given, expected);
  });
}

// A fresh developer, signed in with credentials, on the Webhooks page (from the header).
async function newDeveloperOnWebhooks(page, what) {
  await signIn(page, freshEmail(what));
  await createCredentials(page);
  await goTo(page, 'Webhooks', '/webhooks');
  await page.getByRole('heading', { name: 'Webhooks', level: 1, exact: true }).waitFor();
}

// The endpoint's card on the page, found by its URL (its heading).
const card = (page, url) => page.getByRole('region', { name: url, exact: true });

// Sends a test from the card and waits until its history says Delivered; the message id.
async function sendTest(page, endpoint) {
  const sent = endpoint.getByTestId('test-sent').locator('code');
  const before = (await sent.count()) ? (await sent.textContent()).trim() : null;
  await endpoint.getByRole('button', { name: 'Send test', exact: true }).click();
  await (before ? sent.filter({ hasNotText: before }) : sent).first().waitFor();
  const messageId = (await sent.textContent()).trim();
  assert.match(messageId, /^msg_[0-9A-Za-z]{24}$/, 'the test message\'s id is shown');
  const row = endpoint.getByTestId('delivery').filter({ hasText: messageId });
  await seeText(row.getByTestId('delivery-status'), 'Delivered', `the history of ${messageId}, without a reload`, 30_000);
  assert.equal(await shownText(row.getByTestId('delivery-attempts')), '1', 'delivered at the first attempt');
  assert.equal(await shownText(row.getByTestId('delivery-last-status')), '200', 'the receiver answered 200');
  return messageId;
}

test('a developer adds an endpoint, tests it, rotates its secret, sets alert thresholds and deletes it', { timeout: 240_000 }, async () => {
  assert.ok(RECEIVER, 'DREAM_RECEIVER_URL names the stand-ins\' webhook receiver');
  await withPage(browser(), 'webhooks', { viewport: DESKTOP, clipboard: true, allow: [REFUSED_URL] }, async ({ page }) => {
    const shot = (name, viewport) => screenshot(page, `webhooks-${name}.png`, viewport);
    const name = receiverName('webhooks');
    const url = `${RECEIVER}/${name}`;

    await step(page, 'signing in, creating credentials, opening Webhooks from the header', async () => {
      await newDeveloperOnWebhooks(page, 'webhooks');
      await page.getByText('No endpoints yet: add one below.', { exact: true }).waitFor();
      await shot('empty');
    });

    const field = page.getByLabel('Endpoint URL', { exact: true });
    await step(page, 'a URL the API refuses: its message shows beside the field', async () => {
      await field.fill('ftp://example.com/hooks');
      await page.getByRole('button', { name: 'Add endpoint', exact: true }).click();
      const message = page.locator('#webhook-url-error');
      await seeText(message, /^\s*url must use https:\/\//, 'the URL field\'s message');
      assert.equal(await field.getAttribute('aria-invalid'), 'true', 'the URL field is marked invalid');
      assert.match(await field.getAttribute('aria-describedby'), /\bwebhook-url-error\b/, 'the field points at its message');
      await shot('bad-url');
    });

    const endpoint = card(page, url);
    const secret = await step(page, 'adding the receiver with every event: the secret is shown once and copied', async () => {
      const events = page.getByRole('group', { name: 'Events to send' }).getByRole('checkbox');
      assert.equal(await events.count(), 6, 'one box per event type');
      for (const box of await events.all()) assert.ok(await box.isChecked(), 'every event is ticked by default');
      await field.fill(url);
      await page.getByLabel('Description (optional)', { exact: true }).fill('The stand-ins\' receiver');
      await page.getByRole('button', { name: 'Add endpoint', exact: true }).click();
      await endpoint.waitFor();
      const panel = endpoint.getByTestId('webhook-secret-panel');
      await panel.waitFor();
      await page.waitForFunction(() => document.activeElement?.dataset.testid === 'webhook-secret-panel');
      assert.ok(await hasFocus(panel), 'the new secret takes the focus');
      await seeText(panel.locator('strong'), 'The signing secret: copy it now, it is not shown again.', 'the secret\'s notice');
      await panel.getByText(/webhook-id.*webhook-timestamp.*webhook-signature/).waitFor();
      assert.match(await shownText(panel.getByTestId('verify-snippet')), /new Webhook\(.+\)\.verify\(body, headers\)/);
      const copied = await copyShown(page, 'webhook-secret', 'Copy signing secret');
      assert.match(copied, /^whsec_[A-Za-z0-9+/]{43}=$/, 'a Standard Webhooks secret');
      await endpoint.getByText('Gets every event.', { exact: true }).waitFor();
      await endpoint.getByText('The stand-ins\' receiver', { exact: true }).waitFor();
      assert.equal(await field.inputValue(), '', 'the form is empty again');
      assert.equal(await page.locator('#webhook-url-error').count(), 0, 'the earlier message is gone');
      await shot('created');
      return copied;
    });

    const messageId = await step(page, 'sending a test: the history says Delivered, and the receiver got that message', async () => {
      const id = await sendTest(page, endpoint);
      const requests = await received(name);
      assert.equal(requests.length, 1, `the receiver got exactly one request: ${JSON.stringify(requests)}`);
      const [{ headers, body }] = requests;
      assert.equal(headers['webhook-id'], id, 'webhook-id is the history\'s message id');
      assert.equal(JSON.parse(body).type, 'webhook.test');
      assert.ok(signedBy(secret, headers, body), `signed with the secret shown: ${headers['webhook-signature']}`);
      await shot('delivered');
      await shot('delivered-phone', PHONE);
      await page.setViewportSize(DESKTOP);
      return id;
    });

    await step(page, 'rotating the secret through its dialog: the new one is shown once, and both sign for now', async () => {
      await endpoint.getByRole('button', { name: 'Rotate secret', exact: true }).click();
      const dialog = page.getByRole('dialog', { name: 'Rotate the signing secret?' });
      await dialog.waitFor();
      await dialog.getByText(/keeps signing every delivery beside the new one for 24 hours/).waitFor();
      await shot('rotate-dialog');
      await dialog.getByRole('button', { name: 'Rotate secret now', exact: true }).click();
      await dialog.waitFor({ state: 'hidden' });
      const shown = endpoint.getByTestId('webhook-secret');
      await shown.filter({ hasNotText: secret }).first().waitFor();
      const rotated = await copyShown(page, 'webhook-secret', 'Copy signing secret');
      assert.match(rotated, /^whsec_[A-Za-z0-9+/]{43}=$/);
      assert.notEqual(rotated, secret, 'a new secret');
      await endpoint.getByText('The previous secret keeps signing beside this one for 24 hours.', { exact: true }).waitFor();
      const second = await sendTest(page, endpoint);
      assert.notEqual(second, messageId, 'a new message');
      const requests = await received(name);
      assert.equal(requests.length, 2, 'the receiver got the second test');
      const { headers, body } = requests[1];
      assert.equal(headers['webhook-id'], second);
      assert.ok(signedBy(rotated, headers, body), 'signed with the new secret');
      assert.ok(signedBy(secret, headers, body), 'and still with the previous one');
      await shot('rotated');
    });

    await step(page, 'usage alerts at 50 % and 90 % on the tiers page, a mistake refused on the way, kept after a reload', async () => {
      await goTo(page, 'Tiers', '/tiers');
      const alerts = page.getByRole('region', { name: 'Usage alerts' });
      const thresholds = alerts.getByLabel('Alert at these percents of a limit', { exact: true });
      await seeText(alerts.locator('#alert-thresholds-hint'), /Whole percents/, 'the hint');
      assert.equal(await thresholds.inputValue(), '80, 100', 'the default thresholds');
      await alerts.getByText('usage.threshold_reached', { exact: true }).waitFor();
      await thresholds.fill('0, 50');
      await alerts.getByRole('button', { name: 'Save alerts', exact: true }).click();
      await seeText(alerts.locator('#alert-thresholds-error'), 'Thresholds must be whole numbers from 1 to 100', 'the field\'s message');
      assert.equal(await thresholds.getAttribute('aria-invalid'), 'true');
      await shot('alerts-mistake');
      await thresholds.fill('90, 50');
      await alerts.getByRole('button', { name: 'Save alerts', exact: true }).click();
      await seeText(alerts.getByTestId('alerts-status'), 'Saved: alerts at 50%, 90%.', 'the save status');
      assert.equal(await thresholds.inputValue(), '50, 90', 'sorted as saved');
      assert.equal(await alerts.locator('#alert-thresholds-error').count(), 0, 'the message is gone');
      await page.reload();
      await atPath(page, '/tiers');
      await alerts.waitFor();
      await page.waitForFunction(() => document.getElementById('alert-thresholds')?.value === '50, 90', null, { timeout: 10_000 })
        .catch(async () => assert.fail(`after a reload the thresholds read ${await thresholds.inputValue()}`));
      await shot('alerts-saved');
    });

    await step(page, 'deleting the endpoint through its dialog', async () => {
      await goTo(page, 'Webhooks', '/webhooks');
      await endpoint.waitFor();
      await endpoint.getByTestId('webhook-secret-panel').waitFor({ state: 'detached' });
      // The history was read again from the API: both tests are in it.
      await seeText(endpoint.getByTestId('delivery').first().getByTestId('delivery-status'), 'Delivered', 'the history');
      assert.equal(await endpoint.getByTestId('delivery').count(), 2, 'both tests are in the history');
      await endpoint.getByRole('button', { name: 'Delete', exact: true }).click();
      const dialog = page.getByRole('dialog', { name: 'Delete this endpoint?' });
      await dialog.waitFor();
      await shot('delete-dialog');
      await dialog.getByRole('button', { name: 'Delete endpoint', exact: true }).click();
      await endpoint.waitFor({ state: 'detached' });
      await page.getByText('No endpoints yet: add one below.', { exact: true }).waitFor();
      await page.reload();
      await page.getByText('No endpoints yet: add one below.', { exact: true }).waitFor();
    });
  });
});

test('an endpoint that answers 410 Gone is shown disabled, and its test cannot be sent again', { timeout: 120_000 }, async () => {
  await withPage(browser(), 'webhooks-gone', { viewport: DESKTOP }, async ({ page }) => {
    const name = receiverName('gone');
    const url = `${RECEIVER}/${name}`;
    await step(page, 'a developer with an endpoint whose server answers 410', async () => {
      await newDeveloperOnWebhooks(page, 'webhooks-gone');
      await answerWith(name, [410]);
      await page.getByLabel('Endpoint URL', { exact: true }).fill(url);
      await page.getByRole('button', { name: 'Add endpoint', exact: true }).click();
      await card(page, url).waitFor();
    });
    await step(page, 'the test fails with the reason, and the endpoint reads Disabled without a reload', async () => {
      const endpoint = card(page, url);
      await endpoint.getByRole('button', { name: 'Send test', exact: true }).click();
      const status = endpoint.getByTestId('delivery').first().getByTestId('delivery-status');
      await seeText(status, 'Failed (the endpoint answered 410 Gone and was disabled)', 'the history', 30_000);
      await seeText(endpoint.getByTestId('endpoint-disabled'), /^\s*Disabled\. It answered 410 Gone/, 'the disabled notice');
      assert.ok(await endpoint.getByRole('button', { name: 'Send test', exact: true }).isDisabled(), 'no test to a disabled endpoint');
      assert.equal((await received(name)).length, 1, 'the receiver got the one attempt');
      await screenshot(page, 'webhooks-disabled.png');
    });
  });
});

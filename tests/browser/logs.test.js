// The request log, the billing period, usage and revenue, as a developer reads them at
// desktop width in a time zone other than UTC. A fresh developer's server meters calls
// for three end-users (one over their tier's limit, then more than a page of calls
// refused by the plan's quota): the dashboard never shows an end-user's count older than
// the usage total beside it, charts the day with its counts on keyboard focus, and shows
// the billing period on the plan card and beside the end-user as the API's own
// periodStart and periodEnd give it (UTC days: a period is a UTC month); the Logs page lists the calls newest first,
// filters by end-user and by status, copies a request id (the X-Request-Id the server
// got) and loads the next page. Then the demo end-user buys Pro and the Revenue card
// shows it. Every step is kept as a screenshot.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  API, DASHBOARD, DESKTOP, atPath, clipboardOnce, createCredentials, defineTiers, freshEmail, goTo, screenshot,
  seeText, shownText, signIn, step, useBrowser, withPage,
} from './lib.js';

const browser = useBrowser();
const TIME_ZONE = 'America/New_York';

// One metered call, as the developer's server makes it: its status, the X-Request-Id of
// the answer and the answer.
async function meter(apiKey, userId) {
  const res = await fetch(`${API}/v1/usage/track`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${apiKey}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ userId }),
  });
  return { status: res.status, requestId: res.headers.get('x-request-id'), body: await res.json() };
}

// The billing period of USAGE ({periodStart, periodEnd, resetsAt}) as its UTC days (a
// period is a UTC month, whatever the reader's time zone): its first day, its last
// (periodEnd is the first instant after it), and the days until the reset.
function expectedPeriod(usage) {
  const { periodStart, periodEnd, resetsAt } = usage;
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const short = (ms) => { const d = new Date(ms); return `${months[d.getUTCMonth()]} ${d.getUTCDate()}`; };
  const dayNumber = (ms) => Math.floor(ms / 86_400_000);
  const left = dayNumber(Date.parse(resetsAt)) - dayNumber(Date.now());
  const resets = left <= 0 ? 'resets today' : left === 1 ? 'resets tomorrow' : `resets in ${left} days`;
  return `${short(Date.parse(periodStart))} – ${short(Date.parse(periodEnd) - 1)}, ${resets}`;
}

// Records, in the page, every moment the end-users' counts add up to fewer calls than
// the usage chart's total (an end-user list older than the totals beside it).
function watchForLag(page) {
  return page.evaluate(() => {
    window.lagging = [];
    const check = () => {
      const caption = document.querySelector('section[aria-labelledby="chart-title"] figcaption')?.textContent;
      const total = Number(caption?.match(/^(\d+) calls/)?.[1] ?? NaN);
      const counts = [...document.querySelectorAll('[data-testid="end-user-usage"]')]
        .map((cell) => Number(cell.textContent.match(/^(\d+)/)?.[1] ?? NaN));
      const sum = counts.reduce((a, b) => a + b, 0);
      if (counts.length && sum < total) window.lagging.push(`${counts.join(' + ')} < ${total}`);
    };
    new MutationObserver(check).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
}

const rows = (page) => page.getByTestId('log-row');

// Waits until the log shows COUNT rows, and returns each row's TESTID text.
async function logColumn(page, count, testid, what) {
  await step(page, `${what}: ${count} rows`, async () => {
    await page.getByTestId('log-row').nth(count - 1).waitFor();
    await page.getByTestId('log-row').nth(count).waitFor({ state: 'detached' });
  });
  return rows(page).getByTestId(testid).allTextContents();
}

test('a developer reads the billing period, the usage chart and the request log of their end-users\' calls', { timeout: 240_000 }, async () => {
  await withPage(browser(), 'logs', { viewport: DESKTOP, clipboard: true, timezoneId: TIME_ZONE }, async ({ page }) => {
    const shot = (name) => screenshot(page, `logs-${name}.png`);
    const { apiKey } = await step(page, 'signing in, creating credentials, a Free tier of 3 calls', async () => {
      await signIn(page, freshEmail('logs'));
      const created = await createCredentials(page);
      await defineTiers(page, [{ id: 'free', name: 'Free', price: '0', limit: '3' }]);
      return created;
    });

    await step(page, 'the empty log says what will appear there', async () => {
      await goTo(page, 'Logs', '/logs');
      await page.getByRole('heading', { name: 'Logs', level: 1, exact: true }).waitFor();
      await seeText(page.getByTestId('logs-empty'), /^No requests yet\. Every call your server makes to POST \/v1\/usage\/track appears here/, 'the empty log');
      await shot('empty');
    });

    const alice = await step(page, 'three calls for alice: the end-user list never lags the usage total', async () => {
      await goTo(page, 'Dashboard', '/dashboard');
      await page.getByText('No calls yet: they appear here once your server calls POST /v1/usage/track.', { exact: true }).waitFor();
      await watchForLag(page);
      const calls = [];
      for (let i = 0; i < 3; i++) calls.push(await meter(apiKey, 'alice'));
      assert.deepEqual(calls.map((c) => c.status), [200, 200, 200], 'alice\'s three calls are allowed');
      const row = page.getByTestId('end-user').filter({ hasText: 'alice' });
      await seeText(row.getByTestId('end-user-usage'), '3 / 3 calls this month', 'alice\'s usage, refreshed by itself', 25_000);
      await page.getByRole('group', { name: /^3 calls and 0 denied in the last 30 days/ }).waitFor();
      assert.deepEqual(await page.evaluate(() => window.lagging), [], 'the end-users\' counts never added up to less than the total beside them');
      return calls;
    });

    await step(page, 'the usage chart names today\'s counts on keyboard focus and on hover, and moves by arrow key', async () => {
      const today = new Date().toLocaleDateString('en-US', { month: 'short', day: 'numeric', timeZone: 'UTC' });
      const day = page.getByRole('img', { name: `${today}: 3 calls, 0 denied`, exact: true });
      assert.equal(await day.getAttribute('tabindex'), '0', 'the last day is the chart\'s stop for Tab');
      await day.focus();
      await seeText(page.getByTestId('usage-day'), `${today}: 3 calls, 0 denied`, 'the day shown on focus');
      await page.keyboard.press('ArrowLeft');
      await seeText(page.getByTestId('usage-day'), /^[A-Z][a-z]{2} \d{1,2}: 0 calls, 0 denied$/, 'the day before, shown by arrow key');
      const focusedName = await page.evaluate(() => document.activeElement?.getAttribute('aria-label'));
      assert.equal(focusedName, await shownText(page.getByTestId('usage-day')), 'the focus moved to the day shown');
      await day.hover();
      await seeText(page.getByTestId('usage-day'), `${today}: 3 calls, 0 denied`, 'the day shown on hover');
      await seeText(page.locator('.axis').first(), new RegExp(`${today}\\s*$`), 'the axis ends on today');
      await shot('dashboard');
    });

    await step(page, 'the billing period, on the plan card and beside alice, as the API dates it', async () => {
      const me = page.waitForResponse((res) => new URL(res.url()).pathname === '/v1/me' && res.request().method() === 'GET');
      await page.reload();
      const { usage } = await (await me).json();
      const planPeriod = expectedPeriod(usage);
      assert.match(planPeriod, /^[A-Z][a-z]{2} 1 – [A-Z][a-z]{2} (28|29|30|31), resets (today|tomorrow|in \d+ days)$/,
        'a month from its first day to its last, not shifted into the page\'s time zone');
      await seeText(page.getByTestId('billing-period'), planPeriod, 'the plan card\'s billing period');
      const userPeriod = expectedPeriod(alice[2].body.usage);
      const row = page.getByTestId('end-user').filter({ hasText: 'alice' });
      await seeText(row.getByTestId('end-user-period'), userPeriod, 'alice\'s billing period');
    });

    const refused = await step(page, 'alice over her limit, bob once, and carol past the plan\'s quota', async () => {
      const over = await meter(apiKey, 'alice');
      assert.equal(over.status, 403, 'alice\'s fourth call is refused');
      assert.equal(over.body.error?.code, 'tier_limit_reached');
      assert.equal((await meter(apiKey, 'bob')).status, 200, 'bob\'s call is allowed');
      const carol = [];
      for (let i = 0; i < 50; i++) carol.push((await meter(apiKey, 'carol')).status);
      assert.equal(carol[0], 200, 'carol\'s first call is the plan\'s fifth, allowed');
      assert.ok(carol.slice(1).every((s) => s === 403), `the plan's quota refuses the rest: ${carol.join(',')}`);
      return over;
    });

    await step(page, 'the log lists the newest 50 calls first', async () => {
      await goTo(page, 'Logs', '/logs');
      const statuses = await logColumn(page, 50, 'log-status', 'the first page');
      assert.equal(statuses[0], '403', 'carol\'s last call is first');
      assert.deepEqual(new Set(await rows(page).getByTestId('log-user').allTextContents()), new Set(['carol']), 'the newest 50 are carol\'s');
      await page.getByRole('button', { name: 'Load more', exact: true }).waitFor();
      await shot('first-page');
    });

    await step(page, 'filtered to alice, then to her 403: the refused call, copied by its request id', async () => {
      await page.getByLabel('End-user', { exact: true }).fill('alice');
      await page.getByLabel('End-user', { exact: true }).press('Enter');
      const users = await logColumn(page, 4, 'log-user', 'alice\'s calls');
      assert.deepEqual(users, ['alice', 'alice', 'alice', 'alice']);
      assert.deepEqual(await rows(page).getByTestId('log-request-id').allTextContents(),
        [refused, ...alice.slice().reverse()].map((c) => c.requestId), 'alice\'s calls, newest first, by the ids the server got');
      assert.equal(await page.getByRole('button', { name: 'Load more', exact: true }).count(), 0, 'no Load more at the end');
      await page.getByLabel('Status', { exact: true }).selectOption('403');
      const codes = await logColumn(page, 1, 'log-code', 'alice\'s 403');
      assert.deepEqual(codes, ['tier_limit_reached']);
      await page.getByRole('button', { name: `Copy request id ${refused.requestId}`, exact: true }).click();
      assert.equal(await clipboardOnce(page, refused.requestId), refused.requestId, 'Copy puts the request id on the clipboard');
      await shot('filtered');
      await page.getByLabel('Status', { exact: true }).selectOption('200');
      assert.deepEqual(await logColumn(page, 3, 'log-code', 'alice\'s allowed calls'), ['—', '—', '—']);
    });

    await step(page, 'every call again, and Load more appends the older ones', async () => {
      await page.getByLabel('End-user', { exact: true }).fill('');
      await page.getByLabel('Status', { exact: true }).selectOption('');
      await logColumn(page, 50, 'log-status', 'the first page again');
      await page.getByRole('button', { name: 'Load more', exact: true }).click();
      const users = await logColumn(page, 55, 'log-user', 'both pages');
      assert.deepEqual(users.slice(50), ['bob', 'alice', 'alice', 'alice', 'alice'], 'the oldest five, after carol\'s');
      await page.getByRole('button', { name: 'Load more', exact: true }).waitFor({ state: 'detached' });
      await shot('all');
    });
  });
});

test('the Revenue card shows the demo end-user\'s Pro subscription', { timeout: 180_000 }, async () => {
  await withPage(browser(), 'revenue', { viewport: DESKTOP }, async ({ page }) => {
    const shot = (name) => screenshot(page, `revenue-${name}.png`);
    const { platformId } = await step(page, 'signing in, credentials, Free and Pro ($9)', async () => {
      await signIn(page, freshEmail('revenue'));
      const created = await createCredentials(page);
      await defineTiers(page, [
        { id: 'free', name: 'Free', price: '0', limit: '5' },
        { id: 'pro', name: 'Pro', price: '9', limit: '50' },
      ]);
      return created;
    });

    await step(page, 'no subscriptions yet, and how revenue appears', async () => {
      await goTo(page, 'Dashboard', '/dashboard');
      await seeText(page.getByTestId('revenue-empty'), 'No subscriptions yet.', 'the Revenue card');
      await page.getByText(/^Revenue appears here once your end-users buy a paid tier through checkout/).waitFor();
    });

    await step(page, 'the demo end-user buys Pro through the Stripe stand-in', async () => {
      await page.getByRole('link', { name: 'Try demo', exact: true }).click();
      await atPath(page, `/preview/${platformId}`);
      await page.getByRole('button', { name: 'Try Pro as the demo end-user', exact: true }).click();
      await page.getByRole('button', { name: 'Pay', exact: true }).click();
      await atPath(page, `/preview/${platformId}`);
      await seeText(page.getByTestId('demo-tier'), 'The demo end-user is on Pro.', 'the demo\'s tier', 30_000);
    });

    await step(page, 'the Revenue card: $9.00 a month from one subscription', async () => {
      await page.getByRole('link', { name: 'Back to the dashboard', exact: true }).click();
      await atPath(page, '/dashboard');
      await seeText(page.getByTestId('mrr'), '$9.00', 'the MRR, Pro\'s price', 25_000);
      await seeText(page.getByTestId('active-subscriptions'), '1', 'the active subscriptions');
      await seeText(page.getByTestId('revenue-by-tier'), /^\s*pro: 1 active subscription, \$9\.00 a month\s*$/i, 'the tiers');
      await page.getByRole('img', { name: /^MRR over 90 days: .*\$9\.00 on [A-Z][a-z]{2} \d{1,2}$/ }).waitFor();
      await shot('dashboard');
    });
  });
});

// The dashboard under its Content Security Policy (the _headers scripts/workers.sh
// writes beside config.json, served by Pages): the policy allows exactly what the app
// loads (its own files and wasm, the three workers it calls) and a developer's whole
// walk through the dashboard meets no violation; no other page can frame it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import {
  DASHBOARD, createCredentials, defineTiers, freshEmail, goTo, seeText, signIn, step, track, useBrowser, withPage,
} from './lib.js';
import { parsePolicy, watchPolicy } from './csp.js';

const browser = useBrowser();

const origin = (url) => new URL(url).origin;

test('the dashboard is served with a policy that allows only its own files, its wasm and its three workers', async () => {
  const config = await (await fetch(`${DASHBOARD}/config.json`)).json();
  const workers = [config.apiUrl, config.platformAuthUrl, config.stripeOauthUrl].map(origin);
  assert.equal(new Set(workers).size, 3, 'the test stack runs three workers on three origins');
  for (const path of ['/', '/dashboard', '/tiers', '/logs', '/webhooks', '/settings', '/start.js']) {
    const res = await fetch(`${DASHBOARD}${path}`);
    assert.equal(res.status, 200, `${path} is served`);
    const policy = parsePolicy(res.headers.get('content-security-policy'));
    assert.deepEqual(policy, {
      'default-src': ["'none'"],
      'script-src': ["'self'", "'wasm-unsafe-eval'"],
      'connect-src': ["'self'", ...[...workers].sort()],
      'style-src': ["'self'"],
      'img-src': ["'self'"],
      'frame-ancestors': ["'none'"],
      'base-uri': ["'none'"],
      'form-action': ["'self'"],
    }, `the policy of ${path}`);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff', `${path}: no MIME sniffing`);
    assert.equal(res.headers.get('referrer-policy'), 'strict-origin-when-cross-origin', `${path}: the referrer policy`);
  }
  const page = await (await fetch(`${DASHBOARD}/`)).text();
  assert.doesNotMatch(page, /<script(?![^>]*\bsrc=)[^>]*>/, 'index.html has no inline script');
  assert.doesNotMatch(page, /\sstyle=/, 'index.html has no inline style');
});

test('a developer signs in, meters calls, edits tiers and visits every page with no policy violation', { timeout: 120_000 }, async () => {
  await withPage(browser(), 'csp-walk', {}, async ({ context, page }) => {
    const policy = await watchPolicy(context);
    await step(page, 'signing in through the Clerk stand-in', () => signIn(page, freshEmail('csp')));
    const { apiKey } = await step(page, 'creating credentials', () => createCredentials(page));
    await step(page, 'saving a tier', () => defineTiers(page, [{ id: 'free', name: 'Free', price: '0', limit: '10' }]));
    await step(page, 'four of the plan\'s five calls: the usage bar at 80%, drawn without inline styles', async () => {
      for (let i = 0; i < 4; i++) await track(apiKey, 'csp-user');
      await goTo(page, 'Dashboard', '/dashboard');
      await seeText(page.getByTestId('usage-text'), '4 / 5 calls this month', 'the usage text');
      const bar = page.getByRole('progressbar', { name: 'Calls used this month' });
      assert.equal(await bar.getAttribute('aria-valuenow'), '80');
      const fill = bar.locator('rect');
      assert.equal(await fill.getAttribute('width'), '80', 'the bar is filled to 80 of 100');
      assert.equal(await fill.getAttribute('class'), 'warn', 'and marked as a warning');
      assert.equal(await fill.evaluate((el) => getComputedStyle(el).fill), 'rgb(194, 65, 12)', 'drawn in the stylesheet\'s warning colour');
      const drawn = await bar.evaluate((el) => el.querySelector('svg').getBoundingClientRect().width / el.getBoundingClientRect().width);
      assert.ok(Math.abs(drawn - 1) < 0.01, `the bar's drawing spans the whole track (${drawn})`);
    });
    await step(page, 'the request log', async () => {
      await goTo(page, 'Logs', '/logs');
      await page.getByRole('heading', { name: 'Logs', level: 1, exact: true }).waitFor();
      await seeText(page.getByTestId('log-user'), 'csp-user', 'the log\'s newest call');
    });
    await step(page, 'the webhooks page', async () => {
      await goTo(page, 'Webhooks', '/webhooks');
      await page.getByText('No endpoints yet: add one below.', { exact: true }).waitFor();
    });
    await step(page, 'the settings', async () => {
      await goTo(page, 'Settings', '/settings');
      await page.getByText('preview', { exact: true }).first().waitFor();
    });
    await step(page, 'the tiers page, loaded afresh', async () => {
      await goTo(page, 'Tiers', '/tiers');
      // Both of the page's reads done (the tiers, then the alert thresholds, whose form
      // shows once they are read), so the reload aborts none of them: after a move
      // inside the app, waitForLoadState('networkidle') still answers for the first load.
      await page.getByLabel('Tier id', { exact: true }).first().waitFor();
      await page.getByLabel('Alert at these percents of a limit', { exact: true }).waitFor();
      await page.reload();
      await page.getByLabel('Tier id', { exact: true }).first().waitFor();
      await page.waitForLoadState('networkidle');
    });
    policy.assertNone('the walk');
  });
});

test('a page of another origin cannot frame the dashboard', async () => {
  // A page of its own on a free loopback port: one frame of its own (which shows) and
  // one of the dashboard (which its policy refuses).
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(req.url === '/own'
      ? '<!doctype html><title>own</title><p>A frame of this page</p>'
      : `<!doctype html><title>framing</title><iframe name="own" src="/own"></iframe><iframe name="dashboard" src="${DASHBOARD}/"></iframe>`);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const framing = `http://127.0.0.1:${server.address().port}/`;
  // Chromium's words, with the line break it ends them with.
  const refusal = `Framing '${DASHBOARD}/' violates the following Content Security Policy directive: "frame-ancestors 'none'". The request has been blocked.\n`;
  try {
    await withPage(browser(), 'csp-frame', {
      allow: [
        { kind: 'console error', text: refusal, why: 'the refusal this test expects' },
        { kind: 'failed request', text: `GET ${DASHBOARD}/: net::ERR_BLOCKED_BY_RESPONSE`, why: 'the framed dashboard, refused' },
      ],
    }, async ({ page }) => {
      const said = [];
      page.on('console', (msg) => said.push(msg.text()));
      await page.goto(framing);
      const own = page.frame({ name: 'own' });
      assert.equal((await own.locator('p').innerText()).trim(), 'A frame of this page', 'a frame that may be framed shows');
      await page.waitForFunction(() => document.querySelectorAll('iframe').length === 2);
      await page.waitForTimeout(1000);
      const dashboard = page.frame({ name: 'dashboard' });
      assert.notEqual(new URL(dashboard.url()).origin, new URL(DASHBOARD).origin, `the dashboard's frame holds Chromium's error page (${dashboard.url()})`);
      assert.ok(said.includes(refusal), `Chromium refuses the frame for frame-ancestors; it said: ${JSON.stringify(said)}`);
    });
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

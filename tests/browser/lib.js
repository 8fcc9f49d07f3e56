// What the browser tests share: the stack's addresses, Chromium, contexts whose pages are
// watched for console errors and warnings, page errors and failed requests, and the steps
// a developer takes in the dashboard (sign in, create credentials, define tiers).
//
// Needs the stack scripts/test.sh starts: DASHBOARD_URL (the built dashboard, served as
// Pages serves it), DREAM_API_URL (the api worker the dashboard's config points at),
// DREAM_RECEIVER_URL (the stand-ins' webhook receiver) and DREAM_ARTIFACTS (where the
// screenshots go; target/browser-artifacts otherwise).

import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const DASHBOARD = process.env.DASHBOARD_URL?.replace(/\/$/, '');
export const API = process.env.DREAM_API_URL?.replace(/\/$/, '');
// The stand-ins' webhook receiver (a developer's server): it records what it gets.
export const RECEIVER = process.env.DREAM_RECEIVER_URL?.replace(/\/$/, '');
export const ARTIFACTS = process.env.DREAM_ARTIFACTS
  ?? fileURLToPath(new URL('../../target/browser-artifacts', import.meta.url));

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };
// Each width a flow runs at, with the suffix of its screenshots.
export const WIDTHS = [
  { name: 'desktop', viewport: DESKTOP },
  { name: 'phone', viewport: PHONE },
];

// useBrowser(): starts Chromium before the file's tests and closes it after; returns a
// function giving the browser.
export function useBrowser() {
  let browser;
  before(async () => {
    assert.ok(DASHBOARD && API, 'run by scripts/test.sh, which serves the dashboard and starts the workers');
    mkdirSync(ARTIFACTS, { recursive: true });
    // Playwright starts Chromium without its sandbox unless asked (chromiumSandbox), which
    // is what lets it run as root in CI containers.
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium' });
  });
  after(async () => {
    await browser?.close();
  });
  return () => browser;
}

// A fresh developer's email: the Clerk stand-in creates the user at the first sign-in.
export const freshEmail = (what) => `${what}-${Date.now()}-${process.pid}-${Math.floor(Math.random() * 1e6)}@example.com`;

// Watches every page of a context (those opened later too, such as the stand-ins' pages
// the dashboard sends the browser to): console errors and warnings, uncaught page errors
// and failed requests. ALLOW lists what may appear, each `{ kind, text, why }` matched
// by its exact text; nothing is allowed by default.
export class ConsoleGuard {
  constructor(context, allow = []) {
    this.allow = allow;
    this.problems = [];
    context.on('page', (page) => this.watch(page));
    for (const page of context.pages()) this.watch(page);
  }

  watch(page) {
    page.on('console', (msg) => {
      if (msg.type() !== 'error' && msg.type() !== 'warning') return;
      const at = msg.location()?.url;
      this.record(page, `console ${msg.type()}`, msg.text(), at);
    });
    page.on('pageerror', (error) => this.record(page, 'page error', String(error.stack ?? error.message)));
    page.on('requestfailed', (request) => {
      const error = request.failure()?.errorText;
      // The browser's own fetch of the site's icon, cancelled when the page navigates on
      // before it finished: not a request of the page's, and nothing failed.
      if (error === 'net::ERR_ABORTED' && new URL(request.url()).pathname === '/favicon.svg') return;
      this.record(page, 'failed request', `${request.method()} ${request.url()}: ${error}`);
    });
  }

  record(page, kind, text, at) {
    if (this.allow.some((allowed) => allowed.kind === kind && allowed.text === text)) return;
    this.problems.push({ kind, text, at, page: page.url() });
  }

  // Each problem once, with the pages it was seen on (session tokens in URLs cut short).
  describe() {
    const seen = new Map();
    for (const { kind, text, at, page } of this.problems) {
      const key = `${kind}: ${shorten(text)}${at ? ` (from ${shorten(at)})` : ''}`;
      seen.set(key, (seen.get(key) ?? new Set()).add(shorten(page)));
    }
    return [...seen].map(([key, pages]) => `${key} on ${[...pages].join(', ')}`).join('\n  ');
  }

  assertClean(what = 'the flow') {
    assert.equal(this.problems.length, 0, `${what} had console errors, warnings, page errors or failed requests:\n  ${this.describe()}`);
  }
}

// A URL or message with long query values (session tokens) cut to their first characters.
const shorten = (text) => String(text).replace(/=([^&\s'"]{24})[^&\s'"]+/g, '=$1…');

// withPage(BROWSER, NAME, OPTIONS, FN): runs FN({ context, page, guard }) in a fresh
// context (OPTIONS: viewport, clipboard, allow, and any of Playwright's context options),
// then fails if its pages logged errors or warnings. On failure it keeps a screenshot of
// the page as failure-NAME.png and names what the console said.
export async function withPage(browser, name, options, fn) {
  const { clipboard = false, allow = [], ...contextOptions } = options;
  const context = await browser.newContext({ viewport: DESKTOP, locale: 'en-US', ...contextOptions });
  context.setDefaultTimeout(15_000);
  if (clipboard) {
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(DASHBOARD).origin });
  }
  const guard = new ConsoleGuard(context, allow);
  const page = await context.newPage();
  try {
    await fn({ context, page, guard });
    guard.assertClean(name);
  } catch (error) {
    await page.screenshot({ path: join(ARTIFACTS, `failure-${name}.png`), fullPage: true }).catch(() => {});
    if (guard.problems.length && !error.message.includes(guard.describe())) {
      error.message += `\n(the console meanwhile:\n  ${guard.describe()})`;
    }
    throw error;
  } finally {
    await context.close();
  }
}

// step PAGE WHAT FN: runs one step of the flow; a failure names the step, what the page
// was saying (its alerts: problems, refused fields) and where the browser was, instead
// of a bare timeout.
export async function step(page, what, fn) {
  try {
    return await fn();
  } catch (error) {
    const firstLine = String(error.message).split('\n')[0].replace(/\.$/, '');
    const alerts = (await page.getByRole('alert').evaluateAll((els) => els.map((el) => el.innerText)).catch(() => []))
      .map((text) => text.replace(/\s+/g, ' ').trim())
      .filter(Boolean);
    const said = alerts.length ? `; the page says: ${alerts.join(' | ')}` : '';
    const rest = String(error.message).split('\n').slice(1).join('\n');
    throw new Error(`${what}: ${firstLine}${said} (browser at ${page.url()})${rest ? `\n${rest}` : ''}`, { cause: error });
  }
}

const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// The whole text of an element, trimmed; an exact match, so that "3 / 5" is not found
// in "13 / 50".
export const exactly = (text) => new RegExp(`^\\s*${escape(text)}\\s*$`);

// seeText LOCATOR TEXT: waits until the element shows TEXT (a string, exactly, or a
// RegExp); on timeout, says what it showed instead.
export async function seeText(locator, text, what, timeout) {
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
export async function shownText(locator) {
  await locator.waitFor();
  const text = await locator.evaluate((el) => (el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement ? el.value : el.innerText));
  return text.trim();
}

// atPath PAGE PATH: waits until the browser is on the dashboard at PATH (any query), and
// returns the URL it arrived at (the dashboard may tidy its query away right after).
export async function atPath(page, path, timeout) {
  let arrived;
  await page.waitForURL((url) => {
    if (url.origin !== new URL(DASHBOARD).origin || url.pathname !== path) return false;
    arrived = url;
    return true;
  }, { timeout });
  return arrived;
}

// What the clipboard holds once it holds EXPECTED, or after TIMEOUT ms whatever it holds:
// a copy completes after the click that starts it (the Clipboard API is asynchronous).
export async function clipboardOnce(page, expected, timeout = 5000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const text = (await page.evaluate(() => navigator.clipboard.readText())).trim();
    if (text === expected || Date.now() > deadline) return text;
    await page.waitForTimeout(100);
  }
}

// copyShown PAGE SHOWN BUTTON: clicks the copy button named BUTTON and returns what it put
// on the clipboard, which must be what the element SHOWN (a test id) shows.
export async function copyShown(page, shown, button) {
  const text = await shownText(page.getByTestId(shown));
  await page.getByRole('button', { name: button, exact: true }).click();
  const copied = await clipboardOnce(page, text);
  assert.equal(copied, text, `"${button}" puts on the clipboard what ${shown} shows`);
  return copied;
}

// A developer's backend metering one call for one of its end-users.
export async function track(apiKey, userId) {
  const res = await fetch(`${API}/v1/usage/track`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${apiKey}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ userId }),
  });
  const body = await res.text();
  assert.equal(res.status, 200, `POST /v1/usage/track answered ${res.status}: ${body}`);
}

// What the receiver NAME got, oldest first: [{ receivedAt, headers, body }].
export async function received(name) {
  const res = await fetch(`${RECEIVER}/dev/received/${name}`);
  assert.equal(res.status, 200, `the receiver lists what ${name} got`);
  return (await res.json()).requests;
}

// Makes the receiver NAME answer its next requests with STATUSES, in turn.
export async function answerWith(name, statuses) {
  const res = await fetch(`${RECEIVER}/dev/answers/${name}`, {
    method: 'PUT',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ statuses }),
  });
  assert.equal(res.status, 204, `the receiver takes the answers of ${name}`);
}

// screenshot PAGE NAME [VIEWPORT]: the whole page as NAME in the artifacts.
export async function screenshot(page, name, viewport) {
  if (viewport) await page.setViewportSize(viewport);
  await page.screenshot({ path: join(ARTIFACTS, name), fullPage: true });
}

// The Clerk stand-in's sign-in page: any email signs in, and a first sign-in creates the
// user, so a fresh email is a new developer. ON_PAGE runs on that page (a screenshot).
export async function signIn(page, email, onPage) {
  await page.goto(`${DASHBOARD}/`);
  await page.getByRole('heading', { name: 'dream-api', exact: true }).first().waitFor();
  await page.getByRole('link', { name: 'Sign in', exact: true }).first().click();
  await page.getByLabel('Email', { exact: true }).fill(email);
  await onPage?.();
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await atPath(page, '/dashboard');
}

// Returns the key and the platform id the dashboard shows once credentials exist.
export async function createCredentials(page) {
  await page.getByRole('button', { name: 'Create credentials', exact: true }).click();
  const apiKey = await shownText(page.getByTestId('api-key'));
  assert.match(apiKey, /^pk_live_[A-Za-z0-9]+$/, 'the new API key is shown');
  const platformId = await shownText(page.getByTestId('platform-id'));
  assert.match(platformId, /^\S+$/, 'the platform id is shown');
  return { apiKey, platformId };
}

// The header's navigation.
export const nav = (page) => page.getByRole('navigation', { name: 'Main' });

// Every page has one header (its banner) with one main navigation.
export async function assertOneHeader(page) {
  await nav(page).first().waitFor();
  const headers = await page.locator('header.top').count();
  const navs = await nav(page).count();
  assert.ok(headers === 1 && navs === 1, `${new URL(page.url()).pathname} has one header (it has ${headers}, and ${navs} main navigations)`);
}

// goTo PAGE LINK PATH: follows the header's link LINK and waits for PATH.
export async function goTo(page, link, path) {
  await assertOneHeader(page);
  await nav(page).first().getByRole('link', { name: link, exact: true }).click();
  return atPath(page, path);
}

// The tiers editor: one group (fieldset) per tier, the innermost groups holding a
// "Tier id" field.
export function tierGroups(page) {
  return page.getByRole('group')
    .filter({ has: page.getByLabel('Tier id', { exact: true }) })
    .filter({ hasNot: page.getByRole('group') });
}

export async function fillTier(group, { id, name, price, limit }) {
  await group.getByLabel('Tier id', { exact: true }).fill(id);
  await group.getByLabel('Name', { exact: true }).fill(name);
  await group.getByLabel('Price (USD)', { exact: true }).fill(price);
  await group.getByLabel('Monthly limit', { exact: true }).fill(limit);
}

// The editor's save status: "Unsaved changes", "Saving…", "Saved".
export const saveStatus = (page) => page.getByTestId('save-status');

export async function defineTiers(page, tiers) {
  await goTo(page, 'Tiers', '/tiers');
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
  await seeText(saveStatus(page), 'Saved', 'after Save tiers');
}

// The plan follows Stripe's webhook, which may land after the redirect back: reload
// until the badge and the quota show it.
export async function waitForPaidPlan(page, timeout = 30_000) {
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

// Whether the element LOCATOR has the keyboard focus (or holds it, for a dialog).
export async function hasFocus(locator, within = false) {
  return locator.evaluate((el, inside) => (inside ? el.contains(document.activeElement) : el === document.activeElement), within);
}

// A short description of the focused element, for failure messages.
export async function focused(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return String(el?.tagName ?? null);
    const name = el.getAttribute('aria-label') ?? el.innerText ?? el.value ?? '';
    return `<${el.tagName.toLowerCase()}> ${JSON.stringify(String(name).trim().slice(0, 60))}`;
  });
}

// tabTo PAGE LOCATOR: presses Tab (at most MAX times) until LOCATOR has the focus, as a
// keyboard user reaches a control.
export async function tabTo(page, locator, max = 60) {
  await locator.waitFor();
  for (let i = 0; i < max; i++) {
    if (await hasFocus(locator)) return;
    await page.keyboard.press('Tab');
  }
  assert.fail(`not reached with ${max} presses of Tab; the focus is on ${await focused(page)}`);
}

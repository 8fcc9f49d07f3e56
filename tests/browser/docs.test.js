// The API reference at /docs, as Pages serves it beside the dashboard: each worker's
// OpenAPI document rendered by the pinned Redoc, with every operation on the page, under
// a policy of its own and with nothing said in the console; the quickstart with the
// README's five lines and the example apps; the landing page's link to it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DASHBOARD, atPath, screenshot, step, useBrowser, withPage } from './lib.js';
import { ROOT, parsePolicy, watchPolicy } from './csp.js';

const browser = useBrowser();

const DOCUMENTS = ['api', 'platform-auth', 'stripe-oauth'];
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];
const read = (path) => readFileSync(join(ROOT, path), 'utf8');

// What names each operation of DOCUMENT on the page: its summary, or its operationId.
function operations(document) {
  return Object.entries(document.paths).flatMap(([path, item]) => METHODS
    .filter((method) => item[method])
    .map((method) => ({ route: `${method.toUpperCase()} ${path}`, name: item[method].summary ?? item[method].operationId })));
}

test('every page of the reference is served with its own policy: scripts from itself only, never framed', async () => {
  for (const path of ['/docs/', ...DOCUMENTS.map((name) => `/docs/${name}/`)]) {
    const res = await fetch(`${DASHBOARD}${path}`);
    assert.equal(res.status, 200, `${path} is served`);
    assert.deepEqual(parsePolicy(res.headers.get('content-security-policy')), {
      'default-src': ["'none'"],
      'script-src': ["'self'"],
      'connect-src': ["'self'"],
      'style-src': ["'self'", "'unsafe-inline'"],
      'img-src': ["'self'", 'data:'],
      'worker-src': ['blob:'],
      'frame-ancestors': ["'none'"],
      'base-uri': ["'none'"],
      'form-action': ["'none'"],
    }, `the policy of ${path}`);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff', `${path}: no MIME sniffing`);
  }
});

for (const name of DOCUMENTS) {
  test(`the ${name} reference shows every operation of its OpenAPI document`, { timeout: 60_000 }, async () => {
    const source = JSON.parse(read(`workers/${name}/src/openapi.json`));
    const served = await fetch(`${DASHBOARD}/docs/openapi/${name}.json`);
    assert.equal(served.status, 200, 'the document is served beside its page');
    assert.deepEqual(await served.json(), source, `the served document is workers/${name}/src/openapi.json`);
    const expected = operations(source);
    assert.ok(expected.length > 0, 'the document has operations');

    await withPage(browser(), `docs-${name}`, {}, async ({ context, page }) => {
      const policy = await watchPolicy(context);
      await page.goto(`${DASHBOARD}/docs/${name}/`);
      const headings = page.locator('h2');
      const shown = await step(page, 'the renderer draws the document', async () => {
        await page.waitForFunction((n) => document.querySelectorAll('h2').length >= n, expected.length);
        return new Set((await headings.allInnerTexts()).map((text) => text.trim()));
      });
      const missing = expected.filter(({ name: heading }) => !shown.has(heading));
      assert.deepEqual(missing, [], `every operation has its heading on the page (${expected.length} operations)`);
      await step(page, 'searching finds an operation', async () => {
        const first = expected.find(({ route }) => route !== 'GET /health') ?? expected[0];
        await page.getByPlaceholder('Search...').fill(first.name);
        await page.locator('[data-role="search:results"]').getByText(first.name, { exact: true }).first().waitFor();
      });
      await screenshot(page, `docs-${name}.png`);
      policy.assertNone(`the ${name} reference`);
    });
  });
}

test('the quickstart shows the README\'s five lines and the example apps\' code', { timeout: 60_000 }, async () => {
  const section = read('README.md').split(/^## Five lines$/m)[1];
  const fiveLines = section.match(/^```ts\n([\s\S]*?)^```$/m)[1].split('\n').filter((line) => line.trim());
  assert.ok(fiveLines.length >= 5, 'the README has its five lines');

  await withPage(browser(), 'docs-quickstart', {}, async ({ context, page }) => {
    const policy = await watchPolicy(context);
    await step(page, 'from the landing page\'s link', async () => {
      await page.goto(`${DASHBOARD}/`);
      const link = page.getByRole('link', { name: 'API reference', exact: true });
      assert.equal(await link.getAttribute('href'), '/docs/');
      await link.click();
      await atPath(page, '/docs/');
      await page.getByRole('heading', { name: 'API reference', level: 1, exact: true }).waitFor();
    });
    await step(page, 'the five lines, each shown as the README has it', async () => {
      await page.getByRole('heading', { name: 'Quickstart', exact: true }).waitFor();
      const shown = (await page.getByTestId('five-lines').innerText()).split('\n');
      for (const line of fiveLines) assert.ok(shown.includes(line), `the quickstart shows: ${line}`);
    });
    await step(page, 'each example app\'s main file, as it is in examples/', async () => {
      const blocks = page.locator('pre[data-source]');
      assert.equal(await blocks.count(), 3, 'express, hono-worker and axum');
      for (const block of await blocks.all()) {
        const path = await block.getAttribute('data-source');
        await block.locator('xpath=ancestor::details').locator('summary').click();
        assert.equal(await block.innerText(), read(path).replace(/\n$/, ''), `the page shows ${path} whole`);
      }
    });
    await screenshot(page, 'docs-quickstart.png');
    await step(page, 'on to the api reference from the navigation', async () => {
      await page.getByRole('navigation', { name: 'API reference' }).getByRole('link', { name: 'API', exact: true }).click();
      await atPath(page, '/docs/api/');
      await page.locator('h2').first().waitFor();
    });
    policy.assertNone('the quickstart');
  });
});

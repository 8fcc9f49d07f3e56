// @dream-api/client in a web page, as an app's front end uses it: the built ES module
// imported by a page in headless Chromium, metering as the signed-in end-user with their
// Clerk session token (end-user mode), across origins to the api worker of the test
// stack.
//
// The api worker answers CORS only for the origins it is configured with
// (ALLOWED_ORIGINS). DREAM_PAGE_ORIGIN names one of them; this test's own server, on a
// free loopback port, serves the page and the module, and Chromium loads them as that
// origin (Playwright's routing hands every request for it to this server). The browser
// then checks CORS exactly as for a page of that origin, and whatever else runs on the
// origin's own port is never touched.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import http from "node:http";
import { join, normalize } from "node:path";
import { chromium } from "playwright-core";
import { api, countOf, inCheckout, platformWithTiers, signedInEndUser } from "./stack.mjs";

const ORIGIN = process.env.DREAM_PAGE_ORIGIN?.replace(/\/$/, "");
const SDK_DIST = inCheckout("sdk/typescript/dist");
const PAGE = "<!doctype html><html><head><meta charset=utf-8><title>An app's front end</title></head><body></body></html>";

let browser;
let server;

// GET /app/ is the page; GET /app/client/<file> is the SDK's built module and its imports.
async function serve(req, res) {
  const path = new URL(req.url, "http://x").pathname;
  if (path === "/app/") {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    return res.end(PAGE);
  }
  const file = normalize(path.replace(/^\/app\/client\//, ""));
  if (path.startsWith("/app/client/") && /^[\w.-]+\.js$/.test(file)) {
    const body = await readFile(join(SDK_DIST, file)).catch(() => null);
    if (body) {
      res.writeHead(200, { "content-type": "text/javascript; charset=utf-8" });
      return res.end(body);
    }
  }
  res.writeHead(404).end();
}

before(async () => {
  if (!ORIGIN) throw new Error("DREAM_PAGE_ORIGIN is not set: an origin the api worker allows (scripts/test.sh sets it)");
  server = http.createServer((req, res) => serve(req, res).catch(() => res.writeHead(500).end()));
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  browser = await chromium.launch({ executablePath: "/usr/bin/chromium" });
});

after(async () => {
  await browser?.close();
  server?.closeAllConnections();
  await new Promise((r) => (server ? server.close(r) : r()));
});

/** A page of ORIGIN whose requests to it are answered by this test's server. */
async function appPage(t) {
  // A page answered through routing has no address of its own, so Chromium counts it as
  // public, and a public page reaches a loopback server (the test stack's api worker)
  // only with the user's leave (Local Network Access): given here, as a user would.
  const context = await browser.newContext({ permissions: ["local-network-access"] });
  t.after(() => context.close());
  const local = `http://127.0.0.1:${server.address().port}`;
  await context.route(`${ORIGIN}/app/**`, async (route) => {
    const url = new URL(route.request().url());
    await route.fulfill({ response: await route.fetch({ url: `${local}${url.pathname}` }) });
  });
  const page = await context.newPage();
  const response = await page.goto(`${ORIGIN}/app/`);
  assert.equal(response.status(), 200);
  return page;
}

test("in Chromium, the client's ES module meters the signed-in end-user with their session token until their tier's limit", { timeout: 60_000 }, async (t) => {
  const { platformId, apiKey } = await platformWithTiers([{ id: "free", name: "Free", priceCents: 0, limit: 2 }]);
  const endUser = await signedInEndUser(platformId);
  const page = await appPage(t);

  const seen = await page.evaluate(async ({ token, baseUrl }) => {
    const { DreamApi, DreamApiError } = await import("/app/client/index.js");
    const dream = new DreamApi({ token: () => token, baseUrl });
    const tracks = [];
    for (let i = 0; i < 3; i++) tracks.push(await dream.track());
    const usage = await dream.usage();
    // The platform's own operations need its key: an end-user is refused.
    const tiers = await dream.tiers().then(
      () => "allowed",
      (e) => (e instanceof DreamApiError ? `${e.status} ${e.code}` : String(e)),
    );
    return { origin: location.origin, tracks, usage, tiers };
  }, { token: endUser.token, baseUrl: api() });

  assert.equal(seen.origin, ORIGIN);
  assert.notEqual(new URL(api()).origin, ORIGIN, "the page calls dream-api across origins");
  const [first, second, third] = seen.tracks;
  assert.deepEqual([first.allowed, first.userId, first.usage.count], [true, endUser.userId, 1]);
  assert.deepEqual([second.allowed, second.usage.count, second.usage.remaining], [true, 2, 0]);
  assert.deepEqual([third.allowed, third.reason], [false, "tier_limit_reached"]);
  assert.deepEqual([seen.usage.userId, seen.usage.usage.count], [endUser.userId, 2], "the end-user reads their own usage");
  assert.equal(seen.tiers, "403 forbidden");
  assert.equal(await countOf(apiKey, endUser.userId), 2, "the platform sees the end-user's two calls");
});

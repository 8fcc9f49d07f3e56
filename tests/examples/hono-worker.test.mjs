// examples/hono-worker as a developer runs it: `wrangler dev` bundles the app with
// @dream-api/client from its node_modules and serves it in workerd, pointed at the api
// worker of the test stack with --var.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { assertServedUpToTheLimitThenRefused } from "./checks.mjs";
import { api, countOf, freePort, getAs, inCheckout, platformWithTiers, startProcess } from "./stack.mjs";

async function startWorker(t, vars) {
  const state = mkdtempSync(join(tmpdir(), "dream-example-hono-"));
  t.after(() => rmSync(state, { recursive: true, force: true }));
  const [port, inspector] = [await freePort(), await freePort()];
  const args = ["dev", "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(inspector),
    "--show-interactive-dev-session=false", "--log-level=warn", "--persist-to", state];
  for (const [name, value] of Object.entries(vars)) args.push("--var", `${name}:${value}`);
  const worker = await startProcess("wrangler", args, {
    cwd: inCheckout("examples/hono-worker"),
    readyUrl: `http://127.0.0.1:${port}/`,
    startMs: 90_000,
  });
  t.after(worker.stop);
  return `http://127.0.0.1:${port}`;
}

test("the Hono worker meters /api/fortune per end-user, each call counted in dream-api, and answers 402 at the tier limit", { timeout: 150_000 }, async (t) => {
  const { apiKey } = await platformWithTiers([{ id: "free", name: "Free", priceCents: 0, limit: 3 }]);
  const worker = await startWorker(t, { DREAM_API_URL: api(), DREAM_API_KEY: apiKey });

  const home = await getAs(`${worker}/`, "erin");
  assert.equal(home.status, 200, "the route outside /api/ answers");
  assert.equal(await countOf(apiKey, "erin"), 0, "and is not metered");

  await assertServedUpToTheLimitThenRefused({
    url: `${worker}/api/fortune`,
    apiKey,
    userId: "erin",
    limit: 3,
    served: (answer, n) => {
      assert.equal(typeof answer.body.fortune, "string");
      assert.equal(answer.headers.get("x-plan"), "free");
      assert.equal(answer.headers.get("x-usage-remaining"), String(3 - n));
    },
  });

  const missing = await fetch(`${worker}/api/fortune`);
  assert.equal(missing.status, 400, "a call naming no end-user is refused before metering");
});

test("the Hono worker fails closed with 503 while dream-api cannot be reached, and serves uncounted with DREAM_FAIL_OPEN", { timeout: 150_000 }, async (t) => {
  const unreachable = `http://127.0.0.1:${await freePort()}`;
  const vars = { DREAM_API_URL: unreachable, DREAM_API_KEY: "pk_live_unreachable" };
  const closed = await startWorker(t, vars);
  const open = await startWorker(t, { ...vars, DREAM_FAIL_OPEN: "true" });

  const refused = await getAs(`${closed}/api/fortune`, "frank");
  assert.equal(refused.status, 503);
  assert.equal(refused.body.error, "metering_unavailable");

  const served = await getAs(`${open}/api/fortune`, "frank");
  assert.equal(served.status, 200, JSON.stringify(served.body));
  assert.equal(served.headers.get("x-metering"), "degraded");
});

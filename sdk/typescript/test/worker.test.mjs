// The built module, unchanged, inside a Cloudflare Worker (workerd under `wrangler
// dev`): it meters against the api worker and reports failures with the same codes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { closedPort, proxy, raised, register } from "./stack.mjs";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const dist = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "index.js");

// Tracks, reads usage, then fails on purpose twice: no server, and a server that never answers.
const WORKER = `
import { DreamApi } from ${JSON.stringify(dist)};
const outcome = (promise) => promise.then((value) => ({ value }), (e) => ({ name: e.name, status: e.status, code: e.code }));
export default {
  async fetch(request) {
    const { apiKey, baseUrl, closedUrl, silentUrl } = await request.json();
    const dream = new DreamApi({ apiKey, baseUrl });
    return Response.json({
      tracked: await dream.track("in-a-worker"),
      usage: await dream.usage("in-a-worker"),
      unreachable: await outcome(new DreamApi({ apiKey, baseUrl: closedUrl, maxRetries: 0 }).track("x")),
      silent: await outcome(new DreamApi({ apiKey, baseUrl: silentUrl, maxRetries: 0, timeoutMs: 300 }).tiers()),
    });
  },
};
`;

async function startWorker(dir, port, inspector) {
  writeFileSync(join(dir, "worker.mjs"), WORKER);
  writeFileSync(join(dir, "wrangler.toml"), 'name = "sdk-in-a-worker"\nmain = "worker.mjs"\ncompatibility_date = "2025-09-01"\n');
  const child = spawn("wrangler", ["dev", "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(inspector),
    "--show-interactive-dev-session=false", "--log-level=error", "--persist-to", join(dir, "state")],
    { cwd: dir, detached: true, stdio: ["ignore", "ignore", "pipe"] });
  // Its own process group (wrangler, esbuild, workerd): interrupted as a terminal would,
  // then killed if anything of it is left after five seconds.
  const signal = (name) => {
    try {
      process.kill(-child.pid, name);
    } catch {} // the group is gone
  };
  process.once("exit", () => signal("SIGKILL")); // never outlive the tests
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  const stop = async () => {
    signal("SIGINT");
    for (let i = 0; i < 50 && child.exitCode === null && child.signalCode === null; i++) await sleep(100);
    signal("SIGKILL");
    child.stderr.destroy();
    child.unref();
  };
  for (let i = 0; i < 240; i++) {
    if (child.exitCode !== null) break;
    const up = await fetch(`http://127.0.0.1:${port}/`, { method: "HEAD" }).then(() => true, () => false);
    if (up) return stop;
    await sleep(250);
  }
  await stop();
  throw new Error(`the worker did not start: ${stderr}`);
}

test("inside a Cloudflare Worker the client meters, and names a refused connection and a timeout as outside", { timeout: 120_000 }, async (t) => {
  const { apiKey } = await register(raised());
  const silent = await proxy(raised(), () => {});
  t.after(silent.close);
  const dir = mkdtempSync(join(tmpdir(), "dream-sdk-worker-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const port = await closedPort();
  const stop = await startWorker(dir, port, await closedPort());
  t.after(stop);

  const res = await fetch(`http://127.0.0.1:${port}/`, {
    method: "POST",
    body: JSON.stringify({ apiKey, baseUrl: raised(), closedUrl: `http://127.0.0.1:${await closedPort()}`, silentUrl: silent.url }),
  });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  const answer = JSON.parse(text);
  assert.deepEqual([answer.tracked.allowed, answer.tracked.usage.count], [true, 1]);
  assert.equal(answer.usage.usage.count, 1);
  assert.deepEqual(answer.unreachable, { name: "DreamApiError", status: 0, code: "network_error" });
  assert.deepEqual(answer.silent, { name: "DreamApiError", status: 0, code: "timeout" });
});

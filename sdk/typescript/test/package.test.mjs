// The package as it would be published: its generated types match the api worker's
// document, it holds what it should, and it depends on nothing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { DreamApi, DreamApiError } from "../dist/index.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));

test("src/schema.d.ts is what openapi-typescript makes of the api worker's current OpenAPI document", () => {
  // The generate script's own command with --check: it compares, and writes nothing.
  const run = spawnSync("npm", ["run", "--silent", "generate", "--", "--check"], { cwd: root, encoding: "utf8" });
  assert.equal(run.status, 0, `src/schema.d.ts is stale: run \`npm run generate\` in sdk/typescript\n${run.stdout}${run.stderr}`);
});

test("npm pack ships the built module, its types, the README and the licence, and nothing else", () => {
  const [packed] = JSON.parse(execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: root, encoding: "utf8" }));
  const files = packed.files.map((f) => f.path).sort();
  assert.deepEqual(files, [
    "LICENSE",
    "README.md",
    "dist/http.d.ts",
    "dist/http.js",
    "dist/index.d.ts",
    "dist/index.js",
    "dist/schema.d.ts",
    "package.json",
  ]);
  assert.equal(packed.name, "@dream-api/client");
  assert.deepEqual(manifest.exports["."], { types: "./dist/index.d.ts", default: "./dist/index.js" });
  assert.deepEqual([manifest.type, manifest.license, manifest.engines.node], ["module", "MIT", ">=20"]);
  assert.equal(manifest.dependencies, undefined, "no runtime dependencies");
  assert.match(readFileSync(join(root, "README.md"), "utf8"), /new DreamApi\(/);
});

test("the built module imports nothing but its own files, so it runs on any runtime with fetch", () => {
  for (const file of readdirSync(join(root, "dist")).filter((f) => f.endsWith(".js"))) {
    const source = readFileSync(join(root, "dist", file), "utf8");
    const specifiers = [...source.matchAll(/\bfrom\s+["']([^"']+)["']|\bimport\s*\(\s*["']([^"']+)["']/g)].map((m) => m[1] ?? m[2]);
    assert.ok(specifiers.every((s) => s.startsWith("./")), `${file} imports ${specifiers}`);
    assert.doesNotMatch(source, /\b(process|Buffer|require)\b/, `${file} uses a Node-only global`);
  }
});

test("the README's uses of the client typecheck against the built declarations, and misuses do not", () => {
  const tsc = join(root, "node_modules", ".bin", "tsc");
  const flags = ["--noEmit", "--strict", "--target", "es2022", "--module", "nodenext", "--lib", "es2022,dom"];
  execFileSync(tsc, [...flags, join(root, "test", "usage.ts")], { cwd: root, stdio: "pipe" });
});

test("the options are checked when the client is made", () => {
  assert.throws(() => new DreamApi({ baseUrl: "http://127.0.0.1:1" }), /exactly one of apiKey or token/);
  assert.throws(() => new DreamApi({ apiKey: "k", token: () => "t", baseUrl: "http://127.0.0.1:1" }), /exactly one/);
  assert.throws(() => new DreamApi({ apiKey: "k" }), /baseUrl/);
  assert.throws(() => new DreamApi({ apiKey: "k", baseUrl: "127.0.0.1:8787" }), /baseUrl/);
});

test("a track without a key of its own sends a fresh idempotency key, the same on each retry", async () => {
  const bodies = [];
  const failing = async (url, init) => {
    bodies.push(JSON.parse(init.body));
    throw new TypeError("connection refused");
  };
  const dream = new DreamApi({ apiKey: "pk_live_x", baseUrl: "http://127.0.0.1:1/", fetch: failing, maxRetries: 2 });
  await assert.rejects(dream.track("u"), (e) => e instanceof DreamApiError && e.code === "network_error" && e.status === 0);
  await assert.rejects(dream.track("u"));
  const keys = bodies.map((b) => b.idempotencyKey);
  assert.equal(keys.length, 6);
  assert.equal(new Set(keys.slice(0, 3)).size, 1, "one call's attempts share a key");
  assert.equal(new Set(keys.slice(3)).size, 1);
  assert.notEqual(keys[0], keys[3], "two calls have two keys");
  assert.match(keys[0], /^[ -~]{1,255}$/);
});

// What @dream-api/client adds to a track: the same POST /v1/usage/track made by the
// client and by a bare fetch, against one api worker, in interleaved rounds, so that
// the worker's own latency and this machine's noise hit both alike.
//
// Usage: node bench/sdk.mjs API_URL   (bench/sdk.sh starts the worker and calls this)
// Env:   SDK_BENCH_ROUNDS (20)  SDK_BENCH_CALLS (100 per side and round)
//        SDK_BENCH_WARMUP (200 per side)  SDK_BENCH_USERS (100)
import { randomUUID } from "node:crypto";
import { DreamApi } from "../sdk/typescript/dist/index.js";

const TARGET_RATIO = 1.05;
const baseUrl = process.argv[2];
if (!baseUrl) throw new Error("usage: node bench/sdk.mjs API_URL");
const number = (name, fallback) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`);
  return value;
};
const rounds = number("SDK_BENCH_ROUNDS", 20);
const calls = number("SDK_BENCH_CALLS", 100);
const warmup = number("SDK_BENCH_WARMUP", 200);
const users = Array.from({ length: number("SDK_BENCH_USERS", 100) }, (_, i) => `bench-user-${i}`);

// A platform whose end-users are unlimited (the worker runs with platform quotas and the
// rate limit raised), so every track is a 200 that counts.
const registered = await fetch(`${baseUrl}/v1/developers`, {
  method: "POST",
  headers: { "content-type": "application/json", "cf-connecting-ip": "192.0.2.1" },
  body: JSON.stringify({ email: "bench@example.com" }),
});
if (registered.status !== 201) throw new Error(`registration answered ${registered.status}: ${await registered.text()}`);
const { apiKey } = await registered.json();
const client = new DreamApi({ apiKey, baseUrl });
await client.setTiers([{ id: "free", name: "Free", priceCents: 0, limit: null }]);

// The same request, by hand: the client sends a fresh idempotency key too.
async function bare(userId) {
  const res = await fetch(`${baseUrl}/v1/usage/track`, {
    method: "POST",
    headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify({ userId, idempotencyKey: randomUUID() }),
  });
  const body = await res.json();
  if (res.status !== 200 || body.allowed !== true) throw new Error(`bare track answered ${res.status}`);
}

async function sdk(userId) {
  const result = await client.track(userId);
  if (result.allowed !== true || result.degraded) throw new Error(`client track answered ${JSON.stringify(result)}`);
}

let next = 0;
async function measure(track, n, into) {
  for (let i = 0; i < n; i++) {
    const userId = users[next++ % users.length];
    const start = performance.now();
    await track(userId);
    into?.push(performance.now() - start);
  }
}

const samples = { sdk: [], bare: [] };
await measure(sdk, warmup);
await measure(bare, warmup);
for (let round = 0; round < rounds; round++) {
  // Alternate which goes first, so that drift within a round favours neither.
  const order = round % 2 ? ["bare", "sdk"] : ["sdk", "bare"];
  for (const side of order) await measure(side === "sdk" ? sdk : bare, calls, samples[side]);
}

const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};
const ms = (v) => `${v.toFixed(3)} ms`.padStart(11);
console.log(`track latency, ${rounds} interleaved rounds of ${calls} sequential calls each (after ${warmup} warm-up calls each)`);
console.log(`                     p50          p99`);
for (const side of ["bare", "sdk"]) {
  const label = side === "sdk" ? "@dream-api/client" : "bare fetch";
  console.log(`  ${label.padEnd(18)}${ms(percentile(samples[side], 50))}  ${ms(percentile(samples[side], 99))}`);
}
const ratio = percentile(samples.sdk, 50) / percentile(samples.bare, 50);
console.log(`  p50 ratio client/bare: ${ratio.toFixed(3)}   target <= ${TARGET_RATIO}: ${ratio <= TARGET_RATIO ? "PASS" : "FAIL"}`);

// What the example tests share: the test stack over plain HTTP (the api worker with
// raised platform quotas and the Clerk stand-in, both started by scripts/test.sh), and
// starting an example as its own process group on a free loopback port, stopped by PID.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import http from "node:http";
import { fileURLToPath } from "node:url";

function env(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run these tests against the test stack (scripts/test.sh)`);
  return value.replace(/\/$/, "");
}

/** The api worker with platform quotas raised, so that only the end-users' tiers limit. */
export const api = () => env("DREAM_API_RAISED_URL");

/** A folder of the checkout, from its path relative to the root. */
export const inCheckout = (path) => fileURLToPath(new URL(`../../${path}`, import.meta.url));

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Calls the api worker with `key`; the answer's status and parsed body. */
export async function callApi(method, path, { key, body, headers = {} } = {}) {
  const res = await fetch(`${api()}${path}`, {
    method,
    headers: { "content-type": "application/json", ...(key && { authorization: `Bearer ${key}` }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

/**
 * A new platform whose tiers are `tiers`: its id and key. It registers from a client
 * address of its own (an IPv6 /64 of the documentation range), so the five
 * registrations an hour per address never couple one test to another.
 */
export async function platformWithTiers(tiers) {
  const address = `2001:db8:${randomBytes(2).toString("hex")}:${randomBytes(2).toString("hex")}::7`;
  const registered = await callApi("POST", "/v1/developers", {
    body: { email: "examples@example.com", name: "Example app" },
    headers: { "cf-connecting-ip": address },
  });
  if (registered.status !== 201) throw new Error(`registration answered ${registered.status}: ${JSON.stringify(registered.body)}`);
  const { platformId, apiKey } = registered.body;
  const set = await callApi("PUT", "/v1/tiers", { key: apiKey, body: { tiers } });
  if (set.status !== 200) throw new Error(`PUT /v1/tiers answered ${set.status}: ${JSON.stringify(set.body)}`);
  return { platformId, apiKey };
}

/** An end-user's count this period, as dream-api holds it (read with the platform's key). */
export async function countOf(apiKey, userId) {
  const { status, body } = await callApi("GET", `/v1/usage/${encodeURIComponent(userId)}`, { key: apiKey });
  if (status !== 200) throw new Error(`GET /v1/usage/${userId} answered ${status}: ${JSON.stringify(body)}`);
  return body.usage.count;
}

async function clerk(method, path, body) {
  const res = await fetch(`${env("DREAM_CLERK_URL")}${path}`, {
    method,
    headers: { authorization: `Bearer ${env("DREAM_CLERK_SECRET_KEY")}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`Clerk stand-in ${method} ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

/**
 * An end-user of `platformId` signed in with Clerk (the stand-in): their Clerk user id
 * and a session token issued for the local dashboard's origin, as the api worker's
 * authorized parties expect.
 */
export async function signedInEndUser(platformId) {
  const user = await clerk("POST", "/v1/users", { email_address: [`reader-${randomBytes(6).toString("hex")}@example.com`] });
  await clerk("PATCH", `/v1/users/${user.id}/metadata`, { public_metadata: { platformId } });
  const session = await clerk("POST", "/dev/sessions", { user_id: user.id, azp: "http://127.0.0.1:8790", expires_in_seconds: 600 });
  return { userId: user.id, token: session.jwt };
}

/** GETs `url` as `userId` (in X-User-Id, as the examples read it): status, headers, parsed body. */
export async function getAs(url, userId) {
  const res = await fetch(url, { headers: { "x-user-id": userId } });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: JSON.parse(text) };
}

/** A loopback port nothing listens on right now. */
export async function freePort() {
  const server = http.createServer();
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address();
  await new Promise((r) => server.close(r));
  return port;
}

/**
 * Starts `command args` in `cwd` as its own process group (so that stopping it stops
 * its children too: wrangler's esbuild and workerd) and waits until `readyUrl` answers (any status),
 * for at most `startMs`. Returns `stop()`, which interrupts the group, kills what is
 * left after five seconds, and resolves once it is gone. On a failed start, throws with
 * what the process printed.
 */
export async function startProcess(command, args, { cwd, env: extra = {}, readyUrl, startMs = 60_000 }) {
  const child = spawn(command, args, { cwd, env: { ...process.env, ...extra }, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (d) => (output += d));
  child.stderr.on("data", (d) => (output += d));
  const signal = (name) => {
    try {
      process.kill(-child.pid, name);
    } catch {} // the group is gone already
  };
  const neverOutlive = () => signal("SIGKILL");
  process.once("exit", neverOutlive);
  const exited = new Promise((r) => child.once("exit", r));
  const stop = async () => {
    signal("SIGINT");
    const killed = setTimeout(() => signal("SIGKILL"), 5_000);
    await exited;
    clearTimeout(killed);
    signal("SIGKILL"); // anything of the group still left (wrangler's workerd)
    process.removeListener("exit", neverOutlive);
  };
  const until = Date.now() + startMs;
  while (Date.now() < until && child.exitCode === null) {
    const up = await fetch(readyUrl).then(() => true, () => false);
    if (up) return { stop, output: () => output };
    await sleep(250);
  }
  await stop();
  throw new Error(`${command} did not answer ${readyUrl} within ${startMs} ms; it printed:\n${output}`);
}

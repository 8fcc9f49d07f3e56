// The test stack, over plain HTTP: the api workers, the Clerk and Stripe stand-ins
// (started by scripts/test.sh), and loopback proxies the tests start and stop.
import http from "node:http";
import { randomBytes } from "node:crypto";

function env(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run these tests against the test stack (scripts/test.sh)`);
  return value;
}

/** The api worker with the shipped platform quotas (free: 5 calls a month). */
export const shipped = () => env("DREAM_API_URL");
/** The api worker with platform quotas raised, so that only end-user limits apply. */
export const raised = () => env("DREAM_API_RAISED_URL");

let registered = 0;

/**
 * A new platform on the worker at `baseUrl`, as a developer registers one: its id and
 * key. Each comes from its own client address (an IPv6 /64 of the documentation range),
 * so the 5-per-hour registration limit never couples tests.
 */
export async function register(baseUrl) {
  const client = `2001:db8:${randomBytes(2).toString("hex")}:${(++registered).toString(16)}::1`;
  const res = await fetch(`${baseUrl}/v1/developers`, {
    method: "POST",
    headers: { "content-type": "application/json", "cf-connecting-ip": client },
    body: JSON.stringify({ email: "sdk@example.com", name: "SDK test app" }),
  });
  const body = await res.json();
  if (res.status !== 201) throw new Error(`registration answered ${res.status}: ${JSON.stringify(body)}`);
  return body;
}

async function clerk(method, path, body) {
  const res = await fetch(`${env("DREAM_CLERK_URL")}${path}`, {
    method,
    headers: { authorization: `Bearer ${env("DREAM_CLERK_SECRET_KEY")}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`Clerk stand-in ${path}: ${res.status}`);
  return res.json();
}

/** A signed-in end-user of `platformId`: their Clerk user id and a session token. */
export async function endUserOf(platformId) {
  const user = await clerk("POST", "/v1/users", { email_address: [`end-user-${randomBytes(6).toString("hex")}@example.com`] });
  await clerk("PATCH", `/v1/users/${user.id}/metadata`, { public_metadata: { platformId } });
  const session = await clerk("POST", "/dev/sessions", { user_id: user.id, azp: "http://127.0.0.1:8790", expires_in_seconds: 120 });
  return { userId: user.id, token: session.jwt };
}

/** Presses "Pay" on a Stripe stand-in checkout page. */
export async function pay(checkoutUrl) {
  const res = await fetch(checkoutUrl, { method: "POST", redirect: "manual" });
  if (res.status !== 303) throw new Error(`Pay answered ${res.status}`);
}

/** Polls `read` until `done(value)`, for at most `ms`; returns the last value. */
export async function eventually(read, done, ms = 15_000) {
  const until = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > until) return value;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A closed loopback port: listened on, then let go. */
export async function closedPort() {
  const server = http.createServer();
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address();
  await new Promise((r) => server.close(r));
  return port;
}

/**
 * A loopback HTTP server in front of `upstream`. For the n-th request (from 0) it
 * calls `script(n, forward, req, res)`; `forward()` sends the request on and returns
 * the upstream answer `{ status, headers, text }` without answering the client.
 * Records every request as `{ method, path, body }`.
 */
export async function proxy(upstream, script) {
  const requests = [];
  const server = http.createServer(async (req, res) => {
    let body = "";
    for await (const chunk of req) body += chunk;
    const n = requests.push({ method: req.method, path: req.url, body, authorization: req.headers.authorization }) - 1;
    const forward = async () => {
      const answer = await fetch(`${upstream}${req.url}`, {
        method: req.method,
        headers: { authorization: req.headers.authorization ?? "", "content-type": "application/json" },
        body: req.method === "GET" ? undefined : body,
      });
      return { status: answer.status, headers: Object.fromEntries(answer.headers), text: await answer.text() };
    };
    await script(n, forward, req, res);
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    requests,
    close: () => {
      server.closeAllConnections();
      return new Promise((r) => server.close(r));
    },
  };
}

/** Answers as upstream did. */
export function relay(res, answer) {
  res.writeHead(answer.status, { "content-type": "application/json", "x-request-id": answer.headers["x-request-id"] ?? "" });
  res.end(answer.text);
}

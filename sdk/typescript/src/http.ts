// One request to dream-api, retried when that is safe: the only place that talks to
// the network. Uses nothing but what every runtime has (fetch, AbortSignal.timeout,
// setTimeout), so it runs unchanged on Node, Workers, Deno, Bun and in browsers.

/** The part of `fetch` the client uses; the platform's `fetch` fits it. */
export type FetchLike = (
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string; signal?: AbortSignal },
) => Promise<{ status: number; headers: { get(name: string): string | null }; text(): Promise<string> }>;

/**
 * Every failure the client reports. `status` is the HTTP status, or `0` when no answer
 * came back (`code` is then `"network_error"` or `"timeout"`); `code` is the contract's
 * error code; `requestId` is the answer's `X-Request-Id`, to quote when asking for help.
 */
export class DreamApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly requestId: string | null;
  /** The seconds the server asked to wait before trying again (`Retry-After`), if it did. */
  readonly retryAfterSeconds?: number;

  constructor(status: number, code: string, message: string, requestId: string | null = null, retryAfterSeconds?: number) {
    super(message);
    this.name = "DreamApiError";
    this.status = status;
    this.code = code;
    this.requestId = requestId;
    if (retryAfterSeconds !== undefined) this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** An answer that came back: its status, `X-Request-Id`, `Retry-After` and JSON body. */
export interface Reply {
  status: number;
  requestId: string | null;
  retryAfterSeconds?: number;
  body: any;
}

export interface Transport {
  baseUrl: string;
  fetch: FetchLike;
  timeoutMs: number;
  maxRetries: number;
  /** The bearer credential, asked for before every attempt (a session token may have been refreshed). */
  credential: () => Promise<string | null | undefined>;
}

/** The longest `Retry-After` waited for; a longer one ends the retries at once. */
const MAX_RETRY_AFTER_SECONDS = 60;
const BASE_DELAY_MS = 200;
const MAX_DELAY_MS = 5000;

/**
 * Sends `method path` with `body` (already JSON) and returns the answer. Connection
 * errors, timeouts and `5xx` are retried up to `retries` times, as is a `429` unless
 * `final429` (a track's `429` is the end-user's rate limit: an answer, not a fault).
 * The same `body` goes out on every attempt, so a track's idempotency key is reused.
 * Throws a `DreamApiError` with `status: 0` when the last attempt got no answer.
 */
export async function send(t: Transport, method: string, path: string, body: string | undefined, retries: number, final429 = false): Promise<Reply> {
  for (let attempt = 0; ; attempt++) {
    let reply: Reply;
    try {
      reply = await once(t, method, path, body);
    } catch (e) {
      const timeout = (e as Error)?.name === "TimeoutError";
      const error = new DreamApiError(0, timeout ? "timeout" : "network_error",
        timeout ? `No answer from dream-api within ${t.timeoutMs} ms.` : `Could not reach dream-api: ${(e as Error)?.message ?? e}`);
      if (attempt >= retries) throw error;
      await sleep(backoff(attempt));
      continue;
    }
    const { status, retryAfterSeconds: wait = 0 } = reply;
    const retryable = status >= 500 || (status === 429 && !final429);
    if (!retryable || attempt >= retries || wait > MAX_RETRY_AFTER_SECONDS) return reply;
    await sleep(Math.max(wait * 1000, backoff(attempt)));
  }
}

async function once(t: Transport, method: string, path: string, body: string | undefined): Promise<Reply> {
  const headers: Record<string, string> = { accept: "application/json" };
  const credential = await t.credential();
  if (credential) headers.authorization = `Bearer ${credential}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await t.fetch(t.baseUrl + path, { method, headers, body, signal: AbortSignal.timeout(t.timeoutMs) });
  const text = await res.text();
  let parsed: any;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // Not JSON (a proxy's error page): the status decides what it was.
  }
  const reply: Reply = { status: res.status, requestId: res.headers.get("x-request-id"), body: parsed };
  const after = retryAfter(res.headers.get("retry-after"));
  if (after !== undefined) reply.retryAfterSeconds = after;
  return reply;
}

/** `Retry-After` as seconds: a number of seconds or an HTTP date. */
function retryAfter(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  const value = Number.isFinite(seconds) ? seconds : (Date.parse(header) - Date.now()) / 1000;
  return Number.isFinite(value) ? Math.max(0, Math.ceil(value)) : undefined;
}

/** The error an answer that is not a success stands for. */
export function failure(reply: Reply): DreamApiError {
  const error = reply.body?.error;
  const code = typeof error?.code === "string" ? error.code : reply.status >= 500 ? "internal" : "invalid_response";
  const message = typeof error?.message === "string" ? error.message : `dream-api answered HTTP ${reply.status}.`;
  return new DreamApiError(reply.status, code, message, reply.requestId, reply.retryAfterSeconds);
}

/** Exponential backoff with jitter: half the step plus up to half again, so clients spread out. */
function backoff(attempt: number): number {
  const step = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** attempt);
  return step / 2 + Math.random() * (step / 2);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

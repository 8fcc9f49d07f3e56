// A Hono app on Cloudflare Workers whose API (every route under /api/) is metered per
// end-user with @dream-api/client: a middleware tracks the call for the end-user named
// in X-User-Id before the route runs, and answers the refusal itself when dream-api
// says no.
import { Hono, type Context } from "hono";
import { DreamApi, DreamApiError, type TrackResult } from "@dream-api/client";

type Bindings = {
  DREAM_API_URL: string;
  DREAM_API_KEY: string;
  DREAM_FAIL_OPEN?: string;
};

type Denied = Extract<TrackResult, { allowed: false }>;

// One client per isolate: the bindings do not change while it lives.
let dream: DreamApi | undefined;
function client(env: Bindings): DreamApi {
  dream ??= new DreamApi({
    apiKey: env.DREAM_API_KEY,
    baseUrl: env.DREAM_API_URL,
    // With failOpen, a track that gets no answer from dream-api after the client's
    // retries lets the call through uncounted ({ allowed: true, degraded: true }), so an
    // outage never blocks your users; without it (the default) track throws and onError
    // below answers 503.
    failOpen: env.DREAM_FAIL_OPEN === "true",
  });
  return dream;
}

const app = new Hono<{ Bindings: Bindings }>();

app.get("/", (c) => c.json({ ok: true, metered: "/api/*" }));

app.use("/api/*", async (c, next) => {
  const userId = c.req.header("X-User-Id");
  if (!userId) return c.json({ error: "missing_user", message: "Name the end-user in the X-User-Id header." }, 400);
  const result = await client(c.env).track(userId);
  if (!result.allowed) return refuse(c, result);
  if (result.degraded) {
    c.header("X-Metering", "degraded");
  } else {
    c.header("X-Plan", result.plan);
    c.header("X-Usage-Remaining", result.usage.remaining === null ? "unlimited" : String(result.usage.remaining));
  }
  await next();
});

app.get("/api/fortune", (c) => {
  const fortunes = ["You will ship on Friday.", "A green build is in your future.", "Your cache will be warm."];
  return c.json({ fortune: fortunes[Math.floor(Math.random() * fortunes.length)] });
});

function refuse(c: Context, denied: Denied): Response {
  if (denied.reason === "tier_limit_reached") {
    // Where you sell the next tier: client(c.env).checkout({ userId, tier, successUrl,
    // cancelUrl }) makes a Stripe Checkout page to send the end-user to.
    const limit = denied.usage?.limit;
    return c.json({ error: denied.reason, message: `Your plan's ${limit} calls this month are used up; upgrade to continue.`, usage: denied.usage }, 402);
  }
  if (denied.reason === "rate_limited") {
    const wait = denied.retryAfterSeconds ?? 60;
    return c.json({ error: denied.reason, message: `Slow down: try again in ${wait} seconds.` }, 429, { "Retry-After": String(wait) });
  }
  // platform_quota_reached: the app's own dream-api plan is used up, not the end-user's.
  return c.json({ error: denied.reason, message: "The API is unavailable for now; please try later." }, 503);
}

app.onError((error, c) => {
  if (!(error instanceof DreamApiError)) {
    console.error(error);
    return c.json({ error: "internal_error", message: "Something went wrong." }, 500);
  }
  console.error(`dream-api: ${error.code} (${error.status}) ${error.message} request ${error.requestId ?? "-"}`);
  return c.json({ error: "metering_unavailable", message: "The API is unavailable for now; please try later." }, 503);
});

export default app;

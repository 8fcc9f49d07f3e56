// An Express server whose one metered route, GET /quote, asks dream-api before it
// answers: the end-user named in the X-User-Id header gets a quote while their tier
// allows, and a refusal that says what to do once it does not.
import express from "express";
import { DreamApi, DreamApiError } from "@dream-api/client";

const apiKey = process.env.DREAM_API_KEY;
if (!apiKey) {
  console.error("Set DREAM_API_KEY to your platform's key (pk_live_…).");
  process.exit(1);
}

const dream = new DreamApi({
  apiKey,
  baseUrl: process.env.DREAM_API_URL ?? "http://127.0.0.1:8787",
  // failOpen decides what happens when dream-api cannot be reached (after the client's
  // own retries). false, the default, fails closed: track throws a DreamApiError and
  // the route below answers 503. true lets the call through, uncounted, as
  // { allowed: true, degraded: true }: an outage never blocks your users, at the price
  // of free calls while it lasts. Here DREAM_FAIL_OPEN=1 turns it on.
  failOpen: process.env.DREAM_FAIL_OPEN === "1",
});

const QUOTES = [
  "Simplicity is prerequisite for reliability. (Edsger W. Dijkstra)",
  "Make it work, make it right, make it fast. (Kent Beck)",
  "The best error message is the one that never shows up. (Thomas Fuchs)",
];

const app = express();

app.get("/quote", async (req, res) => {
  const userId = req.get("x-user-id");
  if (!userId) {
    return res.status(400).json({ error: "missing_user", message: "Name the end-user in the X-User-Id header." });
  }

  const result = await dream.track(userId);

  if (result.allowed && result.degraded) {
    // dream-api was unreachable and the client fails open: serve, but say it was not counted.
    res.set("X-Metering", "degraded");
    return res.json({ quote: pick(), remaining: null });
  }
  if (result.allowed) {
    return res.json({ quote: pick(), plan: result.plan, remaining: result.usage.remaining });
  }

  switch (result.reason) {
    case "tier_limit_reached":
      // The end-user's tier is used up this month: this is where you sell the next one
      // (dream.checkout({ userId, tier: "pro", successUrl, cancelUrl }) gives a Stripe page).
      return res.status(402).json({
        error: "tier_limit_reached",
        message: `You have used all ${result.usage?.limit} quotes of your plan this month. Upgrade for more.`,
        usage: result.usage,
      });
    case "rate_limited":
      res.set("Retry-After", String(result.retryAfterSeconds ?? 60));
      return res.status(429).json({
        error: "rate_limited",
        message: `Too many quotes at once; try again in ${result.retryAfterSeconds ?? 60} seconds.`,
      });
    default:
      // platform_quota_reached: this app's own dream-api plan is used up, not the end-user's.
      return res.status(503).json({ error: result.reason, message: "Quotes are unavailable for now; please try later." });
  }
});

// Errors thrown by track (dream-api unreachable while failing closed, a refused key).
app.use((err, req, res, next) => {
  if (!(err instanceof DreamApiError)) return next(err);
  console.error(`dream-api: ${err.code} (${err.status}) ${err.message} request ${err.requestId ?? "-"}`);
  res.status(503).json({ error: "metering_unavailable", message: "Quotes are unavailable for now; please try later." });
});

function pick() {
  return QUOTES[Math.floor(Math.random() * QUOTES.length)];
}

const server = app.listen(Number(process.env.PORT ?? 3000), process.env.HOST ?? "127.0.0.1", (error) => {
  if (error) throw error; // the port is taken, say
  const { address, port } = server.address();
  console.log(`listening on http://${address}:${port}`);
});

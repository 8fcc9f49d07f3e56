// The cheapest thing the runtime can do: a JavaScript worker answering a fixed JSON
// body (GET /). bench/run.sh's targets for a track are ratios to it.
//
// GET /answer answers, from the same worker, what an allowed track answers: the same
// headers (the contract's, the security headers, Cache-Control and CORS's Vary) and a
// body of the same shape, all fixed. So js answer/js is what the runtime charges for
// the answer itself, whoever makes it, and track/js answer what making it costs beyond
// that. bench/run.sh checks before measuring that the header names and the body's
// fields are still a track's.
const TRACK_BODY = JSON.stringify({
  allowed: true,
  plan: "free",
  preview: true,
  usage: {
    count: 1,
    limit: null,
    periodEnd: "2027-01-01T00:00:00Z",
    periodStart: "2026-12-01T00:00:00Z",
    remaining: null,
    resetsAt: "2027-01-01T00:00:00Z",
  },
  userId: "bench-user-000",
});
const TRACK_HEADERS = {
  "Content-Type": "application/json",
  "Cache-Control": "no-store",
  "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
  "Referrer-Policy": "no-referrer",
  "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
  "X-Content-Type-Options": "nosniff",
  Vary: "Origin",
  RateLimit: '"default";r=999999999;t=60',
  "RateLimit-Policy": '"default";q=1000000000;w=60',
  "RateLimit-Limit": "1000000000",
  "RateLimit-Remaining": "999999999",
  "RateLimit-Reset": "60",
  "X-Request-Id": "req_0123456789abcdef01234567",
};

export default {
  fetch(request) {
    if (request.url.endsWith("/answer")) {
      return new Response(TRACK_BODY, { headers: TRACK_HEADERS });
    }
    return Response.json({ ok: true });
  },
};

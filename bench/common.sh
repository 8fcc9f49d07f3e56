# Sourced by the benchmarks (bench/*.sh): how each of them sets up a platform whose
# tracks only the measured code can slow down.

# The api worker's variables under which no limit refuses a track: no platform quota on
# either plan, and a rate limit no benchmark reaches.
BENCH_UNLIMITED_VARS=(--var 'PLATFORM_TIERS:{"free":{"limit":null},"paid":{"limit":null}}'
  --var RATE_LIMIT_PER_MINUTE:1000000000)

# A platform's tiers (PUT /v1/tiers) with its one tier unlimited: a new platform's free
# tier allows each end-user 100 calls per period, and a benchmark makes more.
BENCH_UNLIMITED_TIERS='{"tiers":[{"id":"free","name":"Free","priceCents":0,"limit":null}]}'

# bench_platform URL EMAIL: registers a platform on the api worker at URL, makes its one
# tier unlimited and prints its API key; says what failed otherwise.
bench_platform() {
  local url=$1 email=$2 key
  key=$(curl -sS -X POST "$url/v1/developers" -H 'Content-Type: application/json' \
    -H 'CF-Connecting-IP: 10.0.0.1' --data "{\"email\":\"$email\"}" | jq -er .apiKey) \
    || { echo "registering a platform on $url failed" >&2; return 1; }
  curl -sSf -o /dev/null -X PUT "$url/v1/tiers" -H "Authorization: Bearer $key" \
    -H 'Content-Type: application/json' --data "$BENCH_UNLIMITED_TIERS" \
    || { echo "PUT /v1/tiers on $url failed" >&2; return 1; }
  echo "$key"
}

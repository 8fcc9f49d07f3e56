#!/usr/bin/env bash
# Fuzzes each worker against its own OpenAPI document with schemathesis (every check,
# every phase, a bounded number of cases): what the document promises is what a client
# generated from it (the SDKs' types) will expect. Runs against the test stack that
# scripts/test.sh starts (its DREAM_* addresses), as a developer with a platform and a
# signed-in dashboard user. What is left out, and why, is in schemathesis.toml beside
# this script.
set -euo pipefail
source "$(dirname "$0")/../../scripts/env.sh"
cd "$DREAM_ROOT/tests/fuzz"

post() { # post URL JSON [curl args…] → the answer's body
  local url=$1 body=$2; shift 2
  curl -sf -X POST "$url" -H 'Content-Type: application/json' -d "$body" "$@"
}

# A platform on the api worker with raised quotas, registered from an address of its own.
api_key=$(post "$DREAM_API_RAISED_URL/v1/developers" '{"email": "fuzz@example.com", "name": "Fuzz"}' \
  -H 'CF-Connecting-IP: 198.51.100.250' | jq -r .apiKey)
# A developer signed in to the dashboard, with credentials (so their routes answer 200).
clerk_user=$(post "$DREAM_CLERK_URL/v1/users" '{"email_address": ["fuzz-developer@example.com"]}' \
  -H "Authorization: Bearer $DREAM_CLERK_SECRET_KEY" | jq -r .id)
session=$(post "$DREAM_CLERK_URL/dev/sessions" \
  "{\"user_id\": \"$clerk_user\", \"azp\": \"http://127.0.0.1:8790\", \"expires_in_seconds\": 3600}" | jq -r .jwt)
post "$DREAM_PLATFORM_AUTH_URL/v1/credentials" '{}' -H "Authorization: Bearer $session" >/dev/null

status=0
# fuzz NAME URL CREDENTIAL [schemathesis options…]
fuzz() {
  local name=$1 url=$2 credential=$3; shift 3
  echo "==> schemathesis: $name ($url/openapi.json) $*"
  "$SCHEMATHESIS_BIN" --config-file schemathesis.toml run "$url/openapi.json" --url "$url" \
    -H "Authorization: Bearer $credential" --seed 1 --no-color \
    --max-examples "${FUZZ_EXAMPLES:-25}" --report junit \
    --report-dir "${FUZZ_REPORTS:-$DREAM_ROOT/target/fuzz}/$name" "$@" || status=1
}
# A rotation (graceSeconds 0) ends the key the api run uses, and every later call would
# be a 401 that tests nothing: the rotation goes last, in a run of its own. The
# dashboard's backends allow a developer 100 calls a minute: they are fuzzed below it.
fuzz api "$DREAM_API_RAISED_URL" "$api_key" --exclude-name 'POST /v1/keys/rotate'
fuzz api-rotation "$DREAM_API_RAISED_URL" "$api_key" --include-name 'POST /v1/keys/rotate'
fuzz platform-auth "$DREAM_PLATFORM_AUTH_URL" "$session" --rate-limit 90/m
fuzz stripe-oauth "$DREAM_STRIPE_OAUTH_URL" "$session" --rate-limit 90/m
exit $status

#!/usr/bin/env bash
# Runs the local stack, set-up included: the dashboard on http://127.0.0.1:8790 (under
# `wrangler pages dev`), the api worker (with the objects worker in the same session),
# the dashboard's backend (platform-auth) and Stripe Connect (stripe-oauth) under
# `wrangler dev` on http://127.0.0.1:8787, :8788 and :8789, sharing their KV and Durable
# Object state in .wrangler/state, and the Clerk and Stripe stand-ins on 127.0.0.1:8791
# and :8792. Ctrl-C stops everything.
set -euo pipefail
source "$(dirname "$0")/env.sh"
source "$(dirname "$0")/workers.sh"
cd "$DREAM_ROOT"

bash scripts/setup.sh
bash scripts/build.sh
cargo build --quiet -p dream-standins

export DREAM_LOGS="$DREAM_ROOT/.wrangler/logs"
# The stack's own registry of local workers (where script-name bindings find the objects
# worker), apart from any test stack or benchmark running on this machine.
export WRANGLER_REGISTRY_PATH="$DREAM_ROOT/.wrangler/registry"
trap stop_workers EXIT
trap 'exit 130' INT TERM
# Local secrets and addresses wire the workers to the stand-ins and the local dashboard
# (the wrangler.toml files hold no local value), and let webhook endpoints be loopback
# addresses (a receiver on this machine); wrangler reads .dev.vars (generated here at
# every start, git-ignored).
cat >.dev.vars <<VARS
ALLOWED_ORIGINS=http://127.0.0.1:8790,http://localhost:8790
DASHBOARD_URL=http://127.0.0.1:8790
CLERK_SECRET_KEY=sk_test_dream_standin
CLERK_API_URL=http://127.0.0.1:8791
CLERK_AUTHORIZED_PARTIES=http://127.0.0.1:8790,http://localhost:8790
STRIPE_SECRET_KEY=sk_test_dream_standin
STRIPE_WEBHOOK_SECRET=whsec_dream_standin
STRIPE_API_BASE=http://127.0.0.1:8792
STRIPE_PRICE_ID=price_dream_platform
STRIPE_CONNECT_BASE=http://127.0.0.1:8792
STRIPE_CLIENT_ID=ca_dream_standin
TOKEN_ENCRYPTION_KEY=$(dev_encryption_key)
ALLOW_LOOPBACK_WEBHOOKS=true
VARS
cp .dev.vars workers/platform-auth/.dev.vars
cp .dev.vars workers/stripe-oauth/.dev.vars
# The api worker and its objects worker: their configs and the same variables in
# .wrangler/config (scripts/local-config.py).
vars=()
while IFS= read -r line; do vars+=(--var "${line/=/:}"); done <.dev.vars
local_config "$DREAM_ROOT/.wrangler/config" "${vars[@]}"
start_standins standins 8791 8792 --price price_dream_platform:2900 --state "$DREAM_ROOT/.wrangler/standins" \
  --receiver 127.0.0.1:8793 --webhook http://127.0.0.1:8788/webhooks/stripe --webhook http://127.0.0.1:8787/webhooks/stripe
start_api api 8787 "$DREAM_ROOT/.wrangler/state" "$DREAM_ROOT/.wrangler/config"
start_worker platform-auth 8788 "$DREAM_ROOT/.wrangler/state" -c workers/platform-auth/wrangler.toml
start_worker stripe-oauth 8789 "$DREAM_ROOT/.wrangler/state" -c workers/stripe-oauth/wrangler.toml
# The dashboard finds its backends and the sign-in page in /config.json (generated, like
# .dev.vars).
write_dashboard_config frontend/dist http://127.0.0.1:8787 http://127.0.0.1:8788 http://127.0.0.1:8789 \
  http://127.0.0.1:8791/sign-in
start_pages dashboard 8790 frontend/dist

cat <<MSG

dream-api is running.
  dashboard        http://127.0.0.1:8790   (open this: sign in with any email)
  API reference    http://127.0.0.1:8790/docs/   (the three workers' OpenAPI documents)
  api worker       http://127.0.0.1:8787   (OpenAPI: http://127.0.0.1:8787/openapi.json)
  platform-auth    http://127.0.0.1:8788   (the dashboard's backend; OpenAPI at /openapi.json)
  stripe-oauth     http://127.0.0.1:8789   (Stripe Connect; OpenAPI at /openapi.json)
  Clerk stand-in   http://127.0.0.1:8791   (dev sign-in page: http://127.0.0.1:8791/sign-in)
  Stripe stand-in  http://127.0.0.1:8792
  webhook receiver http://127.0.0.1:8793   (stands in for your server: see "Webhooks" below)
  logs             $DREAM_LOGS/

Try it:
  curl -s -X POST http://127.0.0.1:8787/v1/developers \\
       -H 'Content-Type: application/json' -d '{"email":"you@example.com"}'

Webhooks: add an endpoint such as http://127.0.0.1:8793/my-app (a key from above in KEY),
send it a test message, and see what arrived, signed, at the receiver:
  curl -s -X POST http://127.0.0.1:8787/v1/webhooks -H "Authorization: Bearer \$KEY" \\
       -H 'Content-Type: application/json' -d '{"url":"http://127.0.0.1:8793/my-app"}'
  curl -s -X POST http://127.0.0.1:8787/v1/webhooks/ENDPOINT_ID/test -H "Authorization: Bearer \$KEY"
  curl -s http://127.0.0.1:8793/dev/received/my-app

Ctrl-C stops the stack; state stays in .wrangler/state (delete it to start afresh).
MSG
# Follow the logs until the dashboard (started last) exits, or Ctrl-C, which the traps
# turn into a stop.
tail -n 0 -F --pid="${DREAM_PIDS[-1]}" "$DREAM_LOGS/api.log" "$DREAM_LOGS/platform-auth.log" \
  "$DREAM_LOGS/stripe-oauth.log" "$DREAM_LOGS/dashboard.log"

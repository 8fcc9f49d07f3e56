#!/usr/bin/env bash
# Runs every check and test, from a fresh machine if need be: set-up, formatting,
# clippy, unit and property tests, the stand-ins' fidelity tests with the official
# SDKs (Node), the wasm build, the end-to-end tests against the real workers under
# `wrangler dev`, and the dashboard in headless Chromium against the same workers
# (everything started here, stopped by PID).
set -euo pipefail
source "$(dirname "$0")/env.sh"
source "$(dirname "$0")/workers.sh"
cd "$DREAM_ROOT"
# The test stacks get exactly the variables passed below, never the .dev.vars that
# scripts/dev.sh writes for the local stack (it allows loopback webhook endpoints, for
# one, which a test checks the production rule refuses).
export DREAM_ENV_FILE=/dev/null
# One run of everything gains nothing from incremental compilation's caches (1.7 GB of
# the target directory when they were kept); a machine with little disk needs the room.
export CARGO_INCREMENTAL=0

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

bash scripts/setup.sh

# The builds below write about 3 GB to target/ on a first run (native debug, wasm32 debug
# and release). Said up front, so that a full disk is not first seen as a compiler error.
free_mb=$(df -Pm "$DREAM_ROOT" | awk 'NR == 2 { print $4 }')
if (( free_mb < 4000 )); then
  echo "warning: ${free_mb} MB free on the disk holding $DREAM_ROOT; a first run's builds need about 3 000 MB" >&2
fi

step "cargo fmt --check"
cargo fmt --all --check

step "structure: no source file over 700 lines, no import cycle in a crate"
python3 scripts/structure.py

step "cargo clippy -D warnings (native and wasm32)"
cargo clippy --workspace --all-targets --quiet -- -D warnings
cargo clippy -p dream-edge -p dream-api-worker -p dream-objects-worker -p dream-platform-auth -p dream-stripe-oauth -p dream-dashboard -p dream-bench-baseline -p dream-api-client --target wasm32-unknown-unknown --quiet -- -D warnings

step "unit and property tests"
cargo test --workspace --exclude dream-e2e --quiet

cargo build -p dream-standins -p dream-api-example-axum --quiet
step "build the workers"
bash scripts/build.sh
cargo build --target wasm32-unknown-unknown -p dream-api-client --quiet

step "deploy dry run: both environments' configuration, secrets and bundles, no account, no network"
# The build above, checked as a first deploy would be (tests/deploy/dry-run.env holds
# stand-in secrets); then the cases where a secret, a binding or a var is missing, and a
# whole deploy against a stand-in for wrangler.
for env in staging production; do
  bash scripts/deploy.sh --dry-run --no-build --first-deploy --env "$env" --secrets tests/deploy/dry-run.env >/dev/null
done
bash tests/deploy/dry_run.sh
bash tests/deploy/stubbed_deploy.sh

step "end-to-end tests"
run_dir=$(mktemp -d)
export DREAM_LOGS="$run_dir/logs"
# The stack's own registry of local workers, where the script-name bindings find the
# objects worker: another stack on this machine (scripts/dev.sh, a benchmark) never
# answers for it.
export WRANGLER_REGISTRY_PATH="$run_dir/registry"
trap 'stop_workers; rm -rf "$run_dir"' EXIT
# Every Stripe event reaches every worker that takes them; each applies only its own.
# Stripe delivers each event twice and newest first; Clerk rotates its signing key once,
# after the 12th session token, so the run sees a rotation in its midst. The webhook
# receiver on 18797 stands in for developers' servers.
start_standins standins 18795 18796 --price price_dream_platform:2900 --deliver-twice --out-of-order \
  --receiver 127.0.0.1:18797 --rotate-keys-after-tokens 12 --webhook http://127.0.0.1:18789/webhooks/stripe --webhook http://127.0.0.1:18787/webhooks/stripe \
  --webhook http://127.0.0.1:18788/webhooks/stripe
token_key=$(head -c 32 /dev/urandom | base64)
# The dashboard the browser tests drive is served on 18780; the end-to-end tests speak
# as the local dashboard's origin (8790). Both must be let in, by CORS and by Clerk.
dashboard=http://127.0.0.1:18780
origins=(--var "ALLOWED_ORIGINS:http://127.0.0.1:8790,$dashboard")
clerk=(--var CLERK_API_URL:http://127.0.0.1:18795 --var CLERK_SECRET_KEY:sk_test_dream_standin
  --var "CLERK_AUTHORIZED_PARTIES:http://127.0.0.1:8790,$dashboard")
# Two webhook secrets, as Stripe gives the platform's endpoint and the Connect endpoint
# each their own: the stand-in signs with the second.
stripe=(--var STRIPE_SECRET_KEY:sk_test_dream_standin
  --var STRIPE_WEBHOOK_SECRET:whsec_dream_connect_e2e,whsec_dream_standin
  --var STRIPE_API_BASE:http://127.0.0.1:18796 --var STRIPE_CONNECT_BASE:http://127.0.0.1:18796
  --var STRIPE_CLIENT_ID:ca_dream_standin --var "TOKEN_ENCRYPTION_KEY:$token_key"
  --var STRIPE_PRICE_ID:price_dream_platform)
# Webhook endpoints may be loopback addresses on the default api worker and the
# dashboard's backend, as in local development; the raised worker keeps the production
# rule, so both sides of ALLOW_LOOPBACK_WEBHOOKS are tested. The platforms' objects
# live in the default api worker's objects worker, which retries a failed delivery after
# 1 s, 1 s and 1 s. The api worker's log keeps each request's JSON line (console.log),
# which a test reads. Each api worker runs with its objects worker in one session
# (scripts/local-config.py writes the pair's configs and variables).
loopback=(--var ALLOW_LOOPBACK_WEBHOOKS:true)
local_config "$run_dir/default-config" "${origins[@]}" "${clerk[@]}" "${stripe[@]}" "${loopback[@]}" \
  --var WEBHOOK_RETRY_SCHEDULE:1,1,1
start_api api-default 18787 "$run_dir/default" "$run_dir/default-config" --log-level=log
# Named apart (dream-api-raised, dream-objects-raised), so that the other workers'
# script-name bindings find the default pair's objects.
local_config "$run_dir/raised-config" --suffix=-raised "${origins[@]}" "${clerk[@]}" "${stripe[@]}" \
  --var 'PLATFORM_TIERS:{"free": {"limit": null}, "paid": {"limit": null}}'
start_api api-raised 18788 "$run_dir/raised" "$run_dir/raised-config" --log-level=warn
# The dashboard's backend and Stripe Connect share the default pair's state (KV,
# Durable Objects), and send the browser back to the dashboard the browser tests drive
# (after checkout, after Connect).
start_worker platform-auth 18789 "$run_dir/default" -c workers/platform-auth/wrangler.toml \
  --log-level=log "${origins[@]}" "${clerk[@]}" "${stripe[@]}" --var "DASHBOARD_URL:$dashboard" \
  "${loopback[@]}"
start_worker stripe-oauth 18790 "$run_dir/default" -c workers/stripe-oauth/wrangler.toml \
  --log-level=log "${origins[@]}" "${clerk[@]}" "${stripe[@]}" --var "DASHBOARD_URL:$dashboard"
export DREAM_API_URL=http://127.0.0.1:18787 DREAM_API_RAISED_URL=http://127.0.0.1:18788
export DREAM_PLATFORM_AUTH_URL=http://127.0.0.1:18789 DREAM_STRIPE_WEBHOOK_SECRET=whsec_dream_standin
export DREAM_STRIPE_CONNECT_WEBHOOK_SECRET=whsec_dream_connect_e2e
export DREAM_STRIPE_OAUTH_URL=http://127.0.0.1:18790 DREAM_STRIPE_URL=http://127.0.0.1:18796
export DREAM_TOKEN_ENCRYPTION_KEY="$token_key" DREAM_STATE_DIR="$run_dir/default"
export DREAM_CLERK_URL=http://127.0.0.1:18795 DREAM_CLERK_SECRET_KEY=sk_test_dream_standin
export DREAM_RECEIVER_URL=http://127.0.0.1:18797
fail() {
  echo "worker logs: $DREAM_LOGS" >&2
  tail -n 50 "$DREAM_LOGS"/*.log >&2
  exit 1
}
cargo test -p dream-e2e --quiet || fail

step "TypeScript SDK tests: @dream-api/client against the workers above"
# Built here (dist/ is not checked in), then its tests meter, retry and fail through
# proxies against the two api workers, the Clerk stand-in and the Stripe stand-in.
(cd sdk/typescript && npm ci --no-audit --no-fund --loglevel=error >/dev/null && npm run --silent build)
(cd sdk/typescript && node --test --test-reporter=dot test/*.test.mjs) || fail

step "schemathesis: each worker fuzzed against its own OpenAPI document"
FUZZ_REPORTS="$run_dir/fuzz" bash tests/fuzz/run.sh || fail

step "fidelity tests: the stand-ins and the worker against the official Stripe and Clerk SDKs"
(cd tests/fidelity && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
(cd tests/fidelity && STANDINS_BIN="$DREAM_ROOT/target/debug/dream-standins" node --test --test-reporter=dot) || fail

step "browser tests: the dashboard in headless Chromium against the workers above"
# A copy of the built dashboard, pointed at this stack by its generated config.json and
# served as Pages serves it; a copy, so that a local stack (scripts/dev.sh) serving
# frontend/dist keeps its own config.json meanwhile.
cp -R frontend/dist "$run_dir/dashboard"
write_dashboard_config "$run_dir/dashboard" http://127.0.0.1:18787 http://127.0.0.1:18789 http://127.0.0.1:18790 \
  http://127.0.0.1:18795/sign-in
start_pages dashboard 18780 "$run_dir/dashboard" --log-level=warn
artifacts="$DREAM_ROOT/target/browser-artifacts"
rm -rf "$artifacts" && mkdir -p "$artifacts"
(cd tests/browser && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
(cd tests/browser && DASHBOARD_URL="$dashboard" DREAM_API_URL=http://127.0.0.1:18787 DREAM_ARTIFACTS="$artifacts" \
  node --test --test-reporter=dot) || { echo "screenshots: $artifacts" >&2; fail; }
echo "screenshots: $artifacts"
step "examples: the Express server and the Hono worker metering with @dream-api/client, and the client in Chromium"
# Each example installs the client from sdk/typescript (built above) as an app would;
# the tests start each one on a free loopback port against the raised api worker, and
# load the client into a page of the dashboard's origin, which the api worker allows.
for dir in examples/express examples/hono-worker tests/examples; do
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
done
(cd tests/examples && DREAM_PAGE_ORIGIN="$dashboard" node --test --test-concurrency=1 --test-reporter=dot) || fail
step "all tests passed"

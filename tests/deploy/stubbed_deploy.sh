#!/usr/bin/env bash
# scripts/deploy.sh without --dry-run, against a stand-in for wrangler that answers as
# Cloudflare would for an account with nothing in it yet and records every call: the
# namespace and queues are created and the id written into the staging sections only,
# the objects worker is deployed before the workers that bind its objects, each secret
# reaches `wrangler secret put` on stdin (never as an argument), and the dashboard gets a
# config.json with the deployed addresses. Runs in a copy of what the script reads, like
# tests/deploy/dry_run.sh; no account, no network.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
FIXTURE="$ROOT/tests/deploy/dry-run.env"
KV_ID=0123456789abcdef0123456789abcdef
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
t="$tmp/tree" calls="$tmp/calls" state="$tmp/state"
mkdir -p "$t/scripts" "$t/tools" "$t/frontend" "$state"
cp "$ROOT/scripts/deploy.sh" "$ROOT/scripts/env.sh" "$ROOT/scripts/workers.sh" "$t/scripts/"
cp "$ROOT/Cargo.lock" "$ROOT/wrangler.toml" "$t/"
cp "$ROOT/tools/package-lock.json" "$ROOT/tools/fuzz-requirements.txt" "$t/tools/"
mkdir -p "$t/frontend/dist/docs/openapi"
for w in api platform-auth stripe-oauth; do
  mkdir -p "$t/workers/$w/src" "$t/frontend/dist/docs/$w"
  cp "$ROOT/workers/$w/src/openapi.json" "$t/workers/$w/src/"
  cp "$ROOT/workers/$w/src/openapi.json" "$t/frontend/dist/docs/openapi/$w.json"
  echo '<!doctype html>' >"$t/frontend/dist/docs/$w/index.html"
done
for w in objects platform-auth stripe-oauth; do
  mkdir -p "$t/workers/$w"
  cp "$ROOT/workers/$w/wrangler.toml" "$t/workers/$w/"
done
for file in index.html docs/index.html; do echo '<!doctype html>' >"$t/frontend/dist/$file"; done
echo wasm >"$t/frontend/dist/dashboard_bg.wasm"
echo 'export {};' >"$t/frontend/dist/dashboard.js"
echo 'export {};' >"$t/frontend/dist/start.js"

# The stand-in: one line per call in $calls; secrets' stdin in $state/secret-NAME-CONFIG.
cat >"$tmp/wrangler" <<STUB
#!/usr/bin/env bash
echo "\$*" >>"$calls"
config=wrangler.toml
for ((i = 1; i <= \$#; i++)); do [[ \${!i} == -c ]] && { j=\$((i + 1)); config=\${!j}; }; done
case "\$1 \$2" in
  "whoami "*) echo "You are logged in with an API Token." ;;
  "secret list") exit 1 ;;  # no such worker yet
  "kv namespace")
    case \$3 in
      list) if [[ -f "$state/kv" ]]; then echo '[{"id":"$KV_ID","title":"'"\$(cat "$state/kv")"'"}]'; else echo '[]'; fi ;;
      create) echo "\$4" >"$state/kv" ;;
    esac ;;
  "queues info") exit 1 ;;
  "queues create") ;;
  "deploy --dry-run") ;;
  "deploy --env") n=\$(basename "\$(dirname "\$config")"); [[ \$n == . ]] && n=api
    echo "Uploaded"; echo "  https://\$n-worker.acme.workers.dev" ;;
  "secret put") cat >"$state/secret-\$3-\$(echo "\$config" | tr / _)" ;;
  "pages project") ;;
  "pages deploy") cp "\$3/config.json" "$state/config.json"; cp "\$3/_headers" "$state/_headers" ;;
  *) echo "stand-in wrangler: unexpected: \$*" >&2; exit 2 ;;
esac
STUB
chmod +x "$tmp/wrangler"

OUT=$(cd "$t" && env -i HOME="$HOME" PATH="$PATH" ${DREAM_API_CACHE:+DREAM_API_CACHE="$DREAM_API_CACHE"} \
  WRANGLER="$tmp/wrangler" bash scripts/deploy.sh --env staging --no-build --secrets "$FIXTURE" </dev/null 2>&1)
RC=$?

passed=0 failed=0
check() {
  local name=$1
  shift
  if "$@"; then
    passed=$((passed + 1)); echo "ok   $name"
  else
    failed=$((failed + 1)); echo "FAIL $name"; echo "$OUT" | sed 's/^/     | /'; sed 's/^/     calls: /' "$calls"
  fi
}
line_of() { grep -n -F -- "$1" "$calls" | head -n 1 | cut -d: -f1; }
secret_of() { cat "$state/secret-$1-$(echo "$2" | tr / _)" 2>/dev/null; }
fixture() { grep "^$1=" "$FIXTURE" | cut -d= -f2- | tr -d '"'; }

check "a first deploy of staging succeeds against an empty account" eval '[[ $RC == 0 ]]'
check "it creates the staging KV namespace and both queues" \
  eval 'grep -qx "kv namespace create dream-api-tokens-staging" "$calls" &&
    grep -qx "queues create dream-webhooks-staging" "$calls" && grep -qx "queues create dream-webhooks-staging-dead" "$calls"'
check "the namespace id lands in the staging sections of the four configs, and nowhere else" \
  eval 'for f in wrangler.toml workers/objects/wrangler.toml workers/platform-auth/wrangler.toml workers/stripe-oauth/wrangler.toml; do
      [[ $(grep -c "id = \"$KV_ID\"" "$t/$f") == 1 ]] &&
      python3 -c "import sys, tomllib; c = tomllib.load(open(sys.argv[1], \"rb\"));
assert c[\"env\"][\"staging\"][\"kv_namespaces\"][0][\"id\"] == \"$KV_ID\", c
assert c[\"env\"][\"production\"][\"kv_namespaces\"][0][\"id\"].startswith(\"placeholder\")
assert c[\"kv_namespaces\"][0][\"id\"] == \"5d1d1b5e6a0f4c8f9b2a7c3e4d5f6a7b\"" "$t/$f" || return 1
    done'
check "the objects worker is deployed before the workers that bind its objects, and the dashboard last" \
  eval '(( $(line_of "deploy --env staging -c workers/objects/wrangler.toml") < $(line_of "deploy --env staging -c wrangler.toml") &&
    $(line_of "deploy --env staging -c wrangler.toml") < $(line_of "deploy --env staging -c workers/platform-auth/wrangler.toml") &&
    $(line_of "deploy --env staging -c workers/platform-auth/wrangler.toml") < $(line_of "deploy --env staging -c workers/stripe-oauth/wrangler.toml") &&
    $(line_of "deploy --env staging -c workers/stripe-oauth/wrangler.toml") < $(line_of "pages deploy") ))'
check "each worker's secrets reach wrangler on stdin, the worker-only one where it belongs" \
  eval '[[ $(secret_of TOKEN_ENCRYPTION_KEY wrangler.toml) == "$(fixture TOKEN_ENCRYPTION_KEY)" &&
    $(secret_of TOKEN_ENCRYPTION_KEY workers/objects/wrangler.toml) == "$(fixture TOKEN_ENCRYPTION_KEY)" &&
    $(secret_of STRIPE_WEBHOOK_SECRET wrangler.toml) == "$(fixture API_STRIPE_WEBHOOK_SECRET)" &&
    $(secret_of STRIPE_WEBHOOK_SECRET workers/platform-auth/wrangler.toml) == "$(fixture PLATFORM_AUTH_STRIPE_WEBHOOK_SECRET)" &&
    $(secret_of STRIPE_CLIENT_ID workers/stripe-oauth/wrangler.toml) == "$(fixture STRIPE_CLIENT_ID)" &&
    -z $(secret_of STRIPE_CLIENT_ID wrangler.toml) && $(grep -c "^secret put" "$calls") == 15 ]]'
check "no secret's value is in wrangler's arguments or the script's output" \
  eval 'for secret in CLERK_SECRET_KEY STRIPE_SECRET_KEY TOKEN_ENCRYPTION_KEY STRIPE_CLIENT_ID \
      API_STRIPE_WEBHOOK_SECRET PLATFORM_AUTH_STRIPE_WEBHOOK_SECRET; do
      for v in $(fixture $secret | tr , " "); do
        ! grep -qF -- "$v" "$calls" && ! grep -qF -- "$v" <<<"$OUT" || return 1
      done
    done'
check "the dashboard's config.json points at the deployed workers and Clerk" \
  eval '[[ $(jq -r ".apiUrl, .platformAuthUrl, .stripeOauthUrl, .auth.kind, .auth.frontendApi" "$state/config.json" | tr "\n" " ") == \
    "https://api-worker.acme.workers.dev https://platform-auth-worker.acme.workers.dev https://stripe-oauth-worker.acme.workers.dev clerk dry-run.clerk.accounts.dev " ]] &&
    grep -qE "^pages deploy [^ ]+ --project-name dream-dashboard --branch staging --commit-dirty=true$" "$calls"'
check "the dashboard goes out with a Content Security Policy that lets it reach the deployed workers and Clerk" \
  eval 'grep -qF "connect-src '"'"'self'"'"' https://api-worker.acme.workers.dev https://platform-auth-worker.acme.workers.dev https://stripe-oauth-worker.acme.workers.dev" "$state/_headers" &&
    grep -qF "frame-ancestors '"'"'none'"'"'" "$state/_headers" && grep -qF "https://dry-run.clerk.accounts.dev" "$state/_headers"'
check "it prints the webhook endpoints and the Connect redirect URI at the deployed addresses" \
  eval 'grep -qF "→ https://platform-auth-worker.acme.workers.dev/webhooks/stripe" <<<"$OUT" &&
    grep -qF "Events from connected accounts → https://api-worker.acme.workers.dev/webhooks/stripe" <<<"$OUT" &&
    grep -qF "https://stripe-oauth-worker.acme.workers.dev/v1/connect/callback" <<<"$OUT"'

echo "deploy against a stand-in wrangler: $passed passed, $failed failed"
((failed == 0))

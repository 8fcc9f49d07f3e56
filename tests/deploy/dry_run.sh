#!/usr/bin/env bash
# scripts/deploy.sh --dry-run: it passes with everything an environment needs, and fails
# naming the worker, what is missing and how to set it when a secret, a binding or a var
# is missing, never showing a secret's value. Each case runs the script in a copy of
# what it reads (the four wrangler.toml files, the script itself; the built workers and
# dashboard linked in), with only the environment given here, so nothing in the checkout
# changes and no value from the caller's shell leaks in. Needs scripts/build.sh's output;
# no account, no network.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
FIXTURE="$ROOT/tests/deploy/dry-run.env"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0

# tree NAME: a copy of what scripts/deploy.sh reads, in $tmp/NAME.
tree() {
  local t="$tmp/$1" w
  mkdir -p "$t/scripts" "$t/tools" "$t/frontend"
  cp "$ROOT/scripts/deploy.sh" "$ROOT/scripts/env.sh" "$ROOT/scripts/workers.sh" "$t/scripts/"
  cp "$ROOT/Cargo.lock" "$ROOT/wrangler.toml" "$t/"
  cp "$ROOT/tools/package-lock.json" "$ROOT/tools/fuzz-requirements.txt" "$t/tools/"
  for w in objects api platform-auth stripe-oauth; do
    mkdir -p "$t/workers/$w/src"
    ln -s "$ROOT/workers/$w/build" "$t/workers/$w/build"
    [[ $w == objects ]] || cp "$ROOT/workers/$w/src/openapi.json" "$t/workers/$w/src/"
  done
  for w in objects platform-auth stripe-oauth; do
    cp "$ROOT/workers/$w/wrangler.toml" "$t/workers/$w/"
  done
  ln -s "$ROOT/frontend/dist" "$t/frontend/dist"
}

# edit NAME FILE PYTHON: changes FILE of tree NAME with a Python expression on `s`.
edit() {
  python3 - "$tmp/$1/$2" "$3" <<'PY'
import sys
path, expression = sys.argv[1], sys.argv[2]
s = open(path).read()
changed = eval(expression)
assert changed != s, f"{path}: the edit changed nothing"
open(path, "w").write(changed)
PY
}

# secrets_without NAME...: the fixture without those lines, as a file.
secrets_without() {
  local out="$tmp/secrets-$RANDOM.env" pattern
  pattern=$(printf '|%s' "$@")
  grep -Ev "^(${pattern#|})=" "$FIXTURE" >"$out"
  echo "$out"
}

# run NAME [VAR=value...] -- [deploy.sh args...]: OUT and RC of the script in tree NAME.
run() {
  local t="$tmp/$1" vars=()
  shift
  while [[ $1 != -- ]]; do vars+=("$1"); shift; done
  shift
  OUT=$(cd "$t" && env -i HOME="$HOME" PATH="$PATH" ${DREAM_API_CACHE:+DREAM_API_CACHE="$DREAM_API_CACHE"} \
    "${vars[@]}" bash scripts/deploy.sh --dry-run --no-build "$@" 2>&1)
  RC=$?
}

check() {  # check SENTENCE CONDITION...: one test, named by its sentence.
  local name=$1
  shift
  if "$@"; then
    passed=$((passed + 1)); echo "ok   $name"
  else
    failed=$((failed + 1)); echo "FAIL $name"; echo "$OUT" | sed 's/^/     | /'
  fi
}
has() { grep -qF -- "$1" <<<"$OUT"; }
lacks() { ! grep -qF -- "$1" <<<"$OUT"; }
fails_with() { [[ $RC == 1 ]] && for m in "$@"; do has "$m" || return 1; done; }
no_secret_shown() {
  local value
  while IFS='=' read -r _ value; do
    value=${value//\"/}
    [[ -z $value || $value == pk_* ]] && continue  # the publishable key is public
    for part in ${value//,/ }; do lacks "$part" || return 1; done
  done < <(grep -Ev '^\s*(#|$)' "$FIXTURE")
}

tree base
run base -- --env staging --first-deploy --secrets "$FIXTURE"
check "a first deploy of staging passes its dry run for every worker and the dashboard" \
  eval '[[ $RC == 0 ]] && has "objects: wrangler deploy --dry-run --env staging passed (dream-objects-staging)" &&
    has "api: wrangler deploy --dry-run --env staging passed (dream-api-staging)" &&
    has "platform-auth: wrangler deploy --dry-run --env staging passed" &&
    has "stripe-oauth: wrangler deploy --dry-run --env staging passed" &&
    has "dashboard: frontend/dist has index.html and its wasm" &&
    has "https://dream-stripe-oauth-staging.<your-subdomain>.workers.dev/v1/connect/callback"'
check "a dry run never shows a secret's value" no_secret_shown

run base -- --env production --secrets "$FIXTURE"
check "a dry run that is not a first deploy fails while the KV namespace id is the placeholder" \
  fails_with "api (production): wrangler.toml [env.production]: binding TOKENS_KV's id is still the placeholder" \
  "run scripts/deploy.sh --env production once"

tree ids
for f in wrangler.toml workers/objects/wrangler.toml workers/platform-auth/wrangler.toml workers/stripe-oauth/wrangler.toml; do
  edit ids "$f" 's.replace("placeholder-created-by-scripts-deploy-sh", "0123456789abcdef0123456789abcdef")'
done
run ids -- --env production --secrets "$FIXTURE"
check "once the namespace id is written into the four configs, production passes its dry run" \
  eval '[[ $RC == 0 ]] && has "api: wrangler deploy --dry-run --env production passed (dream-api)" &&
    has "objects: wrangler deploy --dry-run --env production passed (dream-objects)" &&
    has "dashboard      https://dream-dashboard.pages.dev"'

run base -- --env staging --first-deploy --secrets "$(secrets_without STRIPE_CLIENT_ID)"
check "a missing secret fails naming the worker, the secret and how to set it" \
  fails_with "stripe-oauth (staging): secret STRIPE_CLIENT_ID is not set" \
  "STRIPE_OAUTH_STRIPE_CLIENT_ID for this worker only" \
  "wrangler secret put STRIPE_CLIENT_ID --env staging -c workers/stripe-oauth/wrangler.toml"

run base STRIPE_CLIENT_ID=ca_from_the_environment PLATFORM_AUTH_STRIPE_WEBHOOK_SECRET=not-a-signing-secret \
  -- --env staging --first-deploy --secrets "$(secrets_without STRIPE_CLIENT_ID)"
check "secrets come from the environment as well as the file, the environment's first" \
  fails_with "platform-auth (staging): secret STRIPE_WEBHOOK_SECRET: every comma-separated entry must be a signing secret"
check "a refused secret is named, its value never shown" \
  eval 'lacks "not-a-signing-secret" && lacks "stripe-oauth (staging): secret STRIPE_CLIENT_ID"'

tree bindings
edit bindings workers/platform-auth/wrangler.toml \
  's.replace("""[env.production.durable_objects]
bindings = [
  { name = "PLATFORM", class_name = "Platform", script_name = "dream-objects" },
  { name = "DEVELOPER", class_name = "Developer", script_name = "dream-objects" },""", """[env.production.durable_objects]
bindings = [
  { name = "PLATFORM", class_name = "Platform", script_name = "dream-objects-production" },""")'
edit bindings workers/stripe-oauth/wrangler.toml \
  's.replace("[[env.production.kv_namespaces]]\nbinding = \"TOKENS_KV\"", "[[env.production.r2_buckets]]\nbinding = \"TOKENS_KV\"")'
edit bindings wrangler.toml 's.replace("ALLOWED_ORIGINS = \"https://dream-dashboard.pages.dev\"", "ALLOWED_ORIGINS = \"http://127.0.0.1:8790\"")'
edit bindings workers/objects/wrangler.toml 's.replace("workers_dev = false\n", "")'
run bindings -- --env production --first-deploy --secrets "$FIXTURE"
check "a Durable Object binding missing from an environment fails naming it and how to add it" \
  fails_with "platform-auth (production): workers/platform-auth/wrangler.toml [env.production]: binding DEVELOPER (Durable Object Developer) is missing" \
  '{ name = "DEVELOPER", class_name = "Developer", script_name = "dream-objects" }'
check "an object bound to another script than the objects worker's environment fails" \
  has 'binding PLATFORM names script_name "dream-objects-production", but the objects worker'"'"'s production name is "dream-objects"'
check "a KV binding missing from an environment fails naming it" \
  has "stripe-oauth (production): workers/stripe-oauth/wrangler.toml [env.production]: binding TOKENS_KV (KV namespace) is missing"
check "an objects worker with a public address fails" \
  has "objects (production): workers/objects/wrangler.toml [env.production]: the objects worker answers no request of its own; set workers_dev = false"
check "a local address in an environment's vars fails" \
  has "api (production): wrangler.toml [env.production]: var ALLOWED_ORIGINS points at this machine"

tree nodist
rm "$tmp/nodist/frontend/dist" && mkdir "$tmp/nodist/frontend/dist"
run nodist -- --env staging --first-deploy --secrets "$FIXTURE"
check "a dashboard that was not built fails the dry run" \
  fails_with "dashboard: frontend/dist/index.html is missing; build it with scripts/build.sh"

tree changed-api
edit changed-api workers/api/src/openapi.json 's.replace("\"openapi\"", "\"x-changed\": true, \"openapi\"", 1)'
run changed-api -- --env staging --first-deploy --secrets "$FIXTURE"
check "an API reference built from another version of a worker's document fails the dry run" \
  fails_with "dashboard: the API reference's frontend/dist/docs/openapi/api.json is not workers/api/src/openapi.json; rebuild it with scripts/build.sh"

run base -- --env prod
check "an unknown environment is refused" fails_with "--env must be staging or production, not 'prod'"

echo "deploy dry run: $passed passed, $failed failed"
((failed == 0))

# Sourced: start and stop the local services (workers under `wrangler dev`, the
# dashboard under `wrangler pages dev`, the stand-ins), each in its own process group so
# that stopping it by PID also stops its children (workerd).

DREAM_PIDS=()

# wait_ready NAME URL: waits until URL answers 2xx, or the last started process exits.
wait_ready() {
  local name=$1 url=$2
  for _ in $(seq 1 240); do
    if curl -sf "$url" >/dev/null 2>&1; then
      return 0
    fi
    if ! kill -0 "${DREAM_PIDS[-1]}" 2>/dev/null; then break; fi
    sleep 0.25
  done
  echo "$name did not start; its log:" >&2
  cat "$DREAM_LOGS/$name.log" >&2
  return 1
}

# start_worker NAME PORT PERSIST_DIR [wrangler args…]: starts in the background, logs to
# $DREAM_LOGS/NAME.log, and waits until GET /health answers. With DREAM_ENV_FILE set
# (scripts/test.sh: /dev/null), wrangler reads the worker's variables from that file
# instead of the .dev.vars that scripts/dev.sh leaves in the checkout, so a test stack
# has exactly the variables its script passes with --var.
start_worker() {
  local name=$1 port=$2 persist=$3; shift 3
  mkdir -p "$DREAM_LOGS" "$persist"
  (cd "$DREAM_ROOT" && exec setsid wrangler dev --ip 127.0.0.1 --port "$port" \
      --inspector-port "$(inspector_port "$port")" --show-interactive-dev-session=false --persist-to "$persist" \
      ${DREAM_ENV_FILE:+--env-file "$DREAM_ENV_FILE"} "$@") \
    >"$DREAM_LOGS/$name.log" 2>&1 &
  DREAM_PIDS+=($!)
  wait_ready "$name" "http://127.0.0.1:$port/health"
  echo "    $name ready on http://127.0.0.1:$port"
}

# start_api NAME PORT PERSIST_DIR CONFIG_DIR [wrangler args…]: an api worker and its
# objects worker in one `wrangler dev` session, as scripts/local-config.py wrote their
# configs into CONFIG_DIR; both read the variables of CONFIG_DIR/.dev.vars (so never
# DREAM_ENV_FILE). Waits for the api worker like start_worker.
start_api() {
  local name=$1 port=$2 persist=$3 dir=$4; shift 4
  DREAM_ENV_FILE='' start_worker "$name" "$port" "$persist" -c "$dir/api.json" -c "$dir/objects.json" "$@"
}

# start_standins NAME CLERK_PORT STRIPE_PORT [dream-standins args…]: the Clerk and
# Stripe stand-ins (built by `cargo build -p dream-standins`), waited for like a worker.
start_standins() {
  local name=$1 clerk=$2 stripe=$3; shift 3
  mkdir -p "$DREAM_LOGS"
  setsid "$DREAM_ROOT/target/debug/dream-standins" --clerk "127.0.0.1:$clerk" --stripe "127.0.0.1:$stripe" "$@" \
    >"$DREAM_LOGS/$name.log" 2>&1 &
  DREAM_PIDS+=($!)
  wait_ready "$name" "http://127.0.0.1:$clerk/sign-in"
  echo "    $name ready on http://127.0.0.1:$clerk (Clerk) and :$stripe (Stripe)"
}

# start_pages NAME PORT DIR [wrangler args…]: serves the static site in DIR (the
# dashboard) the way Cloudflare Pages does, including the single-page-app fallback to
# index.html for client-side routes; waits until GET / answers. It runs from DIR's
# parent, so that the checkout's wrangler.toml and .dev.vars (the api worker's) are not
# taken for the site's, and its .wrangler/ scratch files stay out of DIR; with the
# workers' compatibility date, as there is no config file to read one from.
start_pages() {
  local name=$1 port=$2 dir=$3; shift 3
  mkdir -p "$DREAM_LOGS"
  (cd "$DREAM_ROOT" && cd "$(dirname "$dir")" && exec setsid wrangler pages dev "$(basename "$dir")" \
      --ip 127.0.0.1 --port "$port" --inspector-port "$(inspector_port "$port")" \
      --show-interactive-dev-session=false --compatibility-date 2025-09-01 "$@") \
    </dev/null >"$DREAM_LOGS/$name.log" 2>&1 &
  DREAM_PIDS+=($!)
  wait_ready "$name" "http://127.0.0.1:$port/"
  echo "    $name ready on http://127.0.0.1:$port"
}

# write_dashboard_config DIR API PLATFORM_AUTH STRIPE_OAUTH CLERK_SIGN_IN_URL: the
# dashboard reads /config.json at start to find its backends and where to sign in, so
# one build serves any stack (the local one, the tests' one).
write_dashboard_config() {
  local dir=$1 api=$2 platform_auth=$3 stripe_oauth=$4 sign_in=$5
  (cd "$DREAM_ROOT" && mkdir -p "$dir" &&
    jq -n --arg api "$api" --arg platformAuth "$platform_auth" --arg stripeOauth "$stripe_oauth" \
      --arg signIn "$sign_in" \
      '{apiUrl: $api, platformAuthUrl: $platformAuth, stripeOauthUrl: $stripeOauth,
        auth: {kind: "local", signInUrl: $signIn}}' >"$dir/config.json") &&
    write_dashboard_headers "$dir"
}

# write_dashboard_headers DIR: writes DIR/_headers, the headers Pages sends with the
# dashboard, from the DIR/config.json beside it, so call it after writing that file (a
# config.json without the three workers' http(s) addresses, or with a Clerk Frontend API
# that is not a host name, is refused, and no _headers is left). Every path gets a
# Content Security Policy that allows exactly what the app loads: its own files
# (start.js, the wasm, the styles, the icon), fetches to the three workers' origins,
# and, when it signs in with Clerk, ClerkJS from the Frontend API with what Clerk
# documents that it needs (its bot check from challenges.cloudflare.com, avatars from
# img.clerk.com, inline styles, blob: workers); never framed, no <base>, forms to itself
# only. The API reference under /docs/ gets a policy of its own instead: its renderer
# (scripts from /docs/ only) sets inline styles and searches in a worker it makes from
# a blob.
write_dashboard_headers() {
  local dir=$1 headers
  [[ $dir == /* ]] || dir="$DREAM_ROOT/$dir"
  headers=$(jq -r -f /dev/stdin "$dir/config.json" <<'JQ'
def origin: (if type == "string" then capture("^(?<o>https?://[A-Za-z0-9.-]+(:[0-9]+)?)(/.*)?$").o else null end)
  // error("config.json: \(.) is not an http(s) address");
def policy: to_entries | map("\(.key) \(.value | join(" "))") | join("; ");
(.auth.kind == "clerk") as $clerk
| (if $clerk then (.auth.frontendApi | if type == "string" and test("^[A-Za-z0-9.-]+(:[0-9]+)?$") then "https://\(.)"
    else error("config.json: auth.frontendApi \(.) is not a host name") end) else null end) as $fapi
| ([.apiUrl, .platformAuthUrl, .stripeOauthUrl] | map(origin) | unique) as $workers
| ({"default-src": ["'none'"],
    "script-src": (["'self'", "'wasm-unsafe-eval'"] + if $clerk then [$fapi, "https://challenges.cloudflare.com"] else [] end),
    "connect-src": (["'self'"] + $workers + if $clerk then [$fapi] else [] end),
    "style-src": (["'self'"] + if $clerk then ["'unsafe-inline'"] else [] end),
    "img-src": (["'self'"] + if $clerk then ["https://img.clerk.com"] else [] end)}
   + (if $clerk then {"worker-src": ["'self'", "blob:"], "frame-src": ["https://challenges.cloudflare.com"]} else {} end)
   + {"frame-ancestors": ["'none'"], "base-uri": ["'none'"], "form-action": ["'self'"]}) as $app
| {"default-src": ["'none'"], "script-src": ["'self'"], "connect-src": ["'self'"],
   "style-src": ["'self'", "'unsafe-inline'"], "img-src": ["'self'", "data:"], "worker-src": ["blob:"],
   "frame-ancestors": ["'none'"], "base-uri": ["'none'"], "form-action": ["'none'"]} as $docs
| "/*",
  "  Content-Security-Policy: \($app | policy)",
  "  X-Content-Type-Options: nosniff",
  "  Referrer-Policy: strict-origin-when-cross-origin",
  "/docs/*",
  "  ! Content-Security-Policy",
  "  Content-Security-Policy: \($docs | policy)"
JQ
  ) || { rm -f "$dir/_headers"; return 1; }
  printf '%s\n' "$headers" >"$dir/_headers"
}

# stop_workers: SIGTERM to every process group started above; a group still there
# after 10 s (workerd under wrangler has been seen to outlive SIGTERM) gets SIGKILL.
stop_workers() {
  local pid alive
  for pid in "${DREAM_PIDS[@]}"; do
    kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true
  done
  for _ in $(seq 1 40); do
    alive=0
    for pid in "${DREAM_PIDS[@]}"; do
      if kill -0 -- "-$pid" 2>/dev/null; then alive=1; fi
    done
    [[ $alive == 0 ]] && break
    sleep 0.25
  done
  for pid in "${DREAM_PIDS[@]}"; do
    kill -KILL -- "-$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  DREAM_PIDS=()
}

# The local stack's TOKEN_ENCRYPTION_KEY: 32 random bytes in base64, made once and kept
# beside the local state (sealed records in .wrangler/state open only with it).
dev_encryption_key() {
  local file="$DREAM_ROOT/.wrangler/token-encryption-key"
  if [[ ! -s "$file" ]]; then
    mkdir -p "$(dirname "$file")"
    (umask 077 && head -c 32 /dev/urandom | base64 >"$file")
  fi
  cat "$file"
}

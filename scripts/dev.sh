#!/usr/bin/env bash
# Runs the local stack, set-up included: the api worker under `wrangler dev` on
# http://127.0.0.1:8787 (KV and Durable Object state kept in .wrangler/state), and the
# Clerk and Stripe stand-ins on 127.0.0.1:8791 and :8792. Ctrl-C stops everything.
set -euo pipefail
source "$(dirname "$0")/env.sh"
source "$(dirname "$0")/workers.sh"
cd "$DREAM_ROOT"

bash scripts/setup.sh
bash scripts/build.sh
cargo build --quiet -p dream-standins

export DREAM_LOGS="$DREAM_ROOT/.wrangler/logs"
trap stop_workers EXIT
trap 'exit 130' INT TERM
start_worker api 8787 "$DREAM_ROOT/.wrangler/state"
mkdir -p "$DREAM_LOGS"
setsid "$DREAM_ROOT/target/debug/dream-standins" --clerk 127.0.0.1:8791 --stripe 127.0.0.1:8792 \
  >"$DREAM_LOGS/standins.log" 2>&1 &
DREAM_PIDS+=($!)

cat <<MSG

dream-api is running.
  api worker       http://127.0.0.1:8787   (OpenAPI: http://127.0.0.1:8787/openapi.json)
  Clerk stand-in   http://127.0.0.1:8791   (dev sign-in page: http://127.0.0.1:8791/sign-in)
  Stripe stand-in  http://127.0.0.1:8792
  logs             $DREAM_LOGS/

Try it:
  curl -s -X POST http://127.0.0.1:8787/v1/developers \\
       -H 'Content-Type: application/json' -d '{"email":"you@example.com"}'

Ctrl-C stops the stack; state stays in .wrangler/state (delete it to start afresh).
MSG
# Follow the log until the worker exits (or Ctrl-C, which the traps turn into a stop).
tail -n 0 -F --pid="${DREAM_PIDS[0]}" "$DREAM_LOGS/api.log"

#!/usr/bin/env bash
# Builds every worker to wasm (release, size-tuned) with the pinned tools from setup.
set -euo pipefail
source "$(dirname "$0")/env.sh"

for crate in workers/api workers/objects workers/platform-auth workers/stripe-oauth bench/baseline-worker; do
  echo "==> worker-build $crate"
  bash "$DREAM_ROOT/scripts/build-worker.sh" "$crate"
done

# The dashboard: a Yew app built to static files in frontend/dist (served by Pages).
echo "==> dashboard (frontend/dist)"
dist="$DREAM_ROOT/frontend/dist"
cargo build --release --quiet --target wasm32-unknown-unknown -p dream-dashboard
rm -rf "$dist" && mkdir -p "$dist"
"$WASM_BINDGEN_BIN" --target web --no-typescript --out-dir "$dist" --out-name dashboard \
  "$DREAM_ROOT/target/wasm32-unknown-unknown/release/dream_dashboard.wasm"
wasm-opt "$dist/dashboard_bg.wasm" -Oz --strip-debug "${WASM_FEATURES[@]}" -o "$dist/dashboard_bg.wasm"
cp "$DREAM_ROOT"/frontend/static/* "$dist/"
# The landing page links the README beside the app.
cp "$DREAM_ROOT/README.md" "$dist/README.md"

# The API reference at /docs: the three workers' OpenAPI documents rendered by the pinned
# Redoc (setup installs it from frontend/docs/package-lock.json), and the quickstart.
echo "==> API reference (frontend/dist/docs)"
docs_renderer="$DREAM_CACHE/docs-renderer/$(sha256sum "$DREAM_ROOT/frontend/docs/package-lock.json" | cut -c1-16)"
[[ -f $docs_renderer/.installed ]] || { echo "the API reference's renderer is not installed: run scripts/setup.sh" >&2; exit 1; }
node "$DREAM_ROOT/frontend/docs/build.mjs" "$docs_renderer" "$dist/docs"

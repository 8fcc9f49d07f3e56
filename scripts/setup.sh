#!/usr/bin/env bash
# Installs everything dream-api needs on a fresh machine: pinned, idempotent, cached
# outside the checkout (DREAM_API_CACHE, default ~/.cache/dream-api). Nothing is
# downloaded from GitHub: Rust tools come from crates.io, JavaScript tools from npm.
set -euo pipefail
source "$(dirname "$0")/env.sh"

step() { printf '\033[1m==> %s\033[0m\n' "$*"; }

# Debian packages: wrk drives the benchmarks, jq reads their JSON (and writes the
# dashboard's config.json), Chromium runs the dashboard's browser tests (driven by
# playwright-core, which brings no browser).
missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v jq >/dev/null || missing+=(jq)
[ -x /usr/bin/chromium ] || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  step "apt: ${missing[*]}"
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq && $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  step "rustup target wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

# Cargo tools: built once per version pair (about 13 minutes), then reused.
if [ ! -x "$DREAM_CARGO_TOOLS/bin/worker-build" ]; then
  step "cargo install worker-build $WORKER_BUILD_VERSION"
  cargo install --quiet --locked --root "$DREAM_CARGO_TOOLS" worker-build --version "$WORKER_BUILD_VERSION"
fi
if [ ! -x "$DREAM_CARGO_TOOLS/bin/wasm-bindgen" ]; then
  step "cargo install wasm-bindgen-cli $WASM_BINDGEN_VERSION"
  # Not --locked: the CLI's own lockfile pins crates that no longer build on this rustc.
  cargo install --quiet --root "$DREAM_CARGO_TOOLS" wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi

# npm tools (Node 22 for wrangler, wrangler, binaryen's wasm-opt, esbuild), exactly as
# tools/package-lock.json pins them.
if [ ! -f "$DREAM_NPM_TOOLS/.installed" ]; then
  step "npm tools into $DREAM_NPM_TOOLS"
  mkdir -p "$DREAM_NPM_TOOLS"
  cp "$DREAM_ROOT/tools/package.json" "$DREAM_ROOT/tools/package-lock.json" "$DREAM_NPM_TOOLS/"
  (cd "$DREAM_NPM_TOOLS" && npm ci --no-audit --no-fund --loglevel=error)
  touch "$DREAM_NPM_TOOLS/.installed"
fi

# The API reference's renderer (Redoc's standalone bundle, copied into the dashboard's
# build at /docs), exactly as frontend/docs/package-lock.json pins it; its .npmrc leaves
# out the peer dependencies, which the bundle carries inside.
DOCS_RENDERER="$DREAM_CACHE/docs-renderer/$(sha256sum "$DREAM_ROOT/frontend/docs/package-lock.json" | cut -c1-16)"
if [ ! -f "$DOCS_RENDERER/.installed" ]; then
  step "API reference renderer into $DOCS_RENDERER"
  mkdir -p "$DOCS_RENDERER"
  cp "$DREAM_ROOT"/frontend/docs/{package.json,package-lock.json,.npmrc} "$DOCS_RENDERER/"
  (cd "$DOCS_RENDERER" && npm ci --no-audit --no-fund --loglevel=error)
  touch "$DOCS_RENDERER/.installed"
fi

# schemathesis (PyPI), which fuzzes each worker against its own OpenAPI document: a
# virtualenv with exactly tools/fuzz-requirements.txt.
if [ ! -x "$SCHEMATHESIS_BIN" ]; then
  step "schemathesis into $DREAM_FUZZ_TOOLS"
  rm -rf "$DREAM_FUZZ_TOOLS"
  python3 -m venv "$DREAM_FUZZ_TOOLS"
  "$DREAM_FUZZ_TOOLS/bin/pip" install --quiet --no-deps --disable-pip-version-check \
    -r "$DREAM_ROOT/tools/fuzz-requirements.txt"
fi

step "tools ready: node $("$DREAM_NODE_BIN/node" --version), wrangler $(wrangler --version 2>/dev/null | tail -1), wasm-bindgen $("$WASM_BINDGEN_BIN" --version | cut -d' ' -f2), $("$SCHEMATHESIS_BIN" --version)"

#!/usr/bin/env bash
# Runs every test: unit and integration tests on SQLite (and on PostgreSQL when
# TEST_POSTGRES_URL is set), then the browser tests in Chromium.
# Installs any missing tool first.
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
ensure_rust_tools
ensure_browser_tools
ensure_embedded_model
cd "$ROOT"

if [ -z "${TEST_POSTGRES_URL:-}" ]; then
  say "TEST_POSTGRES_URL is not set: the PostgreSQL variants will be skipped"
fi

say "unit and integration tests"
cargo test --workspace --features playschool/ssr

say "browser tests"
E2E_DIR="$(mktemp -d)"
trap 'rm -rf "$E2E_DIR"' EXIT
# A database of its own, seeded fresh, so the tests never touch ./data.
DATABASE_URL="sqlite://$E2E_DIR/playschool.db" cargo leptos end-to-end

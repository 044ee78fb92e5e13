#!/usr/bin/env bash
# Runs every test: unit and integration tests on SQLite (and on PostgreSQL when
# TEST_POSTGRES_URL is set), then the browser tests in Chromium.
# Installs any missing tool first.
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
ensure_rust_tools
ensure_browser_tools
ensure_embedded_model
ensure_wordnet
cd "$ROOT"

if [ -z "${TEST_POSTGRES_URL:-}" ]; then
  say "TEST_POSTGRES_URL is not set: the PostgreSQL variants will be skipped"
fi

say "unit and integration tests"
cargo test --workspace --features playschool/ssr

say "browser tests"
E2E_DIR="$(mktemp -d)"
FAKE_GITHUB_PID=""
cleanup() {
  if [ -n "$FAKE_GITHUB_PID" ]; then kill "$FAKE_GITHUB_PID" 2>/dev/null || true; fi
  rm -rf "$E2E_DIR"
}
trap cleanup EXIT
# A database of its own, seeded fresh, so the tests never touch ./data.
export DATABASE_URL="sqlite://$E2E_DIR/playschool.db"
# The seeded round's dev phase closed in 2025: open it for the submission tests.
cargo run --quiet -p playschool --features ssr -- set-deadline dev none

# GitHub, as the browser tests meet it: the tests' fake, with the challenge
# repository's README, sending its webhooks to the site.
FAKE_GITHUB_ADDR=127.0.0.1:3902
cargo build --quiet -p playschool --features ssr --example fake_github
"$CARGO_TARGET_DIR/debug/examples/fake_github" "$FAKE_GITHUB_ADDR" end2end/fixtures/challenge-README.md \
  http://127.0.0.1:3000/api/github/webhook &
FAKE_GITHUB_PID=$!
GITHUB_API_URL="http://$FAKE_GITHUB_ADDR" \
GITHUB_OAUTH_URL="http://$FAKE_GITHUB_ADDR" \
GITHUB_CLIENT_ID=client-id GITHUB_CLIENT_SECRET=client-secret \
GITHUB_REPOSITORY=lm-playschool/challenge GITHUB_TOKEN=app-token \
GITHUB_WEBHOOK_SECRET=webhook-secret \
  cargo leptos end-to-end

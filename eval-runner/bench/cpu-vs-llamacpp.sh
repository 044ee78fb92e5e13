#!/usr/bin/env bash
# CPU benchmark against the peer: eval-runner and llama.cpp (llama-cpp-python
# from PyPI, built here in a virtualenv) on the embedded GGUF, same prompt
# lengths, 2 threads each. Prints both and their ratio.
#   eval-runner/bench/cpu-vs-llamacpp.sh [PROMPT_LEN] [GEN_LEN]
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/setup.sh"
ensure_embedded_model
PROMPT_LEN="${1:-128}"
GEN_LEN="${2:-64}"
THREADS=2
VENV="$HOME/.cache/playschool/llamacpp-venv"
if ! "$VENV/bin/python" -c "import llama_cpp" 2>/dev/null; then
  say "installing llama-cpp-python 0.3.36 into $VENV (builds llama.cpp; takes a few minutes)"
  python3 -m venv "$VENV"
  # AVX2 + FMA + F16C, the instructions our kernels use; a native build may use AMX
  # tiles, which virtual machines often do not grant (the peer then crashes).
  CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON" \
    "$VENV/bin/pip" install --quiet --no-cache-dir llama-cpp-python==0.3.36
fi
cd "$ROOT"
cargo build --release --quiet -p eval-runner
MODEL="$MODEL_DIR/$MODEL_FILE"
ours="$("$CARGO_TARGET_DIR/release/eval-runner" bench --model "$MODEL" --threads "$THREADS" \
  --prompt-len "$PROMPT_LEN" --gen-len "$GEN_LEN" --batch 1 --batch 16 --json)"
peer="$("$VENV/bin/python" eval-runner/bench/llamacpp_peer.py --model "$MODEL" \
  --prompt-len "$PROMPT_LEN" --gen-len "$GEN_LEN" --threads "$THREADS")"
python3 - "$ours" "$peer" <<'PY'
import json, sys
ours, peer = json.loads(sys.argv[1]), json.loads(sys.argv[2])
one = next(r for r in ours["results"] if r["batch"] == 1)
print(f"prompt {ours['prompt_len']} tokens, {ours['gen_len']} generated, 2 threads")
print(f"{'':28}{'prefill tok/s':>14}{'decode tok/s':>14}")
for r in ours["results"]:
    print(f"{'eval-runner batch ' + str(r['batch']):28}{r['prefill_tokens_per_s']:>14.1f}{r['decode_tokens_per_s']:>14.1f}")
print(f"{'llama.cpp batch 1':28}{peer['prefill_tokens_per_s']:>14.1f}{peer['decode_tokens_per_s']:>14.1f}")
print(f"{'ratio at batch 1':28}{one['prefill_tokens_per_s'] / peer['prefill_tokens_per_s']:>14.2f}"
      f"{one['decode_tokens_per_s'] / peer['decode_tokens_per_s']:>14.2f}")
PY

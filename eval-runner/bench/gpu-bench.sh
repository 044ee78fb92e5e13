#!/usr/bin/env bash
# On a GPU host (after build-cuda.sh, with .gpu/ carried): a Llama-3.1-8B-shaped
# bf16 model with random weights, the copy bandwidth, and eval-runner's prefill and
# decode throughput at batch 1 and 32. Figures go to $OUT (default ./gpu-bench-out).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
OUT="${OUT:-$PWD/gpu-bench-out}"
mkdir -p "$OUT"
export LD_LIBRARY_PATH="/usr/local/nvidia/lib64:/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}"
xz -dkf .gpu/eval-runner.xz && chmod +x .gpu/eval-runner
MODEL=/tmp/llama-3.1-8b-shaped
[ -f "$MODEL/config.json" ] || python3 eval-runner/bench/make_llama8b.py "$MODEL"
python3 eval-runner/bench/copy_bandwidth.py | tee "$OUT/bandwidth.json"
.gpu/eval-runner bench --model "$MODEL" --device cuda --dtype bf16 --prompt-len 128 --gen-len 64 \
  --batch 1 --batch 32 --json | tee "$OUT/bench.json"
nvidia-smi --query-gpu=name,memory.used --format=csv | tee "$OUT/gpu.txt"

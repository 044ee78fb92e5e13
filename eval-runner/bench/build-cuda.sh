#!/usr/bin/env bash
# Builds eval-runner with --features cuda on a machine without a GPU, from a
# CUDA 13.0 toolchain assembled out of NVIDIA's PyPI wheels, and leaves a
# stripped, xz-compressed binary in .gpu/ (git-ignored) to carry to a GPU host.
#   eval-runner/bench/build-cuda.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/setup.sh"
CUDA_DIR="$HOME/.cache/playschool/cuda"
C="$CUDA_DIR/root/nvidia/cu13"
if [ ! -x "$C/bin/nvcc" ]; then
  say "assembling the CUDA 13.0 toolchain from PyPI wheels (about 650 MB)"
  # 13.0.x exactly: PTX from a newer nvcc may not load on a 13.0 driver.
  python3 -m pip download --quiet --no-deps --disable-pip-version-check -d "$CUDA_DIR/wheels" \
    nvidia-cuda-nvcc==13.0.88 nvidia-cuda-crt==13.0.88 nvidia-nvvm==13.0.88 nvidia-cuda-runtime==13.0.96 \
    nvidia-cuda-cccl==13.0.85 nvidia-cublas==13.1.0.3 nvidia-curand==10.4.0.35 nvidia-cuda-nvrtc==13.0.88
  python3 -m pip install --quiet --no-index --no-deps --disable-pip-version-check \
    --target "$CUDA_DIR/root" "$CUDA_DIR"/wheels/*.whl
fi
# Unversioned names for the linker.
(cd "$C/lib" && for lib in libcudart.so.13 libcublas.so.13 libcublasLt.so.13 libcurand.so.10 libnvrtc.so.13; do
  [ -e "$lib" ] && ln -sf "$lib" "${lib%%.so.*}.so"; done)
ln -sfn lib "$C/lib64"
# libcuda is the driver and ships in no wheel: link against a stub that defines
# every cu* symbol cudarc declares; at run time the real driver is loaded.
if [ ! -e "$C/lib/stubs/libcuda.so" ]; then
  say "building the libcuda link stub"
  mkdir -p "$C/lib/stubs"
  (cd "$ROOT" && cargo fetch --quiet)
  version="$(grep -A1 '^name = "cudarc"$' "$ROOT/Cargo.lock" | sed -n 's/^version = "\(.*\)"/\1/p')"
  cudarc="$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/"cudarc-$version" | head -1)"
  grep -oE 'pub (unsafe )?fn cu[A-Za-z0-9_]+' "$cudarc/src/driver/sys/mod.rs" \
    | sed -E 's/pub (unsafe )?fn //' | sort -u | sed 's/.*/int &(void) { return 0; }/' > "$C/lib/stubs/libcuda.c"
  gcc -shared -fPIC -Wl,-soname,libcuda.so.1 -o "$C/lib/stubs/libcuda.so" "$C/lib/stubs/libcuda.c"
  ln -sf libcuda.so "$C/lib/stubs/libcuda.so.1"
fi
say "building eval-runner with CUDA (the first build compiles candle's kernels: long)"
cd "$ROOT"
PATH="$C/bin:$PATH" CUDA_ROOT="$C" CUDA_HOME="$C" CUDA_PATH="$C" CUDA_COMPUTE_CAP=90 \
  LIBRARY_PATH="$C/lib/stubs:$C/lib" RUSTFLAGS="-L $C/lib/stubs -L $C/lib" \
  CARGO_TARGET_DIR="$HOME/.cache/playschool/target-cuda" \
  cargo build --release -p eval-runner --features cuda
mkdir -p .gpu
strip -o .gpu/eval-runner "$HOME/.cache/playschool/target-cuda/release/eval-runner"
xz -T0 -6 -f .gpu/eval-runner
ls -la .gpu/

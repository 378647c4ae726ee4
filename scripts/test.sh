#!/usr/bin/env bash
# The test command: installs what is missing (Debian packages), configures,
# builds and runs every test.
#
#   scripts/test.sh             Release build in build/, all CTest tests; builds the
#                               CUDA backend when the toolkit is found (GPU tests,
#                               label "gpu", skip when no GPU is usable)
#   scripts/test.sh --sanitize  the same suite under AddressSanitizer and
#                               UndefinedBehaviorSanitizer, in build-asan/ (CPU-only
#                               build: LUCID_CUDA=OFF, so that build is tested too)
#   scripts/test.sh --tsan      the tests labelled "threads" (tests/CMakeLists.txt)
#                               under ThreadSanitizer, in build-tsan/
#   scripts/test.sh --emulate-gpu
#                               the GPU tests (labels "gpu" and "emu") with the CUDA
#                               backend's code run on the CPU (LUCID_CUDA=EMULATE,
#                               tests/cuda_emu/README.md), in build-emu/, then the GPU
#                               tests once more with guard pages (a memory checker);
#                               needs the CUDA toolkit's headers (/usr/local/cuda),
#                               skips without them
set -euo pipefail
cd "$(dirname "$0")/.."

mode=release
[[ "${1:-}" == "--sanitize" ]] && mode=sanitize
[[ "${1:-}" == "--tsan" ]] && mode=tsan
[[ "${1:-}" == "--emulate-gpu" ]] && mode=emulate

# --- dependencies (Debian 12) ---------------------------------------------------------
# libcli11-dev: lucid-train's command line; python3-torch, python3-venv: the
# read-back tests (tests/py/) check lucid's files with PyTorch, safetensors and
# TensorBoard (the last two from PyPI, into a venv below).
packages=(cmake ninja-build g++ doctest-dev zlib1g-dev libstb-dev libcli11-dev dataset-fashion-mnist fortunes)
[[ $mode == release ]] && packages+=(python3-torch python3-venv)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "== installing: ${missing[*]}"
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

jobs=$(nproc)
if [[ $mode == release ]]; then
  dir=build
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DLUCID_BUILD_TESTS=ON -DLUCID_BUILD_BENCH=ON
  # The venv of the Python read-back tests (tests/py/run.sh): Debian's python3
  # with its site packages (python3-torch), plus tensorboard, safetensors and
  # pillow (to decode the images the tests write).
  venv=$dir/venv
  if [[ ! -x $venv/bin/python ]] || ! "$venv/bin/python" -c "import tensorboard, safetensors, torch, PIL" 2>/dev/null; then
    echo "== making $venv (tensorboard, safetensors from PyPI)"
    if ! { /usr/bin/python3 -m venv --system-site-packages "$venv" &&
           "$venv/bin/pip" install -q --disable-pip-version-check tensorboard safetensors pillow; }; then
      rm -rf "$venv"
      echo "== could not make $venv: the Python read-back tests will be skipped"
      [[ ${CI:-} == true ]] && { echo "CI=true: they must run"; exit 1; }
    fi
  fi
elif [[ $mode == tsan ]]; then
  dir=build-tsan
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" \
    -DLUCID_TSAN=ON -DLUCID_CUDA=OFF -DLUCID_BUILD_TESTS=ON -DLUCID_BUILD_BENCH=OFF -DLUCID_BUILD_EXAMPLES=OFF
  export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
  # Build only the tests labelled "threads" (their names come from CTest).
  mapfile -t targets < <(ctest --test-dir "$dir" -N -L threads | sed -n 's/^ *Test *#[0-9]*: *//p')
  cmake --build "$dir" -j "$jobs" --target "${targets[@]}"
  # Some kernels randomize mmap addresses more than TSan's memory layout allows
  # ("unexpected memory mapping"); running without ASLR avoids it where allowed.
  norandom=()
  setarch "$(uname -m)" -R true 2>/dev/null && norandom=(setarch "$(uname -m)" -R)
  "${norandom[@]}" ctest --test-dir "$dir" --output-on-failure -j "$jobs" -L threads
  exit 0
elif [[ $mode == emulate ]]; then
  dir=build-emu
  cuda_root=${CUDAToolkit_ROOT:-/usr/local/cuda}
  if [[ ! -f $cuda_root/include/cuda_runtime_api.h || ! -f $cuda_root/include/cublas_v2.h ||
        ! -f $cuda_root/include/cudnn.h ]]; then
    echo "== --emulate-gpu skipped: no CUDA toolkit headers (cuda_runtime_api.h, cublas_v2.h, cudnn.h) in $cuda_root/include"
    exit 0
  fi
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DLUCID_CUDA=EMULATE -DCUDAToolkit_ROOT="$cuda_root" \
    -DLUCID_BUILD_TESTS=ON -DLUCID_BUILD_BENCH=OFF -DLUCID_BUILD_EXAMPLES=OFF
  # Build only the GPU tests and the emulator's own: the CTest names that are
  # also build targets (test_cuda_emu_guard runs test_cuda_emu's executable).
  mapfile -t targets < <(ctest --test-dir "$dir" -N -L 'gpu|emu' | sed -n 's/^ *Test *#[0-9]*: *//p' |
                         grep -F -x -f <(ninja -C "$dir" -t targets all | sed -n 's/^\([^:]*\): .*/\1/p'))
  cmake --build "$dir" -j "$jobs" --target "${targets[@]}"
  ctest --test-dir "$dir" --output-on-failure -j "$jobs" -L 'gpu|emu'
  # Again as a memory checker: every tensor its own allocation, each followed by
  # a page that faults (tests/cuda_emu/README.md), so a kernel that runs past a
  # tensor or into freed memory stops the test.
  # (test_cuda_resume runs lucid-train, whose kernels the other tests cover: once is enough.)
  LUCID_EMU_GUARD_PAGES=1 LUCID_NO_CUDA_MEMORY_CACHING=1 \
    ctest --test-dir "$dir" --output-on-failure -j "$jobs" -L gpu -E test_cuda_resume
  exit 0
else
  dir=build-asan
  # -O1 keeps the sanitized gradient checks fast enough; benchmarks are not built.
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" \
    -DLUCID_SANITIZE=ON -DLUCID_CUDA=OFF -DLUCID_BUILD_TESTS=ON -DLUCID_BUILD_BENCH=OFF
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
fi
cmake --build "$dir" -j "$jobs"
ctest --test-dir "$dir" --output-on-failure -j "$jobs"

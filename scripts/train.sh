#!/usr/bin/env bash
# The main job: installs what is missing, builds, and trains a small CNN on
# Fashion-MNIST (examples/train_fashion_mnist.cpp; on the CPU, the CUDA backend
# is a later issue). Extra arguments go to the trainer, e.g.
#   scripts/train.sh --epochs 5 --train-samples 10000   (see --help)
set -euo pipefail
cd "$(dirname "$0")/.."
packages=(cmake ninja-build g++ zlib1g-dev libstb-dev dataset-fashion-mnist)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DLUCID_BUILD_TESTS=OFF -DLUCID_BUILD_BENCH=OFF > /dev/null
cmake --build build -j "$(nproc)" --target train_fashion_mnist
./build/examples/train_fashion_mnist "$@"

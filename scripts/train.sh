#!/usr/bin/env bash
# The main job: installs what is missing, builds lucid-train, and trains the
# default recipe (fashion-cnn: a small CNN on Fashion-MNIST from Debian's
# dataset-fashion-mnist) on a GPU when one is usable, else on the CPU.
# Extra arguments go to lucid-train, e.g.
#   scripts/train.sh --epochs 5 --logdir runs/cnn      (see --help)
#   scripts/train.sh --resume auto --logdir runs/cnn   (continue after a crash or Ctrl-C)
#   scripts/train.sh --recipe charlm                   (a small GPT on fortunes)
set -euo pipefail
cd "$(dirname "$0")/.."
packages=(cmake ninja-build g++ zlib1g-dev libstb-dev libcli11-dev dataset-fashion-mnist fortunes)
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
cmake --build build -j "$(nproc)" --target lucid-train
./build/apps/lucid-train "$@"

#!/usr/bin/env bash
# Installs the lucid build in $1 to a scratch prefix, then configures, builds and
# runs the outside project in this folder against it with find_package(lucid).
set -euo pipefail
build=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" > /dev/null
cmake -S "$(dirname "$0")" -B "$work/consumer" -G Ninja -DCMAKE_PREFIX_PATH="$work/prefix" > /dev/null
cmake --build "$work/consumer" > /dev/null
"$work/consumer/consumer"

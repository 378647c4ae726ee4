#!/usr/bin/env bash
# Fuzz the file readers with libFuzzer: the IDX parser (fuzz/fuzz_idx.cpp) and
# stb_image decoding (fuzz/fuzz_image.cpp).
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]     e.g.  scripts/fuzz.sh          (30 s each)
#                                                   scripts/fuzz.sh 300 idx  (one target)
#
# Needs clang++ with libFuzzer (Debian: clang-14, libclang-rt-14-dev). Compiles
# the lucid sources the targets need straight into build-fuzz/ with
# -fsanitize=fuzzer,address,undefined (objects are reused on later runs unless a
# source or header changed), writes
# a small seed corpus (valid IDX files, tiny PNG/JPEG/BMP/TGA) with
# fuzz/write_seeds.cpp, then runs each target for SECONDS. The corpus grows in
# build-fuzz/corpus/<target>/; a crashing input is saved as
# build-fuzz/crash-<hash> and the script exits non-zero. Reproduce one with
#   build-fuzz/fuzz_idx build-fuzz/crash-<hash>
# Not part of CI (it is a search, not a test).
set -euo pipefail

SECONDS_EACH=${1:-30}
shift || true
TARGETS=("$@")
[[ ${#TARGETS[@]} -eq 0 ]] && TARGETS=(idx image)

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$ROOT/build-fuzz
CXX=${CXX_FUZZ:-$(command -v clang++ || command -v clang++-14)}
[[ -x "$CXX" ]] || { echo "fuzz.sh: clang++ not found (apt-get install clang libclang-rt-dev)" >&2; exit 1; }
STB=$(dirname "$(find /usr/include /usr/local/include -name stb_image.h -print -quit)")

mkdir -p "$OUT/include" "$OUT/obj" "$OUT/corpus/idx" "$OUT/corpus/image"
[[ -e "$OUT/include/lucid" ]] || ln -s "$ROOT" "$OUT/include/lucid"

FLAGS=(-std=c++20 -O1 -g -fno-omit-frame-pointer -fno-sanitize-recover=undefined -I"$OUT/include" -I"$STB")
LIB_FLAGS=("${FLAGS[@]}" -fsanitize=fuzzer-no-link,address,undefined)

# The library part the IDX target needs (tensors and their ops), and the two readers.
mapfile -t SOURCES < <(cd "$ROOT" && find kernels autograd -name '*.cpp' | sort;
                       echo data/datasets/idx.cpp; echo data/image_decode.cpp)
# The newest header: an object older than it (or than its source) is rebuilt.
NEWEST_H=$(cd "$ROOT" && ls -t $(find kernels autograd data -name '*.h') | head -1)
export CXX OUT ROOT NEWEST_H
export LIB_FLAGS_STR="${LIB_FLAGS[*]}"
echo "fuzz.sh: compiling ${#SOURCES[@]} sources with $CXX"
# Two at a time.
printf '%s\n' "${SOURCES[@]}" | xargs -P 2 -I{} bash -c \
  'src={}; obj=$OUT/obj/${src//\//_}.o
   [[ "$obj" -nt "$ROOT/$src" && "$obj" -nt "$ROOT/$NEWEST_H" ]] ||
     $CXX $LIB_FLAGS_STR -c "$ROOT/$src" -o "$obj"'
rm -f "$OUT/liblucid_fuzz.a"
ar rcs "$OUT/liblucid_fuzz.a" "$OUT"/obj/*.o

"$CXX" "${FLAGS[@]}" "$ROOT/fuzz/write_seeds.cpp" -o "$OUT/write_seeds"
"$OUT/write_seeds" "$OUT/corpus/idx" "$OUT/corpus/image"

status=0
for t in "${TARGETS[@]}"; do
  bin=$OUT/fuzz_$t
  "$CXX" "${FLAGS[@]}" -fsanitize=fuzzer,address,undefined "$ROOT/fuzz/fuzz_$t.cpp" \
    "$OUT/liblucid_fuzz.a" -lz -pthread -o "$bin"
  echo "fuzz.sh: running fuzz_$t for ${SECONDS_EACH}s"
  (cd "$OUT" && "$bin" -max_total_time="$SECONDS_EACH" -max_len=65536 -rss_limit_mb=2048 \
      -print_final_stats=1 "corpus/$t") || status=$?
done
exit $status

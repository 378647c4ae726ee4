#!/usr/bin/env bash
# Fuzz the file readers with libFuzzer: the IDX parser (fuzz/fuzz_idx.cpp),
# stb_image decoding (fuzz/fuzz_image.cpp), the safetensors reader and writer
# (fuzz/fuzz_safetensors.cpp) and the JSON reader and writer (fuzz/fuzz_json.cpp).
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]     e.g.  scripts/fuzz.sh          (30 s each, all four)
#                                                   scripts/fuzz.sh 300 idx  (one target)
#                                                   scripts/fuzz.sh 20 safetensors json
#
# Needs clang++ with libFuzzer (Debian: clang-14, libclang-rt-14-dev). Compiles
# the lucid sources the chosen targets need (and no others: json needs two
# files) straight into build-fuzz/ with -fsanitize=fuzzer,address,undefined
# (objects are reused on later runs unless a source or header changed), writes
# a small seed corpus (valid IDX files, tiny PNG/JPEG/BMP/TGA, valid safetensors
# files, JSON documents) and token dictionaries with fuzz/write_seeds.cpp, then
# runs each target for SECONDS. The corpus grows in build-fuzz/corpus/<target>/;
# a crashing input is saved as build-fuzz/crash-<hash> and the script exits
# non-zero. Reproduce one with
#   build-fuzz/fuzz_idx build-fuzz/crash-<hash>
# CI runs the safetensors and JSON targets briefly (.ci/run); a long search is
# for developers (scripts/fuzz.sh 3600 safetensors).
#
# FUZZ_CXXFLAGS adds flags to every compile, before lucid's include path (so
# -I<dir> can try a changed header); objects built with other flags are rebuilt.
set -euo pipefail

SECONDS_EACH=${1:-30}
shift || true
TARGETS=("$@")
[[ ${#TARGETS[@]} -eq 0 ]] && TARGETS=(idx image safetensors json)

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$ROOT/build-fuzz
# Debian 12's packages for libFuzzer, installed when missing (as scripts/test.sh does).
if [[ -z ${CXX_FUZZ:-} ]]; then
  missing=()
  for p in clang libclang-rt-14-dev libstb-dev zlib1g-dev; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})) && command -v apt-get > /dev/null; then
    echo "== installing: ${missing[*]}"
    sudo=""
    [[ $(id -u) -ne 0 ]] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
fi
CXX=${CXX_FUZZ:-$(command -v clang++ || command -v clang++-14)}
[[ -x "$CXX" ]] || { echo "fuzz.sh: clang++ not found (apt-get install clang libclang-rt-dev)" >&2; exit 1; }

# The lucid sources each target links (its own fuzz/fuzz_<target>.cpp aside).
core_sources() { (cd "$ROOT" && find kernels autograd -name '*.cpp' -not -path 'kernels/cuda/*' | sort); }
# The part of kernels/ and autograd/ that Tensor's own methods reach (tensor.cpp
# calls ops, the ops their CPU kernels): 16 files of 34, so that CI builds the
# safetensors target quickly. A file missing here fails the link with an
# undefined symbol; linking with -Wl,-Map=map.txt lists the objects taken.
tensor_sources() {
  printf '%s\n' kernels/{dtype,factory,no_cuda,philox,shape,storage,tensor,thread_pool}.cpp \
    kernels/cpu/{copy,elementwise,reduce}.cpp autograd/tape.cpp autograd/ops/{elementwise,inplace,reduce,view}.cpp
}
sources_for() {
  case $1 in
    idx) core_sources; echo data/datasets/idx.cpp ;;
    image) core_sources; echo data/image_decode.cpp ;;
    safetensors) tensor_sources; printf '%s\n' train/safetensors.cpp train/file_io.cpp data/text/json.cpp data/text/utf8.cpp ;;
    json) printf '%s\n' data/text/json.cpp data/text/utf8.cpp ;;
    *) echo "fuzz.sh: unknown target '$1' (idx, image, safetensors, json)" >&2; return 1 ;;
  esac
}
for t in "${TARGETS[@]}"; do sources_for "$t" > /dev/null; done

STB=$(dirname "$(find /usr/include /usr/local/include -name stb_image.h -print -quit)")
mkdir -p "$OUT/include" "$OUT/obj"
for t in idx image safetensors json; do mkdir -p "$OUT/corpus/$t"; done
[[ -e "$OUT/include/lucid" ]] || ln -s "$ROOT" "$OUT/include/lucid"

read -ra EXTRA <<< "${FUZZ_CXXFLAGS:-}"
# kernels/version.cpp takes the version CMake passes it, from project(lucid VERSION ...).
VERSION=$(sed -n 's/^project(lucid VERSION \([0-9.]*\).*/\1/p' "$ROOT/CMakeLists.txt")
FLAGS=(-std=c++20 -O1 -g -fno-omit-frame-pointer -fno-sanitize-recover=undefined "${EXTRA[@]}"
       -DLUCID_VERSION_STRING="\"$VERSION\"" -I"$OUT/include" -I"$STB")
LIB_FLAGS=("${FLAGS[@]}" -fsanitize=fuzzer-no-link,address,undefined)
# Objects built with other flags (or another compiler) are stale.
if [[ "$(cat "$OUT/obj/flags" 2>/dev/null)" != "$CXX ${LIB_FLAGS[*]}" ]]; then
  rm -f "$OUT"/obj/*.o
  echo "$CXX ${LIB_FLAGS[*]}" > "$OUT/obj/flags"
fi

mapfile -t SOURCES < <(for t in "${TARGETS[@]}"; do sources_for "$t"; done | sort -u)
# The newest header: an object older than it (or than its source) is rebuilt.
NEWEST_H=$(cd "$ROOT" && ls -t $(find kernels autograd data train -name '*.h') | head -1)
export CXX OUT ROOT NEWEST_H
export LIB_FLAGS_STR="${LIB_FLAGS[*]}"
echo "fuzz.sh: compiling ${#SOURCES[@]} sources with $CXX"
# Two at a time.
printf '%s\n' "${SOURCES[@]}" | xargs -P 2 -I{} bash -c \
  'src={}; obj=$OUT/obj/${src//\//_}.o
   [[ "$obj" -nt "$ROOT/$src" && "$obj" -nt "$ROOT/$NEWEST_H" ]] ||
     $CXX $LIB_FLAGS_STR -c "$ROOT/$src" -o "$obj"'

"$CXX" "${FLAGS[@]}" "$ROOT/fuzz/write_seeds.cpp" -o "$OUT/write_seeds"
"$OUT/write_seeds" "$OUT/corpus"

status=0
for t in "${TARGETS[@]}"; do
  bin=$OUT/fuzz_$t
  # An archive per target: the linker takes only the objects the target reaches.
  mapfile -t objs < <(sources_for "$t" | while read -r src; do echo "$OUT/obj/${src//\//_}.o"; done)
  rm -f "$OUT/lib_$t.a"
  ar rcs "$OUT/lib_$t.a" "${objs[@]}"
  "$CXX" "${FLAGS[@]}" -fsanitize=fuzzer,address,undefined "$ROOT/fuzz/fuzz_$t.cpp" \
    "$OUT/lib_$t.a" -lz -pthread -o "$bin"
  dict=()
  [[ -f "$OUT/corpus/$t.dict" ]] && dict=(-dict="$OUT/corpus/$t.dict")
  echo "fuzz.sh: running fuzz_$t for ${SECONDS_EACH}s"
  (cd "$OUT" && "$bin" -max_total_time="$SECONDS_EACH" -max_len=65536 -rss_limit_mb=2048 \
      -print_final_stats=1 "${dict[@]}" "corpus/$t") || status=$?
done
exit $status

#!/usr/bin/env bash
# Build-time embedding cost, KvAssets against `xxd -i`, on the same files in one run.
#
#   bench/embed.sh [build-dir]      (default: build/dev, as scripts/dev builds it)
#
# Corpora: the npm packages bootstrap@5 and @fortawesome/fontawesome-free@6 (fetched with
# `npm pack` into a cache folder), 10,000 small synthetic files, and one 200 MB file. Baselines
# on the same files in the same run: `xxd -i` arrays (not for the 200 MB file: at the ~40 bytes
# of compiler memory per asset byte measured on the npm corpus it would need about 8 GB) and a
# plain string-literal translation unit (bench/literal_tu.py). Then a CMake project embedding
# the npm corpus: the full build, and a no-op rebuild that must run nothing. Prints one line
# per step with wall time and peak RSS (GNU time). Not part of the test suite.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$root/build/dev}"
gen="$build/generator/kv-assets"
[ -x "$gen" ] || { echo "bench/embed.sh: no generator at $gen; run scripts/dev build" >&2; exit 2; }
command -v xxd >/dev/null || { echo "bench/embed.sh: needs xxd (apt-get install xxd)" >&2; exit 2; }
cxx="${CXX:-g++}"
work="${KV_ASSETS_BENCH_DIR:-/tmp/kv-assets-bench}"
mkdir -p "$work/npm"

measure() {  # measure LABEL COMMAND...: wall seconds and peak RSS of COMMAND
  local label="$1"
  shift
  /usr/bin/time -f "%e %M" -o "$work/time.txt" "$@" >/dev/null
  read -r secs kb <"$work/time.txt"
  printf '%-52s %8.2f s %8d MB\n' "$label" "$secs" "$((kb / 1024))"
}

corpus() {  # corpus NAME FOLDER [no-xxd]
  local name="$1" site="$2" out="$work/out-$1"
  rm -rf "$out" && mkdir -p "$out"
  local files bytes
  files=$(find "$site" -type f | wc -l)
  bytes=$(du -sb "$site" | cut -f1)
  echo "== $name: $files files, $((bytes / 1000000)) MB"
  # Without precompression, like xxd -i; bench/compress.sh measures that step.
  measure "kv-assets generate" "$gen" generate "$site" "--out-dir=$out" --name=bench \
    --namespace=bench --prefix=/static/ --compress=none
  measure "compile bodies (.incbin), $cxx -O2" \
    "$cxx" -std=c++20 -O2 -c -I "$out" -I "$root/runtime/include" "$out/bench.cc" -o "$out/bench.o"
  printf '#include "bench.h"\nint main() { return bench::kManifest.assets.empty(); }\n' \
    >"$out/main.cc"
  measure "compile a file including the header, $cxx -O2" \
    "$cxx" -std=c++20 -O2 -c -I "$out" -I "$root/runtime/include" "$out/main.cc" -o "$out/main.o"
  "$root/bench/literal_tu.py" "$site" "$out/literal.cc"
  measure "baseline: compile one plain string literal per file, $cxx -O2" \
    "$cxx" -O2 -c "$out/literal.cc" -o "$out/literal.o"
  [ "${3:-}" = no-xxd ] && return 0
  measure "baseline: xxd -i of every file" \
    bash -c "cd '$site' && find . -type f -print0 | sort -z | xargs -0 -n1 xxd -i > '$out/xxd.c'"
  measure "baseline: compile the xxd -i output, ${CC:-gcc} -O2" \
    "${CC:-gcc}" -O2 -c "$out/xxd.c" -o "$out/xxd.o"
}

# kv_assets_embed() in a CMake project over FOLDER: the full build (generator with the default
# precompression, with its cache cold), then a rebuild with nothing changed, which must run
# nothing.
cmake_project() {  # cmake_project FOLDER
  local site="$1" proj="$work/project"
  rm -rf "$proj" && mkdir -p "$proj"
  {
    echo 'cmake_minimum_required(VERSION 3.25)'
    echo 'project(embed_bench LANGUAGES CXX)'
    echo 'set(KV_ASSETS_BUILD_TESTS OFF)'
    echo 'set(KV_ASSETS_BUILD_EXAMPLES OFF)'
    echo 'set(KV_ASSETS_INSTALL OFF)'
    echo "add_subdirectory(\"$root\" kv-assets)"
    echo 'add_executable(app main.cc)'
    echo "kv_assets_embed(app \"$site\" NAMESPACE app_assets PREFIX /static/)"
  } >"$proj/CMakeLists.txt"
  printf '#include "app_assets.h"\nint main() { return app_assets::kManifest.assets.empty(); }\n' \
    >"$proj/main.cc"
  echo "== CMake project embedding the npm corpus (default COMPRESS), Release"
  cmake -S "$proj" -B "$proj/build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  # The generator and runtime are built once per build folder; what is timed is the app.
  cmake --build "$proj/build" --target kv-assets kv_assets_runtime >/dev/null
  measure "build app: generate (cold compression cache), compile, link" \
    cmake --build "$proj/build"
  measure "no-op rebuild" cmake --build "$proj/build"
  if cmake --build "$proj/build" | grep -q "no work to do"; then
    echo "no-op rebuild: ninja: no work to do"
  else
    echo "no-op rebuild ran something: FAILED" >&2
    exit 1
  fi
}

if [ ! -d "$work/npm/site" ]; then
  (cd "$work/npm" && npm pack --silent bootstrap@5 @fortawesome/fontawesome-free@6 >/dev/null)
  mkdir -p "$work/npm/site/bootstrap" "$work/npm/site/fontawesome"
  tar xzf "$work"/npm/bootstrap-*.tgz -C "$work/npm/site/bootstrap" --strip-components=1
  tar xzf "$work"/npm/fortawesome-fontawesome-free-*.tgz -C "$work/npm/site/fontawesome" \
    --strip-components=1
fi
if [ ! -d "$work/synthetic/site" ]; then
  for d in $(seq -w 0 99); do
    mkdir -p "$work/synthetic/site/d$d"
    for i in $(seq -w 0 99); do
      printf 'console.log("%s/%s");\n' "$d" "$i" >"$work/synthetic/site/d$d/file$i.js"
    done
  done
fi

if [ ! -f "$work/big/site/big.bin" ]; then
  mkdir -p "$work/big/site"
  head -c 200000000 /dev/urandom >"$work/big/site/big.bin"
fi

echo "machine: $(nproc) cores, $(uname -m), $($cxx --version | head -1), $(date -u +%F)"
corpus "npm (bootstrap + fontawesome-free)" "$work/npm/site"
corpus "synthetic 10,000 small files" "$work/synthetic/site"
corpus "synthetic one 200 MB file" "$work/big/site" no-xxd
cmake_project "$work/npm/site"

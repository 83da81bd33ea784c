#!/usr/bin/env bash
# Build-time embedding cost, KvAssets against `xxd -i`, on the same files in one run.
#
#   bench/embed.sh [build-dir]      (default: build/dev, as scripts/dev builds it)
#
# Corpus: the npm packages bootstrap@5 and @fortawesome/fontawesome-free@6 (fetched with
# `npm pack` into a cache folder), plus 10,000 small synthetic files. Prints one line per step
# with wall time and peak RSS (GNU time). Not part of the test suite.
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

corpus() {  # corpus NAME FOLDER
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
  measure "baseline: xxd -i of every file" \
    bash -c "cd '$site' && find . -type f -print0 | sort -z | xargs -0 -n1 xxd -i > '$out/xxd.c'"
  measure "baseline: compile the xxd -i output, ${CC:-gcc} -O2" \
    "${CC:-gcc}" -O2 -c "$out/xxd.c" -o "$out/xxd.o"
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

echo "machine: $(nproc) cores, $(uname -m), $($cxx --version | head -1), $(date -u +%F)"
corpus "npm (bootstrap + fontawesome-free)" "$work/npm/site"
corpus "synthetic 10,000 small files" "$work/synthetic/site"

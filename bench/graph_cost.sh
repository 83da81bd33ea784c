#!/usr/bin/env bash
# What the asset graph (generator/link.h: references rewritten, tags that follow them, SRI)
# costs a build: the full embed of bench/embed.sh's npm corpus with the generator before it
# and with the current one, interleaved.
#
#   bench/graph_cost.sh [build-dir]   (default build/dev; its generator is the current one)
#   ROUNDS=7 bench/graph_cost.sh      (default 5)
#   OLD_GEN=/path/to/kv-assets ...    (default: built from BASE, the commit before link.h)
#
# A full embed, as in bench/embed.sh: `kv-assets generate --compress=none` into a fresh
# folder (precompression is bench/compress.sh's subject and the same for both), compiling the
# bodies, and compiling a file that includes the header (which now also holds integrity
# values and the import map). Each round runs both, in alternating order; the summary is the
# median of the rounds' ratios (current / before). Target (issue: the asset graph): at most
# 1.10. Also prints the current generator with --rewrite=none, and what the corpus's
# stylesheets reference. Not part of the test suite.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$root/build/dev}"
gen="$build/generator/kv-assets"
[ -x "$gen" ] || { echo "bench/graph_cost.sh: no generator at $gen; run scripts/dev build" >&2; exit 2; }
rounds="${ROUNDS:-5}"
cxx="${CXX:-g++}"
work="${KV_ASSETS_BENCH_DIR:-/tmp/kv-assets-bench}"
mkdir -p "$work/npm"

if [ ! -d "$work/npm/site" ]; then  # the corpus of bench/embed.sh
  (cd "$work/npm" && npm pack --silent bootstrap@5 @fortawesome/fontawesome-free@6 >/dev/null)
  mkdir -p "$work/npm/site/bootstrap" "$work/npm/site/fontawesome"
  tar xzf "$work"/npm/bootstrap-*.tgz -C "$work/npm/site/bootstrap" --strip-components=1
  tar xzf "$work"/npm/fortawesome-fontawesome-free-*.tgz -C "$work/npm/site/fontawesome" \
    --strip-components=1
fi
site="$work/npm/site"

old="${OLD_GEN:-}"
if [ -z "$old" ]; then
  base="${BASE:-$(git -C "$root" log --diff-filter=A --format=%H -- generator/link.h | tail -1)~1}"
  src="$work/graph-base/src" obj="$work/graph-base/build"
  if [ ! -x "$obj/generator/kv-assets" ]; then
    echo "building the generator of $base in $obj" >&2
    rm -rf "$work/graph-base" && mkdir -p "$src"
    git -C "$root" archive "$base" | tar x -C "$src"
    cmake -S "$src" -B "$obj" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKV_ASSETS_BUILD_TESTS=OFF \
      -DKV_ASSETS_BUILD_EXAMPLES=OFF -DKV_ASSETS_INSTALL=OFF >/dev/null
    cmake --build "$obj" --target kv-assets >/dev/null
  fi
  old="$obj/generator/kv-assets"
fi

now() { date +%s.%N; }
# full GEN OUT [flags]: one full embed; prints its seconds.
full() {
  local g="$1" out="$2"
  shift 2
  rm -rf "$out" && mkdir -p "$out"
  local start end
  start="$(now)"
  "$g" generate "$site" "--out-dir=$out" --name=bench --namespace=bench --prefix=/static/ \
    --compress=none --quiet "$@" 2>"$out/stderr"
  "$cxx" -std=c++20 -O2 -c -I "$out" -I "$root/runtime/include" "$out/bench.cc" -o "$out/bench.o"
  printf '#include "bench.h"\nint main() { return bench::kManifest.assets.empty(); }\n' >"$out/main.cc"
  "$cxx" -std=c++20 -O2 -c -I "$out" -I "$root/runtime/include" "$out/main.cc" -o "$out/main.o"
  end="$(now)"
  awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }'
}
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
  if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "corpus: $(find "$site" -type f | wc -l) files, $(du -sh "$site" | cut -f1); $(find "$site" -name '*.css' | wc -l) stylesheets"
ratios=() none_ratios=()
for r in $(seq 1 "$rounds"); do
  if [ $((r % 2)) -eq 1 ]; then
    b="$(full "$old" "$work/graph-old")"; c="$(full "$gen" "$work/graph-new")"
    n="$(full "$gen" "$work/graph-none" --rewrite=none)"
  else
    n="$(full "$gen" "$work/graph-none" --rewrite=none)"
    c="$(full "$gen" "$work/graph-new")"; b="$(full "$old" "$work/graph-old")"
  fi
  ratio="$(awk -v a="$c" -v b="$b" 'BEGIN { printf "%.3f", a / b }')"
  none="$(awk -v a="$n" -v b="$b" 'BEGIN { printf "%.3f", a / b }')"
  ratios+=("$ratio") none_ratios+=("$none")
  echo "round $r: before $b s, current $c s (${ratio}x), current --rewrite=none $n s (${none}x)"
done
echo "median: current / before = $(median "${ratios[@]}")x (target <= 1.10); --rewrite=none / before = $(median "${none_ratios[@]}")x"
"$gen" generate "$site" "--out-dir=$work/graph-new" --name=bench --prefix=/static/ --compress=none \
  2>&1 >/dev/null | grep -c ': warning: ' | sed 's/^/references to files not in the corpus: /' || true
echo "header: before $(wc -c <"$work/graph-old/bench.h") bytes, current $(wc -c <"$work/graph-new/bench.h") bytes"

#!/usr/bin/env bash
# Build-time precompression: `kv-assets generate` without compression, with a cold cache, with
# a warm one and after editing one file; the compile cost of the header; and the bytes each
# coding saves.
#
#   bench/compress.sh [build-dir] [folder]     (default build-dir: build/dev)
#
# Default corpus: web assets shipped by Debian 12 packages, copied (links resolved) into
# $KV_ASSETS_BENCH_DIR/debian/site: bootstrap 5.2.3 and 4.6.1, Font Awesome 4.7.0, jQuery UI
# 1.13.2, highlight.js 9.18.5, CodeMirror 5.65.0 and three.js r111. Install them with
#   apt-get install libjs-bootstrap5 libjs-bootstrap4 fonts-font-awesome libjs-jquery-ui \
#     libjs-highlight.js libjs-codemirror libjs-three
# Any other folder works too, e.g. bench/embed.sh's npm corpus (/tmp/kv-assets-bench/npm/site).
# Prints wall time, CPU time and peak RSS per step (GNU time). Not part of the test suite.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$root/build/dev}"
gen="$build/generator/kv-assets"
[ -x "$gen" ] || { echo "bench/compress.sh: no generator at $gen; run scripts/dev build" >&2; exit 2; }
cxx="${CXX:-g++}"
work="${KV_ASSETS_BENCH_DIR:-/tmp/kv-assets-bench}"

debian_corpus() {
  local site="$work/debian/site"
  [ -d "$site" ] && { echo "$site"; return; }
  local sources=(/usr/share/javascript/bootstrap5 /usr/share/javascript/bootstrap4
                 /usr/share/fonts-font-awesome /usr/share/javascript/jquery-ui
                 /usr/share/javascript/highlight.js /usr/share/javascript/codemirror
                 /usr/share/javascript/three)
  for s in "${sources[@]}"; do
    [ -d "$s" ] || { echo "bench/compress.sh: $s missing; see the apt-get line in $0" >&2; exit 2; }
  done
  mkdir -p "$site"
  for s in "${sources[@]}"; do cp -rL "$s" "$site/"; done
  echo "$site"
}

site="${2:-$(debian_corpus)}"
out="$work/out-compress"
mkdir -p "$work"

# measure LABEL COMMAND...: wall seconds, CPU seconds (user + system: on a shared machine the
# steadier figure) and peak RSS of COMMAND.
measure() {
  local label="$1"
  shift
  /usr/bin/time -f "%e %U %S %M" -o "$work/time.txt" "$@" >/dev/null
  read -r secs user sys kb <"$work/time.txt"
  printf '%-52s %8.2f s %8.2f s CPU %6d MB\n' "$label" "$secs" "$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')" \
    "$((kb / 1024))"
}

generate() {  # generate LABEL [FLAGS...]
  local label="$1"
  shift
  measure "$label" "$gen" generate "$site" "--out-dir=$out" --name=bench --namespace=bench \
    --prefix=/static/ "$@"
}

compile_header() {  # compile_header LABEL
  printf '#include "bench.h"\nint main() { return bench::kManifest.assets.empty(); }\n' \
    >"$out/main.cc"
  measure "$1" "$cxx" -std=c++20 -O2 -c -I "$out" -I "$root/runtime/include" "$out/main.cc" \
    -o "$out/main.o"
}

# Per coding: how many files have a variant, their bytes, the variants' bytes. "best" is what
# a client accepting all three receives (each asset's smallest variant, or the body).
cat >"$work/stats.cc" <<'EOF'
#include <cstdint>
#include <cstdio>
#include "bench.h"
int main() {
  const auto& m = bench::kManifest;
  std::uint64_t count[4] = {}, original[4] = {}, encoded[4] = {}, total = 0, best = 0;
  for (const auto& a : m.assets) {
    total += a.size;
    const auto variants = m.VariantsOf(a);
    best += variants.empty() ? a.size : variants[0].size;
    for (const auto& v : variants) {
      const int c = static_cast<int>(v.coding);
      ++count[c];
      original[c] += a.size;
      encoded[c] += v.size;
    }
  }
  std::printf("%zu assets, %.2f MB\n", m.assets.size(), total / 1e6);
  for (int c = 1; c <= 3; ++c) {
    const char* name = c == 1 ? "gzip" : c == 2 ? "br" : "zstd";
    std::printf("%-5s %5llu files: %7.2f MB -> %6.2f MB (saves %.1f %%)\n", name,
                static_cast<unsigned long long>(count[c]), original[c] / 1e6, encoded[c] / 1e6,
                original[c] ? 100.0 * (original[c] - encoded[c]) / original[c] : 0.0);
  }
  std::printf("best  all files: %.2f MB -> %.2f MB (saves %.1f %%)\n", total / 1e6, best / 1e6,
              100.0 * (total - best) / total);
}
EOF

echo "machine: $(nproc) cores, $(uname -m), $($cxx --version | head -1), $(date -u +%F)"
echo "== $site: $(find -L "$site" -type f | wc -l) files, $(($(du -sbL "$site" | cut -f1) / 1000000)) MB"
rm -rf "$out" && mkdir -p "$out"
generate "generate, --compress=none" --compress=none
compile_header "compile a file including the header (no variants)"
rm -rf "$out" && mkdir -p "$out"
generate "generate, cold cache"
generate "generate, warm cache (nothing changed)"
edited="$(find "$site" -name '*.css' -size +20k | sort | head -1)"
cp "$edited" "$work/edited.bak"
printf '\n/* edited */\n' >>"$edited"
generate "generate, warm cache, one file edited"
cp "$work/edited.bak" "$edited"
generate "generate, warm cache, edit undone"
echo "cache: $(find "$out/bench.compress-cache" -type f | wc -l) entries," \
  "$(($(du -sb "$out/bench.compress-cache" | cut -f1) / 1000000)) MB"
compile_header "compile a file including the header (with variants)"
measure "compile bodies (.incbin), $cxx -O2" \
  "$cxx" -std=c++20 -O2 -c -I "$out" -I "$root/runtime/include" "$out/bench.cc" -o "$out/bench.o"
"$cxx" -std=c++20 -O2 -I "$out" -I "$root/runtime/include" "$work/stats.cc" "$out/bench.o" \
  -o "$work/stats"
"$work/stats"

#!/usr/bin/env bash
# What precompression costs a build, and what clients receive for it (issue: "cold builds
# that pay only for what clients receive").
#
#   bench/cold_build.sh [build-dir]      (default build/dev; needs its kv-assets)
#   ROUNDS=5 bench/cold_build.sh         (default 3)
#
# Corpus: the minified JavaScript and CSS of two npm packages, a code editor and a PDF viewer
# (monaco-editor@0.57.0 min/**/*.js|css and pdfjs-dist@5.6.205 build/*.min.mjs), fetched
# with `npm pack` into $KV_ASSETS_BENCH_DIR (default /tmp/kv-assets-bench).
#
# Each round, in alternating order, on every core:
#   reference   `brotli -q 11` of every file, as many parallel jobs as cores (xargs -P)
#   default     kv-assets generate, empty cache (gzip 9 + brotli 11, the default)
#   +zstd       the same with --compress=gzip,br,zstd (the default before zstd was dropped)
#   fast        --level=fast, empty cache
#   warm        default again into a fresh output folder with the cache the default run left
# The summary is the median of each round's ratio to the reference. Then the bytes each kind
# of client receives per choice (from the manifests: the smallest variant it accepts), and
# CMake builds of a program embedding the corpus (Ninja, fresh build folder, the runtime
# library built beforehand): Release with an empty and with a warm cache, Debug with an empty
# one, and two embeds with and without Ninja's console pool. Not part of the test suite.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$root/build/dev}"
gen="$build/generator/kv-assets"
[ -x "$gen" ] || { echo "bench/cold_build.sh: no generator at $gen; run scripts/dev build" >&2; exit 2; }
rounds="${ROUNDS:-3}"
jobs="$(nproc)"
work="${KV_ASSETS_BENCH_DIR:-/tmp/kv-assets-bench}/cold"
mkdir -p "$work"

need=()
command -v brotli >/dev/null || need+=(brotli)
command -v npm >/dev/null || [ -d "$work/site" ] || need+=(npm)
[ -x /usr/bin/time ] || need+=(time)
[ ${#need[@]} -eq 0 ] || "$root/scripts/apt-install" "${need[@]}"

site="$work/site"
if [ ! -d "$site" ]; then
  (cd "$work" && npm pack --silent monaco-editor@0.57.0 pdfjs-dist@5.6.205 >/dev/null)
  mkdir -p "$work/m" "$work/p" "$site/pdfjs"
  tar xzf "$work"/monaco-editor-0.57.0.tgz -C "$work/m" --strip-components=1
  tar xzf "$work"/pdfjs-dist-5.6.205.tgz -C "$work/p" --strip-components=1
  (cd "$work/m/min" && find . -type f \( -name '*.js' -o -name '*.css' \) \
     -exec cp --parents {} "$site/" \;)
  cp "$work"/p/build/*.min.mjs "$site/pdfjs/"
fi
echo "corpus: $(find "$site" -type f | wc -l) files, $(du -sb "$site" | cut -f1) bytes; $jobs cores"

seconds() {  # seconds COMMAND...: wall seconds of one run, output discarded
  local start end
  start=$(date +%s.%N)
  "$@" >/dev/null 2>&1
  end=$(date +%s.%N)
  awk -v a="$start" -v b="$end" 'BEGIN { print b - a }'
}
reference() { find "$site" -type f -print0 | xargs -0 -P "$jobs" -n 1 sh -c 'brotli -q 11 -c "$0" >/dev/null'; }
generate() {  # generate NAME CACHE [flags...]
  local name="$1" cache="$2"
  shift 2
  rm -rf "$work/out-$name"
  KV_ASSETS_CACHE_DIR="$cache" "$gen" generate "$site" --out-dir="$work/out-$name" --name=a "$@"
}
cold() {  # cold NAME [flags...]: generate with an empty cache of its own
  local name="$1"
  shift
  rm -rf "$work/cache-$name"
  generate "$name" "$work/cache-$name" "$@"
}

declare -A ratios
steps=(reference default +zstd fast warm)
for ((r = 1; r <= rounds; r++)); do
  order=("${steps[@]}")
  if ((r % 2 == 0)); then order=(fast +zstd default reference); fi
  declare -A t=()
  for step in "${order[@]}"; do
    case "$step" in
      reference) t[$step]=$(seconds reference) ;;
      default) t[$step]=$(seconds cold default) ;;
      +zstd) t[$step]=$(seconds cold zstd --compress=gzip,br,zstd) ;;
      fast) t[$step]=$(seconds cold fast --level=fast) ;;
    esac
  done
  t[warm]=$(seconds generate warm "$work/cache-default")
  line="round $r:"
  for step in "${steps[@]}"; do
    line+=" $step $(printf '%.2f' "${t[$step]}") s"
    ratios[$step]+="$(awk -v a="${t[$step]}" -v b="${t[reference]}" 'BEGIN { print a / b }') "
  done
  echo "$line"
done
for step in default +zstd fast warm; do
  median=$(tr ' ' '\n' <<<"${ratios[$step]}" | grep . | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  printf '%-8s median %.2f x the reference (rounds: %s)\n' "$step" "$median" \
    "$(for x in ${ratios[$step]}; do printf '%.2f ' "$x"; done)"
done

echo "== bytes each client receives (smallest accepted representation, summed over the corpus)"
for name in default zstd fast; do
  "$gen" dump "$work/out-$name/a.h" | python3 -c '
import json, sys
m = json.load(sys.stdin)
def best(a, accepted):
    sizes = [a["size"]] + [v["size"] for v in a.get("variants", []) if v["coding"] in accepted]
    return min(sizes)
total = sum(a["size"] for a in m["assets"])
for client, accepted in [("Chrome/Firefox (gzip, br, zstd)", {"gzip", "br", "zstd"}),
                         ("Safari (gzip, br)", {"gzip", "br"}), ("gzip only", {"gzip"})]:
    received = sum(best(a, accepted) for a in m["assets"])
    print(f"  {sys.argv[1]:8} {client:32} {received:>10,} of {total:,}")
zstd_wins = sum(1 for a in m["assets"]
                if any(v["coding"] == "zstd" for v in a.get("variants", [])[:1]))
if zstd_wins: print(f"  {sys.argv[1]:8} files whose smallest variant is zstd: {zstd_wins}")
' "$name"
done

echo "== CMake: a program embedding the corpus (Ninja; the runtime built beforehand)"
project="$work/project"
mkdir -p "$project/a" "$project/b"
if [ ! -f "$project/CMakeLists.txt" ]; then
  # Two halves of the corpus, for the two-embed build.
  i=0
  while IFS= read -r -d '' f; do
    rel="${f#"$site"/}"
    half=$([ $((i % 2)) -eq 0 ] && echo a || echo b)
    mkdir -p "$project/$half/$(dirname "$rel")"
    cp "$f" "$project/$half/$rel"
    i=$((i + 1))
  done < <(find "$site" -type f -print0 | sort -z)
  cat >"$project/CMakeLists.txt" <<EOF
cmake_minimum_required(VERSION 3.25)
project(cold_build CXX)
add_subdirectory("$root" kv-assets)
add_executable(one main.cc)
kv_assets_embed(one "$site" NAMESPACE app_assets)
add_executable(two main.cc)
kv_assets_embed(two a NAMESPACE app_assets)
kv_assets_embed(two b NAMESPACE more_assets)
EOF
  printf '#include <cstdio>\nint main() { std::puts("ok"); }\n' >"$project/main.cc"
fi
cmake_build() {  # cmake_build LABEL TARGET CACHE [cmake args...]
  local label="$1" target="$2" cache="$3"
  shift 3
  local b="$work/project-build"
  rm -rf "$b"
  cmake -S "$project" -B "$b" -G Ninja -DKV_ASSETS_GENERATOR="$gen" "$@" >/dev/null
  cmake --build "$b" --target kv_assets_runtime >/dev/null
  local s
  s=$(KV_ASSETS_CACHE_DIR="$cache" seconds cmake --build "$b" --target "$target")
  printf '  %-44s %6.2f s\n' "$label" "$s"
}
rm -rf "$work/cmake-cache"
cmake_build "Release, empty cache" one "$work/cmake-cache" -DCMAKE_BUILD_TYPE=Release
cmake_build "Release, warm cache, fresh build folder" one "$work/cmake-cache" -DCMAKE_BUILD_TYPE=Release
rm -rf "$work/cmake-cache"
cmake_build "Debug (fast level), empty cache" one "$work/cmake-cache" -DCMAKE_BUILD_TYPE=Debug
for terminal in ON OFF; do
  rm -rf "$work/cmake-cache"
  cmake_build "two embeds, console pool $terminal, empty cache" two "$work/cmake-cache" \
    -DCMAKE_BUILD_TYPE=Release "-DKV_ASSETS_EMBED_USES_TERMINAL=$terminal"
done

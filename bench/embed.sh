#!/usr/bin/env bash
# Build-time embedding cost, KvAssets against `xxd -i` and Qt's `rcc`, on the same files in one run.
#
#   bench/embed.sh [build-dir]      (default: build/dev, as scripts/dev builds it)
#   ROUNDS=5 bench/embed.sh         (rounds per corpus, default 3)
#
# Corpora: the npm packages bootstrap@5 and @fortawesome/fontawesome-free@6 (fetched with
# `npm pack` into a cache folder), 10,000 small synthetic files, and one 200 MB file.
#
# A full embed is what a build runs: for KvAssets `kv-assets generate --compress=none` (no
# precompression, like the baselines; bench/compress.sh measures that step), compiling the
# bodies (.incbin) and compiling a file that includes the header. Baselines on the same files:
#   - `xxd -i` of every file, then compiling that C with gcc -O2;
#   - Qt 5's resource compiler: a .qrc listing every file (bench/qrc.py, the form CMake's
#     qt_add_resources writes), `rcc -o assets.cpp assets.qrc` with rcc's defaults (zlib at
#     level -1 for files it saves at least 70 % on, `--threshold 70`; the rest stored as they
#     are), then compiling that C++ with g++ -O2. Compiling needs no Qt headers; linking would
#     need Qt5Core, which is not measured;
#   - a plain string-literal translation unit (bench/literal_tu.py), once per corpus.
# This VM's speed drifts by up to 3x between minutes, so KvAssets, xxd -i and rcc run
# interleaved in ROUNDS rounds, the order reversed every other round; each round gives one
# ratio per baseline (its full embed time over KvAssets'), and the summary is the median of
# those ratios with the per-round figures. Not run on the 200 MB file: `xxd -i` (at the ~80
# bytes of compiler memory per asset byte measured on the npm corpus it would need about
# 15 GB) and compiling rcc's output (~150 bytes of g++ memory per byte of rcc's array: 2.0 GB
# for 13.8 MB on the npm corpus, so about 29 GB here, more than this 24 GB machine; tried once,
# g++ ran out at a 14 GB limit after 66 s). rcc itself runs and is timed.
# CMRC: not measured — not available from Debian or npm, and this machine cannot reach GitHub.
#
# Then a CMake project embedding the npm corpus: the full build, and a no-op rebuild that must
# run nothing. Prints one line per step with wall time and peak RSS (GNU time). Installs xxd,
# time, qtbase5-dev-tools (rcc) and npm with apt-get if missing. Not part of the test suite.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$root/build/dev}"
gen="$build/generator/kv-assets"
[ -x "$gen" ] || { echo "bench/embed.sh: no generator at $gen; run scripts/dev build" >&2; exit 2; }
cxx="${CXX:-g++}"
cc="${CC:-gcc}"
rcc="${RCC:-/usr/lib/qt5/bin/rcc}"  # qtbase5-dev-tools; /usr/bin/rcc is qtchooser's wrapper
rounds="${ROUNDS:-3}"
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || { echo "bench/embed.sh: ROUNDS must be a positive integer" >&2; exit 2; }
work="${KV_ASSETS_BENCH_DIR:-/tmp/kv-assets-bench}"
mkdir -p "$work/npm"

need=()
command -v xxd >/dev/null || need+=(xxd)
[ -x /usr/bin/time ] || need+=(time)
command -v python3 >/dev/null || need+=(python3)
[ -x "$rcc" ] || need+=(qtbase5-dev-tools)
[ -d "$work/npm/site" ] || command -v npm >/dev/null || need+=(npm)
if [ ${#need[@]} -gt 0 ]; then
  echo "bench/embed.sh: installing ${need[*]}" >&2
  "$root/scripts/apt-install" "${need[@]}"
fi
[ -x "$rcc" ] || { echo "bench/embed.sh: no rcc at $rcc (RCC=...)" >&2; exit 2; }

timef="$(mktemp)"
trap 'rm -f "$timef"' EXIT

m_secs=0 m_kb=0
measure() {  # measure LABEL COMMAND...: wall seconds and peak RSS of COMMAND (also in m_secs, m_kb)
  local label="$1"
  shift
  /usr/bin/time -f "%e %M" -o "$timef" "$@" >/dev/null
  read -r m_secs m_kb <"$timef"
  printf '%-62s %8.2f s %8d MB\n' "$label" "$m_secs" "$((m_kb / 1024))"
}

# Steps of one full embed, summed: full_secs, full_kb (the largest peak of the steps).
full_secs=0 full_kb=0
full_begin() { full_secs=0 full_kb=0; }
full_add() {
  full_secs=$(awk -v a="$full_secs" -v b="$m_secs" 'BEGIN { print a + b }')
  [ "$m_kb" -le "$full_kb" ] || full_kb=$m_kb
}
full_end() { printf '%-62s %8.2f s %8d MB\n' "  = $1" "$full_secs" "$((full_kb / 1024))"; }

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / b }'; }
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
  if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
max() { printf '%s\n' "$@" | sort -g | tail -1; }

kv_full() {  # kv_full SITE OUT: sets kv_secs, kv_kb
  local site="$1" out="$2/kv"
  rm -rf "$out" && mkdir -p "$out"  # a fresh folder: generate writes only outputs that changed
  full_begin
  measure "  kv-assets generate" "$gen" generate "$site" "--out-dir=$out" --name=bench \
    --namespace=bench --prefix=/static/ --compress=none
  full_add
  measure "  compile bodies (.incbin), $cxx -O2" \
    "$cxx" -std=c++20 -O2 -c -I "$out" -I "$root/runtime/include" "$out/bench.cc" -o "$out/bench.o"
  full_add
  printf '#include "bench.h"\nint main() { return bench::kManifest.assets.empty(); }\n' \
    >"$out/main.cc"
  measure "  compile a file including the header, $cxx -O2" \
    "$cxx" -std=c++20 -O2 -c -I "$out" -I "$root/runtime/include" "$out/main.cc" -o "$out/main.o"
  full_add
  full_end "kv-assets full embed"
  kv_secs=$full_secs kv_kb=$full_kb
}

xxd_full() {  # xxd_full SITE OUT: sets xxd_secs
  local site="$1" out="$2/xxd"
  rm -rf "$out" && mkdir -p "$out"
  full_begin
  measure "  xxd -i of every file" \
    bash -c "cd '$site' && find . -type f -print0 | sort -z | xargs -0 -n1 xxd -i > '$out/xxd.c'"
  full_add
  measure "  compile the xxd -i output, $cc -O2" "$cc" -O2 -c "$out/xxd.c" -o "$out/xxd.o"
  full_add
  full_end "xxd -i full embed"
  xxd_secs=$full_secs
}

rcc_full() {  # rcc_full SITE OUT [no-compile]: sets rcc_secs (the .qrc is OUT/assets.qrc)
  local site="$1" out="$2/rcc"
  rm -rf "$out" && mkdir -p "$out"
  full_begin
  measure "  rcc -o assets.cpp assets.qrc (defaults)" "$rcc" -o "$out/assets.cpp" "$2/assets.qrc"
  full_add
  if [ "${3:-}" = no-compile ]; then
    echo "  compile the rcc output: not run ($(du -m "$out/assets.cpp" | cut -f1) MB of C++; see the top of $0)"
    rm -rf "$out"
    return 0
  fi
  measure "  compile the rcc output, $cxx -O2" "$cxx" -O2 -c "$out/assets.cpp" -o "$out/assets.o"
  full_add
  full_end "rcc full embed"
  rcc_secs=$full_secs
}

corpus() {  # corpus NAME FOLDER [big|targets]
  local name="$1" site="$2" mode="${3:-}" out="$work/out-$1"
  rm -rf "$out" && mkdir -p "$out"
  local files bytes
  files=$(find "$site" -type f | wc -l)
  bytes=$(du -sb "$site" | cut -f1)
  echo "== $name: $files files, $((bytes / 1000000)) MB"
  "$root/bench/literal_tu.py" "$site" "$out/literal.cc"
  measure "baseline: compile one plain string literal per file, $cxx -O2" \
    "$cxx" -O2 -c "$out/literal.cc" -o "$out/literal.o"
  rm -f "$out/literal.cc" "$out/literal.o"
  "$root/bench/qrc.py" "$site" "$out/assets.qrc"
  if [ "$mode" = big ]; then
    echo "-- once: kv-assets, rcc (xxd -i and compiling rcc's output not run)"
    kv_full "$site" "$out"
    rcc_full "$site" "$out" no-compile
    return 0
  fi
  local r kv_all=() kv_peaks=() xxd_ratios=() rcc_ratios=() order
  for ((r = 1; r <= rounds; r++)); do
    if ((r % 2)); then order=(kv xxd rcc); else order=(rcc xxd kv); fi
    echo "-- round $r of $rounds: ${order[*]}"
    for step in "${order[@]}"; do "${step}_full" "$site" "$out"; done
    kv_all+=("$kv_secs")
    kv_peaks+=("$((kv_kb / 1024))")
    xxd_ratios+=("$(ratio "$xxd_secs" "$kv_secs")")
    rcc_ratios+=("$(ratio "$rcc_secs" "$kv_secs")")
    echo "   round $r: xxd -i / kv-assets ${xxd_ratios[-1]}x, rcc / kv-assets ${rcc_ratios[-1]}x"
  done
  local kv_med xxd_med rcc_med kv_peak
  kv_med=$(median "${kv_all[@]}")
  kv_peak=$(max "${kv_peaks[@]}")
  xxd_med=$(median "${xxd_ratios[@]}")
  rcc_med=$(median "${rcc_ratios[@]}")
  echo "kv-assets full embed: median $kv_med s (${kv_all[*]}), peak RSS up to $kv_peak MB"
  echo "xxd -i / kv-assets: median ${xxd_med}x of $rounds rounds (${xxd_ratios[*]})"
  echo "rcc / kv-assets: median ${rcc_med}x of $rounds rounds (${rcc_ratios[*]})"
  if [ "$mode" = targets ]; then
    met() { if awk -v a="$1" -v b="$3" "BEGIN { exit !(a $2 b) }"; then echo met; else echo "NOT met"; fi; }
    echo "issue targets: full embed under 2 s: $(met "$kv_med" '<' 2) (median $kv_med s);" \
      "peak under 150 MB: $(met "$kv_peak" '<' 150) ($kv_peak MB);" \
      "at least 50x faster than xxd -i: $(met "$xxd_med" '>=' 50) (median ${xxd_med}x)"
  fi
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
echo "rcc: $("$rcc" --version) ($rcc), defaults: zlib level -1, threshold 70; rounds: $rounds"
echo "CMRC: not measured — not available from Debian or npm, and this machine cannot reach GitHub"
corpus "npm (bootstrap + fontawesome-free)" "$work/npm/site" targets
corpus "synthetic 10,000 small files" "$work/synthetic/site"
corpus "synthetic one 200 MB file" "$work/big/site" big
cmake_project "$work/npm/site"

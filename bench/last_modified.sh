#!/usr/bin/env bash
# Cost of LAST_MODIFIED git against mtime: one `kv-assets generate --compress=none` run of each
# on a synthetic repository (made once, with `git fast-import`, in a cache folder).
#
#   bench/last_modified.sh [build-dir]      (default: build/dev, as scripts/dev builds it)
#
# The repository: FILES files (default 2,000) in site/, in folders of 100, plus 500 in src/;
# then COMMITS - 1 commits (default 1,000 in all), each changing 1 to 3 files picked
# pseudo-randomly, half of them outside site/. With the defaults, 59 % of site/'s files are
# never changed after the first commit, so git mode walks the whole history. Prints the
# median wall and CPU times and the peak RSS of RUNS runs (default 5) of each mode. Not part
# of the test suite.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$root/build/dev}"
gen="$build/generator/kv-assets"
if [ ! -x "$gen" ]; then
  echo "bench/last_modified.sh: no generator at $gen; run scripts/dev build" >&2
  exit 2
fi
files="${FILES:-2000}"
commits="${COMMITS:-1000}"
runs="${RUNS:-5}"
work="${KV_ASSETS_BENCH_DIR:-/tmp/kv-assets-bench}/git-$files-$commits"
repo="$work/repo"
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null

# A git fast-import stream: the first commit adds every file, each later one edits a few.
stream() {
  local t=1600000000 seed=12345 c k n f path
  path_of() {  # path_of N: the N-th file (the first $files in site/, 500 more in src/)
    if [ "$1" -lt "$files" ]; then
      printf 'site/d%03d/file%04d.js' $(($1 / 100)) "$1"
    else
      printf 'src/lib%04d.cc' $(($1 - files))
    fi
  }
  printf 'commit refs/heads/main\ncommitter Bench <bench@example.com> %d +0000\n' "$t"
  printf 'data 7\ninitial\n'
  for ((f = 0; f < files + 500; f++)); do
    path="$(path_of "$f")"
    printf 'M 100644 inline %s\ndata %d\n%s\n' "$path" $((${#path} + 1)) "$path"
  done
  for ((c = 1; c < commits; c++)); do
    printf 'commit refs/heads/main\ncommitter Bench <bench@example.com> %d +0000\n' $((t + 60 * c))
    printf 'data 7\nchange\n'
    seed=$(((seed * 1103515245 + 12345) % 2147483648))
    n=$((1 + seed % 3))
    for ((k = 0; k < n; k++)); do
      seed=$(((seed * 1103515245 + 12345) % 2147483648))
      if ((seed % 2 == 0)); then f=$((seed / 2 % files)); else f=$((files + seed / 2 % 500)); fi
      path="$(path_of "$f")"
      local body="$path changed in commit $c"
      printf 'M 100644 inline %s\ndata %d\n%s\n' "$path" $((${#body} + 1)) "$body"
    done
  done
}

if [ ! -d "$repo/.git" ]; then
  rm -rf "$repo" && mkdir -p "$repo"
  git -C "$repo" init -q -b main
  stream | git -C "$repo" fast-import --quiet
  git -C "$repo" checkout -q -f main
fi

# measure LABEL MODE: of $runs runs, the median wall time, the median CPU time (user + system:
# less disturbed by other work on the machine) and the peak RSS.
measure() {
  local label="$1" mode="$2" out="$work/out-$2" i
  rm -rf "$out" && mkdir -p "$out"
  for ((i = 0; i < runs; i++)); do
    /usr/bin/time -f "%e %U %S %M" -o "$work/time-$i.txt" env SOURCE_DATE_EPOCH= "$gen" \
      generate "$repo/site" "--out-dir=$out" --name=bench --compress=none \
      --last-modified="$mode" >/dev/null
  done
  local median=$(((runs + 1) / 2)) wall cpu kb
  wall=$(cut -d' ' -f1 "$work"/time-*.txt | sort -n | sed -n "${median}p")
  cpu=$(awk '{print $2 + $3}' "$work"/time-*.txt | sort -n | sed -n "${median}p")
  kb=$(cut -d' ' -f4 "$work"/time-*.txt | sort -n | tail -1)
  printf '%-34s wall %5.2f s  cpu %5.2f s  %5d MB\n' "$label" "$wall" "$cpu" "$((kb / 1024))"
  rm -f "$work"/time-*.txt
}

echo "machine: $(nproc) cores, $(uname -m), $(date -u +%F)"
echo "repository: $(git -C "$repo" ls-files site | wc -l) files in site/," \
  "$(git -C "$repo" ls-files | wc -l) in all, $(git -C "$repo" rev-list --count HEAD) commits"
measure "generate --last-modified=mtime" mtime
measure "generate --last-modified=git" git

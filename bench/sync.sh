#!/usr/bin/env bash
# kv-assets sync to a folder and to Redis: a first upload, a sync with nothing to do, one file
# changed, and a prune.
#
#   bench/sync.sh [build-dir]      (default: build/dev, as scripts/dev builds it)
#
# Corpus: the npm corpus of bench/embed.sh (bootstrap@5 and @fortawesome/fontawesome-free@6,
# fetched with `npm pack` into the same cache folder), synced with --compress=none so that the
# figures are the upload's, not brotli's (bench/compress.sh measures that). Redis is a
# redis-server started here on a free loopback port and stopped at the end. Not part of the
# test suite.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$root/build/dev}"
gen="$build/generator/kv-assets"
[ -x "$gen" ] || { echo "bench/sync.sh: no generator at $gen; run scripts/dev build" >&2; exit 2; }
command -v redis-server >/dev/null || { echo "bench/sync.sh: needs redis-server" >&2; exit 2; }
work="${KV_ASSETS_BENCH_DIR:-/tmp/kv-assets-bench}"
mkdir -p "$work/npm"

if [ ! -d "$work/npm/site" ]; then
  (cd "$work/npm" && npm pack --silent bootstrap@5 @fortawesome/fontawesome-free@6 >/dev/null)
  mkdir -p "$work/npm/site/bootstrap" "$work/npm/site/fontawesome"
  tar xzf "$work"/npm/bootstrap-*.tgz -C "$work/npm/site/bootstrap" --strip-components=1
  tar xzf "$work"/npm/fortawesome-fontawesome-free-*.tgz -C "$work/npm/site/fontawesome" \
    --strip-components=1
fi
# A copy: the "one file changed" step edits it.
site="$work/sync-site"
rm -rf "$site" && cp -r "$work/npm/site" "$site"
echo "== npm corpus: $(find "$site" -type f | wc -l) files, $(($(du -sb "$site" | cut -f1) / 1000000)) MB"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
redis_dir="$work/redis" && rm -rf "$redis_dir" && mkdir -p "$redis_dir"
redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$redis_dir" \
  --loglevel warning >/dev/null &
redis_pid=$!
trap 'kill $redis_pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done

measure() {  # measure LABEL COMMAND...: wall seconds and peak RSS of COMMAND
  local label="$1"
  shift
  /usr/bin/time -f "%e %M" -o "$work/time.txt" "$@" >/dev/null
  read -r secs kb <"$work/time.txt"
  printf '%-40s %8.2f s %8d MB\n' "$label" "$secs" "$((kb / 1024))"
}

for store in "dir:$work/store-dir" "redis://127.0.0.1:$port"; do
  rm -rf "$work/store-dir"
  cp "$work/npm/site/bootstrap/dist/css/bootstrap.css" "$site/bootstrap/dist/css/bootstrap.css"
  echo "-- $store"
  args=("$site" --name=bench --prefix=/static/ --compress=none "--store=$store")
  measure "sync, empty store" "$gen" sync "${args[@]}"
  measure "sync again (nothing missing)" "$gen" sync "${args[@]}"
  echo "/* changed */" >>"$site/bootstrap/dist/css/bootstrap.css"
  measure "sync after one file changed" "$gen" sync "${args[@]}"
  measure "prune --keep 0" "$gen" sync "--store=$store" --name=bench --prune --keep=0
done

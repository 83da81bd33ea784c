#!/usr/bin/env bash
# Soak test: the example server under wrk for a while, on loopback, with a mix of requests that
# get 200, 206, 304 and (on purpose) 404. Fails when anything else comes back, when a socket
# errs, or when the server's memory or open file count grows. Not part of the test suite.
#
#   bench/soak.sh [seconds]          60 by default
#
# Environment: SOAK_CONNECTIONS (64), SOAK_THREADS (2), SOAK_RSS_TOLERANCE_KB (4096: growth of
# the resident set allowed between a warm-up and the end), SOAK_FD_TOLERANCE (0),
# KV_ASSETS_EXAMPLE (a kv-assets-example to use; otherwise scripts/dev build makes one in
# KV_ASSETS_BUILD_DIR, build/dev by default). Installs wrk and curl (Debian) if missing.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds="${1:-60}"
connections="${SOAK_CONNECTIONS:-64}"
threads="${SOAK_THREADS:-2}"
rss_tolerance_kb="${SOAK_RSS_TOLERANCE_KB:-4096}"
fd_tolerance="${SOAK_FD_TOLERANCE:-0}"
say() { printf 'soak: %s\n' "$*" >&2; }

missing=()
for tool in wrk curl; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if [ ${#missing[@]} -ne 0 ]; then
  say "installing ${missing[*]}"
  "$root/scripts/apt-install" "${missing[@]}"
fi

example="${KV_ASSETS_EXAMPLE:-}"
if [ -z "$example" ]; then
  build="${KV_ASSETS_BUILD_DIR:-$root/build/dev}"
  "$root/scripts/dev" build >/dev/null
  example="$build/examples/beast_server/kv-assets-example"
fi

work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# The server on a free loopback port; its first line names the URL.
"$example" --address=127.0.0.1 --port=0 >"$work/server.out" 2>"$work/server.err" &
server_pid=$!
base=""
for _ in $(seq 100); do
  base="$(sed -n 's|^kv-assets example: serving on \(http://[^ ]*\)/$|\1|p' "$work/server.out")"
  [ -n "$base" ] && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.err" >&2; say "the server exited"; exit 1; }
  sleep 0.1
done
[ -n "$base" ] || { say "the server named no URL within 10 s"; exit 1; }
say "server $server_pid at $base, $connections connections, $threads threads, ${seconds}s"

# The request mix, from what the home page links: each tagged URL, its untagged twin, a
# revalidation with its ETag (304), a compressed and a ranged GET, and a missing file (404).
mapfile -t urls < <(curl -fsS "$base/" | grep -o 'href="/static/[^"]*"' | sed 's/^href="//; s/"$//' |
                    sort -u)
[ ${#urls[@]} -gt 0 ] || { say "no /static/ links on $base/"; exit 1; }
{
  echo "requests = {"
  for url in "${urls[@]}"; do
    etag="$(curl -fsS -o /dev/null -D - "$base$url" | tr -d '\r' | sed -n 's/^[Ee][Tt][Aa][Gg]: //p')"
    untagged="$(printf '%s' "$url" | sed -E 's#\.[A-Za-z0-9_-]{10}(\.|$)#\1#')"
    lua_etag="$(printf '%s' "$etag" | sed 's/\\/\\\\/g; s/"/\\"/g')"
    printf '  {path = "%s", status = 200},\n' "$url"
    printf '  {path = "%s", status = 200},\n' "$untagged"
    printf '  {path = "%s", headers = {["If-None-Match"] = "%s"}, status = 304},\n' "$url" "$lua_etag"
    printf '  {path = "%s", headers = {["Accept-Encoding"] = "gzip, br, zstd"}, status = 200},\n' "$url"
    printf '  {path = "%s", headers = {["Range"] = "bytes=0-99"}, status = 206},\n' "$url"
    printf '  {path = "/static/missing/%s", status = 404},\n' "$(basename "$url")"
  done
  echo "}"
  cat <<'LUA'
-- Each thread sends the mix in order; wrk does not say which request a response answers, so
-- the statuses are counted and compared with the mix's proportions at the end.
counts = {}  -- global: done() reads it from each thread with thread:get
local index = 0
local formatted = {}

function init(args)
  for i, r in ipairs(requests) do
    formatted[i] = wrk.format("GET", r.path, r.headers)
  end
end

function request()
  index = index % #formatted + 1
  return formatted[index]
end

function response(status, headers, body)
  counts[status] = (counts[status] or 0) + 1
end

local all = {}
function setup(thread)
  table.insert(all, thread)
end

function done(summary, latency, requests_)
  local total = {}
  for _, thread in ipairs(all) do
    local c = thread:get("counts")
    for status, n in pairs(c) do total[status] = (total[status] or 0) + n end
  end
  local expected = {}
  for _, r in ipairs(requests) do expected[r.status] = (expected[r.status] or 0) + 1 end
  io.write(string.format("SOAK requests=%d duration_us=%d connect=%d read=%d write=%d timeout=%d\n",
    summary.requests, summary.duration, summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.timeout))
  for status, n in pairs(total) do
    io.write(string.format("SOAK status %d %d %d\n", status, n, expected[status] or 0))
  end
  io.write(string.format("SOAK mix %d\n", #requests))
  io.write(string.format("SOAK latency_p50_us=%d p99_us=%d max_us=%d\n",
    latency:percentile(50), latency:percentile(99), latency.max))
end
LUA
} >"$work/mix.lua"

rss_kb() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$server_pid/status"; }
fds() { find "/proc/$server_pid/fd" -mindepth 1 -maxdepth 1 | wc -l; }
settle() { sleep 2; }  # connections closed by wrk at its end are gone from the server

# Warm-up: thread-local state, allocator arenas and socket buffers reach their working size.
wrk -t "$threads" -c "$connections" -d 5s -s "$work/mix.lua" "$base" >/dev/null
settle
rss_before="$(rss_kb)"
fds_before="$(fds)"

wrk -t "$threads" -c "$connections" -d "${seconds}s" --latency -s "$work/mix.lua" "$base" \
  >"$work/wrk.out"
settle
rss_after="$(rss_kb)"
fds_after="$(fds)"
kill -0 "$server_pid" 2>/dev/null || { say "the server died"; exit 1; }

failed=0
read -r requests duration connect read_errors write_errors timeouts < <(
  sed -n 's/^SOAK requests=\([0-9]*\) duration_us=\([0-9]*\) connect=\([0-9]*\) read=\([0-9]*\) write=\([0-9]*\) timeout=\([0-9]*\)$/\1 \2 \3 \4 \5 \6/p' \
    "$work/wrk.out")
mix="$(sed -n 's/^SOAK mix //p' "$work/wrk.out")"
rps=$((requests * 1000000 / duration))
sed -n 's/^ *Requests\/sec: */wrk: requests\/s /p; s/^ *Transfer\/sec: */wrk: transfer\/s /p' \
  "$work/wrk.out" >&2
say "$requests requests in $((duration / 1000)) ms: $rps requests/s; $(sed -n 's/^SOAK latency_//p' "$work/wrk.out")"
if [ $((connect + read_errors + write_errors + timeouts)) -ne 0 ]; then
  say "FAIL: socket errors: connect $connect, read $read_errors, write $write_errors, timeout $timeouts"
  failed=1
fi
while read -r status count share; do
  # Each status must be one the mix asks for, in about its share of the mix (±2 % of all).
  expected=$((requests * share / mix))
  say "status $status: $count (mix share $share/$mix, about $expected)"
  if [ "$share" -eq 0 ]; then
    say "FAIL: status $status is not in the mix"
    failed=1
  elif [ $((count - expected)) -gt $((requests / 50 + 10)) ] ||
       [ $((expected - count)) -gt $((requests / 50 + 10)) ]; then
    say "FAIL: status $status came $count times, the mix says about $expected"
    failed=1
  fi
done < <(sed -n 's/^SOAK status //p' "$work/wrk.out" | sort -n)
say "server RSS: ${rss_before} kB before, ${rss_after} kB after (tolerance ${rss_tolerance_kb} kB)"
say "server open fds: ${fds_before} before, ${fds_after} after (tolerance ${fd_tolerance})"
if [ $((rss_after - rss_before)) -gt "$rss_tolerance_kb" ]; then
  say "FAIL: RSS grew by $((rss_after - rss_before)) kB"
  failed=1
fi
if [ $((fds_after - fds_before)) -gt "$fd_tolerance" ]; then
  say "FAIL: $((fds_after - fds_before)) more open fds"
  failed=1
fi
[ "$failed" -eq 0 ] && say "ok" || say "FAILED"
exit "$failed"

#!/usr/bin/env bash
# End to end: the example server (Boost.Beast + kv_assets::Server, one thread) against nginx
# (one worker, sendfile, etag on, access_log off) serving the same files on loopback, driven by
# wrk. Both servers are pinned to core 0 and wrk to core 1 where the machine has two cores.
#
#   bench/e2e.sh [build-dir]        (default: build/bench; configured and built if missing)
#   DURATION=10 CONNECTIONS=32 ROUNDS=2 bench/e2e.sh
#
# Cases: a ~2 KB stylesheet, a ~200 KB script (both identity, no Accept-Encoding, as nginx
# without gzip_static would send them), and a 304 revalidation of the stylesheet. Each case runs
# ROUNDS times, alternating which server goes first; the table has the median requests/s and
# the ratio example/nginx, and the server CPU time per request of each. Not part of the test suite.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$root/build/bench}"
duration="${DURATION:-10}"
connections="${CONNECTIONS:-32}"
rounds="${ROUNDS:-2}"
work="$(mktemp -d /tmp/kv-assets-e2e.XXXXXX)"
say() { printf 'bench/e2e.sh: %s\n' "$*" >&2; }

need=()
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
command -v wrk >/dev/null || need+=(wrk)
command -v curl >/dev/null || need+=(curl)
if [ ${#need[@]} -gt 0 ]; then
  say "installing ${need[*]}"
  "$root/scripts/apt-install" "${need[@]}"
fi
nginx_bin="$(command -v nginx || echo /usr/sbin/nginx)"

server="$build/bench/kv_assets_bench_server"
if [ ! -x "$server" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DKV_ASSETS_BUILD_BENCHMARKS=ON -DKV_ASSETS_BUILD_TESTS=OFF >/dev/null
fi
cmake --build "$build" --target kv_assets_bench_server >/dev/null
public="$build/bench/e2e-public"

server_cpu=() client_cpu=()
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
  server_cpu=(taskset -c 0)
  client_cpu=(taskset -c 1)
fi

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# The example server, one thread.
"${server_cpu[@]}" "$server" --address=127.0.0.1 --port=0 --threads=1 >"$work/example.out" &
pids+=($!)
example_pid=$!  # taskset execs the server, so this is its pid
for _ in $(seq 100); do grep -q serving "$work/example.out" 2>/dev/null && break; sleep 0.05; done
example="$(sed -n 's|.*serving on \(http://[^/]*\)/.*|\1|p' "$work/example.out")"
[ -n "$example" ] || { say "the example server did not start"; exit 1; }

# nginx, one worker, on the same files.
nginx_port="$(free_port)"
mkdir -p "$work/nginx/logs"
cat >"$work/nginx/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  etag on;
  keepalive_requests 1000000;
  types { text/css css; text/javascript js; }
  client_body_temp_path $work/nginx/body;
  proxy_temp_path $work/nginx/proxy;
  fastcgi_temp_path $work/nginx/fastcgi;
  uwsgi_temp_path $work/nginx/uwsgi;
  scgi_temp_path $work/nginx/scgi;
  server {
    listen 127.0.0.1:$nginx_port;
    location /static/ { alias $public/; }
  }
}
EOF
"${server_cpu[@]}" "$nginx_bin" -p "$work/nginx" -c "$work/nginx/nginx.conf" &
pids+=($!)
nginx="http://127.0.0.1:$nginx_port"
for _ in $(seq 100); do curl -sf -o /dev/null "$nginx/static/e2e/small.css" && break; sleep 0.05; done
nginx_worker="$(pgrep -P "${pids[1]}" | head -1 || true)"  # the master forks the one worker
[ -n "$nginx_worker" ] || { say "nginx has no worker process"; exit 1; }

etag_of() { curl -sI "$1" | tr -d '\r' | sed -n 's/^[Ee][Tt]ag: //p'; }
# The tagged name the pages would link: the tag (the ETag's first 10 characters) before the
# file name's first dot.
tagged() {
  local path="$1" etag tag dir base
  etag="$(etag_of "$example/static/$path")"
  tag="${etag:1:10}"
  dir="$(dirname "$path")"
  base="$(basename "$path")"
  echo "$dir/${base%%.*}.$tag.${base#*.}"
}
small_tagged="$(tagged e2e/small.css)"
large_tagged="$(tagged e2e/large.js)"
for url in "$example/static/$small_tagged" "$example/static/$large_tagged" \
  "$nginx/static/e2e/small.css" "$nginx/static/e2e/large.js"; do
  code="$(curl -s -o /dev/null -w '%{http_code} %{size_download}' "$url")"
  say "check $url -> $code"
  [ "${code%% *}" = 200 ] || { say "not a 200: $url"; exit 1; }
done
example_etag="$(etag_of "$example/static/$small_tagged")"
nginx_etag="$(etag_of "$nginx/static/e2e/small.css")"

# run_wrk PID URL [HEADER]: prints "requests/s CPU-µs/request", the second being the CPU time
# (user + system, from /proc) the server process PID spent per request while wrk ran. Where wrk
# saturates its own core first, both servers reach about the same requests/s, and the CPU each
# spent per request is what still tells them apart. Fails if any response was not 2xx/3xx.
# Fields 14 and 15 of /proc/PID/stat, counted after the ")" that ends the command name (which
# may hold spaces).
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }
run_wrk() {
  local pid="$1" url="$2" header="${3:-}" out before after
  local args=(-t1 "-c$connections" "-d${duration}s")
  [ -n "$header" ] && args+=(-H "$header")
  before="$(cpu_ticks "$pid")"
  out="$("${client_cpu[@]}" wrk "${args[@]}" "$url")"
  after="$(cpu_ticks "$pid")"
  if grep -q "Non-2xx or 3xx" <<<"$out"; then
    say "errors from $url:"
    echo "$out" >&2
    exit 1
  fi
  local rps requests
  rps="$(sed -n 's/^Requests\/sec: *\([0-9.]*\)/\1/p' <<<"$out")"
  requests="$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' <<<"$out")"
  awk -v r="$rps" -v n="$requests" -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" \
    'BEGIN { printf "%s %.2f\n", r, (n > 0 ? t / hz * 1e6 / n : 0) }'
}

median() { sort -n | awk '{ a[NR] = $1 } END { m = (NR + 1) / 2; print (NR % 2) ? a[m] : (a[NR/2] + a[NR/2 + 1]) / 2 }'; }

printf '\nmachine: %s cores, %s, nginx %s, %s; %s s per run, %s connections, %s rounds\n' \
  "$(nproc)" "$(uname -m)" "$("$nginx_bin" -v 2>&1 | sed 's/.*nginx\///')" "$(date -u +%F)" \
  "$duration" "$connections" "$rounds"
printf '| case | example req/s | nginx req/s | example / nginx | example CPU µs/req | nginx CPU µs/req | nginx CPU / example CPU |\n| --- | --- | --- | --- | --- | --- | --- |\n'
bench_case() {  # bench_case LABEL EXAMPLE_URL NGINX_URL [EXAMPLE_HEADER NGINX_HEADER]
  local label="$1" ex_url="$2" ng_url="$3" ex_header="${4:-}" ng_header="${5:-}"
  local ex=() ng=() ex_cpu=() ng_cpu=() result
  for round in $(seq "$rounds"); do
    for who in $( [ $((round % 2)) -eq 1 ] && echo "ex ng" || echo "ng ex"); do
      if [ "$who" = ex ]; then
        result="$(run_wrk "$example_pid" "$ex_url" "$ex_header")"
        ex+=("${result% *}")
        ex_cpu+=("${result#* }")
      else
        result="$(run_wrk "$nginx_worker" "$ng_url" "$ng_header")"
        ng+=("${result% *}")
        ng_cpu+=("${result#* }")
      fi
    done
  done
  local ex_median ng_median ex_cpu_median ng_cpu_median
  ex_median="$(printf '%s\n' "${ex[@]}" | median)"
  ng_median="$(printf '%s\n' "${ng[@]}" | median)"
  ex_cpu_median="$(printf '%s\n' "${ex_cpu[@]}" | median)"
  ng_cpu_median="$(printf '%s\n' "${ng_cpu[@]}" | median)"
  printf '| %s | %.0f | %.0f | %.2f | %.1f | %.1f | %.2f |\n' "$label" "$ex_median" "$ng_median" \
    "$(awk -v a="$ex_median" -v b="$ng_median" 'BEGIN { print a / b }')" \
    "$ex_cpu_median" "$ng_cpu_median" \
    "$(awk -v a="$ex_cpu_median" -v b="$ng_cpu_median" 'BEGIN { print (a > 0 ? b / a : "n/a") }')"
}
bench_case "GET 2 KB stylesheet → 200" "$example/static/$small_tagged" "$nginx/static/e2e/small.css"
bench_case "GET 200 KB script → 200" "$example/static/$large_tagged" "$nginx/static/e2e/large.js"
bench_case "revalidate the stylesheet → 304" "$example/static/$small_tagged" \
  "$nginx/static/e2e/small.css" "If-None-Match: $example_etag" "If-None-Match: $nginx_etag"

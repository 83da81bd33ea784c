#!/usr/bin/env bash
# End to end, servers on the same files over loopback, driven by wrk (one thread):
#  - AssetServer: the Beast example (kv_assets::beast::AssetServer), one thread;
#  - httplib: the cpp-httplib example (kv_assets::httplib::Mount), a pool of HTTPLIB_THREADS
#    threads (cpp-httplib gives each open connection a thread of its own);
#  - nginx: one worker, sendfile, etag on, access_log off;
#  - unless STORE=0, the same folder as a manifest-only build, its bodies synced to a
#    redis-server this script starts: AssetServer (the store example, one I/O thread and its
#    blocking pool) and httplib (Mount with a store), each with a warm CachingStore ("cached")
#    and with none ("uncached": every body is a GET to redis).
# Every server, and redis-server, is pinned to core 0 and wrk to core 1 where the machine has
# two cores. For httplib that pins all its threads to core 0: one core for each server, like
# nginx's one worker and AssetServer's one thread, is the fair comparison; a store server
# shares its core with redis, whose CPU time per request is reported beside the server's.
#
#   bench/e2e.sh [build-dir]        (default: build/bench; configured and built if missing)
#   DURATION=10 CONNECTIONS=32 ROUNDS=2 HTTPLIB_THREADS=64 STORE=1 bench/e2e.sh
#   SERVERS="asset asset_cached" ROUNDS=8 DURATION=4 bench/e2e.sh   (only those servers' runs)
#
# Cases: a ~2 KB stylesheet, a ~200 KB script (both identity, no Accept-Encoding, as nginx
# without gzip_static would send them), and a 304 revalidation of the stylesheet. Each case runs
# ROUNDS rounds of one run per server, the servers' order changing from round to round (the
# machine's speed drifts). The first table has the median requests/s of each server, the ratios
# to nginx, and each server's CPU time per request; the second, the client's own CPU time per
# request against each server. wrk cannot read httplib's 304s (see the end), so the 304 case
# runs twice: with wrk for AssetServer and nginx, and with h2load (--h1, also one thread and
# the same connections) for the embedded builds and nginx. 304s never read a store, so the
# store servers run the two GET cases only. Not part of the test suite.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$(realpath -m "${1:-$root/build/bench}")"  # nginx needs an absolute path
duration="${DURATION:-10}"
connections="${CONNECTIONS:-32}"
rounds="${ROUNDS:-2}"
with_store="${STORE:-1}"
# At least one thread per connection: a connection beyond the pool would wait for a free thread.
httplib_threads="${HTTPLIB_THREADS:-$((connections > 32 ? 2 * connections : 64))}"
work="$(mktemp -d /tmp/kv-assets-e2e.XXXXXX)"
say() { printf 'bench/e2e.sh: %s\n' "$*" >&2; }

need=()
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
command -v wrk >/dev/null || need+=(wrk)
command -v curl >/dev/null || need+=(curl)
command -v h2load >/dev/null || need+=(nghttp2-client)
if [ ${#need[@]} -gt 0 ]; then
  say "installing ${need[*]}"
  "$root/scripts/apt-install" "${need[@]}"
fi
nginx_bin="$(command -v nginx || echo /usr/sbin/nginx)"

server="$build/bench/kv_assets_bench_server"
httplib_server="$build/bench/kv_assets_bench_httplib_server"
store_server="$build/bench/kv_assets_bench_store_server"
httplib_store_server="$build/bench/kv_assets_bench_httplib_store_server"
if [ ! -f "$build/build.ninja" ] || ! grep -q kv_assets_bench_store_server "$build/build.ninja"; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DKV_ASSETS_BUILD_BENCHMARKS=ON -DKV_ASSETS_BUILD_TESTS=OFF >/dev/null
fi
grep -q kv_assets_bench_httplib_server "$build/build.ninja" ||
  { say "no httplib target in $build: is libcpp-httplib-dev installed?"; exit 1; }
cmake --build "$build" --target kv_assets_bench_server kv_assets_bench_httplib_server \
  kv_assets_bench_store_server kv_assets_bench_httplib_store_server >/dev/null
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

# start_server NAME BINARY FLAGS...: starts it on core 0 and a free port; sets NAME_pid (taskset
# execs the server, so $! is its pid) and NAME_url from the line it prints.
start_server() {
  local name="$1" binary="$2" url
  shift 2
  "${server_cpu[@]}" "$binary" --address=127.0.0.1 --port=0 "$@" >"$work/$name.out" &
  pids+=($!)
  printf -v "${name}_pid" %s $!
  for _ in $(seq 100); do grep -q serving "$work/$name.out" 2>/dev/null && break; sleep 0.05; done
  url="$(sed -n 's|.*serving.* on \(http://[^/]*\)/.*|\1|p' "$work/$name.out")"
  [ -n "$url" ] || { say "$binary did not start"; exit 1; }
  printf -v "${name}_url" %s "$url"
}
start_server asset "$server" --threads=1
start_server httplib "$httplib_server" --threads="$httplib_threads"
servers=(asset httplib nginx)

# The manifest-only servers: redis-server on core 0 beside them, the bodies synced to it with
# the build's own sync command line (<name>.sync-args).
redis_pid=""
if [ "$with_store" != 0 ]; then
  redis_port="$(free_port)"
  mkdir -p "$work/redis"
  "${server_cpu[@]}" redis-server --bind 127.0.0.1 --port "$redis_port" --save "" \
    --appendonly no --dir "$work/redis" --logfile "$work/redis/log" &
  pids+=($!)
  redis_pid=$!
  for _ in $(seq 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.05; done
  mapfile -t sync <"$build/bench/kv_assets/kv_assets_bench_e2e_store_assets/store_example_assets.sync-args"
  "${sync[@]}" --store="redis://127.0.0.1:$redis_port" >"$work/sync.out" 2>&1 ||
    { cat "$work/sync.out" >&2; say "sync failed"; exit 1; }
  store=(--store="redis://127.0.0.1:$redis_port")
  start_server asset_cached "$store_server" --threads=1 "${store[@]}"
  start_server asset_uncached "$store_server" --threads=1 --cache-bytes=0 "${store[@]}"
  start_server httplib_cached "$httplib_store_server" --threads="$httplib_threads" "${store[@]}"
  start_server httplib_uncached "$httplib_store_server" --threads="$httplib_threads" \
    --cache-bytes=0 "${store[@]}"
  servers+=(asset_cached asset_uncached httplib_cached httplib_uncached)
fi

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
nginx_master=$!
nginx_url="http://127.0.0.1:$nginx_port"
for _ in $(seq 100); do curl -sf -o /dev/null "$nginx_url/static/e2e/small.css" && break; sleep 0.05; done
nginx_pid="$(pgrep -P "$nginx_master" | head -1 || true)"  # the master forks the one worker
[ -n "$nginx_pid" ] || { say "nginx has no worker process"; exit 1; }

etag_of() { curl -sI "$1" | tr -d '\r' | sed -n 's/^[Ee][Tt]ag: //p'; }
# The tagged name the pages would link: the tag (the ETag's first 10 characters) before the
# file name's first dot.
tagged() {
  local path="$1" etag tag dir base
  etag="$(etag_of "$asset_url/static/$path")"
  tag="${etag:1:10}"
  dir="$(dirname "$path")"
  base="$(basename "$path")"
  echo "$dir/${base%%.*}.$tag.${base#*.}"
}
small_tagged="$(tagged e2e/small.css)"
large_tagged="$(tagged e2e/large.js)"
# SERVERS: run only these (the others still start, for the checks below).
wanted="${SERVERS:-${servers[*]}}"
declare -A small large etag
for who in "${servers[@]}"; do
  [ "$who" = nginx ] && continue
  url_var="${who}_url"
  small[$who]="${!url_var}/static/$small_tagged"
  large[$who]="${!url_var}/static/$large_tagged"
done
small[nginx]="$nginx_url/static/e2e/small.css"
large[nginx]="$nginx_url/static/e2e/large.js"
for who in "${servers[@]}"; do
  for url in "${small[$who]}" "${large[$who]}"; do
    code="$(curl -s -o /dev/null -w '%{http_code} %{size_download}' "$url")"
    say "check $url -> $code"
    [ "${code%% *}" = 200 ] || { say "not a 200: $url"; exit 1; }
  done
  etag[$who]="$(etag_of "${small[$who]}")"
  code="$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: ${etag[$who]}" "${small[$who]}")"
  say "check revalidation of ${small[$who]} -> $code"
  [ "$code" = 304 ] || { say "not a 304: ${small[$who]}"; exit 1; }
done

# run_load TOOL PID URL [HEADER]: one run of TOOL (wrk or h2load, one thread, the same
# connections and duration) against URL. Prints "requests/s server-CPU-µs/request
# client-CPU-µs/request redis-CPU-µs/request": the CPU time (user + system) the server process
# PID spent per request while the client ran, from /proc/PID/stat (all its threads), the
# client's own, from bash's `time`, and redis-server's (0 without STORE). Where the client saturates its own core first, the servers reach about the same
# requests/s, and the CPU each spent per request is what still tells them apart. Fails if any
# response was not 2xx/3xx.
# Fields 14 and 15 of /proc/PID/stat, counted after the ")" that ends the command name (which
# may hold spaces).
cpu_ticks() {
  if [ -z "$1" ]; then echo 0; return; fi
  sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}
run_load() {
  local tool="$1" pid="$2" url="$3" header="${4:-}" out before after client TIMEFORMAT='%3U %3S'
  local args=(-t1 "-c$connections")
  if [ "$tool" = wrk ]; then args+=("-d${duration}s"); else args+=(--h1 "-D$duration"); fi
  [ -n "$header" ] && args+=(-H "$header")
  local redis_before redis_after
  before="$(cpu_ticks "$pid")"
  redis_before="$(cpu_ticks "$redis_pid")"
  { time "${client_cpu[@]}" "$tool" "${args[@]}" "$url" >"$work/load.out" 2>&1; } 2>"$work/load.time"
  after="$(cpu_ticks "$pid")"
  redis_after="$(cpu_ticks "$redis_pid")"
  out="$(cat "$work/load.out")"
  client="$(awk '{ print $1 + $2 }' "$work/load.time")"
  local rps requests
  if [ "$tool" = wrk ]; then
    if grep -q "Non-2xx or 3xx" <<<"$out"; then
      say "errors from $url:"
      echo "$out" >&2
      exit 1
    fi
    grep -q "Socket errors" <<<"$out" && say "$url: $(grep "Socket errors" <<<"$out")"
    rps="$(sed -n 's/^Requests\/sec: *\([0-9.]*\)/\1/p' <<<"$out")"
    requests="$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' <<<"$out")"
  else
    if ! grep -q ' 0 failed, 0 errored, 0 timeout' <<<"$out" || ! grep -q ' 0 4xx, 0 5xx' <<<"$out"; then
      say "errors from $url:"
      echo "$out" >&2
      exit 1
    fi
    rps="$(sed -n 's/^finished in [0-9.]*m*s, \([0-9.]*\) req\/s.*/\1/p' <<<"$out")"
    requests="$(sed -n 's/^requests: .* \([0-9]*\) succeeded.*/\1/p' <<<"$out")"
  fi
  awk -v r="$rps" -v n="$requests" -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" \
    -v c="$client" -v s=$((redis_after - redis_before)) \
    'BEGIN { if (n == 0) n = -1; printf "%s %.2f %.2f %.2f\n", r, t / hz * 1e6 / n, c * 1e6 / n, s / hz * 1e6 / n }'
}

median() { sort -n | awk '{ a[NR] = $1 } END { m = (NR + 1) / 2; print (NR % 2) ? a[m] : (a[NR/2] + a[NR/2 + 1]) / 2 }'; }

# The servers' order in round r: the list rotated by r - 1, and reversed in even rounds, so
# each server runs early and late within a few rounds while the machine's speed drifts.
order_of_round() {
  local r="$1" n=${#run[@]} i out=()
  for ((i = 0; i < n; i++)); do out+=("${run[$(((i + r - 1) % n))]}"); done
  if ((r % 2 == 0)); then
    for ((i = n - 1; i >= 0; i--)); do printf '%s ' "${out[$i]}"; done
  else
    printf '%s ' "${out[@]}"
  fi
}
declare -A label=([asset]=AssetServer [httplib]=httplib [nginx]=nginx
  [asset_cached]="AssetServer, store, cached" [asset_uncached]="AssetServer, store, uncached"
  [httplib_cached]="httplib, store, cached" [httplib_uncached]="httplib, store, uncached")
# The embedded build each store server is compared with.
declare -A embedded=([asset_cached]=asset [asset_uncached]=asset [httplib_cached]=httplib
  [httplib_uncached]=httplib)

printf '\nmachine: %s cores, %s, kernel %s, nginx %s, cpp-httplib %s, redis %s, %s; %s s per run, %s connections, %s rounds, %s httplib threads\n' \
  "$(nproc)" "$(uname -m)" "$(uname -r)" "$("$nginx_bin" -v 2>&1 | sed 's/.*nginx\///')" \
  "$(pkg-config --modversion cpp-httplib 2>/dev/null || echo '?')" \
  "$(redis-server --version 2>/dev/null | sed -n 's/.* v=\([^ ]*\).*/\1/p')" "$(date -u '+%F %H:%M UTC')" \
  "$duration" "$connections" "$rounds" "$httplib_threads"
table="| case | server | req/s | / nginx | / embedded | server CPU µs/req | redis CPU µs/req | client CPU µs/req |
| --- | --- | --- | --- | --- | --- | --- | --- |"
# bench_case LABEL TOOL URL-ARRAY HEADER-MODE SERVER...: ROUNDS rounds of one run per SERVER,
# then a row per SERVER: median requests/s, its ratio to nginx and (store servers) to the
# embedded build with the same component, and the median CPU times per request. HEADER-MODE
# "revalidate" sends each server's own ETag in If-None-Match.
bench_case() {
  local name="$1" tool="$2" mode="$4"
  local -n urls="$3"
  shift 4
  local run=() who header pid_var result r c w d
  for who in "$@"; do [[ " ${servers[*]} " == *" $who "* ]] && run+=("$who"); done
  [ ${#run[@]} -gt 0 ] || return 0
  local -A rps=() cpu=() client=() redis=() m=()
  for round in $(seq "$rounds"); do
    for who in $(order_of_round "$round"); do
      header=""
      [ "$mode" = revalidate ] && header="If-None-Match: ${etag[$who]}"
      pid_var="${who}_pid"
      result="$(run_load "$tool" "${!pid_var}" "${urls[$who]}" "$header")"
      read -r r c w d <<<"$result"
      say "$name ($tool), round $round: ${label[$who]} $r req/s, server $c µs/req, redis $d µs/req, $tool $w µs/req"
      rps[$who]+="$r "
      cpu[$who]+="$c "
      client[$who]+="$w "
      redis[$who]+="$d "
    done
  done
  for who in "${run[@]}"; do m[$who]="$(printf '%s\n' ${rps[$who]} | median)"; done
  ratio() {
    [ -n "$2" ] && [ -n "${m[$2]:-}" ] || { echo "–"; return; }
    awk -v a="${m[$1]}" -v b="${m[$2]}" 'BEGIN { if (b == 0) print "n/a"; else printf "%.2f", a / b }'
  }
  for who in "${run[@]}"; do
    table+="$(printf '\n| %s | %s | %.0f | %s | %s | %.1f | %.1f | %.1f |' "$name" "${label[$who]}" \
      "${m[$who]}" "$(ratio "$who" nginx)" "$(ratio "$who" "${embedded[$who]:-}")" \
      "$(printf '%s\n' ${cpu[$who]} | median)" "$(printf '%s\n' ${redis[$who]} | median)" \
      "$(printf '%s\n' ${client[$who]} | median)")"
  done
}
servers=($wanted)
bench_case "GET 2 KB stylesheet → 200" wrk small get "${servers[@]}"
bench_case "GET 200 KB script → 200" wrk large get "${servers[@]}"
# cpp-httplib gives a 304 a Content-Length (Mount makes it the representation's length, as RFC
# 9110 §8.6 allows), and wrk's parser then waits for that many body bytes, which never come: wrk
# cannot measure httplib's 304. h2load (HTTP/1.1, same connections) can, for all three.
bench_case "revalidate the stylesheet → 304" wrk small revalidate asset nginx
bench_case "revalidate the stylesheet → 304, h2load" h2load small revalidate asset httplib nginx
printf '%s\n' "$table"

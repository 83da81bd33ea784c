#!/bin/sh
# proxy_test.sh <kv-assets-example> <its public/> <docs/proxy> <varnishd> <nginx>
#
# The example server behind the configurations in docs/proxy/, each started on a free
# loopback port with its paths and ports rewritten: Varnish (kv-assets.vcl, with
# http_gzip_support off) and nginx (nginx-kv-assets.conf, proxy_cache). Through each:
#  - a browser's Accept-Encoding gets br or zstd, not only gzip, and decodes to the file;
#  - another spelling of the same codings is a cache hit, not a second object;
#  - a request with a Cookie is a hit too (Varnish);
#  - a gzip-only client gets gzip, and a second one a hit.
# Every wait is bounded; everything started is stopped at the end.
set -eu
example="$1" public="$2" proxy_docs="$3" varnishd="$4" nginx="$5"
work="$(mktemp -d /tmp/kv-assets-proxy.XXXXXX)"
chmod 755 "$work"  # nginx started as root runs its workers as nobody
pids=""
cleanup() {
  for pid in $pids; do kill "$pid" 2>/dev/null || true; done
  sleep 0.2
  for pid in $pids; do kill -9 "$pid" 2>/dev/null || true; done
  [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "proxy_test: FAIL: $*" >&2; exit 1; }
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_for() {  # wait_for <url>: until it answers, at most 10 s
  i=0
  until curl -s -o /dev/null --max-time 1 "$1"; do
    i=$((i + 1)); [ "$i" -le 100 ] || fail "nothing answers $1 within 10 s"; sleep 0.1
  done
}

# The origin.
"$example" --port=0 >"$work/example.out" &
pids="$pids $!"
i=0
until grep -q 'serving on http://' "$work/example.out"; do
  i=$((i + 1)); [ "$i" -le 100 ] || fail "the example printed no URL"; sleep 0.1
done
origin_port="$(sed -n 's|.*serving on http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$work/example.out")"
css="$(curl -sf --max-time 5 "http://127.0.0.1:$origin_port/" |
       sed -n 's|.*href="\(/static/css/site\.[A-Za-z0-9_-]*\.css\)".*|\1|p' | head -n 1)"
[ -n "$css" ] || fail "the home page links no tagged stylesheet"

# Varnish.
varnish_port="$(free_port)"
sed "s/\.port = \"8080\"/.port = \"$origin_port\"/" "$proxy_docs/kv-assets.vcl" >"$work/kv.vcl"
"$varnishd" -F -j none -n "$work/varnish" -a "127.0.0.1:$varnish_port" -f "$work/kv.vcl" \
  -s malloc,32m -p http_gzip_support=off >"$work/varnish.log" 2>&1 &
pids="$pids $!"

# nginx.
nginx_port="$(free_port)"
mkdir -p "$work/nginx/cache"
sed -e "s|server 127.0.0.1:8080;|server 127.0.0.1:$origin_port;|" \
    -e "s|listen 80;|listen 127.0.0.1:$nginx_port;|" \
    -e "s|/var/cache/nginx/kv-assets|$work/nginx/cache|" \
    "$proxy_docs/nginx-kv-assets.conf" >"$work/nginx/kv.conf"
cat >"$work/nginx/nginx.conf" <<CONF
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events {}
http {
  access_log off;
  client_body_temp_path $work/nginx/body;
  proxy_temp_path $work/nginx/proxy;
  fastcgi_temp_path $work/nginx/fastcgi;
  uwsgi_temp_path $work/nginx/uwsgi;
  scgi_temp_path $work/nginx/scgi;
  include $work/nginx/kv.conf;
}
CONF
"$nginx" -p "$work/nginx" -c "$work/nginx/nginx.conf" &
pids="$pids $!"

wait_for "http://127.0.0.1:$varnish_port/"
wait_for "http://127.0.0.1:$nginx_port/"

# get <port> <accept-encoding> [more curl args]: the response head in $work/head, the body
# decoded in $work/body.
get() {
  port="$1" ae="$2"; shift 2
  curl -sf --max-time 5 --compressed -H "Accept-Encoding: $ae" -D "$work/head" \
    -o "$work/body" "$@" "http://127.0.0.1:$port$css" || fail "GET $css through :$port failed"
}
field() { sed -n "s/^$1: *\([^[:cntrl:]]*\).*/\1/Ip" "$work/head" | head -n 1; }
# The stylesheet's bytes as the origin sends them unencoded: the file, with its reference to
# the background image rewritten to a tagged name (docs/references.md).
curl -sf --max-time 5 -H "Accept-Encoding: identity" -o "$work/expected" \
  "http://127.0.0.1:$origin_port$css" || fail "GET $css from the origin failed"
grep -q 'url(../img/pattern\.[A-Za-z0-9_-]\{10\}\.png)' "$work/expected" ||
  fail "$css: the origin did not rewrite the image reference"
check_body() { cmp -s "$work/body" "$work/expected" || fail "$1: not the origin's bytes"; }

chrome="gzip, deflate, br, zstd"
other_spelling="br,gzip,zstd,deflate"

# Varnish: X-Varnish names two transactions on a hit.
get "$varnish_port" "$chrome"
coding="$(field Content-Encoding)"
case "$coding" in br|zstd) ;; *) fail "varnish: '$coding' for a browser, expected br or zstd" ;; esac
check_body "varnish, $coding"
get "$varnish_port" "$other_spelling" -H "Cookie: session=1"
[ "$(field X-Varnish | wc -w)" -eq 2 ] || fail "varnish: another spelling (with a Cookie) missed: X-Varnish $(field X-Varnish)"
[ "$(field Content-Encoding)" = "$coding" ] || fail "varnish: the hit is $(field Content-Encoding)"
get "$varnish_port" "gzip"
[ "$(field Content-Encoding)" = gzip ] || fail "varnish: a gzip-only client got '$(field Content-Encoding)'"
check_body "varnish, gzip"
get "$varnish_port" "x-gzip, gzip, deflate"
[ "$(field X-Varnish | wc -w)" -eq 2 ] || fail "varnish: the second gzip-only client missed"

# nginx: X-Cache-Status.
get "$nginx_port" "$chrome"
coding="$(field Content-Encoding)"
case "$coding" in br|zstd) ;; *) fail "nginx: '$coding' for a browser, expected br or zstd" ;; esac
check_body "nginx, $coding"
[ "$(field X-Cache-Status)" = MISS ] || fail "nginx: first request $(field X-Cache-Status)"
get "$nginx_port" "$other_spelling"
[ "$(field X-Cache-Status)" = HIT ] || fail "nginx: another spelling: $(field X-Cache-Status)"
[ "$(field Content-Encoding)" = "$coding" ] || fail "nginx: the hit is $(field Content-Encoding)"
get "$nginx_port" "gzip"
[ "$(field Content-Encoding)" = gzip ] || fail "nginx: a gzip-only client got '$(field Content-Encoding)'"
check_body "nginx, gzip"
get "$nginx_port" "deflate, gzip"
[ "$(field X-Cache-Status)" = HIT ] || fail "nginx: the second gzip-only client: $(field X-Cache-Status)"

echo "proxy_test: ok (varnish and nginx, $coding for browsers)"

#!/bin/sh
# serve_and_fetch.sh <program> <expected stylesheet file>: starts <program> 0 (a free port),
# reads the URL it prints, fetches its page, finds the tagged stylesheet the page links and
# fetches it twice: whole (its bytes must be the file's, its Cache-Control immutable) and
# with If-None-Match (304). Every step is bounded; the program is stopped at the end.
set -eu
program="$1" expected="$2"
out="$(mktemp)" body="$(mktemp)" head="$(mktemp)"
"$program" 0 >"$out" &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; rm -f "$out" "$body" "$head"' EXIT
i=0
until grep -q '^serving on http://' "$out"; do
  i=$((i + 1))
  [ "$i" -le 100 ] || { echo "no URL from $program within 10 s" >&2; exit 1; }
  sleep 0.1
done
url="$(sed -n 's/^serving on //p' "$out")"
page="$(curl -sSf --max-time 5 "$url")"
css="$(printf '%s' "$page" | sed -n 's/.*href="\/\(static\/css\/site\.[A-Za-z0-9_-]*\.css\)".*/\1/p')"
[ -n "$css" ] || { echo "the page links no tagged stylesheet: $page" >&2; exit 1; }
curl -sSf --max-time 5 -D "$head" -o "$body" "$url$css"
cmp "$body" "$expected" || { echo "$url$css: not the bytes of $expected" >&2; exit 1; }
grep -qi '^cache-control: public, max-age=31536000, immutable' "$head" ||
  { echo "$url$css: not immutable:" >&2; cat "$head" >&2; exit 1; }
etag="$(sed -n 's/^[Ee][Tt][Aa][Gg]: *\([^[:space:]]*\).*/\1/p' "$head")"
status="$(curl -sS --max-time 5 -o /dev/null -w '%{http_code}' -H "If-None-Match: $etag" "$url$css")"
[ "$status" = 304 ] || { echo "$url$css with If-None-Match: $status, expected 304" >&2; exit 1; }
echo "ok: $program served $url and $css"

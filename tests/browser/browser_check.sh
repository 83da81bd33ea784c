#!/bin/sh
# browser_check.sh <chromium> <min fonts> <page text> <program> [args...]
#
# Starts <program> [args...] (it must print "serving on http://<host>:<port>/" and pick a
# free port), loads its home page in headless Chromium, and checks what the browser did:
#   - every asset it requested is a current tagged URL: the server answers it with
#     "Cache-Control: public, max-age=31536000, immutable" (asked again with curl), so not one
#     request went to an untagged name;
#   - it loaded at least <min fonts> WOFF2 fonts (a stylesheet whose integrity failed would
#     load none);
#   - no Subresource Integrity failure in Chromium's log;
#   - the page, after its scripts ran, contains <page text>.
# Every step is bounded; the program is stopped at the end.
set -eu
chromium="$1" min_fonts="$2" page_text="$3"
shift 3
command -v "$chromium" >/dev/null ||
  { echo "no Chromium ($chromium): install Debian's chromium (scripts/dev test does)" >&2; exit 1; }
work="$(mktemp -d)"
"$@" >"$work/out" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
i=0
until grep -q 'serving on http://' "$work/out"; do
  i=$((i + 1))
  [ "$i" -le 100 ] || { echo "no URL from $1 within 10 s:" >&2; cat "$work/out" >&2; exit 1; }
  sleep 0.1
done
url="$(sed -n 's/.*serving on \(http:[^ ]*\).*/\1/p' "$work/out" | head -1)"
origin="${url%/}"

# --no-sandbox: CI runs as root. The net log records every request the page made.
status=0
timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
  --no-first-run --user-data-dir="$work/profile" --log-net-log="$work/net.json" \
  --virtual-time-budget=10000 --enable-logging=stderr --v=0 --dump-dom "$url" \
  >"$work/dom" 2>"$work/log" || status=$?
[ "$status" -eq 0 ] || { echo "chromium exited with $status:" >&2; tail -20 "$work/log" >&2; exit 1; }

grep -o "\"url\":\"$origin/[^\"]*\"" "$work/net.json" | sed "s|^\"url\":\"$origin||; s|\"\$||" |
  sort -u >"$work/requests"
echo "requests:"
sed 's/^/  /' "$work/requests"
failed=0
while read -r path; do
  [ "$path" = / ] && continue
  control="$(curl -sS --max-time 5 -o /dev/null -D - "$origin$path" |
    sed -n 's/^[Cc]ache-[Cc]ontrol: *\(.*\)\r$/\1/p')"
  if [ "$control" != "public, max-age=31536000, immutable" ]; then
    echo "not a current tagged URL: $path (Cache-Control: $control)" >&2
    failed=1
  fi
done <"$work/requests"
fonts="$(grep -c '\.woff2\([?#].*\)\{0,1\}$' "$work/requests" || true)"
if [ "$fonts" -lt "$min_fonts" ]; then
  echo "$fonts WOFF2 fonts loaded, expected at least $min_fonts" >&2
  failed=1
fi
if grep -i "integrity" "$work/log" >&2; then
  echo "Chromium reported an integrity failure (above)" >&2
  failed=1
fi
if ! grep -qF "$page_text" "$work/dom"; then
  echo "the page does not contain \"$page_text\":" >&2
  cat "$work/dom" >&2
  failed=1
fi
[ "$failed" -eq 0 ] || exit 1
echo "ok: $(wc -l <"$work/requests") requests, all tagged; $fonts fonts; no integrity failure"

#!/usr/bin/env bash
# Page weight and server time of every page of the demo after its year of history, as
# each role sees them: starts `alliance demo` (release build), waits for the history,
# signs in through the API, fetches each page five times and prints a Markdown table
# (bytes of HTML; the median time to first byte on loopback, i.e. the server's time).
#
#   scripts/page-weights.sh                 # uses target/release/alliance
#   ALLIANCE_BIN=path/to/alliance scripts/page-weights.sh
#   RUNS=1 scripts/page-weights.sh          # one fetch a page (CI's short form)
set -euo pipefail

BIN=${ALLIANCE_BIN:-target/release/alliance}
RUNS=${RUNS:-5}
PASSWORD=alliance-demo-2026
DIR=$(mktemp -d)
LOG=$DIR/demo.log
trap 'kill "$DEMO" 2>/dev/null || true; wait "$DEMO" 2>/dev/null || true; rm -rf "$DIR"' EXIT

"$BIN" demo --data-dir "$DIR/data" >"$LOG" 2>&1 &
DEMO=$!
for _ in $(seq 1 900); do
  if grep -q "history: ready" "$LOG"; then break; fi
  if grep -q "history: stopped short" "$LOG" || ! kill -0 "$DEMO" 2>/dev/null; then
    cat "$LOG" >&2
    exit 1
  fi
  sleep 1
done
grep -q "history: ready" "$LOG" || { echo "the demo's history was not ready in 15 minutes" >&2; exit 1; }

# Each node's UI address, by institution id, from the banner.
url_of() {
  awk -v id="$1" '$1 == id { found = 1; next } found && /UI:/ { print $2; exit }' "$LOG"
}
PROVINCE=$(url_of lnsti)
DLUT=$(url_of dlut)
NEU=$(url_of neu)

# Signs in `user` at `base`; the cookie jar is the session.
sign_in() {
  local base=$1 user=$2 jar=$DIR/$3.jar
  curl -sf -c "$jar" -H 'Content-Type: application/json' \
    -d "{\"username\":\"$user\",\"password\":\"$PASSWORD\"}" "${base}api/v1/session" >/dev/null
  echo "$jar"
}

# One row: role, page, bytes, median time to first byte in ms.
measure() {
  local role=$1 base=$2 path=$3 jar=${4:-}
  local cookie=()
  [[ -n $jar ]] && cookie=(-b "$jar")
  local times=() bytes=0 code=0
  for _ in $(seq 1 "$RUNS"); do
    read -r code bytes ttfb < <(curl -s -o /dev/null "${cookie[@]}" \
      -w '%{http_code} %{size_download} %{time_starttransfer}\n' "${base}${path#/}")
    times+=("$ttfb")
  done
  local median
  median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] * 1000 }')
  printf '| %s | `%s` | %s | %d | %.0f |\n' "$role" "$path" "$code" "$bytes" "$median"
}

# An instrument of dlut's that every node shows (reviewed), for its page.
INSTRUMENT=$(curl -sf "${NEU}api/v1/instruments?institution=dlut&per_page=1" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["items"][0]["id"])')
LOCAL_ID=${INSTRUMENT#*/}
YEAR=$(date +%Y)

echo "| Role | Page | Status | Bytes | Server time (ms) |"
echo "|---|---|---|---|---|"
for path in / /instruments "/instruments?q=%E8%B4%A8%E8%B0%B1" "/instruments/$INSTRUMENT" \
  "/instruments/$INSTRUMENT?week=1" /institutions/dlut /overview /needs /events /results \
  /guide /status /login /register /api/docs; do
  measure visitor "$DLUT" "$path"
done

JAR=$(sign_in "$NEU" neu-researcher researcher)
for path in / /bookings /receipts /publications /orders /needs /help /me "/instruments/$INSTRUMENT"; do
  measure researcher "$NEU" "$path" "$JAR"
done

JAR=$(sign_in "$NEU" neu-firm firm)
for path in / /bookings /receipts /orders; do
  measure firm "$NEU" "$path" "$JAR"
done

JAR=$(sign_in "$DLUT" dlut-manager manager)
for path in / /manage/bookings /manage/receipts /manage/usage /manage/orders /manage/trainings \
  /manage/monitoring "/manage/instruments/$LOCAL_ID/rules" /manage/sessions/new; do
  measure manager "$DLUT" "$path" "$JAR"
done

JAR=$(sign_in "$DLUT" admin institution-admin)
for path in / /admin/instruments /admin/instruments/new /admin/instruments/import /admin/accounts; do
  measure "institution admin" "$DLUT" "$path" "$JAR"
done

JAR=$(sign_in "$PROVINCE" admin province)
for path in / /province/reviews "/province/subsidy?period=$YEAR&budget=5000000" \
  /province/compliance /province/monitoring "/results?period=$YEAR" /admin/accounts; do
  measure province "$PROVINCE" "$path" "$JAR"
done

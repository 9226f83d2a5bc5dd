#!/usr/bin/env bash
# The baseline of the export benchmark: a plain sequential curl loop over the pages of
# `appraisecall/details`, as one would write it by hand. It gets a token from tokenByAkSk with
# the sandbox's default credentials, then POSTs page 1, reads `paging.total` from it, and POSTs
# every following page, one at a time, appending each answer to OUT.
#
#   TOKEN_PATH=… DETAILS_PATH=… CALL_TYPES=0,2 STATUSES=0,1,… bash crates/bench/curl-loop.sh BASE_URL LIMIT OUT
#
# The paths and codes come from the environment (the harness passes the spec's, from
# `ccsqm_client::spec`), so that this script keeps no copy of them.
# Prints "pages=N total=T". The request is the one `ccsqm details --all` sends without filters:
# every call type and every documented inspection status.
set -euo pipefail
BASE="$1"
LIMIT="$2"
OUT="$3"
: "${TOKEN_PATH:?the path of tokenByAkSk}" "${DETAILS_PATH:?the path of appraisecall/details}"
: "${CALL_TYPES:?the documented call types, e.g. 0,2}" "${STATUSES:?the documented statuses}"

TOKEN=$(curl -sSf -X POST "$BASE$TOKEN_PATH" \
  -H 'Content-Type: application/json' -H 'X-Token-Expire: 3600' \
  --data '{"app_key":"sandbox-app-key","app_secret":"sandbox-app-secret"}' |
  sed -n 's/.*"AccessToken":"\([^"]*\)".*/\1/p')
[ -n "$TOKEN" ] || { echo "no AccessToken from tokenByAkSk" >&2; exit 1; }

details() { # PAGE: the answer on stdout
  curl -sSf -X POST "$BASE$DETAILS_PATH" \
    -H "Authorization: Bearer $TOKEN" \
    -H 'x-UserId: sandbox-user' \
    -H 'Content-Type: application/json' \
    --data "{\"call_types\":[$CALL_TYPES],\"limit\":$LIMIT,\"page\":$1,\"status\":[$STATUSES],\"upload_from\":null,\"upload_to\":null}"
}

details 1 >"$OUT"
total=$(grep -o '"total":[0-9]*' "$OUT" | head -n 1 | cut -d: -f2)
pages=$(((total + LIMIT - 1) / LIMIT))
for ((page = 2; page <= pages; page++)); do
  details "$page" >>"$OUT"
done
echo "pages=$pages total=$total"

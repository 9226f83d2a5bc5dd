#!/usr/bin/env bash
# Benchmarks the sandbox against Prism's mock of the same spec, with the same load generator
# (benches/load.rs), the same request, over loopback. Installs Prism (the npm package
# @stoplight/prism-cli) under target/bench-tools/ on first use.
#
#   bash crates/sandbox/benches/compare-prism.sh [REQUESTS] [CONCURRENCY]
#
# Needs node and npm. Both servers listen on 127.0.0.1 only and are stopped on exit. The
# environment may set SANDBOX_PORT and PRISM_PORT (defaults 18080 and 14010) and LIMITS, the
# page sizes to load (default "10 100"); `cargo xtask bench` does.
set -euo pipefail
cd "$(dirname "$0")/../../.."
REQUESTS="${1:-20000}"
CONCURRENCY="${2:-32}"
TOOLS="$PWD/target/bench-tools"
PRISM_VERSION="5.16.0"
SANDBOX_PORT="${SANDBOX_PORT:-18080}"
PRISM_PORT="${PRISM_PORT:-14010}"
LIMITS="${LIMITS:-10 100}"

if [ ! -x "$TOOLS/node_modules/.bin/prism" ]; then
  echo "==> installing @stoplight/prism-cli@$PRISM_VERSION under $TOOLS"
  mkdir -p "$TOOLS"
  npm install --prefix "$TOOLS" --no-audit --no-fund --loglevel=error "@stoplight/prism-cli@$PRISM_VERSION" >/dev/null
fi

echo "==> building"
cargo build --release -q -p ccsqm-sandbox --features server-cli --bin ccsqm-sandbox
cargo bench -q -p ccsqm-sandbox --bench load --no-run 2>/dev/null

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT

wait_for() { # URL: until a POST gets any HTTP answer, at most 60 s
  for _ in $(seq 1 600); do
    if curl -s -o /dev/null -X POST "$1"; then return 0; fi
    sleep 0.1
  done
  echo "no answer from $1" >&2
  return 1
}

# The earliest anchor (Anchor::EARLIEST): the calls at fixed times, which the load generator's
# 30-day window (from FIRST_CALL_TIME) is set from. With the default anchor, today, the window
# matched no call and every answer was an empty page.
target/release/ccsqm-sandbox --port "$SANDBOX_PORT" --calls 100000 --anchor 2021-12-15 >/dev/null &
pids+=($!)
"$TOOLS/node_modules/.bin/prism" mock --host 127.0.0.1 --port "$PRISM_PORT" --errors false \
  spec/ccsqm.yaml >/dev/null 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:$SANDBOX_PORT/"
wait_for "http://127.0.0.1:$PRISM_PORT/"

echo "==> node $(node --version), prism $("$TOOLS/node_modules/.bin/prism" --version), $(nproc) cores"
for limit in $LIMITS; do
  echo "--- page size $limit (Prism answers its static example, 6 calls, whatever the page size)"
  for url in "http://127.0.0.1:$SANDBOX_PORT" "http://127.0.0.1:$PRISM_PORT"; do
    cargo bench -q -p ccsqm-sandbox --bench load -- --url "$url" --requests "$REQUESTS" \
      --concurrency "$CONCURRENCY" --seconds 120 --limit "$limit" 2>/dev/null | tail -1
  done
done

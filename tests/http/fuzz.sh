#!/usr/bin/env bash
# GraphQL fuzzing of the running server with schemathesis (from PyPI): a bounded number of generated
# queries per field; the server must answer every one without a 5xx and without a panic.
# usage: tests/http/fuzz.sh PYTHON_VENV_BIN_DIR [EXAMPLES_PER_OPERATION]
# (schemathesis's own GraphQL "server error" check also flags the GraphQL errors we return on purpose,
# e.g. PAGE_SIZE_LIMIT, so the verdict here is taken from the server's own request log instead.)
set -euo pipefail
venv_bin=$1
examples=${2:-25}
bin=${INNOGRAPH_BIN:-target/debug/innograph}
work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
"$bin" import tests/fixtures/mini --data-dir "$work/data" >/dev/null
RUST_LOG=tower_http=debug,innograph=info "$bin" serve --listen 127.0.0.1:0 --data-dir "$work/data" \
  --rate-limit 0 >"$work/out" 2>"$work/log" &
server=$!
for _ in $(seq 100); do grep -q "GraphQL:" "$work/out" 2>/dev/null && break; sleep 0.1; done
url=$(sed -n 's/.*GraphQL:[[:space:]]*//p' "$work/out")
[ -n "$url" ] || { echo "the server did not start"; cat "$work/log"; exit 1; }
"$venv_bin/schemathesis" run "$url" --max-examples "$examples" --seed 20261123 \
  --checks status_code_conformance --no-color >"$work/schemathesis" 2>&1 || true
tail -n 12 "$work/schemathesis"
requests=$(grep -c "finished processing request" "$work/log" || true)
server_errors=$(grep "finished processing request" "$work/log" | grep -c "status=5" || true)
panics=$(grep -ci "panicked" "$work/log" || true)
echo "schemathesis fuzzing: $requests requests, $server_errors 5xx responses, $panics panics"
[ "$requests" -ge 100 ] || { echo "too few requests reached the server"; exit 1; }
[ "$server_errors" -eq 0 ] && [ "$panics" -eq 0 ]

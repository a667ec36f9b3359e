#!/usr/bin/env bash
# Restart time of `innograph serve` on an existing data directory: launch → first /healthz 200,
# with the index snapshot and without it (the snapshot moved aside, so the index is rebuilt; it is
# put back afterwards). Each run ends with SIGTERM (clean shutdown, which writes the snapshot when
# it is missing or stale).
#
#   benches/restart.sh DATA_DIR [RUNS]      # BIN=target/release/innograph by default
set -euo pipefail

DATA=${1:?usage: benches/restart.sh DATA_DIR [RUNS]}
RUNS=${2:-3}
BIN=${BIN:-target/release/innograph}
PORT=${PORT:-18471}
SNAPSHOT="$DATA/index.snapshot"

# Launches the server, prints seconds until /healthz answers 200, stops it cleanly.
launch() {
  local t0 t1 pid code
  t0=$(date +%s.%N)
  "$BIN" serve --data-dir "$DATA" --listen "127.0.0.1:$PORT" --rate-limit 0 >"$DATA.serve.log" 2>&1 &
  pid=$!
  while :; do
    code=$(curl -s -o /dev/null --max-time 2 -w '%{http_code}' "http://127.0.0.1:$PORT/healthz" || true)
    [[ $code == 200 ]] && break
    kill -0 "$pid" 2>/dev/null || { tail -n 20 "$DATA.serve.log" >&2; exit 1; }
    sleep 0.02
  done
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc
  kill -TERM "$pid"
  wait "$pid" || true
}

# A first clean run, so that a snapshot of the current generation exists.
launch >/dev/null
ls -l "$SNAPSHOT"
for run in $(seq "$RUNS"); do
  echo "with snapshot, run $run: $(launch) s"
  grep -o 'index loaded from the index snapshot.*' "$DATA.serve.log" | head -1
  mv "$SNAPSHOT" "$SNAPSHOT.aside"
  echo "without snapshot, run $run: $(launch) s"
  grep -o 'index rebuilt from the store.*' "$DATA.serve.log" | head -1
  grep -o 'index snapshot written.*' "$DATA.serve.log" | head -1
  rm -f "$SNAPSHOT"
  mv "$SNAPSHOT.aside" "$SNAPSHOT"
done

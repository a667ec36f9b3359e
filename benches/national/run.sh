#!/usr/bin/env bash
# The national benchmark, end to end: generate, import, in-process bench, HTTP under wrk, peers
# (NetworkX, igraph, Kuzu in two models), at each size; then one markdown table (stdout and
# OUT/report.md).
#
#   benches/national/run.sh [--sizes 10000,100000,1000000] [--out DIR] [--bin PATH]
#                           [--skip-peers] [--quick] [--reuse-bench]
#
# --out     results directory (default target/national-bench); every raw record is JSON under it
# --bin     the release binary (default target/release/innograph); build it first, this script
#           never runs cargo
# --quick   3 s per wrk run instead of 10 s (CI: --sizes 2000 --quick)
# --skip-peers   no Python peers (no venv, no pip)
# --reuse-bench  keep OUT/N/bench.json and OUT/N/queries.json of an earlier run instead of
#           running `innograph bench` (they must exist)
#
# Progress and the logs of every step go to stderr; the table alone goes to stdout. See README.md.
set -euo pipefail
export LC_ALL=C
# The server is local: curl must not go through a proxy the environment names.
export no_proxy="127.0.0.1,localhost${no_proxy:+,$no_proxy}" NO_PROXY="127.0.0.1,localhost${NO_PROXY:+,$NO_PROXY}"

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"

SIZES_CSV="10000,100000,1000000"
OUT="$ROOT/target/national-bench"
BIN="$ROOT/target/release/innograph"
SKIP_PEERS=0
QUICK=0
REUSE_BENCH=0

usage() { sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; }
die() { printf '\nrun.sh: error: %s\n' "$*" >&2; exit 1; }
say() { printf '%s\n' "$*" >&2; }
step() { printf '\n== [%s] %s\n' "$1" "$2" >&2; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --sizes) [[ $# -ge 2 ]] || die "--sizes needs a value"; SIZES_CSV="$2"; shift 2 ;;
    --sizes=*) SIZES_CSV="${1#*=}"; shift ;;
    --out) [[ $# -ge 2 ]] || die "--out needs a value"; OUT="$2"; shift 2 ;;
    --out=*) OUT="${1#*=}"; shift ;;
    --bin) [[ $# -ge 2 ]] || die "--bin needs a value"; BIN="$2"; shift 2 ;;
    --bin=*) BIN="${1#*=}"; shift ;;
    --skip-peers) SKIP_PEERS=1; shift ;;
    --quick) QUICK=1; shift ;;
    --reuse-bench) REUSE_BENCH=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage; die "unknown argument: $1" ;;
  esac
done

IFS=',' read -r -a SIZES <<<"$SIZES_CSV"
[[ ${#SIZES[@]} -gt 0 ]] || die "--sizes is empty"
for n in "${SIZES[@]}"; do
  [[ $n =~ ^[1-9][0-9]*$ ]] || die "--sizes: '$n' is not a positive whole number"
done
[[ -n $OUT ]] || die "--out is empty"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
[[ $BIN == */* ]] || BIN="./$BIN"
[[ -x $BIN ]] || die "no executable at $BIN (build it with: cargo build --release)"
BIN="$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")"

if [[ $QUICK == 1 ]]; then DURATION=3; else DURATION=10; fi
UTIL=(python3 "$HERE/util.py")

# ---------------------------------------------------------------------------------------------
# Tools

command -v python3 >/dev/null || die "python3 is required"
command -v curl >/dev/null || die "curl is required"
command -v setsid >/dev/null || die "setsid (util-linux) is required"
[[ -x /usr/bin/time ]] || die "/usr/bin/time (Debian package 'time') is required"
if ! command -v wrk >/dev/null; then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    say "wrk is missing: installing the Debian package"
    apt-get install -y wrk >&2 || { apt-get update >&2 && apt-get install -y wrk >&2; } \
      || die "could not install wrk"
  else
    die "wrk is required (Debian: apt-get install wrk)"
  fi
fi

# ---------------------------------------------------------------------------------------------
# Processes: every long step runs in its own process group (setsid) so that an interruption ends
# all of it; the server is a direct child. The EXIT trap stops whatever is still running.

# The script's own stdout and stderr: a trap can fire inside a function whose output is redirected
# to a log, and the cleanup must still reach the terminal.
exec {STDOUT_FD}>&1 {STDERR_FD}>&2

CHILD_PID=""
TAIL_PID=""
SERVER_PID=""
FINISHED=0
WARNINGS=() # problems: the run exits 1 after the report
NOTES=()    # worth knowing, not a failure

alive() { # PID: running (not gone, not a zombie)
  local s
  s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  s=${s##*) }
  [[ ${s%% *} != Z ]]
}

terminate() { # PID GROUP(0|1) SECONDS: SIGTERM, then SIGKILL after SECONDS, then reap
  local pid=$1 group=$2 seconds=$3 i
  if [[ $group == 1 ]]; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  else
    kill -TERM "$pid" 2>/dev/null || true
  fi
  for ((i = 0; i < seconds * 10; i++)); do
    alive "$pid" || break
    sleep 0.1
  done
  if alive "$pid"; then
    say "process $pid did not stop within $seconds s of SIGTERM: SIGKILL"
    if [[ $group == 1 ]]; then
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    else
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  wait "$pid" 2>/dev/null || true
}

stop_server() {
  if [[ -n $SERVER_PID ]]; then
    terminate "$SERVER_PID" 0 60
    SERVER_PID=""
  fi
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM HUP
  exec 1>&"$STDOUT_FD" 2>&"$STDERR_FD"
  if [[ -n $CHILD_PID ]]; then
    terminate "$CHILD_PID" 1 10
    CHILD_PID=""
  fi
  if [[ -n $TAIL_PID ]]; then
    kill -TERM "$TAIL_PID" 2>/dev/null || true
    wait "$TAIL_PID" 2>/dev/null || true
    TAIL_PID=""
  fi
  stop_server
  if [[ $FINISHED == 0 && -f $OUT/machine.json ]]; then
    say ""
    say "run.sh: stopped with status $rc; what was measured so far:"
    python3 "$HERE/report.py" --out "$OUT" --sizes "$SIZES_CSV" >&2 || true
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

run() { # COMMAND...: in its own process group, interruptible
  setsid -w "$@" &
  CHILD_PID=$!
  local rc=0
  wait "$CHILD_PID" || rc=$?
  CHILD_PID=""
  return "$rc"
}

run_logged() { # LOG COMMAND...: run, output to LOG, shown live on stderr
  local log=$1 rc=0
  shift
  : >"$log"
  setsid -w "$@" >"$log" 2>&1 &
  CHILD_PID=$!
  tail -n +1 -s 0.2 -f --pid="$CHILD_PID" "$log" >&2 &
  TAIL_PID=$!
  wait "$CHILD_PID" || rc=$?
  CHILD_PID=""
  wait "$TAIL_PID" 2>/dev/null || true # tail ends on its own within 0.2 s of the child
  TAIL_PID=""
  return "$rc"
}

now() { printf '%s' "$EPOCHREALTIME"; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

declare -A STEP_S
write_steps() { # DIR: the seconds each step of this size took, as DIR/steps.json
  local key sep="" body=""
  for key in "${!STEP_S[@]}"; do
    body+="$sep\"$key\": ${STEP_S[$key]}"
    sep=", "
  done
  printf '{%s}\n' "$body" >"$1/steps.json"
}

timed() { # KEY STEP ARGS...: run a step, record its seconds in $d/steps.json
  local key=$1 t
  shift
  t=$(now)
  "$@"
  STEP_S[$key]=$(elapsed "$t" "$(now)")
  write_steps "$d"
}

# ---------------------------------------------------------------------------------------------
# Steps of one size

generate() { # N D
  local n=$1 d=$2
  if [[ -s $d/graph/graph.jsonl ]]; then
    say "$d/graph/graph.jsonl exists: not generated again"
    return 0
  fi
  rm -rf "$d/graph.tmp" "$d/graph"
  run_logged "$d/generate.log" /usr/bin/time -f '%e %M' -o "$d/generate.time" \
    "$BIN" generate --entities "$n" --seed 42 --out "$d/graph.tmp" \
    || die "generate failed (log: $d/generate.log)"
  mv "$d/graph.tmp" "$d/graph"
  "${UTIL[@]}" time-record --time "$d/generate.time" --out "$d/generate.json"
}

import_graph() { # D
  local d=$1 disk
  rm -rf "$d/data"
  run_logged "$d/import.log" /usr/bin/time -f '%e %M' -o "$d/import.time" \
    "$BIN" import "$d/graph/graph.jsonl" --data-dir "$d/data" \
    || die "import failed (log: $d/import.log)"
  disk=$(du -sb "$d/data" | cut -f1)
  "${UTIL[@]}" import-record --log "$d/import.log" --time "$d/import.time" \
    --disk-bytes "$disk" --graph "$d/graph/graph.jsonl" --out "$d/import.json"
}

bench_in_process() { # D
  local d=$1
  if [[ $REUSE_BENCH == 1 ]]; then
    [[ -s $d/bench.json && -s $d/queries.json ]] \
      || die "--reuse-bench: $d/bench.json or $d/queries.json is missing"
    say "--reuse-bench: keeping $d/bench.json and $d/queries.json"
    return 0
  fi
  rm -f "$d/bench.json" "$d/queries.json"
  run_logged "$d/bench.log" "$BIN" bench --data-dir "$d/data" \
    --json "$d/bench.json" --queries-out "$d/queries.json" \
    || die "innograph bench failed (log: $d/bench.log)"
  [[ -s $d/bench.json && -s $d/queries.json ]] \
    || die "innograph bench wrote no $d/bench.json or $d/queries.json"
}

http() { # D
  local d=$1 port base cold scenario conn threads url out
  local -a extra
  "${UTIL[@]}" bodies --queries "$d/queries.json" --dir "$d/bodies"
  rm -rf "$d/wrk" "$d/http.json" "$d/http-check.json"
  mkdir -p "$d/wrk"
  port=$(free_port)
  base="http://127.0.0.1:$port"

  launch "$d" "$port" "$d/serve.log"
  cold=$LAUNCH_S
  say "serve → /healthz 200 in $cold s (port $port, pid $SERVER_PID)"
  # A server computes its network measures after start (minutes of CPU at 1M, at the lowest
  # priority): measure the steady state, once they are all in, and record how long that took.
  local t0 ready answer
  t0=$(now)
  while :; do
    answer=$(curl -s --max-time 5 "$base/graphql" -H 'content-type: application/json' \
      -d '{"query":"{ network { measures { ready } } }"}' || true)
    [[ $answer == *'"ready":true'* && $answer != *'"ready":false'* ]] && break
    alive "$SERVER_PID" || die "the server exited while computing its measures (log: $d/serve.log)"
    [[ $(elapsed "$t0" "$(now)" | cut -d. -f1) -lt 1800 ]] || die "measures not ready within 1800 s"
    sleep 0.5
  done
  ready=$(elapsed "$t0" "$(now)")
  say "network measures ready $ready s after /healthz"
  "${UTIL[@]}" http-record --dir "$d" --measures-ready-s "$ready"
  "${UTIL[@]}" http-record --dir "$d" --cold-start-s "$cold" --port "$port"

  "${UTIL[@]}" http-record --dir "$d" --cpu-busy
  busy_warning "$d"
  say "checking every request body once"
  "${UTIL[@]}" check --url "$base" --queries "$d/queries.json" --dir "$d/bodies" \
    --out "$d/http-check.json" || die "a request body failed its check (see above, $d/http-check.json)"

  for scenario in constant lookup two_hop shortest_path; do
    if [[ $scenario == constant ]]; then
      url="$base/healthz"
      extra=()
    else
      url="$base/graphql"
      extra=(-- "$d/bodies/$scenario.txt")
    fi
    # Warm-up, not recorded: connections, the server's threads and caches.
    run wrk -t2 -c64 -d1s --timeout 30s -s "$HERE/cycle.lua" "$url" "${extra[@]}" \
      >"$d/wrk/$scenario-warmup.txt" 2>&1 || { cat "$d/wrk/$scenario-warmup.txt" >&2; die "wrk failed"; }
    for conn in 1 64; do
      if [[ $conn == 1 ]]; then threads=1; else threads=2; fi
      out="$d/wrk/$scenario-c$conn"
      say "wrk $scenario: -t$threads -c$conn -d${DURATION}s"
      run wrk "-t$threads" "-c$conn" "-d${DURATION}s" --latency --timeout 30s \
        -s "$HERE/cycle.lua" "$url" "${extra[@]}" >"$out.txt" 2>&1 \
        || { cat "$out.txt" >&2; die "wrk failed (output: $out.txt)"; }
      alive "$SERVER_PID" || die "the server died under load (log: $d/serve.log)"
      "${UTIL[@]}" wrk-record --in "$out.txt" --scenario "$scenario" --threads "$threads" \
        --connections "$conn" --duration "$DURATION" --out "$out.json" \
        || die "could not read wrk's output ($out.txt)"
      python3 - "$out.json" <<'EOF' >&2
import json, sys
r = json.load(open(sys.argv[1]))
n = lambda key: r.get(key) or 0
bad = f"  non-2xx {n('non2xx'):.0f}, socket errors {n('socket_errors'):.0f}" \
    if n("non2xx") or n("socket_errors") else ""
print(f"  {n('rps'):,.0f} req/s, p50 {n('p50_us'):.0f} us, p99 {n('p99_us'):.0f} us{bad}")
EOF
    done
  done

  "${UTIL[@]}" http-record --dir "$d" --pid "$SERVER_PID"
  stop_server
  restart "$d" "$port"
  if grep -q '"non2xx": [1-9]\|"socket_errors": [1-9]' "$d"/wrk/*.json; then
    WARNINGS+=("size ${d##*/}: wrk saw non-2xx responses or socket errors (see the table and $d/wrk/)")
  fi
}

LAUNCH_S=""
launch() { # D PORT LOG: starts the server on D's data directory, sets SERVER_PID, and LAUNCH_S to the
  # seconds from launch to the first /healthz 200
  local d=$1 port=$2 log=$3 t0 code
  t0=$(now)
  "$BIN" serve --data-dir "$d/data" --listen "127.0.0.1:$port" --rate-limit 0 >"$log" 2>&1 &
  SERVER_PID=$!
  while :; do
    code=$(curl -s -o /dev/null --max-time 2 -w '%{http_code}' "http://127.0.0.1:$port/healthz" || true)
    [[ $code == 200 ]] && break
    alive "$SERVER_PID" || { tail -n 20 "$log" >&2; die "the server exited before /healthz answered (log: $log)"; }
    [[ $(elapsed "$t0" "$(now)" | cut -d. -f1) -lt 1800 ]] || die "no /healthz 200 within 1800 s"
    sleep 0.02
  done
  LAUNCH_S=$(elapsed "$t0" "$(now)")
}

restart() { # D PORT: launch → /healthz 200 again, with the index snapshot that the clean stop after the
  # load wrote, then with it moved aside (the index rebuilt from the store); the snapshot is put back
  local d=$1 port=$2 snapshot="$d/data/index.snapshot" with without
  if [[ ! -f $snapshot ]]; then
    NOTES+=("size ${d##*/}: no index snapshot after a clean stop, restart times not measured")
    return 0
  fi
  launch "$d" "$port" "$d/restart-snapshot.log"
  with=$LAUNCH_S
  stop_server
  mv "$snapshot" "$snapshot.aside"
  launch "$d" "$port" "$d/restart-rebuild.log"
  without=$LAUNCH_S
  stop_server
  rm -f "$snapshot"
  mv "$snapshot.aside" "$snapshot"
  say "restart → /healthz 200: $with s with the index snapshot, $without s rebuilding the index"
  "${UTIL[@]}" http-record --dir "$d" --restart-snapshot-s "$with" --restart-rebuild-s "$without"
}

busy_warning() { # D: say so when other processes used the CPU just before the load
  local busy
  busy=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1])).get("cpu_busy_before", 0))' "$1/http.json")
  if awk -v b="$busy" 'BEGIN { exit !(b > 0.15) }'; then
    say "NOTE: the CPU was $(awk -v b="$busy" 'BEGIN { printf "%.0f", b * 100 }') % busy before the HTTP runs, with the server idle: other processes compete, the numbers will be noisy"
    NOTES+=("size ${1##*/}: the CPU was busy before the HTTP runs (other processes; noisy numbers)")
  fi
}

PEERS_READY=""
peers_venv() {
  local venv="$OUT/venv" req="$ROOT/benches/peers/requirements.txt" stamp want
  want=$(sha256sum "$req" | cut -d' ' -f1)
  stamp="$venv/.requirements-sha256"
  if [[ -x $venv/bin/python && -f $stamp && $(cat "$stamp") == "$want" ]]; then
    return 0
  fi
  say "creating $venv (pip install -r benches/peers/requirements.txt)"
  [[ -x $venv/bin/python ]] || python3 -m venv "$venv" || return 1
  run_logged "$OUT/venv-install.log" "$venv/bin/pip" install --disable-pip-version-check \
    -r "$req" || return 1
  printf '%s\n' "$want" >"$stamp"
}

peers() { # D
  local d=$1
  if [[ -z $PEERS_READY ]]; then
    if peers_venv; then PEERS_READY=1; else PEERS_READY=0; fi
  fi
  rm -f "$d/peers.json"
  if [[ $PEERS_READY != 1 ]]; then
    WARNINGS+=("peers not run: the venv could not be set up (log: $OUT/venv-install.log)")
    return 0
  fi
  if run_logged "$d/peers.log" "$OUT/venv/bin/python" "$ROOT/benches/peers/peers.py" \
    --graph "$d/graph/graph.jsonl" --queries "$d/queries.json" --work "$d/peers-work" \
    --out "$d/peers.json" --kuzu-max-queries 16; then
    rm -rf "$d/peers-work" # Kuzu's CSV files and database: rebuilt on every run
  else
    WARNINGS+=("size ${d##*/}: peers.py failed (log: $d/peers.log)")
  fi
}

# ---------------------------------------------------------------------------------------------
# Main

"${UTIL[@]}" machine --bin "$BIN" --out "$OUT/machine.json"
say "innograph national benchmark: sizes $SIZES_CSV, out $OUT, bin $BIN, wrk ${DURATION} s per run$([[ $SKIP_PEERS == 1 ]] && echo ', no peers')"

for n in "${SIZES[@]}"; do
  d="$OUT/$n"
  mkdir -p "$d"
  # Records of earlier runs at this size would mix into this run's table: remove them.
  rm -f "$d"/{import,http,http-check,peers,steps,run}.json
  rm -rf "$d/wrk"
  [[ $REUSE_BENCH == 1 ]] || rm -f "$d/bench.json" "$d/queries.json"
  python3 - "$d/run.json" "$n" "$DURATION" "$QUICK" "$SKIP_PEERS" "$REUSE_BENCH" <<'EOF'
import datetime, json, sys
path, n, duration, quick, skip_peers, reuse = sys.argv[1:]
json.dump({"entities_requested": int(n), "seed": 42, "wrk_duration_s": float(duration),
           "quick": quick == "1", "skip_peers": skip_peers == "1", "reuse_bench": reuse == "1",
           "started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")},
          open(path, "w"), indent=2)
EOF
  STEP_S=()
  size_t0=$(now)

  step "$n" "generate"
  timed generate_s generate "$n" "$d"
  step "$n" "import"
  timed import_s import_graph "$d"
  step "$n" "in-process bench"
  timed bench_s bench_in_process "$d"
  step "$n" "HTTP (wrk, ${DURATION} s per run)"
  timed http_s http "$d"
  if [[ $SKIP_PEERS == 0 ]]; then
    step "$n" "peers (NetworkX, igraph, Kuzu: two models)"
    timed peers_s peers "$d"
  fi
  STEP_S[total_s]=$(elapsed "$size_t0" "$(now)")
  write_steps "$d"
done

FINISHED=1
say ""
python3 "$HERE/report.py" --out "$OUT" --sizes "$SIZES_CSV" --write "$OUT/report.md"
say ""
say "report: $OUT/report.md"
for w in "${NOTES[@]}"; do say "NOTE: $w"; done
if [[ ${#WARNINGS[@]} -gt 0 ]]; then
  for w in "${WARNINGS[@]}"; do say "WARNING: $w"; done
  exit 1
fi

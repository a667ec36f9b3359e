#!/usr/bin/env python3
"""Replication benchmark (issue 16): write latency single node vs replicated, read throughput of 1, 2
and 3 nodes, time to join, catch-up rate. Standard library only, plus `wrk` and `nats-server` on PATH.

    benches/replication/run.py --bin target/release/innograph --entities 100000 --out target/repl-bench

--entities 0 uses the bundled seed (431 entities). Prints one JSON object with every number and writes it
to OUT/result.json. Each node, NATS server and wrk runs on this one machine: on 2 cores the read numbers
are bounded by the CPU, not by the number of nodes (see BENCHMARKS.md).
"""

import argparse
import hashlib
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

TOKEN = "replication-bench-token-0123456789"
HERE = os.path.dirname(os.path.abspath(__file__))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(url, body=None, timeout=60):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="POST" if data else "GET")
    request.add_header("content-type", "application/json")
    request.add_header("authorization", f"Bearer {TOKEN}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")
    except OSError:
        return None, None


class Nats:
    def __init__(self, binary, root):
        self.binary, self.root = binary, root
        self.ports = [free_port() for _ in range(3)]
        self.routes = [free_port() for _ in range(3)]
        self.procs = [self.spawn(i) for i in range(3)]

    def spawn(self, i):
        routes = ", ".join(f"nats-route://127.0.0.1:{p}" for p in self.routes)
        conf = os.path.join(self.root, f"nats{i}.conf")
        with open(conf, "w") as f:
            f.write(f"server_name: n{i}\nlisten: 127.0.0.1:{self.ports[i]}\nmax_payload: 8MB\n"
                    f"jetstream {{ store_dir: \"{self.root}/nats{i}\" }}\n"
                    f"cluster {{ name: bench\n listen: 127.0.0.1:{self.routes[i]}\n routes: [{routes}] }}\n")
        return subprocess.Popen([self.binary, "-c", conf], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)

    def urls(self):
        return ",".join(f"nats://127.0.0.1:{p}" for p in self.ports)

    def stop(self):
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            p.wait()


class Node:
    def __init__(self, binary, data_dir, replicate=None, log=None):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        token_hash = hashlib.sha256(TOKEN.encode()).hexdigest()
        args = [binary, "serve", "--data-dir", data_dir, "--listen", f"127.0.0.1:{self.port}",
                "--tokens", f"bench editor {token_hash}", "--rate-limit", "0",
                # Network measures once at start, not after every write: the benchmark measures
                # the replication path, not three nodes recomputing betweenness on two cores.
                "--measures-settle-ms", "3600000"]
        if replicate:
            args += ["--replicate", replicate, "--stream", "bench"]
        self.started = time.monotonic()
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL,
                                     stderr=open(log or os.devnull, "w"),
                                     env={**os.environ, "RUST_LOG": "info"})

    def wait(self, path="/readyz", timeout=1800):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status, _ = http(self.base + path, timeout=5)
            if status == 200:
                return time.monotonic() - self.started
            if self.proc.poll() is not None:
                raise SystemExit(f"node on {self.base} exited with {self.proc.returncode}")
            time.sleep(0.05)
        raise SystemExit(f"node on {self.base} not ready within {timeout} s")

    def health(self):
        return http(self.base + "/healthz", timeout=5)[1] or {}

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=120)


CREATE = "mutation($input: EntityInput!) { createEntity(input: $input) { id } }"


def write_latencies(node, prefix, count):
    latencies = []
    for i in range(count):
        body = {"query": CREATE, "variables": {"input": {
            "id": f"{prefix}-{i}", "kind": "LAB", "name": f"基准实验室{prefix}{i}"}}}
        started = time.perf_counter()
        status, answer = http(node.base + "/graphql", body)
        elapsed = time.perf_counter() - started
        if status != 200 or not answer or answer.get("errors"):
            raise SystemExit(f"write failed: {status} {answer}")
        latencies.append(elapsed * 1000)
    return latencies


def summary(latencies):
    ordered = sorted(latencies)
    return {"n": len(ordered), "p50_ms": round(statistics.median(ordered), 3),
            "p90_ms": round(ordered[int(len(ordered) * 0.9)], 3),
            "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 3)}


def writes_in_parallel(nodes, prefix, total, threads=4):
    def run(t):
        node = nodes[t % len(nodes)]
        for i in range(t, total, threads):
            body = {"query": CREATE, "variables": {"input": {
                "id": f"{prefix}-{i}", "kind": "LAB", "name": f"追赶实验室{prefix}{i}"}}}
            status, answer = http(node.base + "/graphql", body)
            if status != 200 or not answer or answer.get("errors"):
                raise SystemExit(f"write failed: {status} {answer}")
    workers = [threading.Thread(target=run, args=(t,)) for t in range(threads)]
    started = time.monotonic()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return total / (time.monotonic() - started)


def two_hop_body(node):
    """A 2-hop neighbourhood of an entity of median degree among the first 200: a typical expansion."""
    query = "{ entities(first: 200) { edges { node { id degree } } } }"
    status, answer = http(node.base + "/graphql", {"query": query})
    edges = ((answer or {}).get("data") or {}).get("entities", {}).get("edges", [])
    nodes = sorted((e["node"] for e in edges), key=lambda n: n["degree"])
    pick = nodes[len(nodes) // 2]["id"] if nodes else "zhejiang-university"
    return json.dumps({"query": f'{{ neighborhood(ids: ["{pick}"], depth: 2) {{ entities {{ id name }} }} }}'})


def read_throughput(nodes, body_file, seconds, connections):
    procs = []
    for node in nodes:
        procs.append(subprocess.Popen(
            ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s",
             os.path.join(HERE, "..", "national", "cycle.lua"), node.base + "/graphql", "--", body_file],
            stdout=subprocess.PIPE, text=True))
    total = 0.0
    for p in procs:
        out, _ = p.communicate()
        for line in out.splitlines():
            if line.startswith("Requests/sec:"):
                total += float(line.split()[1])
    return round(total)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", default="target/release/innograph")
    parser.add_argument("--nats", default=shutil.which("nats-server") or "nats-server")
    parser.add_argument("--entities", type=int, default=0)
    parser.add_argument("--writes", type=int, default=300)
    parser.add_argument("--catch-up", type=int, default=3000)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--out", default="target/repl-bench")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    root = tempfile.mkdtemp(prefix="repl-bench-", dir=args.out)
    result = {"entities": args.entities or "bundled seed", "cores": os.cpu_count()}
    base = os.path.join(root, "base")
    if args.entities:
        gen = os.path.join(root, "gen")
        subprocess.run([args.bin, "generate", "--entities", str(args.entities), "--seed", "42",
                        "--out", gen], check=True, stdout=subprocess.DEVNULL)
        subprocess.run([args.bin, "import", os.path.join(gen, "graph.jsonl"), "--data-dir", base],
                       check=True, stdout=subprocess.DEVNULL)
        shutil.rmtree(gen)
    else:
        subprocess.run([args.bin, "import", "seed", "--data-dir", base], check=True,
                       stdout=subprocess.DEVNULL)

    # A single node.
    single_dir = os.path.join(root, "single")
    shutil.copytree(base, single_dir)
    single = Node(args.bin, single_dir, log=os.path.join(root, "single.log"))
    single.wait()
    write_latencies(single, "warm", 20)
    result["write_single"] = summary(write_latencies(single, "single", args.writes))
    body_file = os.path.join(root, "two-hop.json")
    with open(body_file, "w") as f:
        f.write(two_hop_body(single) + "\n")
    result["read_single_node_req_s"] = read_throughput([single], body_file, args.seconds, args.connections)
    single.stop()

    # Three NATS servers (R=3) and three nodes: the first publishes the genesis, the others join.
    nats = Nats(args.nats, root)
    try:
        first_dir = os.path.join(root, "node0")
        shutil.copytree(base, first_dir)
        nodes = [Node(args.bin, first_dir, nats.urls(), os.path.join(root, "node0.log"))]
        result["genesis_s"] = round(nodes[0].wait(), 2)
        for i in (1, 2):
            nodes.append(Node(args.bin, os.path.join(root, f"node{i}"), nats.urls(),
                              os.path.join(root, f"node{i}.log")))
            result[f"join_node{i}_s"] = round(nodes[i].wait(), 2)
        write_latencies(nodes[0], "rwarm", 20)
        result["write_replicated"] = summary(write_latencies(nodes[0], "replicated", args.writes))
        for n in (1, 2, 3):
            result[f"read_{n}_nodes_req_s"] = read_throughput(nodes[:n], body_file, args.seconds,
                                                              args.connections)
        # Catch-up: a node stopped while the others take writes, then restarted.
        nodes[2].stop()
        result["catch_up_writes_per_s_during"] = round(
            writes_in_parallel(nodes[:2], "catchup", args.catch_up), 1)
        target = nodes[0].health()["sequence"]
        restarted = Node(args.bin, os.path.join(root, "node2"), nats.urls(),
                         os.path.join(root, "node2-restart.log"))
        restarted.wait("/healthz")
        up = time.monotonic()
        first = restarted.health().get("sequence", 0)
        while restarted.health().get("sequence", 0) < target:
            time.sleep(0.02)
        took = time.monotonic() - up
        result["catch_up"] = {"entries": target - first, "seconds": round(took, 2),
                              "entries_per_s": round((target - first) / took, 1) if took else None}
        nodes[2] = restarted
        # A fresh node joining the whole log (genesis plus every entry since).
        late = Node(args.bin, os.path.join(root, "node3"), nats.urls(), os.path.join(root, "node3.log"))
        late.wait("/healthz")
        while late.health().get("sequence", 0) < target:
            time.sleep(0.02)
        result["join_with_log_s"] = round(time.monotonic() - late.started, 2)
        result["log_entries_at_join"] = target
        late.stop()
        for node in nodes:
            node.stop()
    finally:
        nats.stop()
    shutil.rmtree(root, ignore_errors=True)
    with open(os.path.join(args.out, "result.json"), "w") as f:
        json.dump(result, f, indent=2)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    sys.exit(main())

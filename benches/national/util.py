#!/usr/bin/env python3
"""Helpers of run.sh (standard library only): the machine description, the import record, the
HTTP request bodies built from queries.json, their one-by-one check against the running server,
and the records of wrk runs and of the HTTP part. Every record is a JSON file under OUT.

    util.py machine --bin BIN --out OUT/machine.json
    util.py time-record --time TIME_FILE --out FILE
    util.py import-record --log LOG --time TIME_FILE --disk-bytes B --graph GRAPH --out FILE
    util.py bodies --queries queries.json --dir OUT/N/bodies
    util.py check --url http://127.0.0.1:PORT --queries queries.json --dir OUT/N/bodies --out FILE
    util.py wrk-record --in WRK_OUTPUT --scenario S --threads T --connections C --duration D --out FILE
    util.py http-record --dir OUT/N --out OUT/N/http.json [--cold-start-s X] [--restart-snapshot-s X]
        [--restart-rebuild-s X] [--pid PID] [--port P] [--cpu-busy]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

# The queries of the HTTP scenarios. Variables carry the ids; the relation kinds of the 2-hop
# query (and of the path query when queries.json restricts them) are GraphQL enum values in the
# query text.
LOOKUP_QUERY = "query($id: ID!) { entity(id: $id) { id name kind } }"
TWO_HOP_QUERY = ("query($id: ID!) { entity(id: $id) { neighbors(depth: 2, direction: BOTH%s) "
                 "{ id } } }")
PATH_QUERY = ("query($from: ID!, $to: ID!) { shortestPath(from: $from, to: $to, direction: BOTH, "
              "maxDepth: %d%s) { length } }")
ENUM_VALUE = re.compile(r"^[A-Z_][A-Z0-9_]*$")

SCENARIOS = ("constant", "lookup", "two_hop", "shortest_path")


def write_json(path: Path, value) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(value, indent=2, ensure_ascii=False) + "\n")
    tmp.replace(path)


def read_json(path: Path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def command_output(args: list[str]) -> str | None:
    try:
        out = subprocess.run(args, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    text = (out.stdout or out.stderr).strip()
    return text.splitlines()[0] if out.returncode == 0 and text else None


# ---------------------------------------------------------------------------------------------
# machine


def collect_machine(bin_path: str | None) -> dict:
    """This machine: cores, memory, CPU model, kernel, OS and the versions of the tools."""
    cpu = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
                break
    except (OSError, ValueError):
        pass
    info = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "nproc": os.cpu_count(),
        "mem_total_kb": mem_kb,
        "cpu": cpu,
        "kernel": platform.release(),
        "os": command_output(["sh", "-c", ". /etc/os-release && echo \"$PRETTY_NAME\""]),
        "rustc": command_output(["rustc", "--version"]),
        "innograph": command_output([bin_path, "--version"]) if bin_path else None,
        "wrk": re.sub(r"\s+(\[|Copyright).*", "",
                      command_output(["sh", "-c", "wrk --version 2>&1 | head -1"]) or "") or None,
        "python": platform.python_version(),
    }
    return info


def machine(args) -> int:
    write_json(Path(args.out), collect_machine(args.bin))
    return 0


# ---------------------------------------------------------------------------------------------
# import


def read_time(path: str) -> tuple[float, int]:
    """The output of `/usr/bin/time -f '%e %M' -o FILE`: wall seconds and peak RSS in KiB (the
    last line; a line before it says so when the command failed)."""
    lines = [l for l in Path(path).read_text().splitlines() if l.strip()]
    wall_s, peak_kb = lines[-1].split()[:2]
    return float(wall_s), int(peak_kb)


def time_record(args) -> int:
    wall_s, peak_kb = read_time(args.time)
    write_json(Path(args.out), {"wall_s": wall_s, "peak_rss_kb": peak_kb})
    return 0


def import_record(args) -> int:
    log = Path(args.log).read_text(errors="replace")
    entities = relations = documents = None
    m = re.search(r"imported (\d+) documents, (\d+) entities, (\d+) relations", log)
    if m:
        documents, entities, relations = (int(x) for x in m.groups())
    else:  # count the graph file's records instead
        documents = entities = relations = 0
        with open(args.graph, "rb") as f:
            for line in f:
                if line.startswith(b'{"type":"relation"'):
                    relations += 1
                elif line.startswith(b'{"type":"entity"'):
                    entities += 1
                elif line.startswith(b'{"type":"document"'):
                    documents += 1
    wall_s, peak_kb = read_time(args.time)
    rate = lambda n: (n / wall_s) if wall_s > 0 and n is not None else None
    write_json(Path(args.out), {
        "documents": documents,
        "entities": entities,
        "relations": relations,
        "wall_s": wall_s,
        "peak_rss_kb": peak_kb,
        "disk_bytes": int(args.disk_bytes),
        "relations_per_s": rate(relations),
        "entities_per_s": rate(entities),
    })
    return 0


# ---------------------------------------------------------------------------------------------
# request bodies


def relations_argument(kinds) -> str:
    if kinds is None:
        return ""
    for kind in kinds:
        if not isinstance(kind, str) or not ENUM_VALUE.match(kind):
            raise SystemExit(f"util.py: {kind!r} is not a GraphQL enum value")
    return ", relations: [%s]" % ", ".join(kinds)


def build_bodies(queries: dict) -> dict[str, list[dict]]:
    """Scenario → list of {"body": str, "expect": ...} (expect: None when unknown)."""
    two_hop = queries.get("two_hop") or {}
    paths = queries.get("paths") or {}
    starts = two_hop.get("starts") or []
    sizes = two_hop.get("expected_sizes") or []
    pairs = paths.get("pairs") or []
    lengths = paths.get("expected_lengths") or []
    if not starts:
        raise SystemExit("util.py: queries.json has no two_hop.starts")
    if not pairs:
        raise SystemExit("util.py: queries.json has no paths.pairs")
    two_hop_query = TWO_HOP_QUERY % relations_argument(two_hop.get("kinds"))
    max_depth = paths.get("max_length") or 12
    path_query = PATH_QUERY % (int(max_depth), relations_argument(paths.get("kinds")))

    def body(query, variables):
        return json.dumps({"query": query, "variables": variables}, separators=(",", ":"))

    out = {"lookup": [], "two_hop": [], "shortest_path": []}
    for i, start in enumerate(starts):
        out["lookup"].append({"body": body(LOOKUP_QUERY, {"id": start}), "expect": start})
        out["two_hop"].append({"body": body(two_hop_query, {"id": start}),
                               "expect": sizes[i] if i < len(sizes) else None})
    for i, (a, b) in enumerate(pairs):
        out["shortest_path"].append({"body": body(path_query, {"from": a, "to": b}),
                                     "expect": lengths[i] if i < len(lengths) else "?"})
    return out


def bodies(args) -> int:
    queries = json.loads(Path(args.queries).read_text())
    directory = Path(args.dir)
    directory.mkdir(parents=True, exist_ok=True)
    for scenario, items in build_bodies(queries).items():
        (directory / f"{scenario}.txt").write_text("".join(i["body"] + "\n" for i in items))
        print(f"  {scenario}: {len(items)} request bodies", file=sys.stderr)
    return 0


# ---------------------------------------------------------------------------------------------
# check


# The server is local: never through a proxy that the environment may name.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def post(url: str, body: str) -> tuple[int, str]:
    request = urllib.request.Request(url, data=body.encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with OPENER.open(request, timeout=120) as response:
            return response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")


def check(args) -> int:
    """POST every body once: a status other than 200, an `errors` member or an unreadable answer
    fails the run (exit 1). An answer that differs from the one in queries.json (innograph's own,
    in process) is only counted and reported: a finding to look into, not a reason to lose the run."""
    queries = json.loads(Path(args.queries).read_text())
    url = args.url.rstrip("/") + "/graphql"
    result = {}
    failures = []
    for scenario, items in build_bodies(queries).items():
        lines = (Path(args.dir) / f"{scenario}.txt").read_text().splitlines()
        if lines != [i["body"] for i in items]:
            failures.append(f"{scenario}: bodies file differs from queries.json")
            continue
        mismatches, examples, failed = 0, [], False
        for item in items:
            status, text = post(url, item["body"])
            try:
                answer = json.loads(text)
            except ValueError:
                answer = None
            if status != 200 or not isinstance(answer, dict) or "errors" in answer \
                    or "data" not in answer:
                failures.append(f"{scenario}: HTTP {status} for {item['body']}: {text[:500]}")
                failed = True
                break
            data = answer["data"] or {}
            if scenario == "lookup":
                got = (data.get("entity") or {}).get("id")
                ok = got == item["expect"]
            elif scenario == "two_hop":
                entity = data.get("entity")
                got = len(entity["neighbors"]) if entity else None
                ok = item["expect"] is None or got == item["expect"]
            else:
                path = data.get("shortestPath")
                got = path["length"] if path else None
                ok = item["expect"] == "?" or got == item["expect"]
            if not ok:
                mismatches += 1
                if len(examples) < 5:
                    examples.append({"body": item["body"], "expected": item["expect"], "got": got})
        if failed:
            print(f"  {scenario}: FAILED", file=sys.stderr)
            continue
        result[scenario] = {"bodies": len(items), "mismatches": mismatches, "examples": examples}
        note = f"; answers that differ from queries.json: {mismatches}" if mismatches else ""
        print(f"  {scenario}: {len(items)} bodies answered 200 without errors{note}",
              file=sys.stderr)
    # The constant route.
    try:
        with OPENER.open(args.url.rstrip("/") + "/healthz", timeout=30) as response:
            status, text = response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        status, text = e.code, ""
    if status != 200:
        failures.append(f"constant: GET /healthz gave HTTP {status}: {text[:200]}")
    else:
        result["constant"] = {"bodies": 0, "mismatches": 0, "examples": []}
    write_json(Path(args.out), {"scenarios": result, "failures": failures})
    for failure in failures:
        print(f"CHECK FAILED: {failure}", file=sys.stderr)
    return 1 if failures else 0


# ---------------------------------------------------------------------------------------------
# wrk


def wrk_record(args) -> int:
    text = Path(args.input).read_text(errors="replace")
    record = {"scenario": args.scenario, "threads": args.threads,
              "connections": args.connections, "duration_s": args.duration}
    found = None
    for line in text.splitlines():
        if line.startswith("WRK_JSON "):
            found = json.loads(line[len("WRK_JSON "):])
    if found is None:
        print(f"util.py: no WRK_JSON line in {args.input}", file=sys.stderr)
        record["failed"] = True
    else:
        record.update(found)
        seconds = found["duration_us"] / 1e6
        record["rps"] = found["requests"] / seconds if seconds > 0 else None
        record["socket_errors"] = sum(found[k] for k in
                                      ("connect_errors", "read_errors", "write_errors", "timeouts"))
    # wrk's own summary line, as a cross-check of the Lua numbers.
    m = re.search(r"Requests/sec:\s+([0-9.]+)", text)
    record["wrk_requests_per_sec"] = float(m.group(1)) if m else None
    write_json(Path(args.out), record)
    return 0 if not record.get("failed") else 1


def proc_status(pid: int) -> dict:
    out = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key.lower() + "_kb"] = int(value.split()[0])
    except (OSError, ValueError):
        pass
    return out


def cpu_times() -> tuple[int, int]:
    """(idle, total) jiffies of all cores, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return idle, sum(fields[:8])  # guest time is already counted in user


def cpu_busy(seconds: float) -> float | None:
    """The fraction of all cores busy over `seconds` (run while the server is idle: whatever
    shows up is some other process's work)."""
    import time

    try:
        idle0, total0 = cpu_times()
        time.sleep(seconds)
        idle1, total1 = cpu_times()
    except (OSError, ValueError, IndexError):
        return None
    total = total1 - total0
    return None if total <= 0 else 1 - (idle1 - idle0) / total


def http_record(args) -> int:
    directory = Path(args.dir)
    record = read_json(directory / "http.json") or {}
    if args.cold_start_s is not None:
        record["cold_start_s"] = args.cold_start_s
    if args.measures_ready_s is not None:
        record["measures_ready_s"] = args.measures_ready_s
    if args.restart_snapshot_s is not None:
        record["restart_snapshot_s"] = args.restart_snapshot_s
    if args.restart_rebuild_s is not None:
        record["restart_rebuild_s"] = args.restart_rebuild_s
    if args.pid is not None:
        record.update(proc_status(args.pid))
    if args.port is not None:
        record["port"] = args.port
    if args.cpu_busy:
        busy = cpu_busy(1.0)
        if busy is not None:
            record["cpu_busy_before"] = round(busy, 3)
            print(f"  CPU busy over 1 s before the load: {busy * 100:.0f} % of all cores",
                  file=sys.stderr)
    check_result = read_json(directory / "http-check.json")
    if check_result is not None:
        record["check"] = check_result
    runs = []
    for path in sorted((directory / "wrk").glob("*-c*.json")):
        run = read_json(path)
        if run:
            runs.append(run)
    order = {s: i for i, s in enumerate(SCENARIOS)}
    runs.sort(key=lambda r: (order.get(r.get("scenario"), 99), r.get("connections", 0)))
    record["runs"] = runs
    write_json(directory / "http.json" if args.out is None else Path(args.out), record)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("machine")
    p.add_argument("--bin")
    p.add_argument("--out", required=True)
    p.set_defaults(func=machine)
    p = sub.add_parser("time-record")
    p.add_argument("--time", required=True)
    p.add_argument("--out", required=True)
    p.set_defaults(func=time_record)
    p = sub.add_parser("import-record")
    p.add_argument("--log", required=True)
    p.add_argument("--time", required=True)
    p.add_argument("--disk-bytes", required=True)
    p.add_argument("--graph", required=True)
    p.add_argument("--out", required=True)
    p.set_defaults(func=import_record)
    p = sub.add_parser("bodies")
    p.add_argument("--queries", required=True)
    p.add_argument("--dir", required=True)
    p.set_defaults(func=bodies)
    p = sub.add_parser("check")
    p.add_argument("--url", required=True)
    p.add_argument("--queries", required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--out", required=True)
    p.set_defaults(func=check)
    p = sub.add_parser("wrk-record")
    p.add_argument("--in", dest="input", required=True)
    p.add_argument("--scenario", required=True)
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--connections", type=int, required=True)
    p.add_argument("--duration", type=float, required=True)
    p.add_argument("--out", required=True)
    p.set_defaults(func=wrk_record)
    p = sub.add_parser("http-record")
    p.add_argument("--dir", required=True)
    p.add_argument("--out")
    p.add_argument("--cold-start-s", type=float)
    p.add_argument("--measures-ready-s", type=float,
                   help="seconds from /healthz 200 until every network measure is computed")
    p.add_argument("--restart-snapshot-s", type=float,
                   help="launch → /healthz 200 of a restart with the index snapshot")
    p.add_argument("--restart-rebuild-s", type=float,
                   help="launch → /healthz 200 of a restart without it (index rebuilt)")
    p.add_argument("--pid", type=int)
    p.add_argument("--port", type=int)
    p.add_argument("--cpu-busy", action="store_true",
                   help="record how busy the CPU is over 1 s (before the load)")
    p.set_defaults(func=http_record)
    args = parser.parse_args()
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())

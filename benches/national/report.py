#!/usr/bin/env python3
"""The national benchmark's table: reads every record run.sh left under OUT and prints the
machine, then one markdown table (rows: measurements; columns: sizes). Whatever is missing or
unreadable prints as "—".

    report.py [--out DIR (default target/national-bench)] [--sizes 10000,100000] [--write FILE]

Without --sizes, every size directory under OUT is a column. --write also saves the output.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))
sys.dont_write_bytecode = True  # importing util.py must leave no __pycache__ in the tree

DASH = "—"
MIB = 1024 * 1024
SCENARIOS = (
    ("constant", "constant (GET /healthz)"),
    ("lookup", "lookup by id"),
    ("two_hop", "2-hop, peer query kinds"),
    ("shortest_path", "shortest path"),
)
CONNECTIONS = (1, 64)
# Keys of peers.json's "engines" and their row labels. Kuzu runs in two relation models
# (benches/peers/README.md); records of runs before the second model have no "kuzu-per-kind".
ENGINES = (
    ("networkx", "NetworkX"),
    ("igraph", "igraph"),
    ("kuzu", "Kuzu (one rel table, kind property)"),
    ("kuzu-per-kind", "Kuzu (one rel table per kind)"),
)
# The in-process operations that answer the peers' queries (same starts, pairs and kinds).
PEER_OPERATION = {"two_hop": "two_hop_peer_query", "path": "shortest_path_peer_query"}


# ---------------------------------------------------------------------------------------------
# Reading


def read_json(path: Path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def get(value, *keys):
    """value[k1][k2]...; None when any step is missing or of the wrong type."""
    for key in keys:
        if isinstance(value, dict):
            value = value.get(key)
        elif isinstance(value, list) and isinstance(key, int) and -len(value) <= key < len(value):
            value = value[key]
        else:
            return None
    return value


def number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class Size:
    """The records of one size directory."""

    def __init__(self, n: int, directory: Path):
        self.n = n
        self.dir = directory
        self.run = read_json(directory / "run.json")
        self.steps = read_json(directory / "steps.json")
        self.generate = read_json(directory / "generate.json")
        self.imported = read_json(directory / "import.json")
        self.bench = read_json(directory / "bench.json")
        self.http = read_json(directory / "http.json")
        if isinstance(self.http, dict) and "check" not in self.http:
            # A run stopped by a failed check has the check's record only in its own file.
            self.http["check"] = read_json(directory / "http-check.json")
        self.peers = read_json(directory / "peers.json")

    def operations(self) -> list[dict]:
        ops = get(self.bench, "operations")
        return [op for op in ops if isinstance(op, dict)] if isinstance(ops, list) else []

    def operation(self, name: str) -> dict | None:
        for op in self.operations():
            if op.get("name") == name:
                return op
        return None

    def wrk(self, scenario: str, connections: int) -> dict | None:
        runs = get(self.http, "runs")
        if not isinstance(runs, list):
            return None
        for run in runs:
            if isinstance(run, dict) and run.get("scenario") == scenario \
                    and run.get("connections") == connections:
                return run
        return None


# ---------------------------------------------------------------------------------------------
# Formatting


def sig(x: float, digits: int = 3) -> str:
    """x with `digits` significant digits, thousands separated, never in exponent form."""
    if x == 0:
        return "0"
    x = float(f"{x:.{digits}g}")  # rounded first: 999.6 → 1000, then its own digits
    places = digits - 1 - math.floor(math.log10(abs(x)))
    return f"{round(x, places):,.{max(places, 0)}f}"


def fmt_us(us) -> str:
    us = number(us)
    if us is None:
        return DASH
    if us != 0:
        us = float(f"{us:.3g}")
    if us >= 1e6:
        return f"{sig(us / 1e6)} s"
    if us >= 1e3:
        return f"{sig(us / 1e3)} ms"
    if us >= 1:
        return f"{sig(us)} µs"
    return f"{sig(us * 1e3)} ns"


def fmt_s(s) -> str:
    s = number(s)
    if s is None:
        return DASH
    if s < 1:
        return fmt_us(s * 1e6)
    text = f"{sig(s)} s"
    if s >= 120:
        text += f" ({sig(s / 60, 2)} min)"
    return text


def fmt_bytes(b) -> str:
    b = number(b)
    if b is None:
        return DASH
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if b >= scale:
            return f"{sig(b / scale)} {unit}"
    return f"{b:.0f} B"


def fmt_int(x) -> str:
    x = number(x)
    return DASH if x is None else f"{x:,.0f}"


def fmt_rate(x, unit="/s") -> str:
    x = number(x)
    return DASH if x is None else f"{sig(x)}{unit}"


def fmt_ratio(x) -> str:
    x = number(x)
    return DASH if x is None else f"{sig(x, 2)}×"


def median_p99(median_us, p99_us) -> str:
    if number(median_us) is None and number(p99_us) is None:
        return DASH
    return f"{fmt_us(median_us)} / {fmt_us(p99_us)}"


def size_label(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1e6:g}M"
    if n >= 1000:
        return f"{n / 1e3:g}k"
    return str(n)


# ---------------------------------------------------------------------------------------------
# Rows


def safe(function, size: Size) -> str:
    """One cell: "—" for anything missing, never an exception."""
    try:
        text = function(size)
    except Exception:  # noqa: BLE001 - a malformed record must not stop the report
        return DASH
    return DASH if text is None or text == "" else str(text)


def entity_counts(s: Size):
    entities = get(s.imported, "entities") or get(s.bench, "graph", "entities")
    relations = get(s.imported, "relations") or get(s.bench, "graph", "relations")
    if entities is None and relations is None:
        return None
    return f"{fmt_int(entities)} / {fmt_int(relations)}"


def generate_cell(s: Size):
    if s.generate is None:
        return None
    return f"{fmt_s(s.generate.get('wall_s'))}, peak {fmt_bytes(number(s.generate.get('peak_rss_kb')) * 1024)}"


def op_cell(op: dict | None):
    if op is None:
        return None
    text = median_p99(op.get("median_us"), op.get("p99_us"))
    result = number(op.get("result_median"))
    if result is not None:
        text += f" ({sig(result) if result % 1 else fmt_int(result)})"
    return text


def added_relation_cell(s: Size):
    added = get(s.bench, "added_relation")
    if not isinstance(added, dict):
        return None
    med, p99 = number(added.get("median_ms")), number(added.get("p99_ms"))
    return median_p99(med * 1e3 if med is not None else None, p99 * 1e3 if p99 is not None else None)


def wrk_cell(run: dict | None):
    if run is None:
        return None
    if run.get("failed"):
        return "failed"
    text = f"{fmt_int(run.get('rps'))} · {fmt_us(run.get('p50_us'))} / {fmt_us(run.get('p99_us'))}"
    problems = []
    if number(run.get("non2xx")):
        problems.append(f"{fmt_int(run['non2xx'])} non-2xx")
    if number(run.get("socket_errors")):
        problems.append(f"{fmt_int(run['socket_errors'])} socket errors")
    if problems:
        text += " ⚠ " + ", ".join(problems)
    return text


def http_errors_cell(s: Size):
    runs = get(s.http, "runs")
    if not isinstance(runs, list) or not runs:
        return None
    non2xx = sum(number(r.get("non2xx")) or 0 for r in runs)
    sockets = sum(number(r.get("socket_errors")) or 0 for r in runs)
    failed = sum(1 for r in runs if r.get("failed"))
    text = f"{fmt_int(non2xx)} / {fmt_int(sockets)}"
    if failed:
        text += f" (unreadable wrk runs: {failed})"
    return text


def http_mismatch_cell(s: Size):
    scenarios = get(s.http, "check", "scenarios")
    if not isinstance(scenarios, dict) or not scenarios:
        return None
    parts = []
    for key, _ in SCENARIOS[1:]:
        checked = scenarios.get(key)
        if isinstance(checked, dict):
            parts.append(f"{fmt_int(checked.get('mismatches'))} of {fmt_int(checked.get('bodies'))}")
        else:
            parts.append(DASH)
    return " · ".join(parts)


def ceiling_cell(s: Size):
    lookup, constant = s.wrk("lookup", 64), s.wrk("constant", 64)
    a, b = number(get(lookup, "rps")), number(get(constant, "rps"))
    if a is None or not b:
        return None
    return f"{a / b * 100:.0f} %"


def peer_cell(s: Size, engine: str, query: str):
    result = get(s.peers, "engines", engine, query)
    if not isinstance(result, dict):
        return None
    text = median_p99(result.get("median_us"), result.get("p99_us"))
    notes = []
    if engine.startswith("kuzu") and number(result.get("queries")) is not None:
        notes.append(f"{fmt_int(result['queries'])} queries")
    if number(result.get("mismatches")):
        notes.append(f"⚠ {fmt_int(result['mismatches'])} mismatches")
    if notes:
        text += f" ({', '.join(notes)})"
    return text


def peer_load_cell(s: Size, engine: str):
    result = get(s.peers, "engines", engine)
    if not isinstance(result, dict) or number(result.get("load_s")) is None:
        return None
    text = fmt_s(result["load_s"])
    if number(result.get("prepare_s")) is not None:
        text += f" + {fmt_s(result['prepare_s'])} prepare"
    return text


def ratio_cell(s: Size, engine: str, query: str):
    peer = number(get(s.peers, "engines", engine, query, "median_us"))
    ours = number(get(s.operation(PEER_OPERATION[query]), "median_us"))
    if peer is None or not ours:
        return None
    return fmt_ratio(peer / ours)


def rows(sizes: list[Size]) -> list[tuple[str, list[str]] | str]:
    """The table: a str is a section heading, a tuple a row."""
    out: list = []

    def row(label, function):
        out.append((label, [safe(function, s) for s in sizes]))

    out.append("Graph and import")
    row("entities / relations", entity_counts)
    row("generate (wall time, peak RSS)", generate_cell)
    row("import: wall time", lambda s: fmt_s(get(s.imported, "wall_s")))
    row("import: rate, relations/s", lambda s: fmt_rate(get(s.imported, "relations_per_s"), ""))
    row("import: rate, entities/s", lambda s: fmt_rate(get(s.imported, "entities_per_s"), ""))
    row("import: peak RSS", lambda s: fmt_bytes(number(get(s.imported, "peak_rss_kb")) * 1024))
    row("data directory on disk (du -sb after the import)",
        lambda s: fmt_bytes(get(s.imported, "disk_bytes") or get(s.bench, "disk_bytes")))

    out.append("Start-up and memory")
    row("cold start, in process (bench: open store, build index)",
        lambda s: fmt_s(get(s.bench, "cold_start_s")))
    row("cold start, `serve` launch → /healthz 200", lambda s: fmt_s(get(s.http, "cold_start_s")))
    row("network measures all computed, after /healthz 200 (the HTTP runs start then)",
        lambda s: fmt_s(get(s.http, "measures_ready_s")))
    row("restart → /healthz 200, with the index snapshot",
        lambda s: fmt_s(get(s.http, "restart_snapshot_s")))
    row("restart → /healthz 200, without it (index rebuilt)",
        lambda s: fmt_s(get(s.http, "restart_rebuild_s")))
    row("resident memory, bench process after opening",
        lambda s: fmt_bytes(number(get(s.bench, "rss_mb")) * MIB))
    row("resident memory, bench process after measuring",
        lambda s: fmt_bytes(number(get(s.bench, "rss_after_mb")) * MIB))
    row("resident memory while serving (VmRSS after the load)",
        lambda s: fmt_bytes(number(get(s.http, "vmrss_kb")) * 1024))
    row("peak resident memory of the server (VmHWM)",
        lambda s: fmt_bytes(number(get(s.http, "vmhwm_kb")) * 1024))

    out.append("In process: median / p99 (median result size)")
    names: list[str] = []
    labels: dict[str, str] = {}
    for s in sizes:
        for op in s.operations():
            name = op.get("name") or op.get("label")
            if isinstance(name, str) and name not in labels:
                names.append(name)
                labels[name] = str(op.get("label") or name)
    for name in names:
        row(labels[name], lambda s, name=name: op_cell(s.operation(name) or next(
            (op for op in s.operations() if op.get("label") == name), None)))
    row("one added relation, durable and visible", added_relation_cell)

    out.append("HTTP (wrk): req/s · p50 / p99")
    for key, label in SCENARIOS:
        for connections in CONNECTIONS:
            row(f"{label}, {connections} connection{'s' if connections > 1 else ''}",
                lambda s, key=key, c=connections: wrk_cell(s.wrk(key, c)))
    row("lookup throughput, % of the constant ceiling (64 connections)", ceiling_cell)
    row("non-2xx / socket errors, all runs", http_errors_cell)
    row("HTTP answers ≠ in-process answers (lookup · 2-hop · path)", http_mismatch_cell)

    out.append("Peers (one Python process): median / p99")
    for engine, name in ENGINES:
        row(f"{name}: load", lambda s, e=engine: peer_load_cell(s, e))
        row(f"{name}: 2-hop", lambda s, e=engine: peer_cell(s, e, "two_hop"))
        row(f"{name}: shortest path", lambda s, e=engine: peer_cell(s, e, "path"))
    row("peers: parse JSON Lines", lambda s: fmt_s(get(s.peers, "graph", "parse_s")))
    row("peers: peak RSS", lambda s: fmt_bytes(number(get(s.peers, "peak_rss_mb")) * MIB))

    out.append("innograph vs peers: peer median ÷ innograph in-process median")
    for query, label in (("two_hop", "2-hop"), ("path", "shortest path")):
        for engine, name in ENGINES:
            row(f"{label}: {name} ÷ innograph", lambda s, e=engine, q=query: ratio_cell(s, e, q))

    out.append("Run")
    row("wrk duration per run (after 1 s of warm-up per scenario)",
        lambda s: fmt_s(get(s.run, "wrk_duration_s")))
    row("CPU busy over 1 s before the HTTP runs, server idle (should be ~0 %)",
        lambda s: (lambda b: DASH if b is None else f"{b * 100:.0f} %")(
            number(get(s.http, "cpu_busy_before"))))
    row("benchmark wall time, all steps", lambda s: fmt_s(get(s.steps, "total_s")))
    row("started", lambda s: get(s.run, "started"))
    return out


# ---------------------------------------------------------------------------------------------
# Output


def machine_lines(out_dir: Path) -> list[str]:
    info = read_json(out_dir / "machine.json")
    source = "recorded by run.sh"
    if not isinstance(info, dict):
        source = "this machine now (no machine.json)"
        try:
            from util import collect_machine

            info = collect_machine(None)
        except Exception:  # noqa: BLE001
            info = {}
    mem = number(info.get("mem_total_kb"))
    parts = [
        f"{info.get('nproc') or DASH} cores",
        f"{mem / 1024 / 1024:.1f} GiB RAM" if mem else f"{DASH} RAM",
        info.get("cpu") or "CPU unknown",
        f"Linux {info['kernel']}" if info.get("kernel") else "kernel unknown",
    ]
    if info.get("os"):
        parts.append(info["os"])
    tools = [info.get("rustc") or "rustc: not found"]
    for key in ("innograph", "wrk"):
        if info.get(key):
            tools.append(info[key])
    if info.get("python"):
        tools.append(f"Python {info['python']}")
    lines = [f"Machine ({source}{', ' + info['date'] if info.get('date') else ''}): "
             + ", ".join(parts) + ".", "Tools: " + "; ".join(tools) + "."]
    return lines


def escape(text: str) -> str:
    return text.replace("|", "\\|")


def render(out_dir: Path, sizes: list[Size]) -> str:
    lines = machine_lines(out_dir)
    lines.append("")
    table = rows(sizes)
    header = ["measurement"] + [size_label(s.n) for s in sizes]
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|---" + "|---:" * len(sizes) + "|")
    for item in table:
        if isinstance(item, str):
            lines.append(f"| **{escape(item)}** |" + " |" * len(sizes))
        else:
            label, cells = item
            lines.append("| " + " | ".join([escape(label)] + [escape(c) for c in cells]) + " |")
    lines.append("")
    lines.append("Columns: entities requested from `innograph generate` (seed 42, 5 relations per "
                 "entity). —: not measured (step skipped, failed, or not in that run's records).")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "target" / "national-bench",
                        help="the results directory of run.sh")
    parser.add_argument("--sizes", help="comma-separated sizes (columns); default: all under --out")
    parser.add_argument("--write", type=Path, help="also write the report to this file")
    args = parser.parse_args()
    if args.sizes:
        numbers = []
        for part in args.sizes.split(","):
            part = part.strip()
            if part.isdigit():
                numbers.append(int(part))
            elif part:
                parser.error(f"--sizes: {part!r} is not a whole number")
    else:
        numbers = sorted(int(p.name) for p in args.out.iterdir()
                         if p.is_dir() and p.name.isdigit()) if args.out.is_dir() else []
    sizes = [Size(n, args.out / str(n)) for n in numbers]
    text = render(args.out, sizes)
    sys.stdout.write(text)
    if args.write:
        args.write.parent.mkdir(parents=True, exist_ok=True)
        args.write.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

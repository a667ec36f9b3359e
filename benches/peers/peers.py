#!/usr/bin/env python3
"""Peer benchmark: innograph's 2-hop and shortest-path queries on NetworkX, igraph and Kuzu.

Kuzu runs in two models: `kuzu`, one REL table whose `kind` property the queries filter, and
`kuzu-per-kind`, one REL table per relation kind that the queries name by label alternation.

Reads a graph written by `innograph generate` (JSON Lines) and a queries file written by
innograph's bench command, loads the graph into each engine in this process, and times every
individual query from an id string to the final answer (a set of ids, or a path of ids).
See README.md beside this file for the query semantics and what is precomputed.
"""

from __future__ import annotations

import argparse
import csv
import gc
import json
import math
import platform
import resource
import shutil
import statistics
import sys
import time
import warnings
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

ENGINES = ("networkx", "igraph", "kuzu", "kuzu-per-kind")
# The Python module behind each engine (both Kuzu models are the kuzu package).
MODULES = {"networkx": "networkx", "igraph": "igraph", "kuzu": "kuzu", "kuzu-per-kind": "kuzu"}
WORK_MARKER = ".innograph-peers-work"


# ---------------------------------------------------------------------------------------------
# Input


@dataclass
class Graph:
    """The graph as compact arrays: vertex `i` is `ids[i]`; relation `j` joins `src[j]` and
    `dst[j]` with kind `rel_kinds[rel_kind[j]]`. Entity kinds are kept for Kuzu's node table."""

    ids: list[str] = field(default_factory=list)
    index: dict[str, int] = field(default_factory=dict)
    entity_kind: array = field(default_factory=lambda: array("h"))
    entity_kinds: list[str] = field(default_factory=list)
    src: array = field(default_factory=lambda: array("i"))
    dst: array = field(default_factory=lambda: array("i"))
    rel_kind: array = field(default_factory=lambda: array("h"))
    rel_kinds: list[str] = field(default_factory=list)
    entities: int = 0
    relations: int = 0

    def vertex(self, entity_id: str) -> int:
        """The vertex of an id, created (with an unknown kind) on first sight."""
        v = self.index.get(entity_id)
        if v is None:
            v = self.index[entity_id] = len(self.ids)
            self.ids.append(entity_id)
            self.entity_kind.append(-1)
        return v

    def kind_codes(self, kinds: list[str] | None) -> frozenset[int] | None:
        """The relation kind codes of a filter (`None`: every kind). Unknown kinds match nothing."""
        if kinds is None:
            return None
        return frozenset(i for i, name in enumerate(self.rel_kinds) if name in kinds)


def code_of(names: list[str], codes: dict[str, int], name: str) -> int:
    """The code of a kind name, assigning the next one on first sight."""
    code = codes.get(name)
    if code is None:
        code = codes[name] = len(names)
        names.append(name)
    return code


def read_graph(path: Path) -> Graph:
    """Stream the JSON Lines file line by line into a `Graph`; documents are skipped."""
    graph = Graph()
    entity_codes: dict[str, int] = {}
    rel_codes: dict[str, int] = {}
    with path.open("rb") as lines:
        for line in lines:
            record = json.loads(line)
            kind = record.get("type")
            if kind == "entity":
                v = graph.vertex(record["id"])
                if graph.entity_kind[v] < 0:
                    graph.entities += 1
                    graph.entity_kind[v] = code_of(graph.entity_kinds, entity_codes, record["kind"])
            elif kind == "relation":
                graph.src.append(graph.vertex(record["source"]))
                graph.dst.append(graph.vertex(record["target"]))
                graph.rel_kind.append(code_of(graph.rel_kinds, rel_codes, record["kind"]))
                graph.relations += 1
    missing = len(graph.ids) - graph.entities
    if missing:
        print(f"warning: {missing} relation ends have no entity line", file=sys.stderr)
    return graph


@dataclass
class Queries:
    """The query lists of innograph's bench output; `expected_*` are `None` when absent."""

    two_hop_kinds: list[str] | None
    starts: list[str]
    expected_sizes: list[int] | None
    path_kinds: list[str] | None
    max_length: int
    pairs: list[tuple[str, str]]
    expected_lengths: list[int | None] | None


def read_queries(path: Path) -> Queries:
    """Parse the queries JSON."""
    data = json.loads(path.read_text())
    two_hop, paths = data["two_hop"], data["paths"]
    return Queries(
        two_hop_kinds=two_hop.get("kinds"),
        starts=list(two_hop["starts"]),
        expected_sizes=two_hop.get("expected_sizes"),
        path_kinds=paths.get("kinds"),
        max_length=int(paths["max_length"]),
        pairs=[(a, b) for a, b in paths["pairs"]],
        expected_lengths=paths.get("expected_lengths"),
    )


# ---------------------------------------------------------------------------------------------
# Engines. Each has `load()` (ingest every relation with its kind), `prepare(queries)` (per-filter
# structures) and the two timed calls `two_hop(start) -> set[str]` and `path(a, b) -> list | None`.


class NetworkXEngine:
    """NetworkX: an undirected MultiGraph of every relation (key: kind code), then one simple
    undirected `nx.Graph` per kind filter holding every entity and the filter's relations."""

    name = "networkx"

    def __init__(self, graph: Graph):
        import networkx as nx

        self.nx = nx
        self.graph = graph
        self.multi = None
        self.two_hop_graph = None
        self.path_graph = None
        self.max_length = 0

    def load(self) -> None:
        g = self.graph
        multi = self.nx.MultiGraph()
        multi.add_nodes_from(g.ids)
        multi.add_edges_from(
            (g.ids[s], g.ids[d], k) for s, d, k in zip(g.src, g.dst, g.rel_kind)
        )
        self.multi = multi

    def filtered(self, codes: frozenset[int] | None):
        """The simple undirected graph of the relations whose kind is in `codes`."""
        simple = self.nx.Graph()
        simple.add_nodes_from(self.multi)
        if codes is None:
            simple.add_edges_from(self.multi.edges())
        else:
            simple.add_edges_from(
                (u, v) for u, v, k in self.multi.edges(keys=True) if k in codes
            )
        return simple

    def prepare(self, queries: Queries) -> None:
        two_hop_codes = self.graph.kind_codes(queries.two_hop_kinds)
        path_codes = self.graph.kind_codes(queries.path_kinds)
        self.two_hop_graph = self.filtered(two_hop_codes)
        self.path_graph = (
            self.two_hop_graph if path_codes == two_hop_codes else self.filtered(path_codes)
        )
        self.max_length = queries.max_length
        self.multi = None

    def two_hop(self, start: str) -> set[str]:
        try:
            reached = self.nx.single_source_shortest_path_length(
                self.two_hop_graph, start, cutoff=2
            )
        except self.nx.NodeNotFound:
            return set()
        reached.pop(start)
        return set(reached)

    def path(self, a: str, b: str) -> list[str] | None:
        try:
            found = self.nx.bidirectional_shortest_path(self.path_graph, a, b)
        except (self.nx.NetworkXNoPath, self.nx.NodeNotFound):
            return None
        return found if len(found) - 1 <= self.max_length else None

    def close(self) -> None:
        self.two_hop_graph = self.path_graph = None


class IgraphEngine:
    """igraph: an undirected multigraph of every relation with a `kind` edge attribute (vertex `i`
    is `graph.ids[i]`), then one simplified graph per kind filter on the same vertices."""

    name = "igraph"

    def __init__(self, graph: Graph):
        import igraph

        self.ig = igraph
        self.graph = graph
        self.ids = graph.ids
        self.index = graph.index
        self.full = None
        self.two_hop_graph = None
        self.path_graph = None
        self.max_length = 0

    def load(self) -> None:
        g = self.graph
        self.full = self.ig.Graph(
            n=len(g.ids),
            edges=zip(g.src, g.dst),
            directed=False,
            edge_attrs={"kind": g.rel_kind.tolist()},
        )

    def filtered(self, codes: frozenset[int] | None):
        """The simple graph of the relations whose kind is in `codes`, on every vertex."""
        if codes is None:
            sub = self.full.copy()
        else:
            sub = self.full.subgraph_edges(
                self.full.es.select(kind_in=codes), delete_vertices=False
            )
        sub.simplify()
        return sub

    def prepare(self, queries: Queries) -> None:
        two_hop_codes = self.graph.kind_codes(queries.two_hop_kinds)
        path_codes = self.graph.kind_codes(queries.path_kinds)
        self.two_hop_graph = self.filtered(two_hop_codes)
        self.path_graph = (
            self.two_hop_graph if path_codes == two_hop_codes else self.filtered(path_codes)
        )
        self.max_length = queries.max_length
        self.full = None
        # igraph warns on every unreachable target; the warning is not an error here.
        warnings.filterwarnings("ignore", message="Couldn't reach some vertices")

    def two_hop(self, start: str) -> set[str]:
        v = self.index.get(start)
        if v is None:
            return set()
        ids = self.ids
        return {ids[u] for u in self.two_hop_graph.neighborhood(v, order=2, mindist=1)}

    def path(self, a: str, b: str) -> list[str] | None:
        va, vb = self.index.get(a), self.index.get(b)
        if va is None or vb is None:
            return None
        found = self.path_graph.get_shortest_path(va, vb, mode="all")
        if not found or len(found) - 1 > self.max_length:
            return None
        ids = self.ids
        return [ids[u] for u in found]

    def close(self) -> None:
        self.two_hop_graph = self.path_graph = None


def cypher_string(value: str) -> str:
    """A Cypher string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def rel_filter(kinds: list[str] | None) -> str:
    """The recursive-relationship filter of a kind list (empty for all kinds).

    Kuzu does not take parameters inside these filters, so the kinds are written into the query
    text. They are written as `r.kind = 'A' OR r.kind = 'B' ...`, not `r.kind IN [...]`: in Kuzu
    0.11.3, `IN` inside a recursive filter drops some valid walks (README.md)."""
    if kinds is None:
        return ""
    if not kinds:
        return " (r, n | WHERE false)"
    return " (r, n | WHERE " + " OR ".join(f"r.kind = {cypher_string(k)}" for k in kinds) + ")"


def cypher_name(name: str) -> str:
    """A Cypher identifier (a table name), quoted with backticks."""
    return "`" + name.replace("`", "``") + "`"


class KuzuEngine:
    """Kuzu (embedded), one relation table: node table Entity(id, kind), rel table
    R(FROM Entity TO Entity, kind), bulk-loaded with COPY FROM CSV files written into the work
    directory; queried in Cypher with the kinds as a filter on `r.kind`.

    Subclasses change the relation model by overriding `write_relations` and `rel_pattern`."""

    name = "kuzu"

    def __init__(self, graph: Graph, work: Path, buffer_mb: int):
        import kuzu

        self.kuzu = kuzu
        self.graph = graph
        self.work = work / self.name
        self.buffer_mb = buffer_mb
        self.db = None
        self.conn = None
        self.csv_s = 0.0
        self.two_hop_statement = None
        self.path_statement = None
        self.known: dict[str, int] = graph.index

    def write_entities(self) -> Path:
        """Write entities.csv (id, kind) into the work directory."""
        g = self.graph
        nodes = self.work / "entities.csv"
        with nodes.open("w", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(("id", "kind"))
            names = g.entity_kinds
            writer.writerows(
                (entity_id, names[k] if k >= 0 else "") for entity_id, k in zip(g.ids, g.entity_kind)
            )
        return nodes

    def write_relations(self) -> list[tuple[str, str, Path]]:
        """Write the relation CSV files; returns (table name, property columns, file) per REL
        table. Here: one file relations.csv (from, to, kind) for the table R."""
        g = self.graph
        rels = self.work / "relations.csv"
        with rels.open("w", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(("from", "to", "kind"))
            ids, names = g.ids, g.rel_kinds
            writer.writerows(
                (ids[s], ids[d], names[k]) for s, d, k in zip(g.src, g.dst, g.rel_kind)
            )
        return [("R", ", kind STRING", rels)]

    def rel_pattern(self, kinds: list[str] | None, bounds: str) -> str | None:
        """The inside of the recursive relationship pattern, `bounds` being `*1..2` or
        `* SHORTEST 1..12`; `None` when no table can match (the answers are then empty). Here
        always the table R with a filter on the kind property."""
        return f":R{bounds}{rel_filter(kinds)}"

    def load(self) -> None:
        started = time.perf_counter()
        self.work.mkdir()
        nodes = self.write_entities()
        tables = self.write_relations()
        self.csv_s = time.perf_counter() - started
        self.db = self.kuzu.Database(
            str(self.work / "kuzu.db"), buffer_pool_size=self.buffer_mb << 20
        )
        self.conn = self.kuzu.Connection(self.db)
        self.conn.execute("CREATE NODE TABLE Entity(id STRING PRIMARY KEY, kind STRING)")
        for table, columns, _ in tables:
            self.conn.execute(
                f"CREATE REL TABLE {cypher_name(table)}(FROM Entity TO Entity{columns})"
            )
        self.conn.execute(f"COPY Entity FROM '{nodes}' (HEADER=true)")
        for table, _, rels in tables:
            self.conn.execute(f"COPY {cypher_name(table)} FROM '{rels}' (HEADER=true)")

    def prepare(self, queries: Queries) -> None:
        """Prepare both statements once. The Python API calls prepare-then-execute deprecated in
        favour of execute(text, parameters), which parses and plans on every call (~1 ms more).
        A statement stays `None` when its kinds name no table: its answers are then empty."""
        two_hop = self.rel_pattern(queries.two_hop_kinds, "*1..2")
        path = self.rel_pattern(queries.path_kinds, f"* SHORTEST 1..{queries.max_length}")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            if two_hop is not None:
                self.two_hop_statement = self.conn.prepare(
                    f"MATCH (a:Entity {{id: $id}})-[{two_hop}]-(b:Entity) "
                    "WHERE b.id <> $id RETURN DISTINCT b.id"
                )
            if path is not None:
                self.path_statement = self.conn.prepare(
                    f"MATCH p = (a:Entity {{id: $a}})-[{path}]-(b:Entity {{id: $b}}) "
                    "RETURN properties(nodes(p), 'id')"
                )

    def two_hop(self, start: str) -> set[str]:
        if self.two_hop_statement is None:
            return set()
        rows = self.conn.execute(self.two_hop_statement, {"id": start}).get_all()
        return {row[0] for row in rows}

    def path(self, a: str, b: str) -> list[str] | None:
        if a == b:
            # Kuzu's SHORTEST needs a lower bound of 1; innograph answers [a] for a known id.
            return [a] if a in self.known else None
        if self.path_statement is None:
            return None
        rows = self.conn.execute(self.path_statement, {"a": a, "b": b}).get_all()
        return rows[0][0] if rows else None

    def close(self) -> None:
        """Close the database and delete this model's files (the next model needs the disk)."""
        self.two_hop_statement = self.path_statement = None
        self.conn.close()
        self.db.close()
        self.conn = self.db = None
        shutil.rmtree(self.work)


class KuzuPerKindEngine(KuzuEngine):
    """Kuzu (embedded), one relation table per kind: node table Entity(id, kind) and one rel
    table `K`(FROM Entity TO Entity) per relation kind K of the graph, each bulk-loaded from its
    own CSV file; queried with label alternation `[:K1|K2*1..2]`, and without a label (every
    table) when the kinds are null."""

    name = "kuzu-per-kind"

    def write_relations(self) -> list[tuple[str, str, Path]]:
        """Write relations-N.csv (from, to) for the N-th relation kind, in one pass."""
        g = self.graph
        paths = [self.work / f"relations-{code}.csv" for code in range(len(g.rel_kinds))]
        files = [path.open("w", newline="") for path in paths]
        try:
            writers = [csv.writer(out) for out in files]
            for writer in writers:
                writer.writerow(("from", "to"))
            ids = g.ids
            for s, d, k in zip(g.src, g.dst, g.rel_kind):
                writers[k].writerow((ids[s], ids[d]))
        finally:
            for out in files:
                out.close()
        return [(name, "", path) for name, path in zip(g.rel_kinds, paths)]

    def rel_pattern(self, kinds: list[str] | None, bounds: str) -> str | None:
        """The alternation of the kinds' tables (`None` when no kind has a table), or no label
        at all for every kind: an unlabelled recursive pattern follows every rel table."""
        if kinds is None:
            return bounds
        tables = [name for name in self.graph.rel_kinds if name in kinds]
        if not tables:
            return None
        return ":" + "|".join(cypher_name(name) for name in tables) + bounds


# ---------------------------------------------------------------------------------------------
# Measurement


def rss_mb() -> float:
    """Current resident set size of this process (Linux), in MiB."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def summarize(times_ns: list[int]) -> dict:
    """Median and nearest-rank 99th percentile of the individual times, in microseconds."""
    ordered = sorted(times_ns)
    p99 = ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)] if ordered else None
    return {
        "count": len(ordered),
        "median_us": round(statistics.median(ordered) / 1000, 1) if ordered else None,
        "p99_us": round(p99 / 1000, 1) if ordered else None,
    }


def path_length(path: list[str] | None, pair: tuple[str, str]) -> int | None | str:
    """The hop count of an answer, or "invalid" when it does not run from the pair's first id
    to its second without repeating an entity."""
    if path is None:
        return None
    if path[0] != pair[0] or path[-1] != pair[1] or len(set(path)) != len(path):
        return "invalid"
    return len(path) - 1


def measure(
    run: Callable,
    inputs: list[tuple],
    answer_of: Callable,
    expected: list | None,
    repeat: int,
    label: str,
) -> dict:
    """Run every input once as warm-up (checking answers against `expected`), then `repeat`
    more times, timing each call."""
    mismatches = 0
    for i, args in enumerate(inputs):
        got = answer_of(run(*args), args)
        if expected is not None and got != expected[i]:
            mismatches += 1
            if mismatches <= 3:
                print(f"  {label} mismatch on {args}: expected {expected[i]}, got {got}",
                      file=sys.stderr)
    times: list[int] = []
    clock = time.perf_counter_ns
    for _ in range(repeat):
        for args in inputs:
            started = clock()
            run(*args)
            times.append(clock() - started)
    result = {"queries": len(inputs)}
    result.update(summarize(times))
    result["mismatches"] = mismatches if expected is not None else None
    return result


def run_engine(engine, queries: Queries, limit: int | None, repeat: int) -> dict:
    """Load, prepare and measure one engine; `limit` caps how many queries of each list run."""
    gc.disable()
    started = time.perf_counter()
    engine.load()
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    engine.prepare(queries)
    prepare_s = time.perf_counter() - started
    gc.enable()
    gc.collect()
    # Keep the collector from rescanning the (frozen) graph during the timed region.
    gc.freeze()
    result = {"load_s": round(load_s, 3), "prepare_s": round(prepare_s, 3)}
    if isinstance(engine, KuzuEngine):
        result["csv_s"] = round(engine.csv_s, 3)
    result["rss_mb"] = round(rss_mb())
    print(f"{engine.name}: loaded in {load_s:.1f} s, prepared in {prepare_s:.1f} s; measuring",
          file=sys.stderr)

    n = len(queries.starts) if limit is None else min(limit, len(queries.starts))
    sizes = queries.expected_sizes[:n] if queries.expected_sizes is not None else None
    result["two_hop"] = measure(
        engine.two_hop, [(s,) for s in queries.starts[:n]],
        lambda answer, args: len(answer), sizes, repeat, f"{engine.name} two_hop",
    )
    n = len(queries.pairs) if limit is None else min(limit, len(queries.pairs))
    lengths = queries.expected_lengths[:n] if queries.expected_lengths is not None else None
    result["path"] = measure(
        engine.path, queries.pairs[:n], path_length, lengths, repeat, f"{engine.name} path",
    )
    engine.close()
    gc.unfreeze()
    gc.collect()
    return result


# ---------------------------------------------------------------------------------------------
# Command line


def versions(engines: list[str]) -> dict:
    """Versions of Python and of the modules of the engines that run."""
    found = {"python": platform.python_version()}
    for name in engines:
        module = MODULES[name]
        found[module] = __import__(module).__version__
    return found


def fresh_work_dir(work: Path) -> None:
    """Delete and recreate the scratch directory; refuses a non-empty one this script did not make."""
    if work.exists():
        if any(work.iterdir()) and not (work / WORK_MARKER).exists():
            sys.exit(f"refusing to delete {work}: not empty and not made by this script")
        shutil.rmtree(work)
    work.mkdir(parents=True)
    (work / WORK_MARKER).touch()


def print_summary(result: dict) -> None:
    """A short table on stderr."""
    g = result["graph"]
    print(f"graph: {g['entities']} entities, {g['relations']} relations, "
          f"parsed in {g['parse_s']:.1f} s", file=sys.stderr)
    print(f"{'engine':<13} {'load s':>8} {'prep s':>8} {'rss MB':>7} "
          f"{'2-hop med us':>13} {'p99':>9} {'n':>5} {'bad':>4} "
          f"{'path med us':>12} {'p99':>10} {'n':>5} {'bad':>4}", file=sys.stderr)
    for name, e in result["engines"].items():
        t, p = e["two_hop"], e["path"]
        print(f"{name:<13} {e['load_s']:>8.2f} {e['prepare_s']:>8.2f} {e['rss_mb']:>7} "
              f"{t['median_us']!s:>13} {t['p99_us']!s:>9} {t['queries']:>5} {t['mismatches']!s:>4} "
              f"{p['median_us']!s:>12} {p['p99_us']!s:>10} {p['queries']:>5} {p['mismatches']!s:>4}",
              file=sys.stderr)
    print(f"peak RSS: {result['peak_rss_mb']} MB", file=sys.stderr)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--graph", type=Path, required=True, help="graph.jsonl from innograph generate")
    parser.add_argument("--queries", type=Path, required=True, help="queries JSON from innograph bench")
    parser.add_argument("--engines", default=",".join(ENGINES),
                        help=f"comma-separated subset of {','.join(ENGINES)} (default: all)")
    parser.add_argument("--work", type=Path, default=Path("/tmp/innograph-peers-work"),
                        help="scratch directory for Kuzu (one subdirectory per model), "
                        "deleted and recreated")
    parser.add_argument("--out", type=Path, required=True, help="where to write the JSON result")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs after one warm-up")
    parser.add_argument("--kuzu-max-queries", type=int, default=None,
                        help="run only the first K queries of each list on both Kuzu models "
                        "(default: all)")
    parser.add_argument("--kuzu-buffer-mb", type=int, default=4096,
                        help="Kuzu buffer pool size in MiB (default 4096)")
    args = parser.parse_args(argv)
    args.engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    unknown = set(args.engines) - set(ENGINES)
    if unknown:
        parser.error(f"unknown engines: {', '.join(sorted(unknown))}")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    queries = read_queries(args.queries)
    if any(name.startswith("kuzu") for name in args.engines):
        fresh_work_dir(args.work)

    gc.disable()
    started = time.perf_counter()
    graph = read_graph(args.graph)
    parse_s = time.perf_counter() - started
    gc.enable()
    result = {
        "graph": {
            "entities": graph.entities,
            "relations": graph.relations,
            "path": str(args.graph),
            "parse_s": round(parse_s, 3),
            "rss_mb": round(rss_mb()),
        },
        "versions": versions(args.engines),
        "engines": {},
    }
    print(f"parsed {graph.entities} entities, {graph.relations} relations in {parse_s:.1f} s",
          file=sys.stderr)

    for name in args.engines:
        print(f"{name}: loading", file=sys.stderr)
        if name == "networkx":
            engine, limit = NetworkXEngine(graph), None
        elif name == "igraph":
            engine, limit = IgraphEngine(graph), None
        else:
            kuzu_class = KuzuEngine if name == "kuzu" else KuzuPerKindEngine
            engine = kuzu_class(graph, args.work, args.kuzu_buffer_mb)
            limit = args.kuzu_max_queries
        result["engines"][name] = run_engine(engine, queries, limit, args.repeat)

    result["peak_rss_mb"] = round(peak_rss_mb())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print_summary(result)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Reads innograph's exports back with NetworkX and checks them against the graph they came from.

usage: read_exports.py DIR ENTITIES RELATIONS
DIR holds g.graphml, g.gexf, g.nodes.csv, g.edges.csv and g.jsonl written by `innograph export`.
Exits non-zero, naming the check, on the first mismatch. Run by .ci/run."""
import csv, json, os, sys
import networkx as nx

directory, entities, relations = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
path = lambda name: os.path.join(directory, name)
checks = 0

def check(condition, what):
    global checks
    if not condition:
        sys.exit(f"FAILED: {what}")
    checks += 1

# The lossless export is the reference for attributes.
lines = [json.loads(l) for l in open(path("g.jsonl"), encoding="utf-8")]
ref_entities = {l["id"]: l for l in lines if l["type"] == "entity"}
ref_relations = {f'{l["source"]}/{l["kind"]}/{l["target"]}': l for l in lines if l["type"] == "relation"}
check(len(ref_entities) == entities and len(ref_relations) == relations, "jsonl counts")
check(all(l["layer"] == ("POLICY" if l["kind"] in ("PROGRAM", "POLICY") else "ECOSYSTEM") for l in ref_entities.values()),
      "jsonl entity lines carry their kind's layer")

graphml = nx.read_graphml(path("g.graphml"), force_multigraph=True)
check(graphml.number_of_nodes() == entities, f"graphml nodes {graphml.number_of_nodes()} != {entities}")
check(graphml.number_of_edges() == relations, f"graphml edges {graphml.number_of_edges()} != {relations}")
zju = graphml.nodes["zhejiang-university"]
check(zju["label"] == "浙江大学" and zju["kind"] == "UNIVERSITY", f"graphml zhejiang-university attributes {zju}")
check(all(d["layer"] == ref_entities[n]["layer"] for n, d in graphml.nodes(data=True)), "graphml layer equals the jsonl's")
years = [d["year"] for _, _, d in graphml.edges(data=True) if "year" in d]
check(years and all(isinstance(y, int) for y in years), "graphml year is a typed int key")
for s, t, d in graphml.edges(data=True):
    ref = ref_relations[d["relation_id"]]
    check(ref["source"] == s and ref["target"] == t and d["kind"] == ref["kind"], f"graphml edge {d['relation_id']}")
    check(json.loads(d["evidence"]) == ref["evidence"], f"graphml evidence of {d['relation_id']}")

check(all(isinstance(d["symmetric"], bool) for _, _, d in graphml.edges(data=True)), "graphml symmetric is a typed boolean key")
check(any(d["symmetric"] for _, _, d in graphml.edges(data=True)) and all(d["symmetric"] == (d["kind"] == "COOPERATES_WITH") for _, _, d in graphml.edges(data=True)), "graphml marks exactly the symmetric kinds")

# The API's PageRank over the whole graph, when the server's answer was saved next to the exports:
# NetworkX reproduces it once each symmetric edge is added the other way, as the README says.
api_path = path("pagerank.json")
if os.path.exists(api_path):
    api = {r["entity"]["id"]: r["score"] for r in json.load(open(api_path, encoding="utf-8"))["data"]["topEntities"]}
    both_ways = nx.MultiDiGraph(graphml)
    both_ways.add_edges_from([(v, u, d) for u, v, d in graphml.edges(data=True) if d["symmetric"]])
    ours = nx.pagerank(both_ways, alpha=0.85, tol=1e-12, max_iter=500)
    worst = max(abs(ours[i] - api[i]) for i in api)
    check(len(api) == entities and worst < 1e-6, f"NetworkX PageRank differs from the API's by {worst}")
    print(f"NetworkX PageRank on the GraphML export equals the API's: {len(api)} entities, largest difference {worst:.2e}")

gexf = nx.read_gexf(path("g.gexf"))
check(gexf.number_of_nodes() == entities, f"gexf nodes {gexf.number_of_nodes()} != {entities}")
gexf_edges = gexf.number_of_edges()
check(gexf_edges == relations, f"gexf edges {gexf_edges} != {relations}")
check(gexf.nodes["zhejiang-university"]["label"] == "浙江大学", "gexf label")
check(gexf.nodes["zhejiang-university"]["kind"] == "UNIVERSITY", "gexf kind attribute")
check(all(d["layer"] == ref_entities[n]["layer"] for n, d in gexf.nodes(data=True)), "gexf layer equals the jsonl's")
starts = [d["start"] for _, _, d in gexf.edges(data=True) if d.get("start") is not None]
check(starts and all(isinstance(s, int) for s in starts), "gexf dynamic edges carry integer start years")
check(gexf.graph.get("mode") == "dynamic", "gexf graph is dynamic")

with open(path("g.nodes.csv"), encoding="utf-8", newline="") as f:
    nodes = list(csv.DictReader(f))
with open(path("g.edges.csv"), encoding="utf-8", newline="") as f:
    edges = list(csv.DictReader(f))
check(list(nodes[0].keys())[:3] == ["Id", "Label", "Kind"], "csv node columns")
check(list(edges[0].keys())[:4] == ["Source", "Target", "Type", "Label"], "csv edge columns")
csv_graph = nx.MultiDiGraph()
csv_graph.add_nodes_from((n["Id"], n) for n in nodes)
csv_graph.add_edges_from((e["Source"], e["Target"], e) for e in edges)
check(csv_graph.number_of_nodes() == entities and csv_graph.number_of_edges() == relations, "csv counts")
check(csv_graph.nodes["zhejiang-university"]["Label"] == "浙江大学", "csv label")
check(all(n["Layer"] == ref_entities[n["Id"]]["layer"] for n in nodes), "csv layer equals the jsonl's")

print(f"NetworkX {nx.__version__} read GraphML, GEXF and CSV: {entities} nodes, {relations} edges; {checks} checks passed")

#!/usr/bin/env python3
"""Reads innograph's exports back with NetworkX and checks them against the graph they came from.

usage: read_exports.py DIR ENTITIES RELATIONS
DIR holds g.graphml, g.gexf, g.nodes.csv, g.edges.csv and g.jsonl written by `innograph export`, and
optionally measures.json, a server's answer to measures.graphql (beside this script) on the same data:
then NetworkX on the GraphML export must reproduce every measure the API gives (PageRank, degree in,
out and total, betweenness, components, communities' modularity).
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

# Every measure the API gives over the whole graph, when the server's answer to measures.graphql was
# saved next to the exports (.ci/run does): NetworkX on the GraphML export reproduces each one, on the
# graph model the API measures on (as the README says).
api_path = path("measures.json")
if os.path.exists(api_path):
    answer = json.load(open(api_path, encoding="utf-8"))
    check("errors" not in answer, f"the measures query failed: {answer.get('errors')}")
    api = answer["data"]
    scores = lambda field: {r["entity"]["id"]: r["score"] for r in api[field]}
    network = api["network"]
    check(network["entities"] == entities, f"the API measured {network['entities']} entities, not {entities}")

    # PageRank: directed, each symmetric relation (the `symmetric` key) also the other way, parallel
    # relations adding weight (a multigraph).
    both_ways = nx.MultiDiGraph(graphml)
    both_ways.add_edges_from([(v, u, d) for u, v, d in graphml.edges(data=True) if d["symmetric"]])
    pagerank = scores("pageRank")
    ours = nx.pagerank(both_ways, alpha=0.85, tol=1e-12, max_iter=500)
    worst = max(abs(ours[i] - pagerank[i]) for i in pagerank)
    check(len(pagerank) == entities and worst < 1e-6, f"NetworkX PageRank differs from the API's by {worst}")
    print(f"PageRank: NetworkX equals the API for {len(pagerank)} entities, largest difference {worst:.2e}")

    # Degree. topEntities(measure: DEGREE) and Entity.degree (direction BOTH) count every relation at
    # each of its ends (a multigraph's degree); direction OUT counts outgoing relations and symmetric
    # ones either way, IN incoming and symmetric: the out- and in-degree of the graph with symmetric
    # relations added the other way.
    degree = scores("degree")
    check(len(degree) == entities and all(degree[n] == graphml.degree(n) for n in graphml),
          "topEntities(DEGREE) differs from the GraphML degree")
    nodes = {e["node"]["id"]: e["node"] for e in api["entities"]["edges"]}
    check(api["entities"]["totalCount"] == entities == len(nodes), "the entities listing is not the whole graph")
    for n, d in nodes.items():
        check(d["both"] == graphml.degree(n), f"degree(BOTH) of {n}: API {d['both']}, NetworkX {graphml.degree(n)}")
        check(d["out"] == both_ways.out_degree(n), f"degree(OUT) of {n}: API {d['out']}, NetworkX {both_ways.out_degree(n)}")
        check(d["in"] == both_ways.in_degree(n), f"degree(IN) of {n}: API {d['in']}, NetworkX {both_ways.in_degree(n)}")
    print(f"degree: the API's total, out and in degree equal NetworkX's for {len(nodes)} entities")

    # Betweenness, components and communities are measured on the undirected simple graph: direction
    # ignored (so the symmetric relations need nothing added), parallel relations merged (weighted by
    # their number for communities), self-loops left out. The API's betweenness is exact up to 5,000
    # entities and normalised as NetworkX's is (by (n-1)(n-2), each pair counted both ways).
    simple = nx.Graph()
    simple.add_nodes_from(graphml)
    for u, v in graphml.edges():
        if u != v:
            if simple.has_edge(u, v):
                simple[u][v]["weight"] += 1
            else:
                simple.add_edge(u, v, weight=1)
    check(network["betweennessSampled"] is False and network["betweennessSources"] == entities,
          f"betweenness is sampled on this graph: {network}")
    betweenness = scores("betweenness")
    ours = nx.betweenness_centrality(simple, normalized=True)
    worst = max(abs(ours[i] - betweenness[i]) for i in betweenness)
    check(len(betweenness) == entities and worst < 1e-9, f"NetworkX betweenness differs from the API's by {worst}")
    print(f"betweenness: NetworkX (undirected, normalised) equals the API for {len(betweenness)} entities, largest difference {worst:.2e}")

    components = list(nx.connected_components(simple))
    largest = max(len(c) for c in components)
    check(network["components"] == len(components) and network["largestComponent"] == largest,
          f"components: API {network['components']} (largest {network['largestComponent']}), NetworkX {len(components)} (largest {largest})")
    print(f"components: {len(components)}, the largest of {largest} entities, in both")

    # Communities: the API's partition covers every entity once, each community is connected (as
    # Leiden guarantees), and its modularity on the weighted simple graph is the API's.
    partition = [{m["id"] for m in c["members"]} for c in api["communities"]]
    check(len(partition) == network["communities"], f"{len(partition)} communities listed, network says {network['communities']}")
    check(all(len(p) == c["size"] for p, c in zip(partition, api["communities"])), "a community lists fewer members than its size")
    check(sorted(n for p in partition for n in p) == sorted(graphml.nodes), "the communities do not partition the graph")
    check(all(nx.is_connected(simple.subgraph(p)) for p in partition), "a community is not connected")
    modularity = nx.community.modularity(simple, partition, weight="weight", resolution=1)
    check(abs(modularity - network["modularity"]) < 1e-9, f"modularity: API {network['modularity']}, NetworkX {modularity}")
    print(f"communities: {len(partition)}, modularity {modularity:.6f} by NetworkX and by the API")

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
gexf_edges = list(gexf.edges(data=True))
check(all(isinstance(d.get("symmetric"), bool) for _, _, d in gexf_edges), "gexf symmetric is a typed boolean attribute")
check(any(d["symmetric"] for _, _, d in gexf_edges) and all(d["symmetric"] == (d["kind"] == "COOPERATES_WITH") for _, _, d in gexf_edges),
      "gexf marks exactly the symmetric kinds")

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

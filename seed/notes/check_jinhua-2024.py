#!/usr/bin/env python3
"""Check seed/graph/jinhua-2024.toml against the issue-12 rules (BRIEF.md "Checks").

Run from anywhere: python3 seed/notes/check_jinhua-2024.py   (exit status 1 on any error)
Checks against the CURRENT files of every helper: ids exist somewhere in seed/graph/*.toml, quotes occur
verbatim in their document, kind rules, no INITIATIVE, no duplicate relation (in this file or across files),
no duplicate entity id/name; prints counts and the location coverage of this file's ECOSYSTEM entities.
"""
import collections, glob, os, sys, tomllib

FILE = "jinhua-2024.toml"
SEED = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

ECOSYSTEM = {"UNIVERSITY", "RESEARCH_INSTITUTE", "LAB", "ENTERPRISE", "GOVERNMENT", "DISTRICT", "PLATFORM", "FACILITY", "ALLIANCE"}
POLICY_LAYER = {"PROGRAM", "POLICY"}
REL_KINDS = {"CO_BUILT_BY", "LOCATED_IN", "LEADS", "PART_OF", "RELIES_ON", "COOPERATES_WITH", "ORGANIZES", "MEMBER_OF",
             "SUPPORTS", "PARTICIPATES_IN", "RESPONSIBLE_FOR", "ISSUED_BY", "APPLIES_TO"}
BASES = {"STATED", "NAME", "REFERENCE", "REGION"}
COLLECTIVE = ["各区县科技局", "各有关单位", "相关部门", "各区、县（市）"]

errors = []
def err(msg): errors.append(msg)

docs = {d["id"]: d for d in tomllib.load(open(os.path.join(SEED, "documents.toml"), "rb"))["document"]}
doc_lines = {i: open(os.path.join(SEED, d["file"]), encoding="utf-8").read().split("\n") for i, d in docs.items()}

def quote_ok(doc, quote):
    parts = quote.split("[…]")
    for line in doc_lines[doc]:
        pos = 0
        for p in parts:
            j = line.find(p, pos)
            if j < 0: break
            pos = j + len(p)
        else:
            return True
    return False

graph = {}
for f in sorted(glob.glob(os.path.join(SEED, "graph", "*.toml"))):
    try:
        graph[os.path.basename(f)] = tomllib.load(open(f, "rb"))
    except Exception as e:  # another helper's file may be mid-edit
        (err if os.path.basename(f) == FILE else print)(f"cannot parse {os.path.basename(f)}: {e}")
if FILE not in graph:
    print("\n".join(errors)); sys.exit(1)

entities, where = {}, {}
for fn, d in graph.items():
    for e in d.get("entity", []):
        if e["id"] in entities and fn == FILE or (e["id"] in entities and where[e["id"]] == FILE):
            err(f"duplicate entity id {e['id']} ({where[e['id']]}, {fn})")
        entities.setdefault(e["id"], e); where.setdefault(e["id"], fn)

mine = graph[FILE]
# entities of this file
names = collections.Counter()
for e in mine.get("entity", []):
    if e["kind"] == "INITIATIVE": err(f"INITIATIVE remains: {e['id']}")
    if e["kind"] not in ECOSYSTEM | POLICY_LAYER: err(f"unknown entity kind {e['kind']} ({e['id']})")
    if not e["id"].isascii() or e["id"] != e["id"].lower() or " " in e["id"]: err(f"id not ASCII kebab-case: {e['id']}")
    names[e["name"]] += 1
for n, c in names.items():
    if c > 1: err(f"duplicate entity name in {FILE}: {n}")
all_names = collections.defaultdict(set)
for fn, d in graph.items():
    for e in d.get("entity", []): all_names[e["name"]].add(e["id"])
for e in mine.get("entity", []):
    if len(all_names[e["name"]]) > 1: err(f"entity name {e['name']} used by several ids: {sorted(all_names[e['name']])}")

# relations of this file
seen = set()
for r in mine.get("relation", []):
    rid = f"{r['source']}/{r['kind']}/{r['target']}"
    if r["kind"] not in REL_KINDS: err(f"unknown relation kind: {rid}")
    if rid in seen: err(f"duplicate relation in {FILE}: {rid}")
    seen.add(rid)
    s, t = entities.get(r["source"]), entities.get(r["target"])
    if s is None: err(f"{rid}: source id not defined in any graph file")
    if t is None: err(f"{rid}: target id not defined in any graph file")
    if not r.get("evidence"): err(f"{rid}: no evidence")
    for ev in r.get("evidence", []):
        b = ev.get("basis", "STATED")
        if b not in BASES: err(f"{rid}: bad basis {b}")
        if ev["doc"] not in docs: err(f"{rid}: unknown doc {ev['doc']}"); continue
        if (b == "REFERENCE") != bool(docs[ev["doc"]].get("reference")): err(f"{rid}: basis {b} with doc {ev['doc']}")
        if not quote_ok(ev["doc"], ev["quote"]): err(f"{rid}: quote not verbatim in {ev['doc']}: {ev['quote']}")
        if any(c in ev["quote"] for c in COLLECTIVE) and r["kind"] in ("LEADS", "RESPONSIBLE_FOR"):
            err(f"{rid}: quote holds a collective phrase: {ev['quote']}")
    if s is None or t is None: continue
    k = r["kind"]
    if k == "LOCATED_IN":
        if s["kind"] not in ECOSYSTEM: err(f"{rid}: LOCATED_IN from a {s['kind']} (policy layer uses APPLIES_TO)")
        if t["kind"] not in ("DISTRICT", "PLATFORM"): err(f"{rid}: LOCATED_IN to a {t['kind']}")
    if k == "RESPONSIBLE_FOR" and s["kind"] != "GOVERNMENT": err(f"{rid}: RESPONSIBLE_FOR from a {s['kind']}")
    if k == "ISSUED_BY" and (t["kind"] != "GOVERNMENT" or s["kind"] != "POLICY"): err(f"{rid}: ISSUED_BY {s['kind']} -> {t['kind']}")
    if k == "APPLIES_TO" and (t["kind"] != "DISTRICT" or s["kind"] not in POLICY_LAYER): err(f"{rid}: APPLIES_TO {s['kind']} -> {t['kind']}")

# duplicates across files (the validator allows one relation per id in the whole graph)
owner = collections.defaultdict(list)
for fn, d in graph.items():
    for r in d.get("relation", []):
        owner[f"{r['source']}/{r['kind']}/{r['target']}"].append(fn)
for rid, fns in owner.items():
    if len(fns) > 1 and FILE in fns: err(f"relation {rid} in several files: {fns}")

# report
ents = mine.get("entity", []); rels = mine.get("relation", [])
print(f"{FILE}: {len(ents)} entities, {len(rels)} relations")
print("  entities by kind:", dict(sorted(collections.Counter(e["kind"] for e in ents).items())))
print("  entities by layer:", dict(collections.Counter("ECOSYSTEM" if e["kind"] in ECOSYSTEM else "POLICY" for e in ents)))
print("  relations by kind:", dict(sorted(collections.Counter(r["kind"] for r in rels).items())))
print("  evidence by basis:", dict(sorted(collections.Counter(ev.get("basis", "STATED") for r in rels for ev in r["evidence"]).items())))
located = {r["source"] for d in graph.values() for r in d.get("relation", []) if r["kind"] == "LOCATED_IN"}
eco = [e for e in ents if e["kind"] in ECOSYSTEM and e["kind"] != "DISTRICT"]
non_uni = [e for e in eco if e["kind"] != "UNIVERSITY"]
for label, group in (("ECOSYSTEM (districts aside)", eco), ("ECOSYSTEM (districts and universities aside)", non_uni)):
    n = sum(e["id"] in located for e in group)
    print(f"  located {label}: {n}/{len(group)} = {100 * n / max(len(group), 1):.1f} %")
for e in non_uni:
    if e["id"] not in located: print(f"    no LOCATED_IN: {e['id']} ({e['kind']})")
if errors:
    print("\nERRORS:"); print("\n".join("  " + x for x in errors)); sys.exit(1)
print("OK")

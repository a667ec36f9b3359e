#!/usr/bin/env python3
"""Check seed/graph/shaoxing-2024-annex.toml against the issue-12 rules (BRIEF.md, "Checks").

Run from anywhere: python3 seed/notes/check_shaoxing-2024-annex.py
Exit status 0 = all checks pass; problems are printed one per line. Also prints counts
(entities by kind, relations by kind and basis) and the location coverage of the file's ECOSYSTEM entities.
"""
import collections
import glob
import os
import sys
import tomllib

SEED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
MINE = os.path.join(SEED, "graph", "shaoxing-2024-annex.toml")
ECOSYSTEM = {"UNIVERSITY", "RESEARCH_INSTITUTE", "LAB", "ENTERPRISE", "GOVERNMENT", "DISTRICT",
             "PLATFORM", "FACILITY", "ALLIANCE"}
POLICY_LAYER = {"PROGRAM", "POLICY"}
KINDS = ECOSYSTEM | POLICY_LAYER
REL_KINDS = {"CO_BUILT_BY", "LOCATED_IN", "LEADS", "PART_OF", "RELIES_ON", "COOPERATES_WITH", "ORGANIZES",
             "MEMBER_OF", "SUPPORTS", "PARTICIPATES_IN", "RESPONSIBLE_FOR", "ISSUED_BY", "APPLIES_TO"}
BASES = {"STATED", "NAME", "REFERENCE", "REGION"}
ELISION = "[…]"
# Responsible-unit cells of the annex tables: a quote that ends in one of these cells and is not
# basis NAME/REGION is evidence from a 责任单位 clause, so its relation must be RESPONSIBLE_FOR.
RESPONSIBLE_CELLS = ("| 市科技局 |", "| 市委人才办、 市科技局 |", "| 科创走廊专班 |", "| 相关区、县(市) |")
EVENT_ROWS = ("| 7-8月份 |", "| 10月份 |", "| 11月份 |", "| 6月份 |", "| 4月份 |", "| 5月31日 |")

problems = []


def problem(msg):
    problems.append(msg)


def load(path):
    with open(path, "rb") as f:
        return tomllib.load(f)


# documents
docs = load(os.path.join(SEED, "documents.toml"))["document"]
doc_lines = {}
for d in docs:
    with open(os.path.join(SEED, d["file"]), encoding="utf-8") as f:
        doc_lines[d["id"]] = f.read().split("\n")


def quote_ok(doc, quote):
    parts = quote.split(ELISION)
    for line in doc_lines[doc]:
        pos = 0
        for part in parts:
            i = line.find(part, pos)
            if i < 0:
                break
            pos = i + len(part)
        else:
            return True
    return False


# all graph files (other helpers' current state)
graph = {}
for path in sorted(glob.glob(os.path.join(SEED, "graph", "*.toml"))):
    try:
        graph[path] = load(path)
    except tomllib.TOMLDecodeError as e:
        if os.path.samefile(path, MINE):
            problem(f"{path}: TOML error: {e}")
            print("\n".join(problems))
            sys.exit(1)
        print(f"warning: {os.path.basename(path)} does not parse right now ({e}); skipped")
        graph[path] = {}

mine = graph[os.path.realpath(MINE)] if os.path.realpath(MINE) in graph else load(MINE)
for p in graph:
    if os.path.samefile(p, MINE):
        mine = graph[p]
        mine_path = p

entities = {}      # id -> (file, entity)
names = collections.defaultdict(list)
for path, data in graph.items():
    for e in data.get("entity", []):
        if e["id"] in entities:
            if path == mine_path or entities[e["id"]][0] == mine_path:
                problem(f"duplicate entity id {e['id']} in {os.path.basename(path)} and "
                        f"{os.path.basename(entities[e['id']][0])}")
        else:
            entities[e["id"]] = (path, e)
        names[e["name"]].append((path, e["id"]))

my_ids = [e["id"] for e in mine.get("entity", [])]
for i in set(my_ids):
    if my_ids.count(i) > 1:
        problem(f"duplicate id in my file: {i}")
for e in mine.get("entity", []):
    if e["kind"] not in KINDS:
        problem(f"entity {e['id']}: kind {e['kind']} not allowed (INITIATIVE is gone)")
    others = [x for x in names[e["name"]] if x[1] != e["id"]]
    if others:
        problem(f"entity {e['id']}: name {e['name']} also used by {others}")
    for a in e.get("aliases", []):
        if a in names and any(x[1] != e["id"] for x in names[a]):
            problem(f"entity {e['id']}: alias {a} is another entity's name")
    if not e["id"].isascii() or e["id"] != e["id"].lower() or " " in e["id"]:
        problem(f"entity {e['id']}: id not ASCII kebab-case")


def kind_of(i):
    return entities[i][1]["kind"] if i in entities else None


# relations: all files, for duplicate detection
all_rel = collections.defaultdict(list)
for path, data in graph.items():
    for r in data.get("relation", []):
        key = (r["source"], r["kind"], r["target"])
        all_rel[key].append(path)
        if r["kind"] == "COOPERATES_WITH":
            all_rel[(r["target"], r["kind"], r["source"], "rev")].append(path)

for r in mine.get("relation", []):
    rid = f"{r['source']}/{r['kind']}/{r['target']}"
    if r["kind"] not in REL_KINDS:
        problem(f"{rid}: relation kind unknown")
    for end in ("source", "target"):
        if r[end] not in entities:
            problem(f"{rid}: {end} {r[end]} is not defined in any graph file")
    key = (r["source"], r["kind"], r["target"])
    if len(all_rel[key]) > 1:
        problem(f"{rid}: duplicate relation in {[os.path.basename(p) for p in all_rel[key]]}")
    if r["kind"] == "COOPERATES_WITH" and all_rel.get((r["source"], r["kind"], r["target"], "rev")):
        problem(f"{rid}: also stored in the other direction")
    sk, tk = kind_of(r["source"]), kind_of(r["target"])
    if r["kind"] == "LOCATED_IN":
        if sk not in ECOSYSTEM:
            problem(f"{rid}: LOCATED_IN from a {sk} (only ECOSYSTEM entities)")
        if tk not in ("DISTRICT", "PLATFORM"):
            problem(f"{rid}: LOCATED_IN to a {tk}")
    if r["kind"] == "RESPONSIBLE_FOR" and sk != "GOVERNMENT":
        problem(f"{rid}: RESPONSIBLE_FOR must start at a GOVERNMENT, not {sk}")
    if r["kind"] == "ISSUED_BY" and (sk != "POLICY" or tk != "GOVERNMENT"):
        problem(f"{rid}: ISSUED_BY must be POLICY -> GOVERNMENT")
    if r["kind"] == "APPLIES_TO" and (sk not in POLICY_LAYER or tk != "DISTRICT"):
        problem(f"{rid}: APPLIES_TO must be PROGRAM/POLICY -> DISTRICT ({sk} -> {tk})")
    ev = r.get("evidence", [])
    if not ev:
        problem(f"{rid}: no evidence")
    only_responsible = bool(ev)
    for x in ev:
        basis = x.get("basis", "STATED")
        if basis not in BASES:
            problem(f"{rid}: basis {basis} unknown")
        if x["doc"] not in doc_lines:
            problem(f"{rid}: doc {x['doc']} unknown")
            continue
        if not quote_ok(x["doc"], x["quote"]):
            problem(f"{rid}: quote not verbatim in {x['doc']}: {x['quote']}")
        q = x["quote"]
        from_cell = basis == "STATED" and (q.endswith(RESPONSIBLE_CELLS) or
                                           (q.endswith(" |") and any(c in q for c in EVENT_ROWS)))
        if not from_cell:
            only_responsible = False
    if only_responsible and r["kind"] != "RESPONSIBLE_FOR":
        problem(f"{rid}: only evidence is a responsible-unit cell, so it must be RESPONSIBLE_FOR")

# ---- other files' relations that touch my entities: kind rules (warnings only, not my files)
my_set = set(my_ids)
for path, data in graph.items():
    if path == mine_path:
        continue
    for r in data.get("relation", []):
        if r["source"] not in my_set and r["target"] not in my_set:
            continue
        rid = f"{r['source']}/{r['kind']}/{r['target']} ({os.path.basename(path)})"
        sk, tk = kind_of(r["source"]), kind_of(r["target"])
        if sk is None or tk is None:
            print(f"warning: {rid}: an end is not defined")
        elif r["kind"] == "LOCATED_IN" and (sk not in ECOSYSTEM or tk not in ("DISTRICT", "PLATFORM")):
            print(f"warning: {rid}: LOCATED_IN {sk} -> {tk}")
        elif r["kind"] == "APPLIES_TO" and (sk not in POLICY_LAYER or tk != "DISTRICT"):
            print(f"warning: {rid}: APPLIES_TO {sk} -> {tk}")
        elif r["kind"] == "RESPONSIBLE_FOR" and sk != "GOVERNMENT":
            print(f"warning: {rid}: RESPONSIBLE_FOR from {sk}")

# ids this file defined before issue 12 and has since deleted (merged or headings): nobody may reference them,
# and they must never be reused for another entity.
DELETED = {
    "integrated-circuit-industry-vertical-innovation-system-reform",
    "medical-device-industry-sci-tech-innovation-service-system-reform",
    "new-materials-industry-cluster-four-chain-integration-mechanism",
    "school-enterprise-integrated-research-to-industry-path",
    "enterprise-led-industry-university-research-collaboration-mechanism",
    "returnee-talent-future-industry-development-model",
    "new-energy-equipment-industry-joint-innovation-model",
    "trinity-special-supporting-policies",
    "wrsa-returnee-town-zhuji-aerospace-equipment",
    "shaoxing-implementation-plan-on-strengthening-enterprises-principal-role-in-innovation",
}
for path, data in graph.items():
    for e in data.get("entity", []):
        if e["id"] in DELETED:
            problem(f"deleted id {e['id']} is defined again in {os.path.basename(path)}")
    for r in data.get("relation", []):
        for end in ("source", "target"):
            if r[end] in DELETED:
                problem(f"{os.path.basename(path)}: {r['source']}/{r['kind']}/{r['target']} references deleted id {r[end]}")

# ---- report
kinds = collections.Counter(e["kind"] for e in mine.get("entity", []))
rels = collections.Counter(r["kind"] for r in mine.get("relation", []))
bases = collections.Counter(x.get("basis", "STATED") for r in mine.get("relation", []) for x in r["evidence"])
rel_basis = collections.Counter(
    "/".join(sorted({x.get("basis", "STATED") for x in r["evidence"]})) for r in mine.get("relation", []))
print("entities by kind:", dict(sorted(kinds.items())), "total", sum(kinds.values()))
print("  layer ECOSYSTEM", sum(v for k, v in kinds.items() if k in ECOSYSTEM),
      "POLICY", sum(v for k, v in kinds.items() if k in POLICY_LAYER))
print("relations by kind:", dict(sorted(rels.items())), "total", sum(rels.values()))
print("evidence entries by basis:", dict(sorted(bases.items())))
print("relations by basis of their evidence:", dict(sorted(rel_basis.items())))

located = collections.defaultdict(list)
for path, data in graph.items():
    for r in data.get("relation", []):
        if r["kind"] == "LOCATED_IN":
            located[r["source"]].append((r["target"], os.path.basename(path),
                                         "/".join(sorted({x.get("basis", "STATED") for x in r["evidence"]}))))
eco = [e for e in mine.get("entity", []) if e["kind"] in ECOSYSTEM and e["kind"] != "DISTRICT"]
eco_nouni = [e for e in eco if e["kind"] != "UNIVERSITY"]
have = [e for e in eco if located[e["id"]]]
have_nouni = [e for e in eco_nouni if located[e["id"]]]
print(f"location coverage (ECOSYSTEM, districts aside): {len(have)}/{len(eco)}"
      f" = {100 * len(have) / max(1, len(eco)):.1f} %; without universities {len(have_nouni)}/{len(eco_nouni)}")
for e in eco:
    if not located[e["id"]]:
        print("  no location:", e["id"], e["kind"])
for e in eco:
    if located[e["id"]] and any(f != os.path.basename(mine_path) for _, f, _ in located[e["id"]]):
        print("  located by another file:", e["id"], located[e["id"]])

if problems:
    print(f"\n{len(problems)} problem(s):")
    print("\n".join(problems))
    sys.exit(1)
print("\nOK")

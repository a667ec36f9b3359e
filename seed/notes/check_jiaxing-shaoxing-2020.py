#!/usr/bin/env python3
"""Checks for seed/graph/jiaxing-shaoxing-2020.toml (issue 12 data clean-up). Python 3.11+, no cargo.

Run from anywhere: python3 seed/notes/check_jiaxing-shaoxing-2020.py
Checks: TOML parses; relation endpoints exist in some seed/graph/*.toml (current files); every quote is
verbatim in its document (split on "[…]", parts in order on one line); no INITIATIVE; kind rules of
issue 12; basis values; no duplicate relation (in this file, and across all files); no duplicate entity
ids (across all files) or names (in this file, and across all files); then prints counts and location
coverage of this file's ECOSYSTEM entities.
"""
import collections
import glob
import os
import sys
import tomllib

SEED = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
MINE = os.path.join(SEED, "graph", "jiaxing-shaoxing-2020.toml")
ECOSYSTEM = {"UNIVERSITY", "RESEARCH_INSTITUTE", "LAB", "ENTERPRISE", "GOVERNMENT", "DISTRICT",
             "PLATFORM", "FACILITY", "ALLIANCE"}
POLICY_LAYER = {"PROGRAM", "POLICY"}
RELATION_KINDS = {"CO_BUILT_BY", "LOCATED_IN", "LEADS", "PART_OF", "RELIES_ON", "COOPERATES_WITH",
                  "ORGANIZES", "MEMBER_OF", "SUPPORTS", "PARTICIPATES_IN", "RESPONSIBLE_FOR",
                  "ISSUED_BY", "APPLIES_TO"}
BASES = {"STATED", "NAME", "REFERENCE", "REGION"}
COLLECTIVE = ["各区县科技局", "各有关单位", "相关部门"]

errors = []
def err(msg):
    errors.append(msg)

with open(os.path.join(SEED, "documents.toml"), "rb") as f:
    docs = {d["id"]: d for d in tomllib.load(f)["document"]}
texts = {}
def doc_text(doc):
    if doc not in texts:
        with open(os.path.join(SEED, docs[doc]["file"]), encoding="utf-8") as f:
            texts[doc] = f.read()
    return texts[doc]

def quote_ok(doc, quote):
    text = doc_text(doc)
    parts = quote.split("[…]")
    if len(parts) == 1:
        return quote in text
    for line in text.split("\n"):
        pos = 0
        for p in parts:
            i = line.find(p, pos)
            if i < 0:
                break
            pos = i + len(p)
        else:
            return True
    return False

# all files, current state
entities = {}          # id -> (kind, file)
names = collections.defaultdict(list)
all_rel = collections.defaultdict(list)
for path in sorted(glob.glob(os.path.join(SEED, "graph", "*.toml"))):
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        (err if path == MINE else print)(f"{os.path.basename(path)}: TOML error {e}")
        continue
    for e in data.get("entity", []):
        if e["id"] in entities:
            err(f"duplicate entity id {e['id']} ({entities[e['id']][1]}, {os.path.basename(path)})")
        entities[e["id"]] = (e["kind"], os.path.basename(path))
        names[e["name"]].append((e["id"], os.path.basename(path)))
    for r in data.get("relation", []):
        all_rel[(r["source"], r["kind"], r["target"])].append(os.path.basename(path))

with open(MINE, "rb") as f:
    mine = tomllib.load(f)
my_entities = mine.get("entity", [])
my_rel = mine.get("relation", [])
my_ids = {e["id"] for e in my_entities}

for e in my_entities:
    if e["kind"] not in ECOSYSTEM | POLICY_LAYER:
        err(f"entity {e['id']}: kind {e['kind']} not allowed (INITIATIVE is gone)")
    if not e["id"].isascii() or e["id"] != e["id"].lower() or " " in e["id"]:
        err(f"entity {e['id']}: id not ASCII kebab-case")
    others = [x for x in names[e["name"]] if x[0] != e["id"]]
    if others:
        err(f"entity {e['id']}: name {e['name']} also used by {others}")

seen = set()
for r in my_rel:
    key = (r["source"], r["kind"], r["target"])
    rid = "/".join(key)
    if key in seen:
        err(f"{rid}: duplicate relation in this file")
    seen.add(key)
    if len(all_rel[key]) > 1:
        err(f"{rid}: relation also in {all_rel[key]}")
    if r["kind"] not in RELATION_KINDS:
        err(f"{rid}: unknown relation kind")
    for end in ("source", "target"):
        if r[end] not in entities:
            err(f"{rid}: {end} {r[end]} not defined in any seed/graph/*.toml")
    sk = entities.get(r["source"], (None,))[0]
    tk = entities.get(r["target"], (None,))[0]
    if r["kind"] == "LOCATED_IN" and sk is not None and sk not in ECOSYSTEM:
        err(f"{rid}: LOCATED_IN from a {sk} (only ECOSYSTEM entities)")
    if r["kind"] == "LOCATED_IN" and tk is not None and tk not in {"DISTRICT", "PLATFORM"}:
        err(f"{rid}: LOCATED_IN ends at a {tk}")
    if r["kind"] == "RESPONSIBLE_FOR" and sk is not None and sk != "GOVERNMENT":
        err(f"{rid}: RESPONSIBLE_FOR starts at a {sk}")
    if r["kind"] == "ISSUED_BY" and tk is not None and tk != "GOVERNMENT":
        err(f"{rid}: ISSUED_BY ends at a {tk}")
    if r["kind"] == "ISSUED_BY" and sk is not None and sk != "POLICY":
        err(f"{rid}: ISSUED_BY starts at a {sk}")
    if r["kind"] == "APPLIES_TO" and tk is not None and tk != "DISTRICT":
        err(f"{rid}: APPLIES_TO ends at a {tk}")
    if r["kind"] == "APPLIES_TO" and sk is not None and sk not in POLICY_LAYER:
        err(f"{rid}: APPLIES_TO starts at a {sk}")
    if r["kind"] == "COOPERATES_WITH" and (r["target"], r["kind"], r["source"]) in all_rel:
        err(f"{rid}: symmetric relation stored twice")
    if not r.get("evidence"):
        err(f"{rid}: no evidence")
    for ev in r.get("evidence", []):
        b = ev.get("basis", "STATED")
        if b not in BASES:
            err(f"{rid}: basis {b}")
        if ev["doc"] not in docs:
            err(f"{rid}: unknown doc {ev['doc']}")
            continue
        if not quote_ok(ev["doc"], ev["quote"]):
            err(f"{rid}: quote not verbatim in {ev['doc']}: {ev['quote']}")
        if any(c in ev["quote"] for c in COLLECTIVE) and r["kind"] in {"LEADS", "RESPONSIBLE_FOR"}:
            err(f"{rid}: collective phrase as evidence")

# report
print("entities by kind:", dict(collections.Counter(e["kind"] for e in my_entities)))
print("entities by layer:", dict(collections.Counter(
    "ECOSYSTEM" if e["kind"] in ECOSYSTEM else "POLICY" for e in my_entities)))
print("relations by kind:", dict(collections.Counter(r["kind"] for r in my_rel)))
basis_of_rel = collections.Counter()
for r in my_rel:
    bs = {ev.get("basis", "STATED") for ev in r["evidence"]}
    best = next(b for b in ("STATED", "NAME", "REFERENCE", "REGION") if b in bs)
    basis_of_rel[best] += 1
print("relations by (strongest) basis:", dict(basis_of_rel))
print("evidence entries by basis:", dict(collections.Counter(
    ev.get("basis", "STATED") for r in my_rel for ev in r["evidence"])))
located = collections.defaultdict(set)
for r in my_rel:
    if r["kind"] == "LOCATED_IN":
        located[r["source"]].add(r["target"])
eco = [e for e in my_entities if e["kind"] in ECOSYSTEM and e["kind"] not in {"DISTRICT", "UNIVERSITY"}]
with_loc = [e for e in eco if e["id"] in located]
print(f"location coverage (ECOSYSTEM, no districts/universities): {len(with_loc)}/{len(eco)}"
      f" = {100 * len(with_loc) / max(1, len(eco)):.1f} %")
for e in eco:
    if e["id"] not in located:
        print("  no location:", e["id"])
# entities of other files that this file locates
ext = sorted(s for s in located if s not in my_ids)
if ext:
    print("also locates (defined elsewhere):", ext)

if errors:
    print(f"\n{len(errors)} ERROR(S):")
    for m in errors:
        print("  " + m)
    sys.exit(1)
print("\nall checks pass")

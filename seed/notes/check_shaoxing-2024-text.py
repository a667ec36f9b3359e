#!/usr/bin/env python3
"""Check seed/graph/shaoxing-2024-text.toml against the issue-12 rules (see seed/notes/BRIEF.md).

Run from anywhere: python3 seed/notes/check_shaoxing-2024-text.py
Exit status 1 if any check fails; prints counts and location coverage for the notes.
"""
import collections
import glob
import os
import sys
import tomllib

SEED = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
MINE = ["shaoxing-2024-text.toml"]

ECOSYSTEM = {"UNIVERSITY", "RESEARCH_INSTITUTE", "LAB", "ENTERPRISE", "GOVERNMENT", "DISTRICT",
             "PLATFORM", "FACILITY", "ALLIANCE"}
POLICY_LAYER = {"PROGRAM", "POLICY"}
REL_KINDS = {"CO_BUILT_BY", "LOCATED_IN", "LEADS", "PART_OF", "RELIES_ON", "COOPERATES_WITH", "ORGANIZES",
             "MEMBER_OF", "SUPPORTS", "PARTICIPATES_IN", "RESPONSIBLE_FOR", "ISSUED_BY", "APPLIES_TO"}
BASES = {"STATED", "NAME", "REFERENCE", "REGION"}
COLLECTIVE = ["各区县科技局", "各有关单位", "相关部门", "各区、县(市)", "各区、县（市）", "相关区、县(市)"]

errors = []
warnings = []


def err(msg):
    errors.append(msg)


def load(path):
    with open(path, "rb") as f:
        return tomllib.load(f)


# ---- documents and their texts
docs = load(os.path.join(SEED, "documents.toml"))["document"]
texts = {}
for d in docs:
    with open(os.path.join(SEED, d["file"]), encoding="utf-8") as f:
        texts[d["id"]] = f.read().split("\n")


def quote_ok(doc, quote):
    parts = quote.split("[…]")
    if any(p == "" for p in parts[1:-1]):
        return False
    for line in texts[doc]:
        pos, ok = 0, True
        for p in parts:
            i = line.find(p, pos)
            if i < 0:
                ok = False
                break
            pos = i + len(p)
        if ok:
            return True
    return False


# ---- all graph files (other helpers edit theirs concurrently: re-run at the end)
files = sorted(glob.glob(os.path.join(SEED, "graph", "*.toml")))
ents = {}          # id -> (file, entity)
rels_all = []      # (file, relation)
for path in files:
    fn = os.path.basename(path)
    try:
        data = load(path)
    except Exception as e:  # another helper's file mid-edit
        (err if fn in MINE else warnings.append)(f"{fn}: does not parse: {e}")
        continue
    for e in data.get("entity", []):
        if e["id"] in ents:
            (err if fn in MINE or ents[e["id"]][0] in MINE else warnings.append)(
                f"duplicate entity id {e['id']} in {fn} and {ents[e['id']][0]}")
        ents[e["id"]] = (fn, e)
    for r in data.get("relation", []):
        rels_all.append((fn, r))

mine_ents = {i: e for i, (fn, e) in ents.items() if fn in MINE}
mine_rels = [r for fn, r in rels_all if fn in MINE]

# ---- entities
for i, e in mine_ents.items():
    if e["kind"] == "INITIATIVE":
        err(f"entity {i}: kind INITIATIVE no longer exists")
    if e["kind"] not in ECOSYSTEM | POLICY_LAYER:
        err(f"entity {i}: unknown kind {e['kind']}")
    if not all(c.isascii() and (c.islower() or c.isdigit() or c == "-") for c in i):
        err(f"entity {i}: id is not ASCII kebab-case")

names = collections.defaultdict(list)
for i, (fn, e) in ents.items():
    for n in [e["name"]] + e.get("aliases", []):
        names[n].append((fn, i))
for n, owners in names.items():
    ids = {i for _, i in owners}
    if len(ids) > 1 and any(fn in MINE for fn, _ in owners):
        err(f"name/alias {n!r} used by several entities: {sorted(owners)}")
    elif len(owners) > 1 and any(fn in MINE for fn, _ in owners):
        err(f"name/alias {n!r} repeated on one entity: {owners}")

# ---- relations
def kind(i):
    return ents[i][1]["kind"] if i in ents else None


seen = collections.Counter((r["source"], r["kind"], r["target"]) for _, r in rels_all)
for r in mine_rels:
    rid = f"{r['source']}/{r['kind']}/{r['target']}"
    for end in ("source", "target"):
        if r[end] not in ents:
            err(f"{rid}: {end} {r[end]} is not defined in any seed/graph file")
    if r["kind"] not in REL_KINDS:
        err(f"{rid}: unknown relation kind")
    if seen[(r["source"], r["kind"], r["target"])] > 1:
        where = [fn for fn, x in rels_all if (x["source"], x["kind"], x["target"]) == (r["source"], r["kind"], r["target"])]
        err(f"{rid}: duplicate relation (files {where})")
    if r["kind"] == "COOPERATES_WITH" and seen[(r["target"], r["kind"], r["source"])]:
        err(f"{rid}: symmetric relation stored twice")
    if r["source"] == r["target"]:
        err(f"{rid}: self loop")
    sk, tk = kind(r["source"]), kind(r["target"])
    if r["kind"] == "LOCATED_IN":
        if sk not in ECOSYSTEM:
            err(f"{rid}: only ECOSYSTEM entities may be LOCATED_IN (source is {sk})")
        if tk not in ("DISTRICT", "PLATFORM"):
            err(f"{rid}: LOCATED_IN must end at a DISTRICT or PLATFORM (is {tk})")
    if r["kind"] == "RESPONSIBLE_FOR" and sk != "GOVERNMENT":
        err(f"{rid}: RESPONSIBLE_FOR must start at a GOVERNMENT (is {sk})")
    if r["kind"] == "ISSUED_BY" and (tk != "GOVERNMENT" or sk != "POLICY"):
        err(f"{rid}: ISSUED_BY must go POLICY -> GOVERNMENT (is {sk} -> {tk})")
    if r["kind"] == "APPLIES_TO" and (tk != "DISTRICT" or sk not in POLICY_LAYER):
        err(f"{rid}: APPLIES_TO must go PROGRAM/POLICY -> DISTRICT (is {sk} -> {tk})")
    if r["kind"] == "CO_BUILT_BY" and sk in POLICY_LAYER:
        err(f"{rid}: a policy-layer entity is not co-built")
    if not r.get("evidence"):
        err(f"{rid}: no evidence")
    for ev in r.get("evidence", []):
        if ev["doc"] not in texts:
            err(f"{rid}: unknown document {ev['doc']}")
            continue
        if ev.get("basis", "STATED") not in BASES:
            err(f"{rid}: unknown basis {ev.get('basis')}")
        if not quote_ok(ev["doc"], ev["quote"]):
            err(f"{rid}: quote not found verbatim in {ev['doc']}: {ev['quote']!r}")
        if ev["quote"].strip() in COLLECTIVE:
            err(f"{rid}: a collective phrase alone produces no relation")
    if "year" in r and not (isinstance(r["year"], int) and 1900 < r["year"] < 2100):
        err(f"{rid}: bad year")

# ---- counts and coverage
def counts():
    ek = collections.Counter(e["kind"] for e in mine_ents.values())
    rk = collections.Counter(r["kind"] for r in mine_rels)
    bk = collections.Counter(ev.get("basis", "STATED") for r in mine_rels for ev in r["evidence"])
    rb = collections.Counter(
        "+".join(sorted({ev.get("basis", "STATED") for ev in r["evidence"]})) for r in mine_rels)
    return ek, rk, bk, rb


ek, rk, bk, rb = counts()
print("entities by kind:", dict(sorted(ek.items())), "total", sum(ek.values()))
print("  by layer:", {"ECOSYSTEM": sum(v for k, v in ek.items() if k in ECOSYSTEM),
                      "POLICY": sum(v for k, v in ek.items() if k in POLICY_LAYER)})
print("relations by kind:", dict(sorted(rk.items())), "total", sum(rk.values()))
print("evidence entries by basis:", dict(sorted(bk.items())))
print("relations by basis set:", dict(sorted(rb.items())))

located = {r["source"] for _, r in rels_all if r["kind"] == "LOCATED_IN"}
eco = [i for i, e in mine_ents.items() if e["kind"] in ECOSYSTEM and e["kind"] not in ("DISTRICT", "UNIVERSITY")]
have = [i for i in eco if i in located]
print(f"location coverage (ECOSYSTEM, districts and universities aside): {len(have)}/{len(eco)}"
      f" = {100 * len(have) / max(1, len(eco)):.1f} %")
for i in sorted(set(eco) - set(have)):
    print("  no LOCATED_IN:", i, mine_ents[i]["name"])
uni = [i for i, e in mine_ents.items() if e["kind"] == "UNIVERSITY"]
print(f"universities defined here: {len(uni)}, located (any file): {sum(i in located for i in uni)}")
orphans = [i for i in mine_ents if not any(i in (r["source"], r["target"]) for _, r in rels_all)]
if orphans:
    print("entities with no relation in any file:", orphans)

for w in warnings:
    print("WARNING (other file):", w)
for e in errors:
    print("ERROR:", e)
print("OK" if not errors else f"{len(errors)} error(s)")
sys.exit(1 if errors else 0)

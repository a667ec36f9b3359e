#!/usr/bin/env python3
"""Checks for the universities helper's files (issue 12, point 3).

reference/universities.tsv, reference/gbt2260.tsv, graph/districts.toml, graph/universities.toml and the
`universities` document of documents.toml. Run from anywhere: python3 seed/notes/check_universities.py
Exit status 1 on any problem. Re-run after the other helpers' edits: it reads every graph/*.toml.
"""
import glob
import os
import re
import sys
import tomllib

SEED = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
problems = []


def bad(msg):
    problems.append(msg)


def tsv(path, header):
    lines = open(path, encoding="utf-8").read().split("\n")
    if lines[-1] != "":
        bad(f"{path}: no final newline")
    lines = [l for l in lines if l]
    if lines[0].split("\t") != header:
        bad(f"{path}: header {lines[0]!r}")
    rows = lines[1:]
    for l in rows:
        if len(l.split("\t")) != len(header):
            bad(f"{path}: row with {len(l.split(chr(9)))} columns: {l!r}")
    return rows


# --- documents
docs = {d["id"]: d for d in tomllib.load(open(f"{SEED}/documents.toml", "rb"))["document"]}
for id_ in ("gbt2260", "universities"):
    d = docs.get(id_)
    if not d:
        bad(f"documents.toml: no document {id_}")
    elif not d.get("reference") or not os.path.exists(f"{SEED}/{d['file']}"):
        bad(f"documents.toml: {id_} not a reference document with an existing file")
doc_text = {id_: open(f"{SEED}/{d['file']}", encoding="utf-8").read() for id_, d in docs.items()}

# --- gbt2260.tsv
G_HDR = ["code", "name", "level", "parent_code", "name_en"]
grows = tsv(f"{SEED}/reference/gbt2260.tsv", G_HDR)
gb = {}
for l in grows:
    c, name, level, parent, en = l.split("\t")
    if not re.fullmatch(r"\d{6}", c):
        bad(f"gbt2260: bad code {c}")
    if c in gb:
        bad(f"gbt2260: duplicate code {c}")
    gb[c] = (name, level, parent, en, l)
if [l.split("\t")[0] for l in grows] != sorted(gb):
    bad("gbt2260: rows not sorted by code")
for c, (name, level, parent, en, l) in gb.items():
    if level in ("PROVINCE", "MUNICIPALITY"):
        if parent or not c.endswith("0000"):
            bad(f"gbt2260: {c} {level} with parent or non-province code")
    elif parent not in gb:
        bad(f"gbt2260: {c} parent {parent} missing")
    elif not c.startswith(parent.rstrip("0")[:len(parent.rstrip("0"))]):
        bad(f"gbt2260: {c} does not nest in {parent}")

# --- universities.tsv
U_HDR = ["name", "name_en", "moe_code", "city", "city_gbt2260", "country"]
urows = tsv(f"{SEED}/reference/universities.tsv", U_HDR)
uni = {}
for l in urows:
    name, en, moe, city, code, country = l.split("\t")
    if name in uni:
        bad(f"universities.tsv: duplicate {name}")
    uni[name] = (en, moe, city, code, country, l)
    if moe and not re.fullmatch(r"\d{5}", moe):
        bad(f"universities.tsv: {name}: moe_code {moe!r} not 5 digits")
    if country == "中国":
        if code not in gb:
            bad(f"universities.tsv: {name}: city code {code} not in gbt2260.tsv")
        elif gb[code][0] != city:
            bad(f"universities.tsv: {name}: city {city} != gbt2260 name {gb[code][0]} of {code}")
    elif code:
        bad(f"universities.tsv: {name}: foreign university with a GB/T 2260 code")
moes = [v[1] for v in uni.values() if v[1]]
if len(moes) != len(set(moes)):
    bad("universities.tsv: duplicate moe_code")

# --- the whole graph
ents, rels = {}, []
for f in sorted(glob.glob(f"{SEED}/graph/*.toml")):
    try:
        d = tomllib.load(open(f, "rb"))
    except Exception as e:  # noqa: BLE001
        bad(f"{f}: does not parse: {e}")
        continue
    for e in d.get("entity", []):
        if e["id"] in ents:
            bad(f"entity id {e['id']} defined twice ({f})")
        ents[e["id"]] = (os.path.basename(f), e)
    for r in d.get("relation", []):
        rels.append((os.path.basename(f), r))

MINE = {"universities.toml", "districts.toml"}
ECO = {"UNIVERSITY", "RESEARCH_INSTITUTE", "LAB", "ENTERPRISE", "GOVERNMENT", "DISTRICT", "PLATFORM",
       "FACILITY", "ALLIANCE"}
district_by_code = {e["district_code"]: i for i, (_, e) in ents.items() if e["kind"] == "DISTRICT"}


def quote_ok(doc, quote):
    text = doc_text.get(doc)
    if text is None:
        return False
    parts = quote.split("[…]")
    for line in text.split("\n"):
        pos = 0
        for p in parts:
            pos = line.find(p, pos)
            if pos < 0:
                break
            pos += len(p)
        else:
            return True
    return False


seen = set()
for f, r in rels:
    key = (r["source"], r["kind"], r["target"])
    if key in seen:
        bad(f"{f}: duplicate relation {'/'.join(key)}")
    seen.add(key)
    if f not in MINE:
        continue
    for end in ("source", "target"):
        if r[end] not in ents:
            bad(f"{f}: {'/'.join(key)}: no entity {r[end]}")
    if r["kind"] != "LOCATED_IN":
        bad(f"{f}: unexpected kind {r['kind']}")
    src = ents.get(r["source"], (None, {}))[1]
    tgt = ents.get(r["target"], (None, {}))[1]
    if src.get("kind") not in ECO:
        bad(f"{f}: {r['source']} ({src.get('kind')}) may not be LOCATED_IN")
    if tgt.get("kind") not in ("DISTRICT", "PLATFORM"):
        bad(f"{f}: LOCATED_IN target {r['target']} is a {tgt.get('kind')}")
    for ev in r["evidence"]:
        if not quote_ok(ev["doc"], ev["quote"]):
            bad(f"{f}: {'/'.join(key)}: quote not verbatim in {ev['doc']}: {ev['quote']!r}")
        if ev.get("basis", "STATED") != "REFERENCE":
            bad(f"{f}: {'/'.join(key)}: basis {ev.get('basis')} (expected REFERENCE)")
    ev = r["evidence"][0]
    if f == "districts.toml":
        row = gb.get(ev["quote"].split("\t")[0])
        if ev["doc"] != "gbt2260" or not row or row[4] != ev["quote"]:
            bad(f"districts.toml: {'/'.join(key)}: quote is not a whole gbt2260 row")
        elif src.get("district_code") != ev["quote"].split("\t")[0] or tgt.get("district_code") != row[2]:
            bad(f"districts.toml: {'/'.join(key)}: codes disagree with the row")
    else:
        row = uni.get(ev["quote"].split("\t")[0])
        if ev["doc"] != "universities" or not row or row[5] != ev["quote"]:
            bad(f"universities.toml: {'/'.join(key)}: quote is not a whole universities.tsv row")
        else:
            if src.get("kind") != "UNIVERSITY" or src.get("name") != ev["quote"].split("\t")[0]:
                bad(f"universities.toml: {'/'.join(key)}: source is not the row's university")
            if tgt.get("district_code") != row[3]:
                bad(f"universities.toml: {'/'.join(key)}: target is not district {row[3]}")

# districts.toml: one entity per gbt2260 row, matching it
dist_file = [e for f, e in ents.values() if f == "districts.toml"]
if sorted(e["district_code"] for e in dist_file) != sorted(gb):
    bad("districts.toml entities != gbt2260.tsv rows")
for e in dist_file:
    name, level, parent, en, _ = gb.get(e["district_code"], (None,) * 5)
    if (e["name"], e["district_level"], e.get("name_en")) != (name, level, en):
        bad(f"districts.toml: {e['id']} disagrees with its gbt2260 row")
    if parent:
        if (e["id"], "LOCATED_IN", district_by_code.get(parent)) not in seen:
            bad(f"districts.toml: {e['id']} lacks LOCATED_IN its parent {parent}")

# every UNIVERSITY: a row, a LOCATED_IN (exactly one), to the row's city or a place inside it
unis = {i: e for i, (_, e) in ents.items() if e["kind"] == "UNIVERSITY"}
names = {e["name"] for e in unis.values()}
for n in uni:
    if n not in names:
        bad(f"universities.tsv: row {n} has no UNIVERSITY entity")
parent_of = {}
for f, r in rels:
    if r["kind"] == "LOCATED_IN":
        parent_of.setdefault(r["source"], []).append((f, r["target"]))


def inside(place, code, depth=0):
    e = ents.get(place, (None, {}))[1]
    if e.get("district_code") == code:
        return True
    return depth < 6 and any(inside(t, code, depth + 1) for _, t in parent_of.get(place, []))


for i, e in sorted(unis.items()):
    row = uni.get(e["name"])
    if not row:
        bad(f"UNIVERSITY {i} ({e['name']}) has no universities.tsv row")
        continue
    locs = parent_of.get(i, [])
    if len(locs) != 1:
        bad(f"UNIVERSITY {i}: {len(locs)} LOCATED_IN relations {locs}")
    for f, t in locs:
        if row[4] == "中国" and not inside(t, row[3]):
            bad(f"UNIVERSITY {i}: LOCATED_IN {t} ({f}) is not in {row[2]} {row[3]}")

# no name or alias claimed by two entities (as the validator: case-folded, trimmed)
claimed = {}
for i, (f, e) in ents.items():
    for n in [e["name"]] + e.get("aliases", []):
        k = n.strip().lower()
        if k in claimed and claimed[k] != i and (f in MINE or ents[claimed[k]][0] in MINE):
            bad(f"name {n!r} of {i} already claimed by {claimed[k]}")
        claimed.setdefault(k, i)

# no INITIATIVE in my files (districts/universities hold none anyway)
for i, (f, e) in ents.items():
    if f in MINE and e["kind"] not in ("DISTRICT",):
        bad(f"{f}: unexpected entity {i} ({e['kind']})")

located_here = sum(1 for f, r in rels if f == "universities.toml")
print(f"universities.tsv rows: {len(uni)} (MoE codes: {len(moes)}); UNIVERSITY entities: {len(unis)}; "
      f"LOCATED_IN in universities.toml: {located_here}; elsewhere: "
      f"{sum(1 for i in unis if any(f != 'universities.toml' for f, _ in parent_of.get(i, [])))}; "
      f"gbt2260 rows: {len(gb)}; district entities: {len(dist_file)}")
for p in problems:
    print("PROBLEM:", p)
print("OK" if not problems else f"{len(problems)} problem(s)")
sys.exit(1 if problems else 0)

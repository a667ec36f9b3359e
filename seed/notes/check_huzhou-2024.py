#!/usr/bin/env python3
"""Check seed/graph/huzhou-2024.toml against the issue-12 rules (run from anywhere: python3 check_huzhou-2024.py).

Checks: TOML parses; every relation end exists in some seed/graph/*.toml (current files); every quote occurs
verbatim in its document (parts split on "[…]", in order, on one line); no INITIATIVE; kind rules
(LOCATED_IN only from ECOSYSTEM, RESPONSIBLE_FOR from GOVERNMENT, ISSUED_BY to GOVERNMENT, APPLIES_TO from
PROGRAM/POLICY to DISTRICT); no LEADS whose only evidence is a 责任单位 clause; no relation quoting
各区县科技局 as its only basis; basis values valid; no duplicate relation, entity id or name.
Prints counts and location coverage. Exit status 1 on any failure.
"""
import glob
import os
import sys
import tomllib
from collections import Counter

SEED = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
MINE = os.path.join(SEED, "graph", "huzhou-2024.toml")

ECOSYSTEM = {"UNIVERSITY", "RESEARCH_INSTITUTE", "LAB", "ENTERPRISE", "GOVERNMENT", "DISTRICT",
             "PLATFORM", "FACILITY", "ALLIANCE"}
POLICY_LAYER = {"PROGRAM", "POLICY"}
KINDS = ECOSYSTEM | POLICY_LAYER
REL_KINDS = {"CO_BUILT_BY", "LOCATED_IN", "LEADS", "PART_OF", "RELIES_ON", "COOPERATES_WITH", "ORGANIZES",
             "MEMBER_OF", "SUPPORTS", "PARTICIPATES_IN", "RESPONSIBLE_FOR", "ISSUED_BY", "APPLIES_TO"}
# the three Huzhou colleges keep their LOCATED_IN here (universities.toml does not repeat it; notes/universities.md)
KEPT_UNIVERSITY_PLACES = {"huzhou-university", "huzhou-college", "huzhou-vocational-and-technical-college"}
BASES = {"STATED", "NAME", "REFERENCE", "REGION"}
ELISION = "[…]"

errors = []


def err(msg):
    errors.append(msg)


def load(path):
    with open(path, "rb") as f:
        return tomllib.load(f)


docs = {d["id"]: d for d in load(os.path.join(SEED, "documents.toml"))["document"]}
doc_lines = {}


def lines_of(doc_id):
    if doc_id not in doc_lines:
        with open(os.path.join(SEED, docs[doc_id]["file"]), encoding="utf-8") as f:
            doc_lines[doc_id] = f.read().split("\n")
    return doc_lines[doc_id]


def quote_ok(doc_id, quote):
    parts = quote.split(ELISION)
    if any(p == "" for p in parts):
        return False
    for line in lines_of(doc_id):
        pos = 0
        for p in parts:
            i = line.find(p, pos)
            if i < 0:
                break
            pos = i + len(p)
        else:
            return True
    return False


# all entities of the current graph (other helpers edit concurrently: re-run at the end)
all_entities = {}
for path in sorted(glob.glob(os.path.join(SEED, "graph", "*.toml"))):
    try:
        data = load(path)
    except Exception as e:  # another helper's file mid-edit
        if path == MINE:
            raise
        print(f"warning: cannot parse {os.path.basename(path)}: {e}")
        continue
    for e in data.get("entity", []):
        if e["id"] in all_entities and os.path.basename(path) != all_entities[e["id"]][1]:
            err(f"entity {e['id']} defined in {all_entities[e['id']][1]} and {os.path.basename(path)}")
        all_entities.setdefault(e["id"], (e, os.path.basename(path)))

mine = load(MINE)
ents = mine.get("entity", [])
rels = mine.get("relation", [])

# entities
ids = Counter(e["id"] for e in ents)
names = Counter(e["name"] for e in ents)
for i, n in ids.items():
    if n > 1:
        err(f"duplicate entity id {i}")
for i, n in names.items():
    if n > 1:
        err(f"duplicate entity name {i}")
for e in ents:
    if e["kind"] not in KINDS:
        err(f"entity {e['id']}: kind {e['kind']} not allowed")
    if not all(c.islower() or c.isdigit() or c == "-" for c in e["id"]) or not e["id"].isascii():
        err(f"entity {e['id']}: id not ASCII kebab-case")
    other = all_entities.get(e["id"])
    if other and other[1] != "huzhou-2024.toml":
        err(f"entity {e['id']} also defined in {other[1]}")
# names/aliases clashing with other files
name_owner = {}
for path in sorted(glob.glob(os.path.join(SEED, "graph", "*.toml"))):
    if path == MINE:
        continue
    try:
        data = load(path)
    except Exception:
        continue
    for e in data.get("entity", []):
        for nm in [e["name"], *e.get("aliases", [])]:
            name_owner.setdefault(nm, (e["id"], os.path.basename(path)))
for e in ents:
    for nm in [e["name"], *e.get("aliases", [])]:
        if nm in name_owner and name_owner[nm][0] != e["id"]:
            print(f"warning: name/alias {nm!r} of {e['id']} also used by {name_owner[nm]}")


def kind_of(i):
    return all_entities[i][0]["kind"] if i in all_entities else None


# relations
seen = Counter()
for r in rels:
    rid = f"{r['source']}/{r['kind']}/{r['target']}"
    seen[rid] += 1
    if r["kind"] not in REL_KINDS:
        err(f"{rid}: unknown relation kind")
    sk, tk = kind_of(r["source"]), kind_of(r["target"])
    if sk is None:
        err(f"{rid}: source not defined in any graph file")
    if tk is None:
        err(f"{rid}: target not defined in any graph file")
    if r["source"] == r["target"]:
        err(f"{rid}: self loop")
    k = r["kind"]
    if k == "LOCATED_IN" and sk is not None and sk not in ECOSYSTEM:
        err(f"{rid}: LOCATED_IN from non-ECOSYSTEM {sk}")
    if k == "LOCATED_IN" and tk is not None and tk not in {"DISTRICT", "PLATFORM"}:
        err(f"{rid}: LOCATED_IN target is {tk}")
    if k == "LOCATED_IN" and sk == "UNIVERSITY" and r["source"] not in KEPT_UNIVERSITY_PLACES:
        err(f"{rid}: university locations belong to universities.toml")
    if k == "RESPONSIBLE_FOR" and sk is not None and sk != "GOVERNMENT":
        err(f"{rid}: RESPONSIBLE_FOR from {sk}")
    if k == "ISSUED_BY" and (sk != "POLICY" or tk != "GOVERNMENT"):
        err(f"{rid}: ISSUED_BY {sk} -> {tk}")
    if k == "APPLIES_TO" and (sk not in POLICY_LAYER or tk != "DISTRICT"):
        err(f"{rid}: APPLIES_TO {sk} -> {tk}")
    ev = r.get("evidence", [])
    if not ev:
        err(f"{rid}: no evidence")
    for e in ev:
        if e["doc"] not in docs:
            err(f"{rid}: unknown doc {e['doc']}")
            continue
        if e.get("basis", "STATED") not in BASES:
            err(f"{rid}: bad basis {e.get('basis')}")
        if not quote_ok(e["doc"], e["quote"]):
            err(f"{rid}: quote not found verbatim: {e['quote']!r}")
    quotes = [e["quote"] for e in ev]
    if k != "RESPONSIBLE_FOR" and quotes and all("责任单位" in q for q in quotes):
        err(f"{rid}: only evidence is a 责任单位 clause but kind is {k}")
    if quotes and all(q.strip() in {"各区县科技局", "各有关单位", "相关部门"} for q in quotes):
        err(f"{rid}: evidence is only a collective phrase")
    # a collective phrase must never be the named responsible unit
    if k == "RESPONSIBLE_FOR":
        src_name = all_entities[r["source"]][0]["name"] if sk else ""
        short = {"huzhou-stb-cooperation-division": "合作处", "huzhou-stb-office": "办公室",
                 "huzhou-stb-high-tech-division": "高新处", "huzhou-stb-planning-division": "规划处",
                 "huzhou-foreign-experts-bureau": "外专局",
                 "huzhou-stb-sustainable-development-division": "可持续发展处",
                 "huzhou-stb-rural-and-social-development-division": "农社处",
                 "huzhou-stb-party-committee": "机关党委", "huzhou-stb-discipline-inspection-committee": "机关纪委",
                 "deqing-science-and-technology-bureau": "德清县科技局",
                 "moganshan-high-tech-zone-science-technology-and-talent-bureau": "莫干山高新区科技人才局"}
        nm = short.get(r["source"], src_name)
        if not any(("责任单位:" in q and nm in q.split("责任单位:")[1]) for q in quotes):
            err(f"{rid}: responsible unit {nm} not named in the clause quoted")
for rid, n in seen.items():
    if n > 1:
        err(f"duplicate relation {rid}")

# report
print("entities by kind:", dict(sorted(Counter(e["kind"] for e in ents).items())))
print("entities by layer:", dict(Counter("ECOSYSTEM" if e["kind"] in ECOSYSTEM else "POLICY" for e in ents)))
print("relations by kind:", dict(sorted(Counter(r["kind"] for r in rels).items())))
print("evidence by basis:", dict(sorted(Counter(e.get("basis", "STATED") for r in rels for e in r["evidence"]).items())))
only_resp = [r for r in rels if all("责任单位" in e["quote"] for e in r["evidence"])]
print(f"relations whose only evidence is a 责任单位 clause: {len(only_resp)}, of which RESPONSIBLE_FOR: "
      f"{sum(r['kind'] == 'RESPONSIBLE_FOR' for r in only_resp)}")
eco = [e for e in ents if e["kind"] in ECOSYSTEM and e["kind"] not in {"DISTRICT", "UNIVERSITY"}]
located = {r["source"] for r in rels if r["kind"] == "LOCATED_IN"}
missing = [e["id"] for e in eco if e["id"] not in located]
print(f"location coverage (ECOSYSTEM minus DISTRICT and UNIVERSITY): {len(eco) - len(missing)}/{len(eco)}"
      + (f"; missing: {missing}" if missing else ""))
unis = [e["id"] for e in ents if e["kind"] == "UNIVERSITY"]
print("universities defined here:", unis)
# referenced from other files
for path in sorted(glob.glob(os.path.join(SEED, "graph", "*.toml"))):
    if path == MINE:
        continue
    try:
        data = load(path)
    except Exception:
        continue
    for r in data.get("relation", []):
        for end in ("source", "target"):
            if r[end] in ids:
                print(f"referenced by {os.path.basename(path)}: {r['source']}/{r['kind']}/{r['target']}")

# ids deleted from this file in issue 12: no file may still reference them
DELETED = {
    "wuxing-science-and-technology-bureau", "nanxun-science-and-technology-bureau",
    "changxing-science-and-technology-bureau", "anji-science-and-technology-bureau",
    "huzhou-2024-build-nantaihu-sci-tech-innovation-corridor", "huzhou-2024-build-xisaishan-science-city",
    "xisaishan-one-key-lab-two-institutes-three-colleges-pattern", "huzhou-2024-build-geoinformation-smart-city",
    "huzhou-2024-sci-tech-investment-attraction", "huzhou-2024-tiered-enterprise-cultivation",
    "huzhou-2024-innovation-strengthening-foundation-projects", "huzhou-2024-increase-rd-investment",
    "huzhou-2024-organized-scientific-research", "huzhou-2024-form-innovation-consortia",
    "huzhou-2024-attract-and-cultivate-high-level-talent", "huzhou-2024-develop-research-institute-economy",
    "huzhou-four-isation-model-of-research-institutes", "huzhou-2024-innovate-talent-institutions-and-mechanisms",
    "huzhou-provincial-talent-programme-self-review", "huzhou-2024-build-huzhou-model-of-sustainable-development",
    "huzhou-2024-deepen-sci-tech-finance-reform", "intellectual-property-pledge-financing",
    "sci-tech-innovation-corporate-bonds", "talent-entrepreneurship-insurance",
    "huzhou-2024-iterate-sci-tech-value-added-services",
    "huzhou-2024-build-digital-intelligent-sci-tech-party-building-brand",
    "huzhou-trace-the-source-long-term-mechanism", "huzhou-2024-deepen-clean-sci-tech-brand",
    "huzhou-2024-improve-cadre-reform-capability", "jiebang-guashuai-mechanism",
}
for i in DELETED & set(all_entities):
    err(f"deleted id {i} is defined again in {all_entities[i][1]}")
for path in sorted(glob.glob(os.path.join(SEED, "graph", "*.toml"))):
    try:
        data = load(path)
    except Exception:
        continue
    for r in data.get("relation", []):
        for end in ("source", "target"):
            if r[end] in DELETED:
                err(f"{os.path.basename(path)} references deleted id {r[end]}")

if errors:
    print(f"\nFAIL: {len(errors)} error(s)")
    for m in errors:
        print("  -", m)
    sys.exit(1)
print("\nOK")

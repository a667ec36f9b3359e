#!/usr/bin/env python3
"""Whole-seed check for issue 12 (layers, places, clean data): every graph file together.

Run from anywhere: python3 seed/notes/check_all.py
Exit status 0 = every check passes; otherwise the problems are printed, one per line.

Checks (the rules of seed/README.md and seed/notes/BRIEF.md):
- every graph file parses; entity ids unique; names, English names and aliases claimed by one entity
  (compared as the validator does: NFC, trimmed, lower-cased); kinds known, no INITIATIVE;
- every relation: known kind, both ends exist, no duplicate (source, kind, target), a symmetric kind
  stored once; evidence non-empty, known doc, known basis; REFERENCE evidence cites a reference table,
  reference-table evidence has basis REFERENCE;
- every quote occurs verbatim in its document (documents.toml maps ids to files): split on "[…]", the
  parts in order on one line (reference tables are TSV: quotes may contain tab characters);
- kind rules: only ECOSYSTEM entities are LOCATED_IN, and only in a DISTRICT or PLATFORM;
  RESPONSIBLE_FOR starts at a GOVERNMENT; ISSUED_BY goes from a POLICY to a GOVERNMENT; APPLIES_TO goes
  from a PROGRAM or POLICY to a DISTRICT;
- every UNIVERSITY has exactly one LOCATED_IN, with an evidence entry that is its row of the universities
  table (basis REFERENCE), and its target's name is the row's city;
- collective phrases (各区县科技局, 各有关单位, 相关部门, 各区、县(市), 相关区、县(市) …: the pattern of
  collective_phrases in src/ingest/validate.rs) make no relation: a relation whose evidence contains one
  must name, outside the phrase, each end such a phrase could stand for (its unit end) in some quote;
- every relation whose only evidence is a 责任单位/牵头单位 clause (Huzhou's "(责任单位:…)", a table
  cell under a 责任单位 column, or an annex 属地 cell that names a unit instead of a place) is RESPONSIBLE_FOR.
Prints: entities by kind and layer; relations by kind and by basis (a relation's basis is STATED if any
evidence entry is stated, else the basis of its first entry); evidence entries by basis; the share of
ECOSYSTEM entities other than DISTRICT with a LOCATED_IN; the responsibility-clause count.
"""
import collections
import glob
import os
import re
import sys
import tomllib
import unicodedata

SEED = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
ECOSYSTEM = ["UNIVERSITY", "RESEARCH_INSTITUTE", "LAB", "ENTERPRISE", "GOVERNMENT", "DISTRICT",
             "PLATFORM", "FACILITY", "ALLIANCE"]
POLICY_LAYER = ["PROGRAM", "POLICY"]
REL_KINDS = ["CO_BUILT_BY", "LOCATED_IN", "LEADS", "PART_OF", "RELIES_ON", "COOPERATES_WITH", "ORGANIZES",
             "MEMBER_OF", "SUPPORTS", "PARTICIPATES_IN", "RESPONSIBLE_FOR", "ISSUED_BY", "APPLIES_TO"]
SYMMETRIC = {"COOPERATES_WITH"}
BASES = ["STATED", "NAME", "REFERENCE", "REGION"]
ELISION = "[…]"
# Collective phrases (the same pattern as collective_phrases in src/ingest/validate.rs): an opener, any
# place-level words (with 、 and brackets between them), then a body, or a bureau (…局, up to four characters
# after a place-level word); or, with no body, two or more place-level words.
COLLECTIVE_OPENERS = ["各有关", "各相关", "各", "相关", "有关"]
COLLECTIVE_PLACES = ["街道", "省", "市", "区", "县", "乡", "镇", "村", "地", "级"]
COLLECTIVE_SEPARATORS = "、()（）"
COLLECTIVE_BODIES = ["科技局", "科技部门", "主管部门", "部门", "单位", "人民政府", "政府", "委员会", "办公室", "机构",
                     "处室"]
RESPONSIBILITY_WORDS = ["责任单位", "牵头单位"]

problems = []


def problem(msg):
    problems.append(msg)


def load(path):
    with open(path, "rb") as f:
        return tomllib.load(f)


def name_key(s):
    return unicodedata.normalize("NFC", s.strip()).lower()


# ---- documents
documents = {}
doc_lines = {}
reference_docs = set()
for d in load(os.path.join(SEED, "documents.toml"))["document"]:
    documents[d["id"]] = d
    with open(os.path.join(SEED, d["file"]), encoding="utf-8") as f:
        doc_lines[d["id"]] = f.read().split("\n")
    if d.get("reference"):
        reference_docs.add(d["id"])


def find_line(doc, quote):
    """Index of the first line holding every part of the quote in order, or None."""
    parts = quote.split(ELISION)
    for n, line in enumerate(doc_lines[doc]):
        pos = 0
        for part in parts:
            i = line.find(part, pos)
            if i < 0:
                break
            pos = i + len(part)
        else:
            return n
    return None


# ---- table structure of the source texts: for every table row, is its last cell a responsible unit?
# A row is a line "N | … |" under a header line "序号 | … |". The last cell is a 责任单位 when the header's
# last column is 责任单位, or when it is 属地 and the cell names a unit (科技局, 人才办, 专班 …) instead of a place.
UNIT_ENDINGS = ("科技局", "人才办", "专班", "委员会", "办公室")


def row_cells(line):
    return [c.strip() for c in line.strip().strip("|").split("|")]


responsible_row = {}  # (doc, line index) -> last cell text
for doc, lines in doc_lines.items():
    if doc in reference_docs:
        continue
    header = None
    for n, line in enumerate(lines):
        if line.startswith("序号 |"):
            header = row_cells(line)
            continue
        if header and " | " in line and line.split(" | ", 1)[0].strip().isdigit():
            cells = row_cells(line)
            last_col = header[-1].replace(" ", "")
            last = cells[-1]
            if last_col == "责任单位" or (last_col == "属地" and last.endswith(UNIT_ENDINGS)):
                responsible_row[(doc, n)] = last
        elif header and not line.strip():
            continue
        elif header and " | " not in line:
            header = None


def is_responsibility_quote(ev):
    """The evidence entry quotes a responsibility clause (and nothing that states more)."""
    if ev.get("basis", "STATED") != "STATED":
        return False
    q = ev["quote"]
    if any(w in q for w in RESPONSIBILITY_WORDS):
        return True
    n = find_line(ev["doc"], q)
    if n is None or (ev["doc"], n) not in responsible_row:
        return False
    line = doc_lines[ev["doc"]][n].rstrip()
    last_part = q.split(ELISION)[-1].rstrip()
    return line.endswith(last_part) and responsible_row[(ev["doc"], n)] in last_part


# ---- graph files
graph = {}
for path in sorted(glob.glob(os.path.join(SEED, "graph", "*.toml"))):
    try:
        graph[os.path.basename(path)] = load(path)
    except tomllib.TOMLDecodeError as e:
        problem(f"{os.path.basename(path)}: TOML error: {e}")
if problems:
    print("\n".join(problems))
    sys.exit(1)

entities = {}
claimed = {}
for fname, data in graph.items():
    for e in data.get("entity", []):
        eid = e["id"]
        if eid in entities:
            problem(f"{fname}: duplicate entity id {eid} (also in {entities[eid][0]})")
            continue
        entities[eid] = (fname, e)
        if e["kind"] not in ECOSYSTEM + POLICY_LAYER:
            problem(f"{fname}: entity {eid}: kind {e['kind']} not allowed" +
                    (" (INITIATIVE is replaced by PROGRAM/POLICY)" if e["kind"] == "INITIATIVE" else ""))
        if not (eid.isascii() and eid == eid.lower() and " " not in eid and "_" not in eid):
            problem(f"{fname}: entity id {eid} is not ASCII kebab-case")
        for n in sorted({name_key(x) for x in [e["name"], e.get("name_en", "")] + e.get("aliases", []) if x.strip()}):
            if n in claimed and claimed[n] != eid:
                problem(f"{fname}: name or alias «{n}» of {eid} is already claimed by {claimed[n]}")
            claimed.setdefault(n, eid)


def kind(i):
    return entities[i][1]["kind"]


def layer(i):
    return "ECOSYSTEM" if kind(i) in ECOSYSTEM else "POLICY"


def names_of(i):
    """The forms a sentence names an entity by (as unit_forms in src/ingest/validate.rs), as name keys:
    name, English name, aliases, and the short forms a sentence uses for a bureau or its division
    (绍兴市科学技术局 → 绍兴市科技局; 湖州市科学技术局高新处 → 高新处)."""
    e = entities[i][1]
    names = [name_key(x) for x in [e["name"], e.get("name_en", "")] + e.get("aliases", []) if x.strip()]
    for n in list(names):
        if "科学技术局" in n:
            names.append(n.replace("科学技术局", "科技局"))
            rest = n.split("科学技术局", 1)[1]
            if len(rest) >= 2:
                names.append(rest)
    # a context-dependent short form is no alias, but descriptions give it in parentheses: "(外专局)"
    names += [name_key(m) for m in re.findall(r"[(（]([^()（）]{2,8})[)）]", e.get("description", ""))
              if all(is_han(c) for c in m)]
    return names


def is_han(c):
    return "\u4e00" <= c <= "\u9fff" or "\u3400" <= c <= "\u4dbf" or "\uf900" <= c <= "\ufaff"


def collective_end(text, at):
    """End of a collective phrase whose opener ends at `at`, or None."""
    places, run_end = 0, at
    while True:
        place = next((p for p in COLLECTIVE_PLACES if text.startswith(p, at)), None)
        if place:
            places += 1
            at += len(place)
            run_end = at
        elif at < len(text) and text[at] in COLLECTIVE_SEPARATORS:
            if text[at] in ")）":
                run_end = at + 1
            at += 1
        else:
            break
    body = next((b for b in COLLECTIVE_BODIES if text.startswith(b, at)), None)
    if body:
        return at + len(body)
    if places >= 1:
        for i, c in enumerate(text[at:at + 5]):
            if c == "局":
                return at + i + 1
            if not is_han(c):
                break
    return run_end if places >= 2 else None


def collective_phrases(text):
    """(start, end) of every collective phrase of the text."""
    found, start = [], 0
    while start < len(text):
        end = next((e for o in COLLECTIVE_OPENERS if text.startswith(o, start)
                    for e in [collective_end(text, start + len(o))] if e is not None), None)
        if end is not None:
            found.append((start, end))
            start = end
        else:
            start += 1
    return found


def without_collective(q):
    out, last = [], 0
    for start, end in collective_phrases(q):
        out.append(q[last:start] + " ")
        last = end
    return "".join(out) + q[last:]


def unit_ends(k):
    """The ends a collective phrase could stand for (as unit_ends in src/ingest/validate.rs)."""
    if k in ("CO_BUILT_BY", "ISSUED_BY", "APPLIES_TO"):
        return ["target"]
    if k in SYMMETRIC:
        return ["source", "target"]
    return ["source"]


relations = []  # (file, relation)
seen = {}
for fname, data in graph.items():
    for r in data.get("relation", []):
        rid = f"{r['source']}/{r['kind']}/{r['target']}"
        where = f"{fname}: {rid}"
        relations.append((fname, r))
        if r["kind"] not in REL_KINDS:
            problem(f"{where}: unknown relation kind")
        missing = [x for x in (r["source"], r["target"]) if x not in entities]
        if missing:
            problem(f"{where}: unknown entity {', '.join(missing)}")
        key = (r["source"], r["kind"], r["target"])
        if key in seen:
            problem(f"{where}: duplicate relation (also in {seen[key]})")
        seen.setdefault(key, fname)
        if r["kind"] in SYMMETRIC and (r["target"], r["kind"], r["source"]) in seen and r["source"] != r["target"]:
            problem(f"{where}: symmetric relation stored twice")
        if not r.get("evidence"):
            problem(f"{where}: no evidence")
        for ev in r.get("evidence", []):
            b = ev.get("basis", "STATED")
            if b not in BASES:
                problem(f"{where}: unknown basis {b}")
            if ev["doc"] not in documents:
                problem(f"{where}: unknown document {ev['doc']}")
                continue
            if (b == "REFERENCE") != (ev["doc"] in reference_docs):
                problem(f"{where}: basis {b} with document {ev['doc']} (REFERENCE iff a reference table)")
            if find_line(ev["doc"], ev["quote"]) is None:
                problem(f"{where}: quote not verbatim in {ev['doc']}: «{ev['quote']}»")
        if missing:
            continue
        s, k, t = kind(r["source"]), r["kind"], kind(r["target"])
        if k == "LOCATED_IN":
            if s not in ECOSYSTEM:
                problem(f"{where}: only ECOSYSTEM entities are LOCATED_IN (source is {s})")
            if t not in ("DISTRICT", "PLATFORM"):
                problem(f"{where}: LOCATED_IN must end at a DISTRICT or PLATFORM (target is {t})")
        elif k == "RESPONSIBLE_FOR" and s != "GOVERNMENT":
            problem(f"{where}: RESPONSIBLE_FOR starts at a GOVERNMENT (source is {s})")
        elif k == "ISSUED_BY" and (s != "POLICY" or t != "GOVERNMENT"):
            problem(f"{where}: ISSUED_BY goes POLICY -> GOVERNMENT (is {s} -> {t})")
        elif k == "APPLIES_TO" and (s not in POLICY_LAYER or t != "DISTRICT"):
            problem(f"{where}: APPLIES_TO goes PROGRAM/POLICY -> DISTRICT (is {s} -> {t})")
        # collective phrases: each end a collective phrase could stand for must be named in some quote
        quotes = [ev["quote"] for ev in r.get("evidence", [])]
        phrases = [q[a:b] for q in quotes for a, b in collective_phrases(q)]
        if phrases:
            for actor in (r[end] for end in unit_ends(k)):
                if not any(n in without_collective(name_key(q)) for q in quotes for n in names_of(actor)):
                    problem(f"{where}: evidence names {actor} only through the collective phrase «{phrases[0]}»; "
                            "only units the sentence names get relations")

# ---- universities: exactly one LOCATED_IN each, cited to the universities table
uni_rows = {}
for line in doc_lines.get("universities", [])[1:]:
    if line.strip():
        cells = line.split("\t")
        uni_rows[cells[0]] = (line, cells)
located = collections.defaultdict(list)
for fname, r in relations:
    if r["kind"] == "LOCATED_IN":
        located[r["source"]].append((fname, r))
for eid, (fname, e) in entities.items():
    if e["kind"] != "UNIVERSITY":
        continue
    rels = located.get(eid, [])
    if len(rels) != 1:
        problem(f"university {eid}: {len(rels)} LOCATED_IN relations (exactly one expected)")
        continue
    row = uni_rows.get(e["name"])
    if row is None:
        problem(f"university {eid}: no row «{e['name']}» in the universities table")
        continue
    _, r = rels[0]
    if not any(ev["doc"] == "universities" and ev["quote"] == row[0] and ev.get("basis") == "REFERENCE"
               for ev in r["evidence"]):
        problem(f"university {eid}: its LOCATED_IN does not cite its universities-table row (basis REFERENCE)")
    if entities[r["target"]][1]["name"] != row[1][3]:
        problem(f"university {eid}: LOCATED_IN {r['target']} but the table says {row[1][3]}")
for name in uni_rows:
    if not any(e["kind"] == "UNIVERSITY" and e["name"] == name for _, e in entities.values()):
        problem(f"universities table row «{name}» has no UNIVERSITY entity")

# ---- responsibility clauses
resp_only = [(f, r) for f, r in relations if r.get("evidence") and all(is_responsibility_quote(ev) for ev in r["evidence"])]
for fname, r in resp_only:
    if r["kind"] != "RESPONSIBLE_FOR":
        problem(f"{fname}: {r['source']}/{r['kind']}/{r['target']}: only evidence is a 责任单位 clause, "
                "so it must be RESPONSIBLE_FOR")

# ---- report
ent_kinds = collections.Counter(e["kind"] for _, e in entities.values())
layers = collections.Counter(layer(i) for i in entities)
rel_kinds = collections.Counter(r["kind"] for _, r in relations)


def rel_basis(r):
    bases = [ev.get("basis", "STATED") for ev in r["evidence"]]
    return "STATED" if "STATED" in bases else bases[0]


rel_bases = collections.Counter(rel_basis(r) for _, r in relations)
ev_bases = collections.Counter(ev.get("basis", "STATED") for _, r in relations for ev in r["evidence"])
eco = [i for i in entities if layer(i) == "ECOSYSTEM" and kind(i) != "DISTRICT"]
eco_located = [i for i in eco if i in located]
unlocated = sorted(set(eco) - set(eco_located))
resp_kinds = collections.Counter(r["kind"] for _, r in resp_only)


def fmt(counter, order=None):
    keys = order if order else sorted(counter, key=lambda k: (-counter[k], k))
    return ", ".join(f"{k} {counter[k]}" for k in keys if counter[k])


print(f"entities: {len(entities)} — ECOSYSTEM {layers['ECOSYSTEM']}, POLICY {layers['POLICY']}")
print(f"  ECOSYSTEM: {fmt(ent_kinds, [k for k in ECOSYSTEM])}")
print(f"  POLICY: {fmt(ent_kinds, POLICY_LAYER)}")
print(f"relations: {len(relations)} — {fmt(rel_kinds)}")
print(f"relations by basis: {fmt(rel_bases, [b for b in BASES])}")
print(f"evidence entries by basis: {fmt(ev_bases, [b for b in BASES])}")
print(f"ECOSYSTEM entities other than DISTRICT with a LOCATED_IN: {len(eco_located)}/{len(eco)} "
      f"= {100 * len(eco_located) / len(eco):.1f} %")
print(f"  without: {', '.join(unlocated) if unlocated else '-'}")
print(f"relations whose only evidence is a 责任单位/牵头单位 clause: {len(resp_only)} ({fmt(resp_kinds)}); "
      f"all RESPONSIBLE_FOR: {'yes' if set(resp_kinds) <= {'RESPONSIBLE_FOR'} else 'NO'}")
print(f"RESPONSIBLE_FOR relations in all: {rel_kinds['RESPONSIBLE_FOR']}")
if problems:
    print(f"\n{len(problems)} problem(s):")
    print("\n".join(problems))
    sys.exit(1)
print("OK")

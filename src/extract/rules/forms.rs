//! Relations from the forms reports use: what a name implies (NAME), short forms of the region's
//! bodies (市委, 市政府), 责任单位 clauses, annex table rows with a 属地, 责任单位 or 共建单位 column
//! and the units a row builds, 由…共建 / 与…共建 / 引进共建, 依托 and 以…为核心, 落户 / 位于, 牵头,
//! 与…合作 / 对接 (校地 cooperation is the region's), programmes under a programme heading or the
//! report's umbrella programme, a corridor's components, what a platform's item or sentence builds,
//! and the reporting region for the rest (REGION).

use super::text::{self, Heading};
use super::{Doc, Span};
use crate::model::{Basis, EntityKind, RelationKind};

use EntityKind as K;
use RelationKind as R;

pub fn apply(doc: &mut Doc<'_>) {
    let publisher = publisher(doc);
    government_short_forms(doc);
    centres_of_institutes(doc);
    names_imply(doc);
    programmes_named_after_places(doc);
    responsibility_clauses(doc, publisher);
    table_rows(doc, publisher);
    co_built(doc);
    relies_on(doc);
    located(doc);
    leads(doc);
    let actors = section_actors(doc, publisher);
    co_built_by_the_region(doc, &actors);
    section_actor_leads(doc);
    cooperates(doc, publisher, &actors);
    section_parts(doc);
    corridor_components(doc);
    platform_then_institute(doc);
    item_platform_builds(doc);
    platform_subject_builds(doc);
    bodies_named_after_places(doc);
    region_fallback(doc, publisher);
    counted_collective_members(doc);
}

/// The categories a counted collective groups (三大实验室, 四大创新基地).
const COLLECTIVE_CATEGORIES: &[&str] = &[
    "实验室",
    "研究院",
    "创新中心",
    "科技城",
    "科学城",
    "创新基地",
    "基地",
    "小镇",
    "科创园",
];

/// The value of a counted collective's numeral (两 → 2, 五 → 5, 十 → 10), one character.
fn numeral(c: char) -> Option<usize> {
    "一两三四五六七八九十"
        .chars()
        .position(|n| n == c)
        .map(|i| i + 1)
        .or((c == '二').then_some(2))
}

/// A counted collective the sentence then lists (高水平建设三大实验室,支持东湖、西山等实验室…,
/// 推动南岭实验室…): the collective (三大实验室) is a programme grouping its members, and each
/// member named after it in the sentence whose name ends in the collective's category is PART_OF
/// it. At least two members and no more than the count; members named before the counter
/// (东湖、西山两大科技城) are a list sharing a suffix, not a programme.
fn counted_collective_members(doc: &mut Doc<'_>) {
    let text = doc.text;
    let mut from = 0;
    while let Some(i) = text[from..].find('大') {
        let at = from + i;
        from = at + '大'.len_utf8();
        let Some((count, start)) = text[..at]
            .chars()
            .next_back()
            .and_then(|c| numeral(c).map(|n| (n, at - c.len_utf8())))
        else {
            continue;
        };
        let Some(category) = COLLECTIVE_CATEGORIES
            .iter()
            .find(|c| text[from..].starts_with(*c))
        else {
            continue;
        };
        let end = from + category.len();
        // The collective is the whole name: no name character right before the numeral.
        if text[..start]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() && !super::names::stop_before(text, start))
        {
            continue;
        }
        let (_, s_end) = text::sentence(text, start, end);
        let mut members: Vec<Span> = Vec::new();
        for s in spans_in(doc, end, s_end) {
            let e = &doc.ents[s.ent];
            if e.name.ends_with(category)
                && e.kind != K::Program
                && !members.iter().any(|m| m.ent == s.ent)
            {
                members.push(s);
            }
        }
        if members.len() < 2 || members.len() > count {
            continue;
        }
        let name = &text[start..end];
        let collective = doc.named(name, K::Program, "counted-collective", start);
        for m in members {
            let quote = text::quote_two(text, (start, end), (m.start, m.end));
            doc.relate(
                R::PartOf,
                m.ent,
                collective,
                quote,
                Basis::Stated,
                0.6,
                "counted-collective",
            );
        }
    }
}

fn span_text<'t>(doc: &Doc<'t>, s: &Span) -> &'t str {
    &doc.text[s.start..s.end]
}

fn spans_in(doc: &Doc<'_>, start: usize, end: usize) -> Vec<Span> {
    doc.spans
        .iter()
        .filter(|s| s.start >= start && s.end <= end)
        .copied()
        .collect()
}

/// Organisations that act: build, lead, take responsibility, cooperate.
fn is_actor(kind: EntityKind) -> bool {
    matches!(
        kind,
        K::Government | K::University | K::ResearchInstitute | K::Enterprise | K::Lab | K::District
    )
}

/// The publishing body named on the document's `发布机构` line, with the region for a bare 市/县;
/// without such a line, the publisher of the report's metadata if it is a government body (a
/// journal publishing a report is not its actor).
fn publisher(doc: &mut Doc<'_>) -> Option<usize> {
    publisher_line(doc).or_else(|| publisher_of_metadata(doc))
}

fn publisher_of_metadata(doc: &mut Doc<'_>) -> Option<usize> {
    let name = doc.publisher?.trim();
    let body = super::names::SUFFIXES
        .iter()
        .any(|(s, k)| *k == K::Government && name.ends_with(s));
    if !body || doc.text.contains("发布机构") {
        return None;
    }
    let name = name.to_owned();
    let offset = doc.text.find(&name).unwrap_or(0);
    Some(doc.named(&name, K::Government, "publisher-metadata", offset))
}

fn publisher_line(doc: &mut Doc<'_>) -> Option<usize> {
    let at = doc.text.find("发布机构")? + "发布机构".len();
    let rest = doc.text[at..].trim_start_matches([':', '：', '|', ' ', '\u{3000}']);
    let value: String = rest
        .chars()
        .take_while(|c| c.is_alphanumeric() && !c.is_ascii_digit())
        .collect();
    if value.chars().count() < 3 {
        return None;
    }
    let offset = doc.text.len() - rest.len();
    let name = if value.starts_with(['市', '县', '区']) {
        let region = doc.regions.first()?.1.first()?.clone();
        format!("{region}{}", value.chars().skip(1).collect::<String>())
    } else {
        value
    };
    Some(doc.named(&name, K::Government, "publisher-line", offset))
}

/// Short forms of the region's party committee, government and congress (市委、市政府, 省政府,
/// 县人大), standing for the reporting region's (or its province's) bodies and lying there. Not
/// where the text only refers to their meetings or decisions (贯彻落实省委、市委全会精神, 市委市政府
/// 决策部署), nor inside a longer name (县委科技创新委员会).
fn government_short_forms(doc: &mut Doc<'_>) {
    const FORMS: &[(&str, &str, &str)] = &[
        ("市委人才办", "中共", "委人才工作领导小组办公室"),
        ("县委人才办", "中共", "委人才工作领导小组办公室"),
        ("市委", "中共", "委"),
        ("县委", "中共", "委"),
        ("区委", "中共", "委"),
        ("省委", "中共", "委"),
        ("市政府", "", "人民政府"),
        ("县政府", "", "人民政府"),
        ("区政府", "", "人民政府"),
        ("省政府", "", "人民政府"),
        ("市人大", "", "人民代表大会"),
        ("县人大", "", "人民代表大会"),
    ];
    const REFERENCES: &[&str] = &["全会", "精神", "决策", "部署"];
    // A new body named with a short form (县委科技创新委员会) is the region's, or unresolved.
    let spans = doc.spans.clone();
    for span in spans {
        let e = &doc.ents[span.ent];
        let Some(rest) = ["市委", "县委", "区委"]
            .iter()
            .find_map(|f| e.name.strip_prefix(f).map(|r| (&f[..3], r.to_owned())))
            .filter(|(_, r)| !r.is_empty())
        else {
            continue;
        };
        if e.existing || e.kind != K::Government {
            continue;
        }
        let (level, rest) = rest;
        let region = doc
            .region_at(span.start)
            .filter(|&r| doc.ents[r].name.ends_with(level));
        let Some(region) = region else {
            doc.retire(vec![span.ent]);
            continue;
        };
        let name = format!("中共{}委{rest}", doc.ents[region].name);
        let body = doc.named(&name, K::Government, "short-form-of-region", span.start);
        let replaced = doc.remention(span.start, span.end, body);
        doc.retire(replaced);
    }
    const INSIDE: &[&str] = &["科技", "人才", "办公室", "委员会", "常委"];
    for (form, prefix, suffix) in FORMS {
        let mut from = 0;
        while let Some(i) = doc.text[from..].find(form) {
            let at = from + i;
            let end = at + form.len();
            from = end;
            let (c_start, c_end) = text::clause(doc.text, at, end);
            let before = &doc.text[c_start..at];
            let after = &doc.text[end..c_end];
            let starts_name = doc.text[..at]
                .chars()
                .next_back()
                .is_none_or(|c| !c.is_alphanumeric())
                || ["获", "与", "和", "及", "配合", "抓好"]
                    .iter()
                    .any(|w| before.ends_with(w));
            if !starts_name
                || ["贯彻", "落实"].iter().any(|w| before.contains(w))
                || REFERENCES.iter().any(|w| after.contains(w))
                || INSIDE.iter().any(|w| after.starts_with(w))
                || doc
                    .spans
                    .iter()
                    .any(|s| s.start < end && at < s.end && doc.ents[s.ent].existing)
            {
                continue;
            }
            let level = form.chars().next().map_or(String::new(), String::from);
            let place = if level == "省" {
                province_of_region(doc, at)
            } else {
                doc.region_at(at)
                    .filter(|&r| doc.ents[r].name.ends_with(level.as_str()))
            };
            let Some(place) = place else { continue };
            let name = format!("{prefix}{}{suffix}", doc.ents[place].name);
            let body = doc.named(&name, K::Government, "short-form-of-region", at);
            let replaced = doc.remention(at, end, body);
            doc.retire(replaced);
            let quote = text::quote_one(doc.text, (at, end));
            doc.relate(
                R::LocatedIn,
                body,
                place,
                quote,
                Basis::Region,
                0.5,
                "short-form-of-region",
            );
        }
    }
}

/// An institute's or laboratory's name followed at once by a centre's (某某研究院新药创制中心): the
/// centre is the institute's, PART_OF it, named with both.
fn centres_of_institutes(doc: &mut Doc<'_>) {
    let spans = doc.spans.clone();
    for (i, institute) in spans.iter().enumerate() {
        if !matches!(doc.ents[institute.ent].kind, K::ResearchInstitute | K::Lab) {
            continue;
        }
        let tail: String = doc.text[institute.end..]
            .chars()
            .take_while(|c| c.is_alphanumeric())
            .take(10)
            .collect();
        let Some(centre) = tail.find("中心").map(|i| &tail[..i + "中心".len()]) else {
            continue;
        };
        let end = institute.end + centre.len();
        let next_is_name = doc.text[end..]
            .chars()
            .next()
            .is_some_and(char::is_alphanumeric);
        let crosses = spans[i + 1..].iter().any(|s| s.start < end && s.end > end);
        if centre.chars().count() < 4
            || centre.contains(['等', '个', '和', '与', '及'])
            || next_is_name
            || crosses
            || super::names::starts_with_verb(centre)
        {
            continue;
        }
        let name = doc.text[institute.start..end].to_owned();
        let ent = doc.named(
            &name,
            K::ResearchInstitute,
            "centre-of-institute",
            institute.start,
        );
        doc.remention(institute.start, end, ent);
        doc.relate(
            R::PartOf,
            ent,
            institute.ent,
            name,
            Basis::Name,
            0.6,
            "centre-of-institute",
        );
    }
}

/// What a name implies: an institute named after a university was co-built by it; a name holding
/// a district's name lies there; a name that starts with another entity's name is part of it.
fn names_imply(doc: &mut Doc<'_>) {
    let universities: Vec<(String, super::Known)> = doc
        .gazetteer
        .names()
        .filter(|(_, k)| k.kind == K::University)
        .map(|(n, k)| (n.to_owned(), k.clone()))
        .collect();
    let spans = doc.spans.clone();
    for span in &spans {
        let kind = doc.ents[span.ent].kind;
        // A centre of an institute takes its builder and place from the institute.
        if kind == K::District
            || !doc.is_ecosystem(span.ent)
            || doc.ents[span.ent].rule == "centre-of-institute"
        {
            continue;
        }
        // A name spelled in parts is matched whole and quoted by the phrase holding its parts.
        let name = doc.ents[span.ent].name.clone();
        let (surface, folded) = match span.whole {
            Some((a, b)) => (&doc.text[a..b], super::key(&name)),
            None => (span_text(doc, span), super::key(span_text(doc, span))),
        };
        let mut rest_from = 0;
        // Named after a university (the longest university name it starts with).
        let university = universities
            .iter()
            .filter(|(n, _)| folded.starts_with(n.as_str()) && folded.len() > n.len())
            .max_by_key(|(n, _)| n.len());
        if let Some((name, known)) = university
            && kind != K::University
        {
            rest_from = name.len();
            let u = doc.known(known, span.start);
            if matches!(kind, K::ResearchInstitute | K::Lab | K::Platform) {
                doc.relate(
                    R::CoBuiltBy,
                    span.ent,
                    u,
                    surface.to_owned(),
                    Basis::Name,
                    0.8,
                    "named-after-university",
                );
            } else if kind == K::University {
                doc.relate(
                    R::PartOf,
                    span.ent,
                    u,
                    surface.to_owned(),
                    Basis::Name,
                    0.6,
                    "named-after-university",
                );
            }
        }
        // Part of an entity whose name it starts with (…研究院…研究中心, …高新区科技人才局).
        if rest_from == 0 {
            let whole = spans
                .iter()
                .filter(|o| o.ent != span.ent)
                .map(|o| (o.ent, doc.ents[o.ent].name.clone(), doc.ents[o.ent].kind))
                .chain(
                    doc.gazetteer
                        .names()
                        .map(|(n, k)| (usize::MAX, n.to_owned(), k.kind)),
                )
                .filter(|(_, n, k)| {
                    !matches!(k, K::District | K::University)
                        && n.chars().count() >= 3
                        && folded.starts_with(n.as_str())
                        && folded.len() > n.len()
                        && k.layer() == crate::model::Layer::Ecosystem
                })
                .max_by_key(|(_, n, _)| n.len());
            if let Some((ent, name, _)) = whole
                && !folded[name.len()..].starts_with('(')
            {
                let ent = if ent == usize::MAX {
                    match doc.gazetteer.lookup(&name).cloned() {
                        Some(k) => doc.known(&k, span.start),
                        None => continue,
                    }
                } else {
                    ent
                };
                doc.relate(
                    R::PartOf,
                    span.ent,
                    ent,
                    surface.to_owned(),
                    Basis::Name,
                    0.6,
                    "name-holds-whole",
                );
                rest_from = name.len();
            } else if let Some((whole, whole_kind)) =
                unknown_whole(surface, kind).filter(|_| span.whole.is_none())
            {
                // A whole the graph does not know yet, named by its own suffix (某地光源|某站).
                let ent = doc.named(whole, whole_kind, "name-holds-whole", span.start);
                doc.relate(
                    R::PartOf,
                    span.ent,
                    ent,
                    surface.to_owned(),
                    Basis::Name,
                    0.6,
                    "name-holds-whole",
                );
                // A body of a platform (某高新区科技人才局) also lies in it.
                if kind == K::Government {
                    doc.relate(
                        R::LocatedIn,
                        span.ent,
                        ent,
                        surface.to_owned(),
                        Basis::Name,
                        0.6,
                        "name-holds-whole",
                    );
                }
                if let Some(d) = doc
                    .districts_in(whole, span.start)
                    .into_iter()
                    .filter(|&d| doc.level(d) >= 1)
                    .max_by_key(|&d| doc.level(d))
                {
                    doc.relate(
                        R::LocatedIn,
                        ent,
                        d,
                        surface.to_owned(),
                        Basis::Name,
                        0.6,
                        "place-in-name",
                    );
                }
                rest_from = super::key(whole).len();
            }
        }
        // A district's name inside (after the university's): the finest one.
        let rest: String = folded[rest_from.min(folded.len())..].to_owned();
        let districts = doc.districts_in(&rest, span.start);
        let finest = districts
            .iter()
            .copied()
            .filter(|&d| doc.level(d) >= 1 || kind == K::Government)
            .filter(|&d| !(kind == K::University && rest_from > 0 && doc.level(d) < 2))
            .max_by_key(|&d| doc.level(d));
        if let Some(d) = finest {
            doc.relate(
                R::LocatedIn,
                span.ent,
                d,
                surface.to_owned(),
                Basis::Name,
                0.7,
                "place-in-name",
            );
        }
    }
}

/// A programme or policy whose name holds a district (5·31某县科技日, 《某省科学技术进步条例》)
/// APPLIES_TO the finest one; one the text calls the province's (省X计划, 全省X工程) applies to
/// the province of the reporting region.
fn programmes_named_after_places(doc: &mut Doc<'_>) {
    let spans = doc.spans.clone();
    for span in &spans {
        if doc.ents[span.ent].kind.layer() != crate::model::Layer::Policy {
            continue;
        }
        let surface = span_text(doc, span).to_owned();
        let finest = doc
            .districts_in(&surface, span.start)
            .into_iter()
            .max_by_key(|&d| doc.level(d));
        let before = &doc.text[..span.start];
        let provincial = ["全省", "省"].iter().any(|p| {
            before.ends_with(p) && !before[..before.len() - p.len()].ends_with(['市', '县', '区'])
        });
        let (district, quote) = match finest {
            Some(d) => (Some(d), surface.clone()),
            None if provincial => (
                province_of_region(doc, span.start),
                text::quote_one(doc.text, (span.start, span.end)),
            ),
            None => (None, String::new()),
        };
        if let Some(d) = district {
            doc.relate(
                R::AppliesTo,
                span.ent,
                d,
                quote,
                Basis::Name,
                0.6,
                "programme-named-after-place",
            );
        }
    }
}

/// The province the reporting region at `at` belongs to (by its division code).
/// Name beginnings that belong to no single reporting region: national, international and the
/// macro-regions that span provinces.
const BEYOND_REGION: &[&str] = &[
    "国家",
    "中国",
    "中华",
    "全国",
    "联合国",
    "国际",
    "长三角",
    "长江三角洲",
    "长江经济带",
    "京津冀",
    "粤港澳",
    "大湾区",
    "成渝",
];

/// Whether a name is of a level above the reporting region at `at`: national, macro-regional, or
/// its province's (省…, or the province's own name when the region lies below the province).
fn beyond_region(doc: &Doc<'_>, name: &str, at: usize) -> bool {
    BEYOND_REGION.iter().any(|b| name.starts_with(b))
        || name.starts_with('省')
        || doc.region_at(at).is_some_and(|region| {
            doc.provinces
                .iter()
                .filter(|(r, _)| *r == region)
                .flat_map(|(_, names)| names)
                .any(|p| name.starts_with(p.as_str()))
        })
}

fn province_of_region(doc: &mut Doc<'_>, at: usize) -> Option<usize> {
    let region = doc.region_at(at)?;
    let code = doc.ents[region].district_code.clone()?;
    let province = format!("{}0000", code.get(..2)?);
    let known = doc
        .gazetteer
        .names()
        .map(|(_, k)| k)
        .find(|k| k.kind == K::District && k.district_code.as_deref() == Some(&province))?
        .clone();
    Some(doc.known(&known, at))
}

/// The whole a facility's, platform's or body's name starts with, named by a suffix of its own (a
/// light source's beam station: 某地光源|某地线站; 某地高新区|科技人才局): the shortest such prefix of four characters or more
/// that is no category, with a named part after it.
fn unknown_whole(surface: &str, kind: EntityKind) -> Option<(&str, EntityKind)> {
    if !matches!(kind, K::Facility | K::Platform | K::Government) {
        return None;
    }
    let suffixes = super::names::SUFFIXES;
    surface
        .char_indices()
        .skip(3)
        .map(|(i, c)| i + c.len_utf8())
        .filter(|&end| end < surface.len())
        .find_map(|end| {
            let prefix = &surface[..end];
            let rest = &surface[end..];
            let (suffix, k) = suffixes
                .iter()
                .find(|(s, k)| prefix.ends_with(s) && matches!(k, K::Facility | K::Platform))?;
            let rest_named =
                rest.chars().count() >= 3 && suffixes.iter().any(|(s, _)| rest.ends_with(s));
            let core = prefix.strip_suffix(suffix).unwrap_or(prefix);
            let specific = super::names::without_generic_words(core).chars().count() >= 2;
            (rest_named && specific && !prefix.contains('、')).then_some((prefix, *k))
        })
}

/// A unit a responsibility clause or cell names: a known body, the publisher's division, a
/// 市/县 bureau of the region, a county's people's government, or a new body.
fn resolve_unit(
    doc: &mut Doc<'_>,
    unit: &str,
    at: usize,
    publisher: Option<usize>,
) -> Option<(usize, bool)> {
    let unit = unit
        .trim()
        .trim_matches(['(', ')', '（', '）', ' ', '\u{3000}']);
    if unit.chars().count() < 2
        || ["各", "相关", "有关", "其他"]
            .iter()
            .any(|w| unit.starts_with(w))
        || unit.contains(['等', '(', ')', '（', '）'])
    {
        return None;
    }
    // A short form that depends on the report (市科技局) is resolved with the region below,
    // unless a rule has resolved it already (市委人才办).
    let short_form = unit.starts_with(['市', '县', '区']);
    if let Some(span) = doc.spans.iter().find(|s| {
        s.start == at
            && doc.text[s.start..s.end] == *unit
            && (!short_form || doc.ents[s.ent].rule == "short-form-of-region")
    }) {
        let ent = span.ent;
        if doc.ents[ent].kind == K::Government {
            return Some((ent, false));
        }
    }
    if let Some(known) = doc.gazetteer.lookup(unit).cloned() {
        if known.kind == K::Government {
            return Some((doc.known(&known, at), false));
        }
        if known.kind == K::District {
            let name = format!("{}人民政府", known.name);
            return Some((
                doc.named(&name, K::Government, "county-as-government", at),
                false,
            ));
        }
        return None;
    }
    if unit.starts_with(['市', '县', '区']) && !unit.starts_with("市场") {
        let region = doc.regions.first()?.1.first()?.clone();
        let name = format!("{region}{}", unit.chars().skip(1).collect::<String>());
        // 科技局 is the usual short form of 科学技术局.
        let same = |a: &str| {
            super::key(a).replace("科学技术局", "科技局")
                == super::key(&name).replace("科学技术局", "科技局")
        };
        if let Some(p) = publisher
            && (same(&doc.ents[p].name) || doc.ents[p].aliases.iter().any(|a| same(a)))
        {
            return Some((p, false));
        }
        return Some((doc.named(&name, K::Government, "unit-of-region", at), false));
    }
    // A bureau housed in the publisher, named by its usual abbreviation (外专局): the region's.
    if let Some((_, full)) = HOUSED_BUREAUS.iter().find(|(short, _)| unit == *short) {
        publisher?;
        let region = doc.regions.first()?.1.first()?.clone();
        let name = format!("{region}{full}");
        return Some((
            doc.named(&name, K::Government, "bureau-of-region", at),
            true,
        ));
    }
    let division = ["处", "办公室", "党委", "纪委", "科"]
        .iter()
        .any(|s| unit.ends_with(s));
    if division {
        let p = publisher?;
        let name = format!("{}{}", doc.ents[p].name, unit);
        let ent = doc.named(&name, K::Government, "division-of-publisher", at);
        if !doc.ents[ent].aliases.iter().any(|a| a == unit) && doc.ents[ent].name != unit {
            doc.ents[ent].aliases.push(unit.to_owned());
        }
        return Some((ent, true));
    }
    if super::names::SUFFIXES
        .iter()
        .any(|(s, k)| *k == K::Government && unit.ends_with(s))
        || unit.ends_with("专班")
        || unit.ends_with("人才办")
    {
        return Some((doc.named(unit, K::Government, "unit-named", at), false));
    }
    None
}

/// Bureaus a science and technology bureau houses, by the abbreviation 责任单位 clauses use.
const HOUSED_BUREAUS: &[(&str, &str)] = &[("外专局", "外国专家局")];

/// Splits a list of units at 、 , ， ; and gives each with its byte offset.
fn units(list: &str, base: usize) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, c) in list
        .char_indices()
        .chain(std::iter::once((list.len(), ',')))
    {
        if matches!(c, '、' | ',' | '，' | ';' | '；') {
            let part = &list[start..i];
            let lead = part.len() - part.trim_start().len();
            out.push((part.trim().to_owned(), base + start + lead));
            start = i + c.len_utf8();
        }
    }
    out
}

/// The numbered item `at` belongs to: its heading, if any.
fn item_of(headings: &[Heading], at: usize) -> Option<Heading> {
    headings
        .iter()
        .rev()
        .find(|h| h.start <= at && h.level >= 2)
        .copied()
        .filter(|h| {
            !headings
                .iter()
                .any(|o| o.start > h.start && o.start <= at && o.level <= h.level)
        })
}

/// `(责任单位:A、B,各区县科技局)` → RESPONSIBLE_FOR from each unit named individually to the most
/// specific named thing of the item: the one its heading names, else those its text names.
fn responsibility_clauses(doc: &mut Doc<'_>, publisher: Option<usize>) {
    let headings = text::headings(doc.text);
    let mut from = 0;
    while let Some(found) = ["责任单位", "牵头单位"]
        .iter()
        .filter_map(|w| doc.text[from..].find(w).map(|i| (from + i, w.len())))
        .min()
    {
        let (at, len) = found;
        from = at + len;
        let after = &doc.text[at + len..];
        let Some(colon) = after.chars().next().filter(|c| matches!(c, ':' | '：')) else {
            continue;
        };
        let list_start = at + len + colon.len_utf8();
        let Some(close) = doc.text[list_start..].find([')', '）', '\n']) else {
            continue;
        };
        let list_end = list_start + close;
        let open = doc.text[..at]
            .rfind(['(', '（'])
            .filter(|&o| at - o <= 3)
            .unwrap_or(at);
        let close_end = list_end
            + doc.text[list_end..]
                .chars()
                .next()
                .map_or(0, char::len_utf8);
        let clause = doc.text[open..close_end].to_owned();
        let list = doc.text[list_start..list_end].to_owned();
        // Targets: the item's heading names, else the item's named things.
        let Some(item) = item_of(&headings, at) else {
            continue;
        };
        let thing = |d: &Doc<'_>, s: &Span| {
            !matches!(
                d.ents[s.ent].kind,
                K::Government | K::District | K::University
            )
        };
        let mut targets: Vec<Span> = spans_in(doc, item.start, item.title_end)
            .into_iter()
            .filter(|s| thing(doc, s))
            .collect();
        if targets.is_empty() {
            targets = spans_in(doc, item.title_end, open)
                .into_iter()
                .filter(|s| {
                    thing(doc, s)
                        && matches!(
                            doc.ents[s.ent].kind,
                            K::Program | K::Policy | K::Platform | K::Alliance
                        )
                })
                .collect();
        }
        for (unit, offset) in units(&list, list_start) {
            let Some((ent, division)) = resolve_unit(doc, &unit, offset, publisher) else {
                continue;
            };
            if division && let Some(p) = publisher {
                doc.relate(
                    R::PartOf,
                    ent,
                    p,
                    clause.clone(),
                    Basis::Stated,
                    0.6,
                    "responsibility-clause-division",
                );
            }
            for t in &targets {
                let head = text::quote_one(doc.text, (t.start, t.end));
                let quote = if text::line(doc.text, t.start) == text::line(doc.text, open) {
                    format!("{head}[…]{clause}")
                } else {
                    clause.clone()
                };
                doc.relate(
                    R::ResponsibleFor,
                    ent,
                    t.ent,
                    quote,
                    Basis::Stated,
                    0.7,
                    "responsibility-clause",
                );
            }
        }
    }
}

/// Annex tables (cells between bars, or tab-separated): a header row naming a name column and a 属地
/// or 责任单位 column; each row's name is an entity (the table's title gives the kind where the
/// name's suffix does not), located in its 属地 district, the responsibility of the unit the cell
/// names, and CO_BUILT_BY each unit a 共建单位 cell names.
fn table_rows(doc: &mut Doc<'_>, publisher: Option<usize>) {
    let text = doc.text;
    let lines: Vec<(usize, &str)> = {
        let mut at = 0;
        text.split('\n')
            .map(|l| {
                let start = at;
                at += l.len() + 1;
                (start, l)
            })
            .collect()
    };
    let mut i = 0;
    while i < lines.len() {
        let (_, line) = lines[i];
        // Cells are separated by bars, or by tabs in a table pasted from a spreadsheet.
        let sep = if line.contains('|') { '|' } else { '\t' };
        let cells: Vec<String> = line
            .split(sep)
            .map(|c| c.split_whitespace().collect())
            .collect();
        let name_col = cells.iter().position(|c| c.ends_with("名称"));
        let place_col = cells.iter().position(|c| c == "属地");
        let unit_col = cells
            .iter()
            .position(|c| c == "责任单位" || c == "牵头单位");
        let builders_col = cells.iter().position(|c| c == "共建单位");
        let (Some(name_col), true) = (name_col, place_col.is_some() || unit_col.is_some()) else {
            i += 1;
            continue;
        };
        let title = if i > 0 { lines[i - 1].1 } else { "" };
        let table_kind = if title.contains("政策") {
            Some(K::Policy)
        } else if title.contains("改革") || title.contains("活动") || title.contains("节会") {
            Some(K::Program)
        } else if title.contains("平台") {
            Some(K::Platform)
        } else {
            None
        };
        i += 1;
        while i < lines.len() && lines[i].1.contains(sep) {
            let (line_start, line) = lines[i];
            i += 1;
            let raw_cells: Vec<(usize, &str)> = {
                let mut at = 0;
                line.split(sep)
                    .map(|c| {
                        let start = at;
                        at += c.len() + 1;
                        (line_start + start, c)
                    })
                    .collect()
            };
            let Some(&(cell_at, cell)) = raw_cells.get(name_col) else {
                continue;
            };
            let lead = cell.len() - cell.trim_start().len();
            let name = cell.trim();
            let name_at = cell_at + lead;
            if name.is_empty() {
                continue;
            }
            // The row's entity: a title in book marks, a mention covering the cell, or the cell.
            let inner = spans_in(doc, name_at, name_at + name.len());
            // A heading (探索…新路径) names no entity; what its row builds is still placed.
            // A cell labelled by its category (大科学装置——“某某装置”项目) names what follows.
            let labelled = name.find("——").and_then(|dash| {
                let after = name_at + dash + "——".len();
                inner
                    .iter()
                    .find(|s| s.start >= after && doc.is_ecosystem(s.ent))
                    .filter(|s| doc.text[after..s.start].trim_matches('“').is_empty())
                    .map(|s| s.ent)
            });
            let ent = if let Some(s) = inner.iter().find(|s| doc.ents[s.ent].kind == K::Policy) {
                Some(s.ent)
            } else if labelled.is_some() {
                labelled
            } else if let Some(s) = inner
                .iter()
                .find(|s| s.start == name_at && s.end == name_at + name.len())
            {
                let e = s.ent;
                if let Some(k) = table_kind
                    && !doc.ents[e].existing
                    && k != K::Platform
                    && doc.ents[e].kind.layer() != k.layer()
                {
                    doc.ents[e].kind = k;
                }
                Some(e)
            } else {
                let starts_with_verb = super::names::starts_with_verb(name)
                    || [
                        "打造", "探索", "围绕", "推进", "建设", "构建", "深化", "实施",
                    ]
                    .iter()
                    .any(|w| name.starts_with(w));
                if starts_with_verb || name.chars().count() > 40 {
                    None
                } else {
                    let kind = super::names::SUFFIXES
                        .iter()
                        .find(|(s, _)| name.ends_with(s))
                        .map(|(_, k)| *k)
                        .or(table_kind)
                        .unwrap_or(K::Platform);
                    let kind = if table_kind == Some(K::Program) {
                        K::Program
                    } else {
                        kind
                    };
                    let e = doc.named(name, kind, "table-row", name_at);
                    doc.spans.push(Span {
                        start: name_at,
                        end: name_at + name.len(),
                        ent: e,
                        whole: None,
                    });
                    doc.spans.sort_by_key(|s| s.start);
                    Some(e)
                }
            };
            let name_cell_end = raw_cells
                .get(name_col + 1)
                .map_or(line_start + line.len(), |c| c.0);
            let content_end = [place_col, unit_col]
                .into_iter()
                .flatten()
                .filter_map(|c| raw_cells.get(c).map(|c| c.0))
                .filter(|&c| c > name_cell_end)
                .min()
                .unwrap_or(line_start + line.len());
            row_units(doc, ent, name_at, name_cell_end, content_end);
            let row_quote = |col_at: usize, col_end: usize| -> String {
                let head = &text[line_start..name_cell_end];
                if col_at <= name_cell_end {
                    text[line_start..col_end].to_owned()
                } else {
                    format!("{head}[…]{}", &text[col_at - 1..col_end])
                }
            };
            // A 共建单位 cell names who co-built what the row builds.
            if let (Some(col), Some(built)) = (builders_col, ent)
                && matches!(
                    doc.ents[built].kind,
                    K::ResearchInstitute | K::Lab | K::Platform | K::Alliance
                )
                && let Some(&(c_at, c)) = raw_cells.get(col)
            {
                let c_end = c_at + c.len() + usize::from(text[c_at + c.len()..].starts_with(sep));
                let quote = row_quote(c_at, c_end);
                for (unit, offset) in units(c, c_at) {
                    let named = doc
                        .spans
                        .iter()
                        .find(|s| s.start == offset && text[s.start..s.end] == unit)
                        .map(|s| s.ent)
                        .or_else(|| {
                            let known = doc.gazetteer.lookup(&unit).cloned()?;
                            Some(doc.known(&known, offset))
                        })
                        .filter(|&b| is_actor(doc.ents[b].kind) && doc.ents[b].kind != K::District)
                        .or_else(|| resolve_unit(doc, &unit, offset, publisher).map(|(g, _)| g));
                    if let Some(builder) = named {
                        doc.relate(
                            R::CoBuiltBy,
                            built,
                            builder,
                            quote.clone(),
                            Basis::Stated,
                            0.7,
                            "table-builders-column",
                        );
                    }
                }
            }
            for col in [place_col, unit_col].into_iter().flatten() {
                let Some(&(c_at, c)) = raw_cells.get(col) else {
                    continue;
                };
                let c_end = c_at + c.len() + usize::from(text[c_at + c.len()..].starts_with(sep));
                let quote = row_quote(c_at, c_end);
                for (unit, offset) in units(c, c_at) {
                    if unit.is_empty() {
                        continue;
                    }
                    if Some(col) == place_col
                        && let Some(d) = doc
                            .gazetteer
                            .lookup(&unit)
                            .cloned()
                            .filter(|k| k.kind == K::District)
                    {
                        let d = doc.known(&d, offset);
                        // What the row builds lies where the row's 属地 cell says.
                        for built in spans_in(doc, name_cell_end, c_at) {
                            let k = doc.ents[built.ent].kind;
                            if doc.is_ecosystem(built.ent)
                                && !matches!(k, K::District | K::University | K::Government)
                                && !doc.ents[built.ent].existing
                                && Some(built.ent) != ent
                                && !doc.has_relation(R::LocatedIn, built.ent)
                            {
                                let mid = text::quote_one(text, (built.start, built.end));
                                let q = format!(
                                    "{}[…]{mid}[…]{}",
                                    &text[line_start..name_cell_end],
                                    &text[c_at - 1..c_end]
                                );
                                doc.relate(
                                    R::LocatedIn,
                                    built.ent,
                                    d,
                                    q,
                                    Basis::Stated,
                                    0.6,
                                    "table-place-column-built",
                                );
                            }
                        }
                        let Some(ent) = ent else { continue };
                        if doc.is_ecosystem(ent) {
                            doc.relate(
                                R::LocatedIn,
                                ent,
                                d,
                                quote.clone(),
                                Basis::Stated,
                                0.8,
                                "table-place-column",
                            );
                        } else {
                            doc.relate(
                                R::AppliesTo,
                                ent,
                                d,
                                quote.clone(),
                                Basis::Stated,
                                0.7,
                                "table-place-column",
                            );
                        }
                        continue;
                    }
                    if let Some(ent) = ent
                        && let Some((g, _)) = resolve_unit(doc, &unit, offset, publisher)
                    {
                        doc.relate(
                            R::ResponsibleFor,
                            g,
                            ent,
                            quote.clone(),
                            Basis::Stated,
                            0.7,
                            "table-unit-column",
                        );
                    }
                }
            }
        }
    }
}

/// Endings of the units an institute, college or platform is made of, with their kind (a training
/// unit is a platform).
const UNIT_SUFFIXES: &[(&str, EntityKind)] = &[
    ("研究中心", K::ResearchInstitute),
    ("创新中心", K::ResearchInstitute),
    ("研究院", K::ResearchInstitute),
    ("创新院", K::ResearchInstitute),
    ("实验室", K::Lab),
    ("培训院", K::Platform),
    ("服务中心", K::Platform),
    ("工作站", K::Platform),
    ("基地", K::Platform),
    ("产业园", K::Platform),
];

/// Verbs that introduce what a row builds.
const BUILD_VERBS: &[&str] = &["建设", "推进", "深化", "配套有", "建立", "组建", "布局"];

/// The units a table row builds for its owner, named only by their kind of work (深化科工研究院、
/// 产业创新院等建设; 建设芯片研究中心、管控系统研究中心; 推进企业服务中心、“人才湾”等先导项目建设):
/// each is the owner's, named with the owner's name before its own (the bare name kept as an
/// alias). The owner is the row's entity (its units are PART_OF it, and lie in it if it is a
/// platform), else the base the row builds on (依托X,建设…: they RELY_ON X). An enumeration needs
/// two items or more; its items ending in a unit's suffix (or quoted) are units, the others
/// (人才工作室) are not named; counted items (3个研究中心) are categories.
fn row_units(doc: &mut Doc<'_>, row: Option<usize>, row_at: usize, from: usize, to: usize) {
    let owner_kinds = |k: EntityKind| {
        matches!(
            k,
            K::ResearchInstitute | K::Lab | K::University | K::Platform | K::Facility
        )
    };
    let base = doc.text[from..to].find("依托").and_then(|i| {
        let at = from + i + "依托".len();
        spans_in(doc, at, to)
            .into_iter()
            .next()
            .filter(|s| doc.text[at..s.start].trim().is_empty())
            .map(|s| s.ent)
    });
    let (owner, kind) = match row.filter(|&r| owner_kinds(doc.ents[r].kind)) {
        Some(r) => (r, R::PartOf),
        None => match base.filter(|&b| owner_kinds(doc.ents[b].kind)) {
            Some(b) => (b, R::ReliesOn),
            None => return,
        },
    };
    let owner_name = doc.ents[owner].name.clone();
    for verb in BUILD_VERBS {
        let mut at = from;
        while let Some(i) = doc.text[at..to].find(verb) {
            let list_start = at + i + verb.len();
            at = list_start;
            let list_end = list_start
                + doc.text[list_start..to]
                    .find(['等', ',', '，', '。', ';', '；', '|'])
                    .unwrap_or(to - list_start);
            let items = units(&doc.text[list_start..list_end], list_start);
            let named: Vec<(String, usize, EntityKind)> = items
                .iter()
                .filter_map(|(item, offset)| {
                    let quoted = item.starts_with('“') && item.ends_with('”');
                    let bare = item.trim_matches(['“', '”']);
                    let kind = UNIT_SUFFIXES
                        .iter()
                        .find(|(s, _)| bare.ends_with(s) && bare.len() > s.len())
                        .map(|(_, k)| *k)
                        .or(quoted.then_some(K::Platform))?;
                    let counted = bare.starts_with(|c: char| {
                        c.is_ascii_digit() || "一二三四五六七八九十两N".contains(c)
                    }) && bare.chars().nth(1).is_some_and(|c| "个家所大".contains(c));
                    let offset = offset + usize::from(quoted) * '“'.len_utf8();
                    (!counted).then(|| (bare.to_owned(), offset, kind))
                })
                .collect();
            if items.len() < 2 || named.is_empty() {
                continue;
            }
            for (bare, offset, unit_kind) in named {
                let name = if quoted_or_proper(doc, offset, &bare) {
                    bare.clone()
                } else {
                    format!("{owner_name}{bare}")
                };
                let unit = doc.named(&name, unit_kind, "row-unit", offset);
                if name != bare && !doc.ents[unit].aliases.contains(&bare) {
                    doc.ents[unit].aliases.push(bare.clone());
                }
                let end = offset + bare.len();
                let replaced = doc.remention(offset, end, unit);
                doc.retire(replaced);
                let (line_start, _) = text::line(doc.text, row_at);
                let quote = format!(
                    "{}[…]{}",
                    doc.text[line_start..from]
                        .trim_end_matches(['|', '\t'])
                        .trim_end(),
                    text::quote_one(doc.text, (offset, end))
                );
                let quote = if kind == R::ReliesOn {
                    text::quote_one(doc.text, (offset, end))
                } else {
                    quote
                };
                doc.relate(
                    kind,
                    unit,
                    owner,
                    quote.clone(),
                    Basis::Stated,
                    0.6,
                    "row-unit",
                );
                if doc.ents[owner].kind == K::Platform {
                    doc.relate(
                        R::LocatedIn,
                        unit,
                        owner,
                        quote,
                        Basis::Stated,
                        0.6,
                        "row-unit",
                    );
                }
            }
        }
    }
}

/// Whether a unit's name stands by itself: quoted (“人才湾”), or holding a known name.
fn quoted_or_proper(doc: &Doc<'_>, offset: usize, bare: &str) -> bool {
    doc.text[..offset].ends_with('“')
        || doc
            .spans
            .iter()
            .any(|s| s.start >= offset && s.end <= offset + bare.len() && doc.ents[s.ent].existing)
}

/// The table row's entity at `at`, if `at` is in a table row: the first mention of the row.
fn row_entity(doc: &Doc<'_>, at: usize) -> Option<usize> {
    let (ls, le) = text::line(doc.text, at);
    let line = &doc.text[ls..le];
    if line.matches('|').count() < 2 {
        return None;
    }
    let first_bar = ls + line.find('|')?;
    let second = first_bar + 1 + doc.text[first_bar + 1..le].find('|')?;
    doc.spans
        .iter()
        .find(|s| s.start > first_bar && s.end <= second)
        .map(|s| s.ent)
}

/// 由A与B(联合)共建(的X) / X由A与B共建 / A与B共建X / 引进共建X: X CO_BUILT_BY A and B.
fn co_built(doc: &mut Doc<'_>) {
    let mut from = 0;
    while let Some(i) = doc.text[from..].find("共建") {
        let at = from + i;
        from = at + "共建".len();
        let (s_start, s_end) = text::sentence(doc.text, at, at);
        let before = &doc.text[s_start..at];
        let built_after = |d: &Doc<'_>| {
            spans_in(d, at, s_end).into_iter().find(|s| {
                matches!(
                    d.ents[s.ent].kind,
                    K::ResearchInstitute | K::Lab | K::Platform | K::Alliance
                )
            })
        };
        let (builders_from, built) = if let Some(by) = before.rfind('由') {
            let by = s_start + by;
            let built = spans_in(doc, s_start, by)
                .into_iter()
                .rev()
                .find(|s| {
                    matches!(
                        doc.ents[s.ent].kind,
                        K::ResearchInstitute | K::Lab | K::Platform | K::Alliance
                    )
                })
                .map(|s| s.ent)
                .or_else(|| {
                    doc.text[at..s_end]
                        .starts_with("共建的")
                        .then(|| built_after(doc).map(|s| s.ent))
                        .flatten()
                })
                .or_else(|| row_entity(doc, at));
            (by, built)
        } else if let Some(with) = before.rfind('与') {
            let (c_start, _) = text::clause(doc.text, at, at);
            let start = s_start + with;
            let subject_from = spans_in(doc, c_start.max(s_start), start)
                .into_iter()
                .next()
                .map_or(start, |s| s.start);
            (subject_from, built_after(doc).map(|s| s.ent))
        } else {
            continue;
        };
        let Some(built) = built else { continue };
        let builders: Vec<Span> = spans_in(doc, builders_from, at)
            .into_iter()
            .filter(|s| is_actor(doc.ents[s.ent].kind) && s.ent != built)
            .collect();
        for b in builders {
            let quote = doc.text[builders_from.min(b.start)..at + "共建".len()].to_owned();
            doc.relate(
                R::CoBuiltBy,
                built,
                b.ent,
                quote,
                Basis::Stated,
                0.75,
                "co-built",
            );
        }
    }
}

/// 引进共建A、B等N个载体 with no builder named in its sentence, in a part of the report that is the
/// region's (no bureau is its subject): each of A, B is CO_BUILT_BY the reporting region.
fn co_built_by_the_region(doc: &mut Doc<'_>, actors: &[(usize, Actor)]) {
    let mut from = 0;
    while let Some(i) = doc.text[from..].find("引进共建") {
        let at = from + i;
        from = at + "引进共建".len();
        let (s_start, s_end) = text::sentence(doc.text, at, at);
        let (c_start, _) = text::clause(doc.text, at, at);
        let named_builder = spans_in(doc, s_start, at)
            .iter()
            .any(|s| is_actor(doc.ents[s.ent].kind));
        let bureau = matches!(actor_at(actors, at), Some(Actor::Body(_)));
        if named_builder || bureau {
            continue;
        }
        let Some(region) = doc.region_at(at) else {
            continue;
        };
        let list_end = doc.text[from..s_end]
            .find(['等', '，', ',', '。'])
            .map_or(s_end, |i| from + i);
        for built in spans_in(doc, from, list_end) {
            if !matches!(
                doc.ents[built.ent].kind,
                K::ResearchInstitute | K::Lab | K::Platform | K::Alliance
            ) {
                continue;
            }
            let quote = doc.text[c_start..built.end].to_owned();
            doc.relate(
                R::CoBuiltBy,
                built.ent,
                region,
                quote,
                Basis::Stated,
                0.6,
                "brought-in-and-co-built",
            );
        }
    }
}

/// 依托X(建设Y), Y依托X建设 and 以X为核心/为牵引/为依托/为支撑: the subject RELIES_ON X; 以X为核心/为重点
/// inside a platform's item also places X in it.
fn relies_on(doc: &mut Doc<'_>) {
    let headings = text::headings(doc.text);
    // 以X为…
    let mut from = 0;
    while let Some(i) = doc.text[from..].find('以') {
        let at = from + i;
        from = at + '以'.len_utf8();
        let (c_start, c_end) = text::clause(doc.text, at, at);
        let clause = &doc.text[at..c_end];
        let Some(rel) = ["为核心", "为牵引", "为依托", "为支撑", "为重点"]
            .iter()
            .find_map(|w| clause.find(w).map(|p| (at + p, *w)))
        else {
            continue;
        };
        let objects: Vec<Span> = spans_in(doc, at, rel.0)
            .into_iter()
            .filter(|s| doc.is_ecosystem(s.ent) && doc.ents[s.ent].kind != K::District)
            .collect();
        // The subject: the platform the item is about, named before in the item.
        let item_start = headings
            .iter()
            .rev()
            .find(|h| h.start <= at)
            .map_or(0, |h| h.start);
        let (l_start, _) = text::line(doc.text, at);
        let subject = spans_in(doc, item_start.max(l_start), c_start.max(item_start))
            .into_iter()
            .rev()
            .find(|s| matches!(doc.ents[s.ent].kind, K::Platform));
        let Some(subject) = subject else { continue };
        for o in objects {
            let quote = text::quote_two(
                doc.text,
                (subject.start, subject.end),
                (o.start, rel.0 + rel.1.len()),
            );
            if rel.1 != "为重点" {
                doc.relate(
                    R::ReliesOn,
                    subject.ent,
                    o.ent,
                    quote.clone(),
                    Basis::Stated,
                    0.7,
                    "with-x-as-core",
                );
            }
            if matches!(rel.1, "为核心" | "为重点") {
                doc.relate(
                    R::LocatedIn,
                    o.ent,
                    subject.ent,
                    quote,
                    Basis::Stated,
                    0.6,
                    "with-x-as-core",
                );
            }
        }
    }
    // 依托X
    let mut from = 0;
    while let Some(i) = doc.text[from..].find("依托") {
        let at = from + i;
        from = at + "依托".len();
        let (_, c_end) = text::clause(doc.text, at, at);
        let (_, s_end) = text::sentence(doc.text, at, at);
        let clause = &doc.text[at..c_end];
        let build = ["建设", "组建", "创建", "打造"]
            .iter()
            .filter_map(|w| clause.find(w).map(|p| at + p))
            .min();
        let objects: Vec<Span> = spans_in(doc, at, build.unwrap_or(c_end))
            .into_iter()
            .filter(|s| doc.is_ecosystem(s.ent) && doc.ents[s.ent].kind != K::District)
            .collect();
        // Y依托X建设: the subject named right before 依托, in its clause.
        let (c_start, _) = text::clause(doc.text, at, at);
        let before = spans_in(doc, c_start, at)
            .into_iter()
            .last()
            .filter(|s| {
                s.end == at && doc.is_ecosystem(s.ent) && doc.ents[s.ent].kind != K::District
            })
            .map(|s| s.ent);
        let subject = before
            .or_else(|| {
                build.and_then(|b| spans_in(doc, b, s_end).into_iter().next().map(|s| s.ent))
            })
            .or_else(|| row_entity(doc, at));
        let Some(subject) = subject else { continue };
        for o in objects {
            let quote = text::quote_one(doc.text, (at, o.end));
            doc.relate(
                R::ReliesOn,
                subject,
                o.ent,
                quote,
                Basis::Stated,
                0.7,
                "relying-on",
            );
        }
    }
}

/// Y落户X / Y位于X / 落户X的Y: Y LOCATED_IN X (a district or platform).
fn located(doc: &mut Doc<'_>) {
    for word in ["落户", "位于", "坐落于", "落地"] {
        let mut from = 0;
        while let Some(i) = doc.text[from..].find(word) {
            let at = from + i;
            from = at + word.len();
            let (c_start, c_end) = text::clause(doc.text, at, at);
            let place = spans_in(doc, at, c_end)
                .into_iter()
                .find(|s| matches!(doc.ents[s.ent].kind, K::District | K::Platform));
            let Some(place) = place else { continue };
            let thing = spans_in(doc, c_start, at)
                .into_iter()
                .rev()
                .find(|s| doc.is_ecosystem(s.ent) && doc.ents[s.ent].kind != K::District)
                .or_else(|| {
                    doc.text[place.end..]
                        .starts_with('的')
                        .then(|| spans_in(doc, place.end, c_end).into_iter().next())
                        .flatten()
                });
            let Some(thing) = thing else { continue };
            let quote =
                text::quote_two(doc.text, (thing.start, thing.end), (place.start, place.end));
            doc.relate(
                R::LocatedIn,
                thing.ent,
                place.ent,
                quote,
                Basis::Stated,
                0.7,
                "settles-in",
            );
        }
    }
}

/// 由A牵头(组建)B / A牵头组建B / A领衔B: A LEADS B.
fn leads(doc: &mut Doc<'_>) {
    for word in ["牵头", "领衔"] {
        let mut from = 0;
        while let Some(i) = doc.text[from..].find(word) {
            let at = from + i;
            from = at + word.len();
            if doc.text[at..].starts_with("牵头单位") {
                continue;
            }
            let (c_start, c_end) = text::clause(doc.text, at, at);
            let (_, s_end) = text::sentence(doc.text, at, at);
            let leaders: Vec<Span> = spans_in(doc, c_start, at)
                .into_iter()
                .filter(|s| is_actor(doc.ents[s.ent].kind) && doc.ents[s.ent].kind != K::District)
                .collect();
            let led = spans_in(doc, at, c_end.max(s_end.min(c_end)))
                .into_iter()
                .find(|s| {
                    matches!(
                        doc.ents[s.ent].kind,
                        K::Alliance | K::Lab | K::ResearchInstitute | K::Program | K::Platform
                    )
                });
            let Some(led) = led else { continue };
            for l in leaders {
                let quote = text::quote_two(doc.text, (l.start, l.end), (led.start, led.end));
                doc.relate(R::Leads, l.ent, led.ent, quote, Basis::Stated, 0.7, "leads");
            }
        }
    }
}

/// Who acts in each part of a report: a paragraph opening with a bureau as its subject
/// (2023年,市科技局…; 今年以来,X市科技局…; 科技部门将…; 我们将…) makes the bureau the actor of the
/// sentences without a subject that follow; a top-level heading presenting the whole region's work
/// (二、2024年全市科技创新工作要点) ends that: its actions are the region's. Sorted by start.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Actor {
    Body(usize),
    Region,
}

pub(crate) fn section_actors(doc: &mut Doc<'_>, publisher: Option<usize>) -> Vec<(usize, Actor)> {
    const OWN: &[&str] = &["科技部门", "我们", "市科技局", "县科技局", "区科技局"];
    let mut out = Vec::new();
    let headings = text::headings(doc.text);
    let mut at = 0;
    let text = doc.text;
    for line in text.split('\n') {
        let start = at;
        at += line.len() + 1;
        if let Some(h) = headings.iter().find(|h| h.start == start && h.level == 0) {
            let title = &text[h.start..h.title_end];
            if ["全市", "全县", "全区"].iter().any(|w| title.contains(w)) {
                out.push((start, Actor::Region));
            }
            continue;
        }
        if line.contains('|') {
            continue;
        }
        // The subject: within the opening of one of the paragraph's sentences.
        let mut sentence_start = 0;
        let mut actor = None;
        let mut opener = (start, start);
        while sentence_start < line.len() && actor.is_none() {
            let rest = &line[sentence_start..];
            let head_end = rest
                .char_indices()
                .nth(16)
                .map_or(rest.len(), |(i, _)| i)
                .min(rest.find('。').unwrap_or(rest.len()));
            let head = &rest[..head_end];
            let base = start + sentence_start;
            let named = doc
                .spans
                .iter()
                .find(|s| {
                    s.start >= base
                        && s.end <= base + head_end
                        && doc.ents[s.ent].kind == K::Government
                        && doc.ents[s.ent].name.contains("科")
                        && doc.ents[s.ent].name.ends_with('局')
                })
                .map(|s| s.ent);
            let own = OWN
                .iter()
                .filter_map(|w| head.find(w).map(|i| (i, *w)))
                .min();
            actor = match (named, own) {
                (Some(ent), _) => Some(ent),
                (None, Some((i, w))) if w.ends_with("科技局") => {
                    resolve_unit(doc, w, base + i, publisher).map(|(e, _)| e)
                }
                (None, Some(_)) => publisher,
                (None, None) => None,
            };
            let next = match rest.find('。') {
                Some(i) => sentence_start + i + '。'.len_utf8(),
                None => line.len(),
            };
            opener = (base, start + next);
            sentence_start = next;
        }
        if let Some(actor) = actor {
            out.push((start, Actor::Body(actor)));
            // The sentences after it in the paragraph that open with a verb have it as their
            // subject too (我们将…。重点实施X行动。).
            let mut end = opener.1;
            while end < start + line.len() {
                let rest = &text[end..start + line.len()];
                if !super::names::starts_with_verb(rest) {
                    break;
                }
                end += rest.find('。').map_or(rest.len(), |i| i + '。'.len_utf8());
            }
            doc.openers.push((opener.0, end, actor));
        }
    }
    out
}

fn actor_at(actors: &[(usize, Actor)], at: usize) -> Option<Actor> {
    actors.iter().rev().find(|(s, _)| *s <= at).map(|(_, a)| *a)
}

/// The bureau's own actions in the sentence whose subject it is (科技部门将…谋划实施“X工程”):
/// 建立/启动/实施/成立/设立/构建/发布/组建 a named programme, policy or alliance, in a clause
/// naming no other actor → the bureau LEADS it (not where it only implements someone else's: 落实,
/// 贯彻; nor national or provincial ones). Later sentences without a subject are not read as its:
/// the curated practice attributes them sparingly.
fn section_actor_leads(doc: &mut Doc<'_>) {
    const VERBS: &[&str] = &[
        "建立", "启动", "实施", "成立", "设立", "构建", "发布", "组建",
    ];
    for verb in VERBS {
        let mut from = 0;
        while let Some(i) = doc.text[from..].find(verb) {
            let at = from + i;
            from = at + verb.len();
            let Some(&(_, _, actor)) = doc.openers.iter().find(|o| o.0 <= at && at < o.1) else {
                continue;
            };
            let (c_start, c_end) = text::clause(doc.text, at, at);
            let before = &doc.text[c_start..at];
            if ["落实", "贯彻", "支持", "鼓励", "推动", "引导"]
                .iter()
                .any(|w| before.contains(w))
                || spans_in(doc, c_start, at)
                    .iter()
                    .any(|s| is_actor(doc.ents[s.ent].kind))
            {
                continue;
            }
            let mut prev = at + verb.len();
            for s in spans_in(doc, prev, c_end) {
                let gap = &doc.text[prev..s.start];
                let first = prev == at + verb.len();
                let ok_gap = if first {
                    gap.chars().count() <= 4 && !gap.contains(['、', '，', ',', '：', ':'])
                } else {
                    gap.is_empty() || gap == "、" || gap == "”“" || gap == "》《"
                };
                if !ok_gap {
                    break;
                }
                let e = &doc.ents[s.ent];
                if !matches!(e.kind, K::Program | K::Policy | K::Alliance) {
                    break;
                }
                prev = s.end;
                let name = span_text(doc, &s).trim_start_matches(['“', '《']);
                if beyond_region(doc, name, s.start) {
                    continue;
                }
                let quote = text::quote_one(doc.text, (at, s.end));
                doc.relate(
                    R::Leads,
                    actor,
                    s.ent,
                    quote,
                    Basis::Stated,
                    0.55,
                    "section-actor-leads",
                );
            }
        }
    }
}

/// A与B、C合作/对接/签订…协议: COOPERATES_WITH from the sentence's actor (the region where the
/// sentence says the cooperation is 校地, university–locality; else the section's actor or the
/// publisher, whose report it is) to each partner named individually.
fn cooperates(doc: &mut Doc<'_>, publisher: Option<usize>, actors: &[(usize, Actor)]) {
    let mut from = 0;
    while let Some(i) = doc.text[from..].find('与') {
        let at = from + i;
        from = at + '与'.len_utf8();
        let (s_start, s_end) = text::sentence(doc.text, at, at);
        let after = &doc.text[at..s_end];
        let Some(verb) = ["合作", "对接", "协议"]
            .iter()
            .filter_map(|w| after.find(w).map(|p| at + p))
            .min()
        else {
            continue;
        };
        if doc.text[at..verb].contains(['，', ',', '。']) || doc.text[at..].starts_with("与会")
        {
            continue;
        }
        let partners: Vec<Span> = spans_in(doc, at, verb)
            .into_iter()
            .filter(|s| {
                matches!(
                    doc.ents[s.ent].kind,
                    K::University | K::ResearchInstitute | K::Enterprise | K::Lab
                )
            })
            .collect();
        if partners.is_empty() {
            continue;
        }
        // University–locality cooperation (校地合作, 校地全面合作协议) is the region's.
        let locality = doc.text[s_start..s_end]
            .contains("校地")
            .then(|| doc.region_at(at))
            .flatten();
        let actor = spans_in(doc, s_start, at)
            .into_iter()
            .rev()
            .find(|s| is_actor(doc.ents[s.ent].kind) && doc.ents[s.ent].kind != K::District)
            .map(|s| s.ent)
            .or(locality)
            .or_else(|| match actor_at(actors, at) {
                Some(Actor::Body(b)) => Some(b),
                Some(Actor::Region) => doc.region_at(at),
                None => publisher,
            });
        let Some(actor) = actor else { continue };
        for p in partners {
            let quote = text::quote_one(doc.text, (at, verb));
            let quote = if quote.is_empty() {
                doc.text[at..verb].to_owned()
            } else {
                quote
            };
            doc.relate(
                R::CooperatesWith,
                actor,
                p.ent,
                quote,
                Basis::Stated,
                0.6,
                "cooperates",
            );
        }
    }
}

/// The report's umbrella programme: one its opening paragraph, before the first numbered heading,
/// says the report carries out (今年重点实施“X”行动, 谋划实施“六大工程”). The programmes of the
/// numbered parts are its parts.
fn umbrella_programme(doc: &Doc<'_>, headings: &[Heading]) -> Option<Span> {
    let first = headings.first().map_or(doc.text.len(), |h| h.start);
    let before = doc.text[..first].trim_end();
    let (opening, _) = text::line(doc.text, before.len());
    spans_in(doc, opening, first).into_iter().find(|s| {
        doc.ents[s.ent].kind == K::Program
            && doc.text[..s.start]
                .trim_end_matches(['“', '"'])
                .ends_with("实施")
    })
}

/// Programmes and policies named under a heading that names a programme are PART_OF it; a
/// sub-heading's programme is part of its parent heading's; programmes under no programme heading
/// are part of the report's umbrella programme, if it names one.
fn section_parts(doc: &mut Doc<'_>) {
    let headings = text::headings(doc.text);
    let umbrella = umbrella_programme(doc, &headings);
    let mut stack: Vec<(u8, Option<Span>)> = Vec::new();
    let policy = |d: &Doc<'_>, s: &Span| matches!(d.ents[s.ent].kind, K::Program | K::Policy);
    let mut next_heading = 0;
    let spans = doc.spans.clone();
    let mut relations = Vec::new();
    for span in &spans {
        while next_heading < headings.len() && headings[next_heading].start <= span.start {
            let h = headings[next_heading];
            next_heading += 1;
            while stack.last().is_some_and(|(l, _)| *l >= h.level) {
                stack.pop();
            }
            let title = &doc.text[h.start..h.title_end];
            let programme = spans_in(doc, h.start, h.title_end)
                .into_iter()
                .rev()
                .find(|s| doc.ents[s.ent].kind == K::Program)
                .filter(|_| !title.starts_with("附件") && !title.trim_end().ends_with('表'));
            let parent = stack.iter().rev().find_map(|(_, p)| *p).or(umbrella);
            if let (Some(p), Some(parent)) = (programme, parent) {
                relations.push((p, parent, h.start));
            }
            stack.push((h.level, programme));
        }
        if !policy(doc, span)
            || text::line(doc.text, span.start).1 > 0 && {
                let (ls, le) = text::line(doc.text, span.start);
                doc.text[ls..le].contains('|')
            }
        {
            continue;
        }
        let parent = stack
            .iter()
            .rev()
            .find_map(|(_, p)| *p)
            .or(umbrella.filter(|_| next_heading > 0));
        let Some(parent) = parent else {
            continue;
        };
        if parent.start == span.start || span.start < parent.end {
            continue;
        }
        relations.push((*span, parent, span.start));
    }
    for (child, parent, _) in relations {
        if child.ent == parent.ent {
            continue;
        }
        let quote = text::quote_two(
            doc.text,
            (parent.start, parent.end),
            (child.start, child.end),
        );
        doc.relate(
            R::PartOf,
            child.ent,
            parent.ent,
            quote,
            Basis::Stated,
            0.6,
            "under-programme-heading",
        );
    }
}

/// A corridor's components: in the paragraph that names an innovation corridor (a platform named
/// …走廊), the science cities, towns, parks and bases named after it (以建设X走廊为牵引,建设A、B两大
/// 科技城; 推进C小镇建设) are PART_OF it, up to the next numbered item or the next corridor. A
/// platform named before the corridor (对标某某科技城) is not; nor is a high-tech zone (an
/// administrative platform of its own) or an institute.
fn corridor_components(doc: &mut Doc<'_>) {
    let headings = text::headings(doc.text);
    let is_corridor = |d: &Doc<'_>, s: &Span| {
        d.ents[s.ent].kind == K::Platform && d.ents[s.ent].name.ends_with("走廊")
    };
    let spans = doc.spans.clone();
    for (i, corridor) in spans.iter().enumerate() {
        if !is_corridor(doc, corridor) {
            continue;
        }
        // The item the corridor is named in ends at the next heading of its level or above.
        let (_, line_end) = text::line(doc.text, corridor.start);
        let level = item_of(&headings, corridor.start).map_or(2, |h| h.level);
        let item_end = headings
            .iter()
            .find(|h| h.start > corridor.start && h.level <= level)
            .map_or(line_end, |h| h.start.min(line_end));
        for part in &spans[i + 1..] {
            if part.start >= item_end || is_corridor(doc, part) {
                break;
            }
            let e = &doc.ents[part.ent];
            if e.kind != K::Platform
                || ["高新区", "开发区", "园区", "孵化器"]
                    .iter()
                    .any(|z| e.name.ends_with(z))
                || part.ent == corridor.ent
            {
                continue;
            }
            // In a later sentence whose subject is another platform (X城加快…,启用Y园), Y is X's.
            let (sentence_start, _) = text::sentence(doc.text, part.start, part.end);
            let subject = spans_in(doc, sentence_start, part.start).into_iter().next();
            if sentence_start > corridor.end
                && subject.is_some_and(|s| {
                    doc.ents[s.ent].kind == K::Platform
                        && doc.text[sentence_start..s.start].trim().is_empty()
                })
            {
                continue;
            }
            let quote = text::quote_two(
                doc.text,
                (corridor.start, corridor.end),
                (part.start, part.end),
            );
            doc.relate(
                R::PartOf,
                part.ent,
                corridor.ent,
                quote,
                Basis::Stated,
                0.6,
                "corridor-components",
            );
        }
    }
}

/// Things a platform's numbered item builds lie in it: under 3.打造X智慧城。, a list of what it
/// builds (推进A实验室、B装置、C中心等创新平台建设) gives A, B and C LOCATED_IN X.
fn item_platform_builds(doc: &mut Doc<'_>) {
    const VERBS: &[&str] = &["打造", "建设", "布局建设", "加快建设"];
    let headings = text::headings(doc.text);
    for (i, h) in headings.iter().enumerate() {
        let Some(platform) = spans_in(doc, h.start, h.title_end)
            .into_iter()
            .rev()
            .find(|s| doc.ents[s.ent].kind == K::Platform)
        else {
            continue;
        };
        let title = &doc.text[h.start..platform.start];
        if !VERBS.iter().any(|v| title.ends_with(v))
            || !doc.text[platform.end..h.title_end].trim().is_empty()
        {
            continue;
        }
        let (_, line_end) = text::line(doc.text, h.start);
        let item_end = headings[i + 1..]
            .iter()
            .find(|n| n.level <= h.level)
            .map_or(line_end, |n| n.start.min(line_end));
        for verb in BUILD_VERBS {
            let mut from = h.title_end;
            while let Some(at) = doc.text[from..item_end].find(verb) {
                let list_start = from + at + verb.len();
                from = list_start;
                let (_, c_end) = text::clause(doc.text, list_start, list_start);
                let Some(etc) = doc.text[list_start..c_end.min(item_end)].find('等') else {
                    continue;
                };
                let list = spans_in(doc, list_start, list_start + etc);
                let joined = list
                    .windows(2)
                    .all(|w| doc.text[w[0].end..w[1].start] == *"、");
                if list.len() < 2 || !joined || list[0].start != list_start {
                    continue;
                }
                for built in list {
                    let k = doc.ents[built.ent].kind;
                    if !doc.is_ecosystem(built.ent) || matches!(k, K::District | K::Government) {
                        continue;
                    }
                    let quote = text::quote_two(
                        doc.text,
                        (platform.start, platform.end),
                        (built.start, built.end),
                    );
                    doc.relate(
                        R::LocatedIn,
                        built.ent,
                        platform.ent,
                        quote,
                        Basis::Stated,
                        0.6,
                        "item-platform-builds",
                    );
                }
            }
        }
    }
}

/// A sentence whose subject is a platform (X科技城加快推进…,启用Y园; X创新城Y研究院…建设) places
/// the organisations and platforms it names, not placed by a rule before, in the platform.
fn platform_subject_builds(doc: &mut Doc<'_>) {
    let spans = doc.spans.clone();
    for subject in &spans {
        let e = &doc.ents[subject.ent];
        if e.kind != K::Platform || !["城", "园", "区"].iter().any(|x| e.name.ends_with(x)) {
            continue;
        }
        let (s_start, s_end) = text::sentence(doc.text, subject.start, subject.end);
        let opening = doc.text[s_start..subject.start].trim();
        if !opening.is_empty() {
            continue;
        }
        for thing in spans_in(doc, subject.end, s_end) {
            let k = doc.ents[thing.ent].kind;
            if !matches!(k, K::ResearchInstitute | K::Lab | K::Facility | K::Platform)
                || doc.has_relation(R::LocatedIn, thing.ent)
                || thing.ent == subject.ent
            {
                continue;
            }
            let quote = doc.text[subject.start..thing.end].to_owned();
            doc.relate(
                R::LocatedIn,
                thing.ent,
                subject.ent,
                quote,
                Basis::Stated,
                0.55,
                "platform-subject-builds",
            );
        }
    }
}

/// A body whose name neither holds a place nor is a context-dependent short form (市委人才办,
/// 县科技局) nor names the platform it serves (X高新区科技人才局): a working group of the report's
/// own (科创走廊专班). Bodies with a place in their name are placed by it (NAME), or not at all.
fn placeless_body(name: &str) -> bool {
    const PLACES: &[&str] = &["省", "市", "县", "区", "州", "旗", "乡", "镇"];
    !PLACES.iter().any(|p| name.contains(p))
}

/// Whatever the report presents as its own and no rule placed lies in the reporting region; a
/// body only if it is the publisher (its report is the region's), a placeless body, or one whose
/// name the rules made from the region (市科技局 of a 责任单位 clause).
fn region_fallback(doc: &mut Doc<'_>, publisher: Option<usize>) {
    for ent in 0..doc.ents.len() {
        let e = &doc.ents[ent];
        if !doc.is_ecosystem(ent)
            || doc.is_retired(ent)
            || matches!(e.kind, K::District | K::University)
            || (e.kind == K::Government
                && Some(ent) != publisher
                && !placeless_body(&e.name)
                && !matches!(e.rule, "unit-of-region" | "bureau-of-region"))
            || beyond_region(doc, &e.name, e.offset)
            || doc.has_relation(R::LocatedIn, ent)
        {
            continue;
        }
        let Some(region) = doc.region_at(e.offset) else {
            continue;
        };
        let span = doc.spans.iter().find(|s| s.ent == ent).copied();
        let quote = match span {
            Some(s) => text::quote_one(doc.text, (s.start, s.end)),
            None => text::quote_one(doc.text, (e.offset, e.offset)),
        };
        doc.relate(
            R::LocatedIn,
            ent,
            region,
            quote,
            Basis::Region,
            0.5,
            "region-own",
        );
    }
}

/// A platform's name followed directly by institutes' names (X科技城Y研究院、Z中心): they are in it.
fn platform_then_institute(doc: &mut Doc<'_>) {
    let spans = doc.spans.clone();
    for (i, p) in spans.iter().enumerate() {
        if doc.ents[p.ent].kind != K::Platform {
            continue;
        }
        let (_, c_end) = text::clause(doc.text, p.start, p.end);
        let mut prev_end = p.end;
        for s in &spans[i + 1..] {
            if s.start >= c_end {
                break;
            }
            if s.start < prev_end {
                continue;
            }
            let gap = &doc.text[prev_end..s.start];
            let adjacent = gap.is_empty() || (prev_end != p.end && gap == "、");
            let verb_gap = prev_end == p.end
                && gap.chars().count() <= 2
                && !gap.contains(['、', '，', ',', '和', '与', '及']);
            if !(adjacent || verb_gap) {
                break;
            }
            if !matches!(
                doc.ents[s.ent].kind,
                K::ResearchInstitute | K::Lab | K::Facility | K::Platform
            ) {
                break;
            }
            let quote = doc.text[p.start..s.end].to_owned();
            doc.relate(
                R::LocatedIn,
                s.ent,
                p.ent,
                quote,
                Basis::Stated,
                0.6,
                "platform-then-institute",
            );
            prev_end = s.end;
        }
    }
}

/// Bodies the rules named from a unit or the publisher line (湖州市外国专家局, 诸暨市人民政府) lie in
/// the district their name holds (NAME), the quote being their name or the form the text uses.
fn bodies_named_after_places(doc: &mut Doc<'_>) {
    for ent in 0..doc.ents.len() {
        if doc.ents[ent].kind != K::Government || doc.has_relation(R::LocatedIn, ent) {
            continue;
        }
        let names: Vec<String> = std::iter::once(doc.ents[ent].name.clone())
            .chain(doc.ents[ent].aliases.clone())
            .collect();
        let name = doc.ents[ent].name.clone();
        let offset = doc.ents[ent].offset;
        // The name as the text spells it, else the clause naming the unit it was resolved from
        // (诸暨市 in a 责任单位 cell for 诸暨市人民政府).
        let Some(quote) = names
            .iter()
            .find(|n| doc.text.contains(n.as_str()))
            .cloned()
            .or_else(|| {
                let quote = text::quote_one(doc.text, (offset, offset));
                let place = name.split_inclusive(['市', '县', '区']).next()?;
                quote.contains(place).then_some(quote)
            })
        else {
            continue;
        };
        let finest = doc
            .districts_in(&name, offset)
            .into_iter()
            .max_by_key(|&d| doc.level(d));
        if let Some(d) = finest {
            doc.relate(
                R::LocatedIn,
                ent,
                d,
                quote,
                Basis::Name,
                0.6,
                "place-in-name",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::extract::gazetteer::Gazetteer;
    use crate::model::{Entity, EntityKind, RelationKind};

    fn relations(text: &str) -> Vec<(String, RelationKind, String, String)> {
        relations_published_by(text, None)
    }

    fn relations_published_by(
        text: &str,
        publisher: Option<&str>,
    ) -> Vec<(String, RelationKind, String, String)> {
        let mut district = Entity::new("qingshan-city", EntityKind::District, "青山市");
        district.district_code = Some("339900".to_owned());
        let mut county = Entity::new("baishi-county", EntityKind::District, "白石县");
        county.district_code = Some("339901".to_owned());
        let university = Entity::new("north-university", EntityKind::University, "北方大学");
        let gazetteer = Gazetteer::new([&district, &county, &university], "");
        let raw = super::super::extract(text, Some("青山市"), publisher, &gazetteer);
        let name = |id: &str| {
            raw.entities
                .iter()
                .find(|e| e.id == id)
                .map_or(id.to_owned(), |e| e.name.clone())
        };
        for r in &raw.relations {
            assert!(crate::model::quote_occurs_in(&r.quote, text), "{}", r.quote);
        }
        raw.relations
            .iter()
            .map(|r| (name(&r.source), r.kind, name(&r.target), r.rule.clone()))
            .collect()
    }

    /// A report of a city whose province the division table knows: what the province's name
    /// begins is the province's, not the city's (whatever the province is called).
    #[test]
    fn names_of_the_regions_province_are_not_placed_in_the_region() {
        let mut province = Entity::new("donghai-province", EntityKind::District, "东海省");
        province.district_code = Some("330000".to_owned());
        let mut city = Entity::new("qingshan-city", EntityKind::District, "青山市");
        city.district_code = Some("339900".to_owned());
        let gazetteer = Gazetteer::new([&province, &city], "");
        let text = "推进东海省智能装备创新中心和青山市智能装备创新中心建设。";
        let raw = super::super::extract(text, Some("青山市"), None, &gazetteer);
        let id_of = |name: &str| {
            raw.entities
                .iter()
                .find(|e| e.name == name)
                .map(|e| e.id.clone())
                .unwrap_or_else(|| panic!("{name} not proposed: {:?}", raw.entities))
        };
        let located = |id: &str| {
            raw.relations
                .iter()
                .filter(|r| r.kind == RelationKind::LocatedIn && r.source == id)
                .map(|r| r.target.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(located(&id_of("青山市智能装备创新中心")), ["qingshan-city"]);
        assert!(located(&id_of("东海省智能装备创新中心")).is_empty());
    }

    fn has(
        rs: &[(String, RelationKind, String, String)],
        s: &str,
        k: RelationKind,
        t: &str,
    ) -> bool {
        rs.iter().any(|r| r.0 == s && r.1 == k && r.2 == t)
    }

    #[test]
    fn a_counted_collective_groups_the_members_named_after_it() {
        let rs = relations(
            "高质量建设三大实验室,鼓励松岭、北潭等实验室开展联合攻关,推动云杉实验室争创省级平台。",
        );
        for lab in ["松岭实验室", "北潭实验室", "云杉实验室"] {
            assert!(
                has(&rs, lab, RelationKind::PartOf, "三大实验室"),
                "{lab}: {rs:?}"
            );
        }
        // Members named before the counter, more members than the count, or one member only.
        let before = relations("建设松岭、北潭两大科技城,推进产业集聚。");
        assert!(!before.iter().any(|r| r.3 == "counted-collective"));
        let more = relations("建设两大实验室,支持松岭、北潭、云杉等实验室开展攻关。");
        assert!(!more.iter().any(|r| r.3 == "counted-collective"));
        let one = relations("建设两大实验室,支持云杉实验室开展攻关。");
        assert!(!one.iter().any(|r| r.3 == "counted-collective"));
    }

    #[test]
    fn names_imply_builder_and_place() {
        let rs = relations("支持北方大学白石研究院建设。");
        assert!(has(
            &rs,
            "北方大学白石研究院",
            RelationKind::CoBuiltBy,
            "北方大学"
        ));
        assert!(has(
            &rs,
            "北方大学白石研究院",
            RelationKind::LocatedIn,
            "白石县"
        ));
    }

    #[test]
    fn co_built_by_each_named_builder() {
        let rs = relations("东湖创新中心由白石县人民政府与北方大学联合共建。");
        assert!(has(
            &rs,
            "东湖创新中心",
            RelationKind::CoBuiltBy,
            "北方大学"
        ));
        assert!(has(
            &rs,
            "东湖创新中心",
            RelationKind::CoBuiltBy,
            "白石县人民政府"
        ));
    }

    #[test]
    fn responsibility_clause_gives_each_named_unit() {
        let text = "发布机构: | 青山市科学技术局 |\n1.建设东湖科学城。加快发展。(责任单位:规划处、白石县科技局,各区县科技局)";
        let rs = relations(text);
        assert!(has(
            &rs,
            "青山市科学技术局规划处",
            RelationKind::ResponsibleFor,
            "东湖科学城"
        ));
        assert!(has(
            &rs,
            "白石县科技局",
            RelationKind::ResponsibleFor,
            "东湖科学城"
        ));
        assert!(!rs.iter().any(|r| r.0.contains("各区县")));
    }

    #[test]
    fn table_rows_locate_by_place_column() {
        let text = "附件1\n2024年重大平台计划情况表\n序号 | 名 称 | 主要内容 | 属 地 |\n1 | 东湖实验室 | 打造高能级平台 | 白石县 |";
        let rs = relations(text);
        assert!(has(&rs, "东湖实验室", RelationKind::LocatedIn, "白石县"));
    }

    #[test]
    fn relies_on_and_leads() {
        let rs = relations("2.建设东湖科学城。以南山实验室为核心,打造产业集群。");
        assert!(has(&rs, "东湖科学城", RelationKind::ReliesOn, "南山实验室"));
        let rs = relations("支持北方大学牵头组建西岭产业联盟。");
        assert!(has(&rs, "北方大学", RelationKind::Leads, "西岭产业联盟"));
    }

    #[test]
    fn bodies_take_the_region_only_when_placeless_or_publishing() {
        let text = "发布机构: 市科技局\n东湖管委会与红岩市科技局签订合作协议。";
        let rs = relations(text);
        assert!(has(&rs, "东湖管委会", RelationKind::LocatedIn, "青山市"));
        assert!(has(&rs, "青山市科技局", RelationKind::LocatedIn, "青山市"));
        assert!(!has(&rs, "红岩市科技局", RelationKind::LocatedIn, "青山市"));
    }

    #[test]
    fn programmes_under_a_programme_heading_and_region_fallback() {
        let text = "(一)实施“远航”行动。\n1.深化改革。实施“星火计划”,建设东湖科学城。";
        let rs = relations(text);
        assert!(has(&rs, "星火计划", RelationKind::PartOf, "“远航”行动"));
        assert!(has(&rs, "东湖科学城", RelationKind::LocatedIn, "青山市"));
    }

    #[test]
    fn heading_programme_and_the_bureaus_own_action() {
        let text = "发布机构: | 青山市科学技术局 |\n2025年,科技部门将谋划实施“远航”行动。\n(一)实施“远航”行动\n1.实施平台提能优化工程。实施“星火计划”。";
        let rs = relations(text);
        assert!(has(
            &rs,
            "青山市科学技术局",
            RelationKind::Leads,
            "“远航”行动"
        ));
        assert!(!has(
            &rs,
            "青山市科学技术局",
            RelationKind::Leads,
            "星火计划"
        ));
        assert!(has(
            &rs,
            "平台提能优化工程",
            RelationKind::PartOf,
            "“远航”行动"
        ));
    }

    #[test]
    fn cooperation_in_the_whole_regions_section_is_the_regions() {
        let text = "发布机构: | 青山市科学技术局 |\n一、2025年全市科技工作要点\n深化与北方大学合作,签订合作协议。";
        let rs = relations(text);
        assert!(has(&rs, "青山市", RelationKind::CooperatesWith, "北方大学"));
    }

    #[test]
    fn the_opening_paragraphs_programme_is_the_umbrella_of_the_numbered_ones() {
        let text = "今年我们将全面发力,重点实施科技赋能“远航”行动。\n(一)夯实基础\n1.实施平台提能优化工程。推进“星火计划”。\n2.实施人才集聚倍增工程。";
        let rs = relations(text);
        for part in ["平台提能优化工程", "人才集聚倍增工程"] {
            assert!(has(&rs, part, RelationKind::PartOf, "科技赋能“远航”行动"));
        }
        assert!(has(
            &rs,
            "星火计划",
            RelationKind::PartOf,
            "平台提能优化工程"
        ));
        assert!(!has(
            &rs,
            "星火计划",
            RelationKind::PartOf,
            "科技赋能“远航”行动"
        ));
        // An opening paragraph that only mentions a programme makes no umbrella.
        let rs = relations("今年要总结“远航”行动的经验。\n1.实施平台提能优化工程。");
        assert!(!rs.iter().any(|r| r.1 == RelationKind::PartOf));
    }

    #[test]
    fn a_counted_programme_the_opening_carries_out_keeps_its_quotes() {
        let text = "2025年,科技部门将谋划实施“四大工程”。\n1.主线——平台提能优化工程。总的思路是:做强平台。\n2.主体——“两个计划”。即实施“两个计划”。";
        let rs = relations_published_by(text, Some("青山市科学技术局"));
        assert!(has(
            &rs,
            "平台提能优化工程",
            RelationKind::PartOf,
            "“四大工程”"
        ));
        assert!(has(
            &rs,
            "青山市科学技术局",
            RelationKind::Leads,
            "“四大工程”"
        ));
        // A counted phrase outside the opening paragraph is a category, not a programme.
        assert!(
            !rs.iter()
                .any(|r| r.0.contains("两个计划") || r.2.contains("两个计划"))
        );
    }

    #[test]
    fn a_journal_publishing_the_report_is_not_its_actor() {
        let text = "2025年,科技部门将谋划实施“四大工程”。\n1.主线——平台提能优化工程。";
        let rs = relations_published_by(text, Some("青山科技期刊社"));
        assert!(!rs.iter().any(|r| r.1 == RelationKind::Leads));
    }

    #[test]
    fn a_corridors_paragraph_names_its_components() {
        let text = "1.打造创新平台。对标远方科技城,以建设青山科创走廊为牵引,高水平建设东湖、西岭两大科技城,推进南山小镇建设。北坡创新城加快发展,启用北坡科创园;推进白石高新区扩容。\n2.建设红岩科学城。";
        let rs = relations(text);
        for part in ["东湖科技城", "西岭科技城", "南山小镇", "北坡创新城"] {
            assert!(
                has(&rs, part, RelationKind::PartOf, "青山科创走廊"),
                "{part}"
            );
        }
        for other in ["远方科技城", "北坡科创园", "白石高新区", "红岩科学城"] {
            assert!(
                !has(&rs, other, RelationKind::PartOf, "青山科创走廊"),
                "{other}"
            );
        }
    }

    #[test]
    fn a_rows_units_are_named_with_their_owner() {
        let text = "附件1\n2025年重点平台计划情况表\n序号 | 名 称 | 主要内容 | 属 地 |\n1 | 北方大学青山研究院 | 建设材料研究中心、芯片研究中心、“人才湾”等,新建3个研究中心、2个基地。 | 白石县 |\n2 | 探索校地协同新路径 | 依托东湖实验室,建设催化研究中心、联合培养基地等。 | 白石县 |\n3 | 南山科技城 | 推进企业服务中心、交流研究中心等建设,配套有会议中心、展示研究中心等。 | 白石县 |";
        let rs = relations(text);
        let owner = "北方大学青山研究院";
        for unit in ["材料研究中心", "芯片研究中心"] {
            let name = format!("{owner}{unit}");
            assert!(has(&rs, &name, RelationKind::PartOf, owner), "{name}");
            assert!(has(&rs, &name, RelationKind::LocatedIn, "白石县"), "{name}");
        }
        assert!(has(&rs, "人才湾", RelationKind::PartOf, owner));
        for unit in ["催化研究中心", "联合培养基地"] {
            let name = format!("东湖实验室{unit}");
            assert!(
                has(&rs, &name, RelationKind::ReliesOn, "东湖实验室"),
                "{name}"
            );
            assert!(has(&rs, &name, RelationKind::LocatedIn, "白石县"), "{name}");
        }
        // A platform's units lie in it; items of no unit's ending are not named.
        assert!(has(
            &rs,
            "南山科技城交流研究中心",
            RelationKind::LocatedIn,
            "南山科技城"
        ));
        assert!(has(
            &rs,
            "南山科技城展示研究中心",
            RelationKind::PartOf,
            "南山科技城"
        ));
        assert!(!rs.iter().any(|r| r.0.contains("会议中心")));
        // Counted items are categories.
        assert!(!rs.iter().any(|r| r.0.contains("3个研究中心")));
    }

    #[test]
    fn brought_in_and_co_built_with_no_builder_named_is_the_regions() {
        let rs = relations("上半年,引进共建北方大学青山分院、东湖实验室等两个高端载体。");
        assert!(has(
            &rs,
            "北方大学青山分院",
            RelationKind::CoBuiltBy,
            "青山市"
        ));
        assert!(has(&rs, "东湖实验室", RelationKind::CoBuiltBy, "青山市"));
        // A sentence naming its builder is read by the 由/与 rule, not as the region's.
        let rs = relations("白石县人民政府引进共建东湖实验室。");
        assert!(!has(&rs, "东湖实验室", RelationKind::CoBuiltBy, "青山市"));
    }

    #[test]
    fn units_of_a_clause_resolve_to_the_regions_bodies() {
        let text = "发布机构: | 青山市科学技术局 |\n1.实施“远航计划”。做好引才。(责任单位:人才处、外专局、市科技局)";
        let rs = relations(text);
        assert!(has(
            &rs,
            "青山市外国专家局",
            RelationKind::PartOf,
            "青山市科学技术局"
        ));
        assert!(has(
            &rs,
            "青山市外国专家局",
            RelationKind::ResponsibleFor,
            "远航计划"
        ));
        assert!(has(
            &rs,
            "青山市外国专家局",
            RelationKind::LocatedIn,
            "青山市"
        ));
        // 市科技局 is the publisher, not a second bureau.
        assert!(has(
            &rs,
            "青山市科学技术局",
            RelationKind::ResponsibleFor,
            "远航计划"
        ));
        assert!(!rs.iter().any(|r| r.0 == "青山市科技局"));
    }

    #[test]
    fn a_labelled_or_bracketed_name_cell_names_the_entity() {
        let text = "附件1\n2025年重点平台计划情况表\n序号 | 名 称 | 主要内容 | 属 地 |\n1 | 大科学装置——“东湖光源装置”项目 | 建设光源。 | 白石县 |\n2 | 北方大学-白石联合创新中心(南山实验室) | 开展研究。 | 白石县 |";
        let raw = {
            let mut district =
                crate::model::Entity::new("qingshan-city", EntityKind::District, "青山市");
            district.district_code = Some("339900".to_owned());
            let mut county =
                crate::model::Entity::new("baishi-county", EntityKind::District, "白石县");
            county.district_code = Some("339901".to_owned());
            let gazetteer = Gazetteer::new([&district, &county], "");
            super::super::extract(text, Some("青山市"), None, &gazetteer)
        };
        let kind = |name: &str| raw.entities.iter().find(|e| e.name == name).map(|e| e.kind);
        assert_eq!(kind("东湖光源装置"), Some(EntityKind::Facility));
        assert_eq!(kind("大科学装置——“东湖光源装置”项目"), None);
        assert_eq!(
            kind("北方大学-白石联合创新中心(南山实验室)"),
            Some(EntityKind::Lab)
        );
        let rs = relations(text);
        assert!(has(&rs, "东湖光源装置", RelationKind::LocatedIn, "白石县"));
    }

    #[test]
    fn a_platforms_item_and_sentence_place_what_they_build() {
        let text = "3.打造东湖智慧城。推进南山实验室、北坡技术创新中心等创新平台建设,做强产业。\n4.完善服务。推进西岭实验室、红岩研究院等合作。";
        let rs = relations(text);
        assert!(has(
            &rs,
            "南山实验室",
            RelationKind::LocatedIn,
            "东湖智慧城"
        ));
        assert!(has(
            &rs,
            "北坡技术创新中心",
            RelationKind::LocatedIn,
            "东湖智慧城"
        ));
        assert!(!has(
            &rs,
            "西岭实验室",
            RelationKind::LocatedIn,
            "东湖智慧城"
        ));
        let text = "东湖科技城加快建设,启用东湖科创园;推进南山实验室建设。";
        let rs = relations(text);
        assert!(has(
            &rs,
            "东湖科创园",
            RelationKind::LocatedIn,
            "东湖科技城"
        ));
        assert!(!has(
            &rs,
            "南山实验室",
            RelationKind::LocatedIn,
            "东湖科技城"
        ));
    }

    #[test]
    fn short_forms_of_the_regions_bodies() {
        let rs = relations("市委、市政府高规格召开大会;配合市人大制定条例。");
        assert!(has(&rs, "中共青山市委", RelationKind::LocatedIn, "青山市"));
        assert!(has(
            &rs,
            "青山市人民政府",
            RelationKind::LocatedIn,
            "青山市"
        ));
        assert!(has(
            &rs,
            "青山市人民代表大会",
            RelationKind::LocatedIn,
            "青山市"
        ));
        // References to their meetings and decisions, and longer names, are no mentions.
        let rs = relations(
            "贯彻落实省委、市委全会精神,坚决贯彻市委市政府决策部署;依托县委科技创新委员会。",
        );
        assert!(rs.is_empty(), "{rs:?}");
    }

    #[test]
    fn programmes_named_after_places_apply_there() {
        let rs = relations("办好“5·31白石科技日”。出台《青山市科技创新若干政策》。");
        assert!(has(
            &rs,
            "5·31白石科技日",
            RelationKind::AppliesTo,
            "白石县"
        ));
        assert!(has(
            &rs,
            "青山市科技创新若干政策",
            RelationKind::AppliesTo,
            "青山市"
        ));
    }

    #[test]
    fn a_centre_named_after_its_institute_is_part_of_it() {
        let rs = relations("支持南山研究院新药研发中心、北坡实验室建设。");
        assert!(has(
            &rs,
            "南山研究院新药研发中心",
            RelationKind::PartOf,
            "南山研究院"
        ));
        // A count after an institute's name is no centre.
        let rs = relations("建设南山研究院等三个研究中心。");
        assert!(!rs.iter().any(|r| r.0.contains("三个")));
    }

    #[test]
    fn a_station_of_an_unknown_facility_is_part_of_it() {
        let rs = relations("完成白石光源青山线站建设。");
        assert!(has(
            &rs,
            "白石光源青山线站",
            RelationKind::PartOf,
            "白石光源"
        ));
        assert!(has(&rs, "白石光源", RelationKind::LocatedIn, "白石县"));
        // A category is no whole.
        let rs = relations("建设科创大走廊展示馆。");
        assert!(!rs.iter().any(|r| r.1 == RelationKind::PartOf));
    }

    #[test]
    fn bodies_named_with_a_short_form_are_the_regions_or_none() {
        let text = "附件3\n2025年重大政策计划情况表\n序号 | 名称 | 属地 |\n1 | 出台《青山市人才新政》 | 市委人才办、 市科技局 |";
        let rs = relations(text);
        assert!(has(
            &rs,
            "中共青山市委人才工作领导小组办公室",
            RelationKind::ResponsibleFor,
            "青山市人才新政"
        ));
        assert!(
            !rs.iter()
                .any(|r| r.0 == "市委人才办" || r.0 == "青山市委人才办")
        );
        // 县委… in a city's report names no body the text identifies.
        let rs = relations("依托县委科技创新委员会建设东湖科学城。");
        assert!(
            !rs.iter()
                .any(|r| r.2.contains("委员会") || r.0.contains("委员会"))
        );
    }

    #[test]
    fn a_body_of_an_unknown_platform_is_part_of_it_and_in_it() {
        let rs = relations("南山高新区科技人才局牵头推进。");
        assert!(has(
            &rs,
            "南山高新区科技人才局",
            RelationKind::PartOf,
            "南山高新区"
        ));
        assert!(has(
            &rs,
            "南山高新区科技人才局",
            RelationKind::LocatedIn,
            "南山高新区"
        ));
    }

    #[test]
    fn university_locality_cooperation_is_the_regions() {
        let text = "发布机构: | 青山市科学技术局 |\n2024年,市科技局加快改革。\n1.深化与北方大学合作,签订校地全面合作协议。";
        let rs = relations(text);
        assert!(has(&rs, "青山市", RelationKind::CooperatesWith, "北方大学"));
        assert!(!has(
            &rs,
            "青山市科学技术局",
            RelationKind::CooperatesWith,
            "北方大学"
        ));
    }

    #[test]
    fn tab_separated_tables_and_their_builders_column() {
        let text = "附件:2025年新建创新平台一览表\n序号\t平台名称\t共建单位\t属地\n1\t东湖实验室\t北方大学\t白石县\n2\t南山研究院\t各有关单位\t白石县";
        let rs = relations(text);
        assert!(has(&rs, "东湖实验室", RelationKind::CoBuiltBy, "北方大学"));
        assert!(has(&rs, "东湖实验室", RelationKind::LocatedIn, "白石县"));
        assert!(has(&rs, "南山研究院", RelationKind::LocatedIn, "白石县"));
        assert!(
            !rs.iter()
                .any(|r| r.0 == "南山研究院" && r.1 == RelationKind::CoBuiltBy)
        );
    }

    #[test]
    fn a_subject_relies_on_what_it_is_built_on() {
        let rs = relations("东湖实验室依托北方大学建设,聚焦新材料。");
        assert!(has(&rs, "东湖实验室", RelationKind::ReliesOn, "北方大学"));
    }
}

//! Network measures and path algorithms on small graphs whose answers are known: the mini fixture
//! against NetworkX (tests/fixtures/networkx_reference.py), and hand-built graphs.

use std::time::Duration;

use innograph::graph::{Budget, Direction, GraphIndex, Hops, KindSet, PathRules, Step};
use innograph::model::{Entity, EntityKind, Evidence, Relation, RelationKind};
use innograph::seed::{self, SeedFiles};
use innograph::store::Snapshot;
use innograph::validate::validate_seed;
use serde_json::Value;

use crate::support::mini_seed;

fn mini_index() -> GraphIndex {
    let graph = validate_seed(&seed::parse(&SeedFiles::from_dir(&mini_seed()).unwrap()))
        .graph
        .unwrap();
    GraphIndex::from_snapshot(Snapshot {
        documents: graph.documents.into_iter().map(|(d, _)| d).collect(),
        entities: graph.entities,
        relations: graph.relations,
    })
}

fn node(id: &str) -> Entity {
    Entity::new(
        id.to_owned(),
        if id.starts_with('u') {
            EntityKind::University
        } else {
            EntityKind::Lab
        },
        id.to_uppercase(),
    )
}

fn edge(source: &str, target: &str, year: Option<i32>) -> Relation {
    Relation {
        kind: RelationKind::PartOf,
        source: source.to_owned(),
        target: target.to_owned(),
        year,
        evidence: vec![Evidence {
            document: "d".to_owned(),
            quote: "q".to_owned(),
            basis: innograph::model::Basis::Stated,
        }],
    }
}

/// A graph from `(source, target)` pairs; every endpoint becomes an entity.
fn hand_built(edges: &[(&str, &str)]) -> GraphIndex {
    let mut ids: Vec<&str> = edges.iter().flat_map(|(s, t)| [*s, *t]).collect();
    ids.sort();
    ids.dedup();
    GraphIndex::from_snapshot(Snapshot {
        documents: vec![],
        entities: ids.into_iter().map(node).collect(),
        relations: edges.iter().map(|(s, t)| edge(s, t, None)).collect(),
    })
}

fn budget() -> Budget {
    Budget::new(100_000, Duration::from_secs(10))
}

fn both() -> Hops {
    Hops::Same(Step::new(KindSet::ALL, Direction::Both))
}

fn ids(path: &innograph::graph::PathView) -> Vec<&str> {
    path.entities.iter().map(|e| e.id.as_str()).collect()
}

#[test]
fn pagerank_betweenness_and_degree_match_networkx() {
    let reference: Value =
        serde_json::from_str(&std::fs::read_to_string(mini_seed().join("networkx.json")).unwrap())
            .unwrap();
    let measures = mini_index().measures();
    assert_eq!(measures.ids.len(), 12);
    for (i, id) in measures.ids.iter().enumerate() {
        let pagerank = reference["pagerank"][id.as_ref()].as_f64().unwrap();
        let betweenness = reference["betweenness"][id.as_ref()].as_f64().unwrap();
        let degree = reference["degree"][id.as_ref()].as_u64().unwrap();
        assert_eq!(measures.degree[i] as u64, degree, "{id}: degree");
        assert!(
            (measures.pagerank[i] - pagerank).abs() < 1e-6,
            "{id}: pagerank {} vs {pagerank}",
            measures.pagerank[i]
        );
        assert!(
            (measures.betweenness[i] - betweenness).abs() < 1e-9,
            "{id}: betweenness {} vs {betweenness}",
            measures.betweenness[i]
        );
    }
    assert!((measures.pagerank.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    assert_eq!(
        measures.component_sizes.len(),
        reference["components"].as_u64().unwrap() as usize
    );
    assert_eq!(measures.betweenness_sample, None);
}

#[test]
fn louvain_finds_two_cliques_joined_by_a_bridge() {
    let mut edges = Vec::new();
    for group in [["a1", "a2", "a3", "a4"], ["b1", "b2", "b3", "b4"]] {
        for i in 0..4 {
            for j in i + 1..4 {
                edges.push((group[i], group[j]));
            }
        }
    }
    edges.push(("a4", "b1"));
    let measures = hand_built(&edges).measures();
    let community = |id: &str| measures.community[measures.position(id).unwrap()];
    assert_eq!(measures.community_sizes, [4, 4]);
    for id in ["a1", "a2", "a3", "a4"] {
        assert_eq!(community(id), community("a1"));
    }
    for id in ["b1", "b2", "b3", "b4"] {
        assert_eq!(community(id), community("b1"));
    }
    assert_ne!(community("a1"), community("b1"));
    // Worked by hand: m = 13, each side has 6 internal edges and degree sum 13.
    let expected = 2.0 * (6.0 / 13.0 - (13.0f64 / 26.0).powi(2));
    assert!(
        (measures.modularity - expected).abs() < 1e-12,
        "{}",
        measures.modularity
    );
    // a4 lies on the one shortest path of each of the 3 × 4 pairs {a1, a2, a3} × {b1 … b4}; normalised
    // over the (n-1)(n-2)/2 = 21 pairs that exclude it.
    let betweenness = |id: &str| measures.betweenness[measures.position(id).unwrap()];
    assert!(
        (betweenness("a4") - 12.0 / 21.0).abs() < 1e-12,
        "{}",
        betweenness("a4")
    );
    assert_eq!(betweenness("a1"), 0.0);
}

#[test]
fn components_are_numbered_largest_first() {
    let measures = hand_built(&[("a", "b"), ("b", "c"), ("x", "y")]).measures();
    assert_eq!(measures.component_sizes, [3, 2]);
    assert_eq!(measures.component[measures.position("x").unwrap()], 1);
}

/// a→b→d, a→c→d, a→e→f→d, and a long detour a→g→h→i→d.
fn diamond() -> GraphIndex {
    hand_built(&[
        ("a", "b"),
        ("b", "d"),
        ("a", "c"),
        ("c", "d"),
        ("a", "e"),
        ("e", "f"),
        ("f", "d"),
        ("a", "g"),
        ("g", "h"),
        ("h", "i"),
        ("i", "d"),
    ])
}

#[test]
fn k_shortest_paths_come_shortest_first_then_by_ids() {
    let index = diamond();
    let paths = index
        .k_shortest_paths("a", "d", 10, &both(), &PathRules::default(), 6, budget())
        .unwrap();
    let found: Vec<Vec<&str>> = paths.iter().map(ids).collect();
    assert_eq!(
        found,
        [
            vec!["a", "b", "d"],
            vec!["a", "c", "d"],
            vec!["a", "e", "f", "d"],
            vec!["a", "g", "h", "i", "d"]
        ]
    );
    let two = index
        .k_shortest_paths("a", "d", 2, &both(), &PathRules::default(), 6, budget())
        .unwrap();
    assert_eq!(two.len(), 2);
    let short = index
        .k_shortest_paths("a", "d", 10, &both(), &PathRules::default(), 3, budget())
        .unwrap();
    assert_eq!(short.len(), 3, "maxDepth 3 excludes the four-hop path");
}

#[test]
fn all_paths_are_bounded_and_say_when_more_exist() {
    let index = diamond();
    let (paths, more) = index
        .all_paths("a", "d", &both(), &PathRules::default(), 4, 10, budget())
        .unwrap();
    assert_eq!(paths.len(), 4);
    assert!(!more);
    let (paths, more) = index
        .all_paths("a", "d", &both(), &PathRules::default(), 4, 2, budget())
        .unwrap();
    assert_eq!(
        paths.iter().map(ids).collect::<Vec<_>>(),
        [vec!["a", "b", "d"], vec!["a", "c", "d"]]
    );
    assert!(more);
    let tiny = Budget::new(3, Duration::from_secs(10));
    assert!(
        index
            .all_paths("a", "d", &both(), &PathRules::default(), 4, 10, tiny)
            .is_err()
    );
}

#[test]
fn shortest_path_honours_per_hop_steps_and_via_kinds() {
    // u1 is a university: forbidding universities in between forces the longer way round.
    let index = hand_built(&[("a", "u1"), ("u1", "d"), ("a", "x"), ("x", "y"), ("y", "d")]);
    let any = index
        .shortest_path("a", "d", &both(), &PathRules::default(), 6, budget())
        .unwrap()
        .unwrap();
    assert_eq!(ids(&any), ["a", "u1", "d"]);
    let labs = [EntityKind::Lab];
    let via = PathRules { via: Some(&labs) };
    let detour = index
        .shortest_path("a", "d", &both(), &via, 6, budget())
        .unwrap()
        .unwrap();
    assert_eq!(ids(&detour), ["a", "x", "y", "d"]);
    // First hop outgoing, second hop incoming only: a→u1 then d→u1 does not exist, so no path in two;
    // from d: d←u1 (IN) then u1←a (IN).
    let out_then_in = Hops::PerHop(vec![
        Step::new(KindSet::ALL, Direction::Out),
        Step::new(KindSet::ALL, Direction::In),
    ]);
    assert!(
        index
            .shortest_path("a", "d", &out_then_in, &PathRules::default(), 2, budget())
            .unwrap()
            .is_none()
    );
    let in_in = Hops::PerHop(vec![Step::new(KindSet::ALL, Direction::In)]);
    let back = index
        .shortest_path("d", "a", &in_in, &PathRules::default(), 6, budget())
        .unwrap()
        .unwrap();
    assert_eq!(ids(&back), ["d", "u1", "a"]);
}

#[test]
fn as_of_hides_relations_dated_after_the_year() {
    let index = GraphIndex::from_snapshot(Snapshot {
        documents: vec![],
        entities: ["a", "b", "c"].into_iter().map(node).collect(),
        relations: vec![edge("a", "b", Some(2020)), edge("b", "c", Some(2024))],
    });
    let step = |as_of| {
        Step::new(KindSet::ALL, Direction::Out)
            .with_time(innograph::graph::TimeFilter { as_of, years: None })
    };
    let reach = |as_of| {
        index
            .neighbors("a", step(as_of), 3, None, budget())
            .unwrap()
            .into_iter()
            .map(|(e, _)| e.id.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(reach(None), ["b", "c"]);
    assert_eq!(reach(Some(2023)), ["b"]);
    assert_eq!(reach(Some(2019)), Vec::<String>::new());
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

    /// The bidirectional search (one step for every hop) and the per-hop search (the same step given
    /// as a one-element list) agree on whether a path exists and on its length, and every path found
    /// is a real, simple path.
    #[test]
    fn bidirectional_and_per_hop_searches_agree(
        edges in proptest::collection::vec((0u8..24, 0u8..24), 0..60),
        from in 0u8..24,
        to in 0u8..24,
        direction in 0u8..3,
    ) {
        let names: Vec<(String, String)> = edges
            .iter()
            .filter(|(s, t)| s != t)
            .map(|(s, t)| (format!("n{s}"), format!("n{t}")))
            .collect();
        let mut pairs: Vec<(&str, &str)> = names.iter().map(|(s, t)| (s.as_str(), t.as_str())).collect();
        pairs.push(("n0", "n1"));
        pairs.sort();
        pairs.dedup();
        let index = hand_built(&pairs);
        let direction = [Direction::Out, Direction::In, Direction::Both][direction as usize];
        let step = Step::new(KindSet::ALL, direction);
        let (from, to) = (format!("n{from}"), format!("n{to}"));
        if index.entity(&from).is_none() || index.entity(&to).is_none() {
            return Ok(());
        }
        let rules = PathRules::default();
        let fast = index.shortest_path(&from, &to, &Hops::Same(step), &rules, 8, budget()).unwrap();
        let slow = index.shortest_path(&from, &to, &Hops::PerHop(vec![step]), &rules, 8, budget()).unwrap();
        proptest::prop_assert_eq!(fast.as_ref().map(|p| p.relations.len()), slow.as_ref().map(|p| p.relations.len()));
        if let Some(path) = fast {
            let ids: Vec<&str> = path.entities.iter().map(|e| e.id.as_str()).collect();
            proptest::prop_assert_eq!(ids.first().copied(), Some(from.as_str()));
            proptest::prop_assert_eq!(ids.last().copied(), Some(to.as_str()));
            let mut unique = ids.clone();
            unique.sort();
            unique.dedup();
            proptest::prop_assert_eq!(unique.len(), ids.len(), "not simple: {:?}", ids);
            for (i, relation) in path.relations.iter().enumerate() {
                let (a, b) = (ids[i], ids[i + 1]);
                let forward = relation.source.id == a && relation.target.id == b;
                let backward = relation.source.id == b && relation.target.id == a;
                let allowed = match direction {
                    Direction::Out => forward,
                    Direction::In => backward,
                    Direction::Both => forward || backward,
                };
                proptest::prop_assert!(allowed, "hop {} of {:?} goes the wrong way", i, ids);
            }
        }
    }
}

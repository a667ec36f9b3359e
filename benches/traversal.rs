//! Traversal and measure benchmarks on synthetic graphs (`innograph::synthetic`), in process, on the
//! in-memory index: `cargo bench --bench traversal`. Sizes: `INNOGRAPH_BENCH_SIZES` (comma-separated
//! entity counts; default 10000,100000,1000000), 5 relations per entity.

use std::time::Duration;

use criterion::{BenchmarkId, Criterion, black_box, criterion_group, criterion_main};
use innograph::graph::{Budget, Direction, GraphIndex, Hops, KindSet, PathRules, Step};
use innograph::model::RelationKind;
use innograph::store::Snapshot;
use innograph::synthetic::{Params, generate};

fn sizes() -> Vec<usize> {
    std::env::var("INNOGRAPH_BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![10_000, 100_000, 1_000_000])
}

fn build(entities: usize) -> GraphIndex {
    let graph = generate(Params {
        entities,
        relations_per_entity: 5.0,
        seed: 42,
    });
    GraphIndex::from_snapshot(Snapshot {
        documents: graph.documents.into_iter().map(|(d, _)| d).collect(),
        entities: graph.entities,
        relations: graph.relations,
    })
}

/// Ids of entities whose degree is the median degree (up to 64 of them).
fn median_entities(index: &GraphIndex) -> Vec<String> {
    let all = Step::new(KindSet::ALL, Direction::Both);
    let (page, _, _) = index.page(None, None, usize::MAX);
    let mut degrees: Vec<(usize, String)> = page
        .iter()
        .map(|e| (index.relations_of(&e.id, all).len(), e.id.clone()))
        .collect();
    degrees.sort();
    let median = degrees[degrees.len() / 2].0;
    degrees
        .into_iter()
        .filter(|(d, _)| *d == median)
        .map(|(_, id)| id)
        .take(64)
        .collect()
}

/// 64 pairs of random non-district entities.
fn random_pairs(index: &GraphIndex) -> Vec<(String, String)> {
    let (page, _, _) = index.page(None, None, usize::MAX);
    let ids: Vec<&str> = page
        .iter()
        .filter(|e| !e.id.starts_with("district"))
        .map(|e| e.id.as_str())
        .collect();
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % ids.len() as u64) as usize
    };
    (0..64)
        .map(|_| (ids[next()].to_owned(), ids[next()].to_owned()))
        .collect()
}

fn traversal(c: &mut Criterion) {
    let budget = || Budget::new(10_000_000, Duration::from_secs(60));
    let filtered = Step::new(
        KindSet::of(&[
            RelationKind::CoBuiltBy,
            RelationKind::LocatedIn,
            RelationKind::CooperatesWith,
            RelationKind::ReliesOn,
        ]),
        Direction::Both,
    );
    let all = Step::new(KindSet::ALL, Direction::Both);
    for size in sizes() {
        let index = build(size);
        let median = median_entities(&index);
        let pairs = random_pairs(&index);
        eprintln!(
            "graph of {} entities, {} relations; median-degree sample {}",
            index.entity_count(),
            index.relation_count(),
            median.len()
        );
        let mut group = c.benchmark_group(format!("{size}"));
        group.sample_size(if size >= 1_000_000 { 20 } else { 50 });
        group.measurement_time(Duration::from_secs(5));
        let mut i = 0usize;
        group.bench_function("lookup_by_id", |b| {
            b.iter(|| {
                i = i.wrapping_add(1);
                black_box(index.entity(&median[i % median.len()]))
            })
        });
        for depth in [1u32, 2, 3] {
            group.bench_with_input(
                BenchmarkId::new("neighbors_filtered", depth),
                &depth,
                |b, &depth| {
                    b.iter(|| {
                        i = i.wrapping_add(1);
                        black_box(
                            index
                                .neighbors(
                                    &median[i % median.len()],
                                    filtered,
                                    depth,
                                    None,
                                    budget(),
                                )
                                .unwrap(),
                        )
                    })
                },
            );
        }
        group.bench_function("neighborhood_2hop_limit500", |b| {
            b.iter(|| {
                i = i.wrapping_add(1);
                black_box(index.neighborhood(
                    &[median[i % median.len()].clone()],
                    all,
                    2,
                    None,
                    500,
                    budget(),
                ))
            })
        });
        group.bench_function("shortest_path_random_pairs", |b| {
            b.iter(|| {
                i = i.wrapping_add(1);
                let (from, to) = &pairs[i % pairs.len()];
                black_box(
                    index
                        .shortest_path(
                            from,
                            to,
                            &Hops::Same(all),
                            &PathRules::default(),
                            12,
                            budget(),
                        )
                        .unwrap(),
                )
            })
        });
        group.bench_function("k_shortest_paths_k3", |b| {
            b.iter(|| {
                i = i.wrapping_add(1);
                let (from, to) = &pairs[i % pairs.len()];
                black_box(
                    index
                        .k_shortest_paths(
                            from,
                            to,
                            3,
                            &Hops::Same(all),
                            &PathRules::default(),
                            12,
                            budget(),
                        )
                        .unwrap(),
                )
            })
        });
        group.bench_function("reachable_2hop", |b| {
            b.iter(|| {
                i = i.wrapping_add(1);
                black_box(
                    index
                        .reachable(
                            &median[i % median.len()],
                            &Hops::Same(all),
                            1,
                            2,
                            None,
                            budget(),
                        )
                        .unwrap(),
                )
            })
        });
        group.bench_function("search_substring", |b| {
            b.iter(|| black_box(index.search("研究院12", None, 10)))
        });
        group.sample_size(10);
        group.bench_function("pagerank", |b| b.iter(|| black_box(index.pagerank())));
        if size <= 100_000 {
            group.bench_function("all_measures", |b| b.iter(|| black_box(index.measures())));
        }
        group.finish();
    }
}

criterion_group!(benches, traversal);
criterion_main!(benches);

//! innograph: the innovation ecosystem of a region as a knowledge graph, answered over GraphQL.
//!
//! See `ARCHITECTURE.md` for the map of modules and the rules between them. In short: `model` is the
//! vocabulary; `ingest` reads curated files and exchange formats and judges them; `storage` is durable
//! (sled) and keeps the in-memory `graph` (petgraph) in step; `api` is GraphQL and its HTTP transport;
//! `tools` are the benchmark, generator and coverage report; `cli` is the command line.
//!
//! The modules of each folder are re-exported at the root (`innograph::db`, `innograph::server` …), the
//! paths the rest of the code and the tests use.

pub mod api;
pub mod cli;
pub mod extract;
pub mod graph;
pub mod ingest;
pub mod model;
pub mod replicate;
pub mod storage;
pub mod tools;

pub use api::{auth, graphql, server};
pub use ingest::{interchange, passes, seed, validate};
pub use storage::{db, edit, snapshot, store};
pub use tools::{bench, stats, synthetic};

//! innograph: the innovation ecosystem of a region as a knowledge graph, answered over GraphQL.
//!
//! See `ARCHITECTURE.md` for the map of modules and the rules between them. In short: `model` is the
//! vocabulary; `seed` reads curated files and `validate` judges them; `store` is durable (sled), `graph`
//! is fast (petgraph, in memory) and `db` keeps the two in step; `graphql` is the API and `server` its
//! HTTP transport; `cli` is the command line.

pub mod auth;
pub mod bench;
pub mod cli;
pub mod db;
pub mod edit;
pub mod graph;
pub mod graphql;
pub mod interchange;
pub mod model;
pub mod seed;
pub mod server;
pub mod stats;
pub mod store;
pub mod synthetic;
pub mod validate;

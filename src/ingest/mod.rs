//! Ingest: what comes into the graph. `seed` reads curated TOML (or the copy embedded in the binary),
//! `interchange` reads and writes the exchange formats (JSON Lines, CSV, GraphML, GEXF, front-end
//! shapes), and `validate` judges whatever was read, with file and line; `passes` judges a large JSON
//! Lines file in passes over it, with bounded memory.

pub mod interchange;
pub mod passes;
pub mod seed;
pub mod validate;

//! Ingest: what comes into the graph. `seed` reads curated TOML (or the copy embedded in the binary),
//! `interchange` reads and writes the exchange formats (JSON Lines, CSV, GraphML, GEXF, front-end
//! shapes), and `validate` judges whatever was read, with file and line.

pub mod interchange;
pub mod seed;
pub mod validate;

//! Storage: `store` is durable (sled, the only module that imports it), `db` keeps the store and the
//! in-memory index in step and is the single door for writes, `edit` is every write the API offers,
//! `snapshot` is the file the built index is saved to so that a restart need not rebuild it.

pub mod db;
pub mod edit;
pub mod snapshot;
pub mod store;

//! Tools around the server: `stats` (the coverage report of a seed), `synthetic` (generated national-
//! scale graphs) and `bench` (in-process measurements).

pub mod bench;
pub mod stats;
pub mod synthetic;

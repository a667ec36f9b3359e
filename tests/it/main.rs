//! The integration tests: one binary, the real `innograph` executable, HTTP on loopback.

mod adversarial;
mod analysis;
mod api;
mod cli;
mod editing;
mod extraction;
mod fuzz;
mod hardening;
mod http;
mod interchange;
mod layers;
mod limits;
mod live;
mod measures;
mod newcomer;
mod performance;
mod persistence;
mod reliability;
mod replication;
mod schema;
mod seed_data;
mod snapshot;
mod support;

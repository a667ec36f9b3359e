//! The API: `graphql` (the only module that imports async-graphql), `server` its HTTP transport (the
//! only module that imports axum), `auth` the bearer tokens both use.

pub mod auth;
pub mod graphql;
pub mod server;

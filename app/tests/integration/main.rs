//! Integration tests: the real router, the real binary, on SQLite and on PostgreSQL.
//!
//! Every database test runs twice, as `<test>::sqlite` and `<test>::postgres`;
//! the PostgreSQL variant needs TEST_POSTGRES_URL (CI sets it and fails without it).

mod support;
// Deliveries go to the browser tests over HTTP, to these tests as values.
#[allow(dead_code)]
#[path = "../fake_github/mod.rs"]
mod fake_github;

mod cli;
mod exports;
mod import;
mod leaderboard;
mod pages;
mod startup;
mod submissions;

//! Everything that runs only on the server: configuration, the database,
//! the HTTP routes outside the pages, and the command-line entry points.

pub mod board;
pub mod config;
pub mod db;
pub mod evidence;
pub mod export;
pub mod import;
pub mod markdown;
pub mod seed;
pub mod site;
pub mod store;

use leptos::config::LeptosOptions;

/// What every request handler and server function can reach.
#[derive(Clone, axum::extract::FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub db: db::Db,
}

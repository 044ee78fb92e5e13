//! Everything that runs only on the server: configuration, the database,
//! the HTTP routes outside the pages, and the command-line entry points.

pub mod auth;
pub mod board;
pub mod config;
pub mod db;
pub mod evidence;
pub mod export;
pub mod github;
pub mod import;
pub mod markdown;
pub mod outbox;
pub mod review;
pub mod seed;
pub mod site;
pub mod store;
pub mod submit;
pub mod teams;
pub mod webhook;

use leptos::config::LeptosOptions;
use std::sync::Arc;

/// What every request handler and server function can reach.
#[derive(Clone, axum::extract::FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub db: db::Db,
    pub config: Arc<config::Config>,
    /// The challenge repository, when one is configured.
    github: Option<github::ChallengeRepo>,
    /// Wakes the outbox worker when a job is added.
    pub outbox_wake: Arc<tokio::sync::Notify>,
}

impl AppState {
    pub fn new(config: config::Config, db: db::Db) -> Result<Self, github::GitHubError> {
        let github = match &config.github.repository {
            Some(repository) => Some(github::ChallengeRepo::new(&config.github, repository)?),
            None => None,
        };
        Ok(Self {
            leptos_options: site::leptos_options(&config),
            db,
            config: Arc::new(config),
            github,
            outbox_wake: Arc::new(tokio::sync::Notify::new()),
        })
    }

    pub fn github_repo(&self) -> Option<&github::ChallengeRepo> {
        self.github.as_ref()
    }
}

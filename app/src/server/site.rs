//! The HTTP server: pages, server functions, exports and static files on one router.

use crate::app::{shell, App};
use crate::server::config::Config;
use crate::server::{auth, db::Db, export, outbox, review, submit, teams, webhook, AppState};
use anyhow::Context;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use leptos::config::LeptosOptions;
use leptos_axum::{generate_route_list, LeptosRoutes};

pub fn leptos_options(config: &Config) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name(config.output_name.clone())
        .site_root(config.site_root.clone())
        .site_pkg_dir(config.site_pkg_dir.clone())
        .site_addr(config.site_addr)
        .build()
}

/// The page routes, listed once per process: listing renders the app in a
/// special mode that pages being served at the same moment would see, and
/// their data would then never arrive.
fn page_routes() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> = std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

pub fn router(state: AppState) -> Router {
    let routes = page_routes();
    let options = state.leptos_options.clone();
    // Room for the form's text fields beside the largest allowed upload.
    let upload_limit = usize::try_from(state.config.max_upload_bytes).unwrap_or(usize::MAX).saturating_add(64 << 10);
    Router::new()
        .route("/api/leaderboard/{file}", get(export::leaderboard))
        .route("/api/github/webhook", post(webhook::receive))
        .route("/auth/github", get(auth::start_github))
        .route("/auth/github/callback", get(auth::finish_github))
        .route("/auth/dev", post(auth::dev_sign_in))
        .route("/auth/sign-out", post(auth::sign_out))
        .route("/team/create", post(teams::create))
        .route("/team/invite", post(teams::invite))
        .route("/team/join", post(teams::join))
        .route("/team/leave", post(teams::leave))
        .route("/submissions", post(submit::submit).layer(DefaultBodyLimit::max(upload_limit)))
        .route("/submissions/{id}/accept", post(review::accept))
        .leptos_routes(&state, routes, move || shell(options.clone()))
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .with_state(state)
}

pub async fn serve(config: &Config, db: Db) -> anyhow::Result<()> {
    let state = AppState::new(config.clone(), db)?;
    if config.dev_sign_in {
        tracing::warn!("development sign-in is enabled: anyone can sign in as anyone");
    }
    outbox::spawn_worker(state.clone());
    let listener = tokio::net::TcpListener::bind(config.site_addr)
        .await
        .with_context(|| format!("cannot listen on {} (set LEPTOS_SITE_ADDR to another address)", config.site_addr))?;
    tracing::info!("serving LM-Playschool on http://{}", config.site_addr);
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("the server stopped")
}

/// Resolves on Ctrl-C or SIGTERM, so in-flight requests finish before exit.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

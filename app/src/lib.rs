#![recursion_limit = "256"]
//! The LM-Playschool site: leaderboards, rules and submissions.
//! Built twice: for the server (`ssr`) and for the browser (`hydrate`).

pub mod app;
pub mod domain;
pub mod model;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod server;

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}

//! Small views shared by the pages that show scores.

use crate::model::{format_delta, format_score};
use leptos::prelude::*;

/// A score with its difference against the baseline, if there is one.
#[component]
pub fn ScoreCell(score: Option<f64>, delta: Option<f64>) -> impl IntoView {
    let delta = delta.map(|delta| {
        let direction = if delta > 0.0 {
            "delta up"
        } else if delta < 0.0 {
            "delta down"
        } else {
            "delta same"
        };
        view! { <span class=direction title="against the baseline">{format_delta(delta)}</span> }
    });
    view! {
        <span class="score-value" class:pending=score.is_none()>{format_score(score)}</span>
        {delta}
    }
}

/// A server error, said plainly.
#[component]
pub fn LoadError(message: String) -> impl IntoView {
    view! { <p class="error" role="alert">"Could not load this page: " {message}</p> }
}

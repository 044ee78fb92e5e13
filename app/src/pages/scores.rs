//! Small views shared by the pages: scores, and a page's data while it loads.

use crate::model::{format_delta, format_score};
use leptos::prelude::*;
use serde::{de::DeserializeOwned, Serialize};

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
fn LoadError(message: String) -> impl IntoView {
    view! { <p class="error" role="alert">"Could not load this page: " {message}</p> }
}

/// A page's data from the server: `loading` while it comes, the error if it
/// fails, else what `show` makes of it.
#[component]
pub fn Loaded<T, V>(
    data: Resource<Result<T, ServerFnError>>,
    loading: &'static str,
    show: fn(T) -> V,
) -> impl IntoView
where
    T: Clone + Send + Sync + Serialize + DeserializeOwned + 'static,
    V: IntoView + 'static,
{
    view! {
        <Suspense fallback=move || view! { <p class="loading">{loading}</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(data) => show(data).into_any(),
                    Err(error) => view! { <LoadError message=error.to_string()/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

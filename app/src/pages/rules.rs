use crate::model::Rules;
use crate::pages::scores::Loaded;
use leptos::prelude::*;
use leptos_meta::Title;

#[server]
pub async fn get_rules() -> Result<Rules, ServerFnError> {
    use crate::server::{markdown, store, AppState};
    let state = expect_context::<AppState>();
    let (challenge, rules) = store::rules(&state.db)
        .await
        .map_err(|e| ServerFnError::new(format!("database error: {e}")))?
        .ok_or_else(|| ServerFnError::new("no challenge is set up"))?;
    Ok(Rules { challenge, html: markdown::render(&rules) })
}

#[component]
pub fn RulesPage() -> impl IntoView {
    let rules = Resource::new(|| (), |_| get_rules());
    view! {
        <Title text="Rules · LM-Playschool"/>
        <Loaded data=rules loading="Loading the rules…" show=|rules| view! { <article class="rules" inner_html=rules.html></article> }/>
    }
}

//! `/submissions/:id`: everything stored about one entry.

use crate::model::{format_score, EntryProgressView, SubmissionDetail};
use crate::pages::session::FormError;
use crate::pages::submit::VerificationDetails;
use crate::pages::not_found::NotFound;
use crate::pages::scores::{Loaded, ScoreCell};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

#[server]
pub async fn get_submission(id: i64) -> Result<Option<SubmissionDetail>, ServerFnError> {
    use crate::pages::session::{current_viewer, request_context};
    use crate::server::board;
    let (state, headers) = request_context()?;
    let mut detail = board::load_submission(&state.db, id).await.map_err(|e| ServerFnError::new(e.to_string()))?;
    let organizer = current_viewer(&state, &headers).await?.map(|(_, info)| info).filter(|info| info.organizer);
    if let (Some(progress), Some(organizer)) = (detail.as_mut().and_then(|d| d.progress.as_mut()), organizer) {
        if progress.status.on_organizer_accept().is_some() {
            progress.accept_csrf = Some(organizer.csrf);
        }
    }
    Ok(detail)
}

#[component]
pub fn SubmissionPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").and_then(|id| id.parse::<i64>().ok());
    let detail = Resource::new(id, |id| async move {
        match id {
            Some(id) => get_submission(id).await,
            None => Ok(None),
        }
    });
    view! {
        <Loaded data=detail loading="Loading the submission…" show=|detail| match detail {
            Some(detail) => view! { <Submission detail/> }.into_any(),
            None => view! { <NotFound/> }.into_any(),
        }/>
    }
}

#[component]
fn Submission(detail: SubmissionDetail) -> impl IntoView {
    let row = detail.row;
    let standing = match (row.rank, row.unranked_reason) {
        (Some(rank), _) => format!("Rank {rank} on the {} leaderboard", detail.phase.as_str()),
        (None, Some(reason)) => format!("Unranked on the {} leaderboard: {reason}", detail.phase.as_str()),
        (None, None) => "Unranked".to_string(),
    };
    let games = (!detail.game_scores.is_empty()).then(|| {
        view! {
            <h2>"Per game"</h2>
            <table class="games">
                <thead><tr><th>"Suite"</th><th>"Game"</th><th>"% played"</th><th>"Quality"</th></tr></thead>
                <tbody>
                    {detail.game_scores.into_iter().map(|g| view! {
                        <tr>
                            <td>{g.suite}</td>
                            <td>{g.game}</td>
                            <td>{format_score(g.played)}</td>
                            <td>{format_score(g.quality)}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        }
    });
    view! {
        <Title text=format!("{} · LM-Playschool", row.name)/>
        <article class="submission">
            <h1>
                {row.name.clone()}
                {row.is_baseline.then(|| view! { <span class="badge">"baseline"</span> })}
            </h1>
            <p class="standing">{standing}</p>
            <FormError/>
            {detail.progress.map(|progress| view! { <Progress progress id=row.id/> })}
            <dl class="fields">
                <dt>"Team"</dt><dd>{row.team}</dd>
                <dt>"Date"</dt><dd>{row.submitted_on}</dd>
                <dt>"clemscore"</dt><dd><ScoreCell score=row.clemscore delta=row.clemscore_delta/></dd>
                <dt>"statscore"</dt><dd><ScoreCell score=row.statscore delta=row.statscore_delta/></dd>
                {row.average_played.map(|played| view! { <dt>"Average % played"</dt><dd>{format!("{played:.2}")}</dd> })}
                {row.average_quality.map(|quality| view! { <dt>"Average quality"</dt><dd>{format!("{quality:.2}")}</dd> })}
                <dt>"Repository"</dt>
                <dd>
                    {match row.repository_url {
                        Some(url) => view! { <a href=url.clone() rel="noopener">{url.clone()}</a> }.into_any(),
                        None => view! { "not given" }.into_any(),
                    }}
                </dd>
            </dl>
            <h2>"Description"</h2>
            <div class="description" inner_html=row.description_html></div>
            {games}
            <p><a href="/">"Back to the dev leaderboard"</a></p>
        </article>
    }
}

/// A browser entry's status, pull request and check.
#[component]
fn Progress(progress: EntryProgressView, id: i64) -> impl IntoView {
    let report = progress.report.clone();
    view! {
        <section class="progress">
            <p class="status" data-status=progress.status.as_str()>{progress.status_line.clone()}</p>
            {progress.pr_url.clone().map(|url| view! { <p><a class="pr-link" href=url.clone() rel="external">{format!("Pull request: {url}")}</a></p> })}
            {progress.accept_csrf.clone().map(|csrf| view! {
                <form method="post" action=format!("/submissions/{id}/accept")>
                    <input type="hidden" name="csrf" value=csrf/>
                    <button type="submit">"Accept (merges the pull request)"</button>
                </form>
            })}
            <dl class="fields">
                <dt>"Model"</dt><dd>{progress.model.clone()}</dd>
                <dt>"Base model"</dt><dd>{progress.base_model.clone()}</dd>
                <dt>"Training tokens (reported)"</dt><dd>{progress.training_tokens.to_string()}</dd>
            </dl>
            {report.map(|report| {
                let verdict = if report.verified { "verified" } else { "not verified" };
                let settings = report.clem.as_ref().and_then(|suite| suite.settings.clone()).map(|s| {
                    format!(
                        "clemcore {} · temperature {} · max_tokens {}",
                        s.clem_version.unwrap_or_else(|| "?".to_string()),
                        s.temperature.map_or("?".to_string(), |t| t.to_string()),
                        s.max_tokens.map_or("?".to_string(), |t| t.to_string()),
                    )
                });
                view! {
                    <h2>"Evidence"</h2>
                    <p class="verdict" data-verified=report.verified.to_string()>
                        {format!("The uploaded files of {} were recomputed: {verdict}.", report.model)}
                    </p>
                    {settings.map(|settings| view! { <p class="settings">{settings}</p> })}
                    <VerificationDetails report/>
                }
            })}
        </section>
    }
}

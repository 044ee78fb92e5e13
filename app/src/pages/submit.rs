//! `/submit`: the entry form, with the team's quota and, after a failed check,
//! what did not add up.

use crate::model::{RejectedUpload, SubmitPage, VerificationReport};
use crate::pages::scores::Loaded;
use crate::pages::session::{FormError, SignIn};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[server]
pub async fn get_submit_page(rejected: Option<i64>) -> Result<SubmitPage, ServerFnError> {
    use crate::domain::quota;
    use crate::domain::submission_flow::is_open;
    use crate::model::{PhaseKind, QuotaView};
    use crate::pages::session::{current_viewer, request_context, sign_in_options};
    use crate::server::{auth::now, store, submit, teams};
    let (state, headers) = request_context()?;
    let database = |e: sqlx::Error| ServerFnError::new(format!("database error: {e}"));
    let mut page = SubmitPage {
        viewer: None,
        sign_in: sign_in_options(&state),
        team: None,
        quota: None,
        closed_reason: None,
        max_upload_mb: state.config.max_upload_bytes >> 20,
        rejected: None,
    };
    let Some((viewer, info)) = current_viewer(&state, &headers).await? else { return Ok(page) };
    page.viewer = Some(info);
    let Some(phase) = store::phase(&state.db, PhaseKind::Dev).await.map_err(database)? else {
        page.closed_reason = Some("There is no dev phase to submit to.".to_string());
        return Ok(page);
    };
    let now = now();
    if !is_open(phase.closes_on.as_deref(), &quota::utc_date(now)) {
        page.closed_reason =
            Some(format!("The dev phase closed on {}.", phase.closes_on.clone().unwrap_or_default()));
    }
    let Some(team) = teams::membership(&state, phase.challenge_id, viewer.user_id).await.map_err(database)? else {
        page.closed_reason.get_or_insert_with(|| "Found or join a team first.".to_string());
        return Ok(page);
    };
    let used = submit::used_today(&state.db.pool, team.team_id, now).await.map_err(database)?;
    let standing = quota::status(state.config.daily_submissions, used, now);
    page.quota = Some(QuotaView {
        per_day: state.config.daily_submissions,
        used: standing.used,
        left: standing.left,
        resets_at: quota::utc_time(standing.resets_at),
    });
    if let Some(id) = rejected {
        let found = store::rejected_upload(&state.db, id, team.team_id).await.map_err(database)?;
        page.rejected = found.map(|(name, report)| RejectedUpload {
            name,
            report: serde_json::from_str(&report).unwrap_or_default(),
        });
    }
    page.team = Some(team.team_name);
    Ok(page)
}

#[component]
pub fn SubmitPageView() -> impl IntoView {
    let query = use_query_map();
    let rejected = move || query.read().get("rejected").and_then(|id| id.parse::<i64>().ok());
    let page = Resource::new(rejected, get_submit_page);
    view! {
        <Title text="Submit · LM-Playschool"/>
        <h1>"Submit an entry"</h1>
        <FormError/>
        <Loaded data=page loading="Loading…" show=|page| view! { <SubmitForm page/> }/>
    }
}

#[component]
fn SubmitForm(page: SubmitPage) -> impl IntoView {
    let Some(viewer) = page.viewer else {
        return view! { <SignIn options=page.sign_in/> }.into_any();
    };
    let rejected = page.rejected.map(|rejected| view! { <Rejected rejected/> });
    if let Some(reason) = page.closed_reason {
        return view! { {rejected} <p class="closed">{reason} " " <a href="/team">"Your team"</a></p> }.into_any();
    }
    let quota = page.quota.map(|q| {
        view! {
            <p class="quota" data-left=q.left.to_string()>
                {format!("{} of {} submissions left today; the count starts again at {}.", q.left, q.per_day, q.resets_at)}
            </p>
        }
    });
    view! {
        {rejected}
        <p>{format!("Submitting for {} as @{}.", page.team.unwrap_or_default(), viewer.login)}</p>
        {quota}
        <form method="post" action="/submissions" enctype="multipart/form-data" class="entry-form">
            <input type="hidden" name="csrf" value=viewer.csrf/>
            <label>"Submission name" <input name="name" required maxlength="80"/></label>
            <label>"Repository URL" <input name="repository_url" type="url" required placeholder="https://github.com/…"/></label>
            <label>"Model (Hugging Face id)" <input name="model_id" required placeholder="team/model"/></label>
            <label>"Model revision" <input name="model_revision" required placeholder="commit or tag"/></label>
            <label>"Base model" <input name="base_model" required value="meta-llama/Llama-3.1-8B-Instruct"/></label>
            <label>"Training tokens consumed" <input name="training_tokens" required inputmode="numeric"/></label>
            <DescriptionField/>
            <fieldset>
                <legend>{format!("Evidence: what `playpen eval` wrote (at most {} MB)", page.max_upload_mb)}</legend>
                <label>"The results folder as .zip or .tar.gz" <input type="file" name="evidence" accept=".zip,.gz,.tgz"/></label>
                <p>"or the loose files:"</p>
                <label>"<model>.val.json" <input type="file" name="val_json" accept=".json"/></label>
                <label>"clem/results.csv" <input type="file" name="clem_results" accept=".csv"/></label>
                <label>"static/results.csv" <input type="file" name="static_results" accept=".csv"/></label>
                <label>"clem/raw.csv (optional)" <input type="file" name="clem_raw" accept=".csv"/></label>
                <label>"run.json (optional)" <input type="file" name="run_json" accept=".json"/></label>
            </fieldset>
            <button type="submit">"Check and submit"</button>
        </form>
    }.into_any()
}

/// Renders a description as the board will show it (changes nothing, so it needs no token).
#[server]
pub async fn preview_description(markdown: String) -> Result<String, ServerFnError> {
    Ok(crate::server::markdown::render(&markdown))
}

/// The description, with a preview rendered by the same code the board uses.
#[component]
fn DescriptionField() -> impl IntoView {
    let text = RwSignal::new(String::new());
    let preview = Action::new(|markdown: &String| preview_description(markdown.clone()));
    view! {
        <label>"Description (markdown)"
            <textarea name="description" rows="4" maxlength="2000" on:input=move |e| text.set(event_target_value(&e))></textarea>
        </label>
        <button type="button" class="secondary" on:click=move |_| { preview.dispatch(text.get_untracked()); }>"Preview"</button>
        <div class="preview description" inner_html=move || preview.value().get().and_then(Result::ok).unwrap_or_default()></div>
    }
}

#[component]
fn Rejected(rejected: RejectedUpload) -> impl IntoView {
    view! {
        <section class="verification rejected" role="alert">
            <h2>{format!("\"{}\" was not accepted: the numbers do not check out", rejected.name)}</h2>
            <VerificationDetails report=rejected.report/>
            <p>"Rejected checks do not count against your quota."</p>
        </section>
    }
}

/// What the check found: mismatches, problems and warnings.
#[component]
pub fn VerificationDetails(report: VerificationReport) -> impl IntoView {
    let number = |n: Option<f64>| n.map_or_else(|| "missing".to_string(), |n| format!("{n:.2}"));
    view! {
        {report.problem.map(|problem| view! { <p class="problem">{problem}</p> })}
        {(!report.mismatches.is_empty()).then(|| view! {
            <table class="mismatches">
                <thead><tr><th>"Number"</th><th>"Claimed"</th><th>"Recomputed"</th><th>"Difference"</th></tr></thead>
                <tbody>
                    {report.mismatches.into_iter().map(|m| view! {
                        <tr>
                            <td>{m.what}</td>
                            <td>{number(m.claimed)}</td>
                            <td>{number(m.recomputed)}</td>
                            <td>{m.difference.map_or_else(|| "—".to_string(), |d| format!("{d:+.2}"))}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        })}
        {(!report.warnings.is_empty()).then(|| view! {
            <ul class="warnings">{report.warnings.into_iter().map(|w| view! { <li>{w}</li> }).collect_view()}</ul>
        })}
    }
}

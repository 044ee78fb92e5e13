//! `/team`: sign in, found or join a team, invite people.

use crate::model::TeamPage;
use crate::pages::scores::Loaded;
use crate::pages::session::{FormError, SignIn};
use leptos::prelude::*;
use leptos_meta::Title;

#[server]
pub async fn get_team_page() -> Result<TeamPage, ServerFnError> {
    use crate::model::{Invitation, PhaseKind, TeamView};
    use crate::pages::session::{current_viewer, request_context, sign_in_options};
    use crate::server::{store, teams};
    let (state, headers) = request_context()?;
    let database = |e: sqlx::Error| ServerFnError::new(format!("database error: {e}"));
    let mut page = TeamPage { viewer: None, sign_in: sign_in_options(&state), team: None, invitations: Vec::new() };
    let Some((viewer, info)) = current_viewer(&state, &headers).await? else { return Ok(page) };
    page.viewer = Some(info);
    let Some(phase) = store::phase(&state.db, PhaseKind::Dev).await.map_err(database)? else { return Ok(page) };
    if let Some(team) = teams::membership(&state, phase.challenge_id, viewer.user_id).await.map_err(database)? {
        page.team = Some(TeamView {
            name: team.team_name,
            members: teams::member_logins(&state, team.team_id).await.map_err(database)?,
            invited: teams::invited_logins(&state, team.team_id).await.map_err(database)?,
        });
    }
    page.invitations = teams::invitations(&state, phase.challenge_id, &viewer.login)
        .await
        .map_err(database)?
        .into_iter()
        .map(|(team_id, team, invited_by)| Invitation { team_id, team, invited_by })
        .collect();
    Ok(page)
}

#[component]
pub fn TeamPageView() -> impl IntoView {
    let page = Resource::new(|| (), |_| get_team_page());
    view! {
        <Title text="Your team · LM-Playschool"/>
        <h1>"Your team"</h1>
        <FormError/>
        <Loaded data=page loading="Loading…" show=|page| view! { <Team page/> }/>
    }
}

#[component]
fn Team(page: TeamPage) -> impl IntoView {
    let Some(viewer) = page.viewer else {
        return view! { <SignIn options=page.sign_in/> }.into_any();
    };
    let csrf = viewer.csrf;
    let invitations = page.invitations.into_iter().map(|invitation| {
        let csrf = csrf.clone();
        view! {
            <li>
                {format!("{} (invited by @{})", invitation.team, invitation.invited_by)}
                <form method="post" action="/team/join" class="inline">
                    <input type="hidden" name="csrf" value=csrf/>
                    <input type="hidden" name="team_id" value=invitation.team_id.to_string()/>
                    <button type="submit">{format!("Join {}", invitation.team)}</button>
                </form>
            </li>
        }
    }).collect_view();
    let membership = match page.team {
        Some(team) => view! {
            <section class="team">
                <h2>{team.name}</h2>
                <p>{format!("Members: {}", at_logins(&team.members))}</p>
                {(!team.invited.is_empty()).then(|| view! {
                    <p>{format!("Invited: {}", at_logins(&team.invited))}</p>
                })}
                <form method="post" action="/team/invite">
                    <input type="hidden" name="csrf" value=csrf.clone()/>
                    <label>"Invite by GitHub login " <input name="login" required/></label>
                    <button type="submit">"Invite"</button>
                </form>
                <p><a href="/submit">"Submit an entry"</a></p>
                <form method="post" action="/team/leave">
                    <input type="hidden" name="csrf" value=csrf.clone()/>
                    <button type="submit" class="secondary">"Leave the team"</button>
                </form>
            </section>
        }.into_any(),
        None => view! {
            <section class="team">
                <p>"You are not in a team yet. Found one, or join one that invited you."</p>
                <form method="post" action="/team/create">
                    <input type="hidden" name="csrf" value=csrf.clone()/>
                    <label>"Team name " <input name="name" required maxlength="60"/></label>
                    <button type="submit">"Found the team"</button>
                </form>
            </section>
        }.into_any(),
    };
    view! {
        <p>{format!("Signed in as @{}", viewer.login)}</p>
        {membership}
        <section class="invitations">
            <h2>"Invitations"</h2>
            <ul>{invitations}</ul>
        </section>
    }.into_any()
}

fn at_logins(logins: &[String]) -> String {
    logins.iter().map(|login| format!("@{login}")).collect::<Vec<_>>().join(", ")
}

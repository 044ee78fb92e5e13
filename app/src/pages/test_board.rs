//! `/test`: the held-out results of the top five, once the organizers publish them.

use crate::model::{format_held_out, Board, PhaseKind};
use crate::pages::leaderboard::get_board;
use crate::pages::scores::Loaded;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn TestLeaderboard() -> impl IntoView {
    let board = Resource::new(|| (), |_| get_board(PhaseKind::Test));
    view! {
        <Title text="Test leaderboard · LM-Playschool"/>
        <Loaded data=board loading="Loading the leaderboard…" show=|board| if board.published && !board.rows.is_empty() {
            view! { <TestBoard board/> }.into_any()
        } else {
            view! { <NotYetPublished challenge=board.challenge/> }.into_any()
        }/>
    }
}

#[component]
fn NotYetPublished(challenge: String) -> impl IntoView {
    view! {
        <section class="board empty-state">
            <h1>{challenge} <span class="phase">" · test leaderboard"</span></h1>
            <p class="notice">"No test results have been published yet."</p>
            <p>
                "When the dev phase closes, the five highest-ranked teams hand in their agent and "
                "training log. The organizers evaluate each agent on held-out games and publish the "
                "results here, ranked by the held-out clemscore."
            </p>
            <p><a href="/">"See the dev leaderboard"</a> " · " <a href="/rules">"Read the rules"</a></p>
        </section>
    }
}

#[component]
fn TestBoard(board: Board) -> impl IntoView {
    view! {
        <section class="board">
            <h1>{board.challenge} <span class="phase">" · test leaderboard"</span></h1>
            <p class="rule">"Ranked by clemscore on held-out games, shown as clemscore (average % played / average quality)."</p>
            <table class="leaderboard">
                <thead>
                    <tr><th>"Rank"</th><th>"Submission"</th><th>"Team"</th><th>"Held-out clemscore"</th></tr>
                </thead>
                <tbody>
                    {board.rows.into_iter().map(|row| {
                        let score = format_held_out(&row);
                        view! {
                            <tr data-id=row.id>
                                <td class="rank">{row.rank.map_or_else(|| "–".to_string(), |r| r.to_string())}</td>
                                <td class="name"><a href=format!("/submissions/{}", row.id)>{row.name}</a></td>
                                <td class="team">{row.team}</td>
                                <td class="score">{score}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
}

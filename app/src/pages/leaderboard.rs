//! `/`: the dev leaderboard, ranked by the challenge's rule; sortable and searchable once interactive.

use crate::domain::sorting::{arrange, SortColumn, SortOrder};
use crate::model::{Board, BoardRow, PhaseKind};
use crate::pages::scores::{Loaded, ScoreCell};
use leptos::prelude::*;
use leptos_meta::Title;

/// A published board; an unpublished one comes without rows.
#[server]
pub async fn get_board(phase: PhaseKind) -> Result<Board, ServerFnError> {
    use crate::server::{board, AppState};
    let state = expect_context::<AppState>();
    board::load_public(&state.db, phase).await.map_err(|e| ServerFnError::new(e.to_string()))
}

#[component]
pub fn DevLeaderboard() -> impl IntoView {
    let board = Resource::new(|| (), |_| get_board(PhaseKind::Dev));
    view! {
        <Title text="Dev leaderboard · LM-Playschool"/>
        <Loaded data=board loading="Loading the leaderboard…" show=|board| view! { <DevBoard board/> }/>
    }
}

fn aria_sort(order: SortOrder, column: SortColumn) -> &'static str {
    match (order.column == column, order.descending) {
        (false, _) => "none",
        (true, false) => "ascending",
        (true, true) => "descending",
    }
}

#[component]
fn DevBoard(board: Board) -> impl IntoView {
    let order = RwSignal::new(SortOrder::default());
    let query = RwSignal::new(String::new());
    let rows = StoredValue::new(board.rows);
    let arranged = Memo::new(move |_| rows.with_value(|rows| arrange(rows, order.get(), &query.read())));
    let header = move |column: SortColumn, label: &'static str| {
        view! {
            <th aria-sort=move || aria_sort(order.get(), column)>
                <button type="button" class="sort" on:click=move |_| order.update(|o| *o = o.clicked(column))>
                    {label}
                </button>
            </th>
        }
    };
    let deadline = board.closes_on.map(|date| view! { <p class="deadline">"The dev phase closes on " {date} "."</p> });

    view! {
        <section class="board">
            <h1>{board.challenge} <span class="phase">" · dev leaderboard"</span></h1>
            <p class="rule">{board.rule}</p>
            {deadline}
            <div class="toolbar">
                <label class="search">
                    <span class="visually-hidden">"Search"</span>
                    <input
                        type="search"
                        name="q"
                        placeholder="Search submissions, teams, descriptions"
                        prop:value=move || query.get()
                        on:input=move |ev| query.set(event_target_value(&ev))
                    />
                </label>
                <span class="exports">
                    "Download: " <a href="/api/leaderboard/dev.json">"JSON"</a> " · "
                    <a href="/api/leaderboard/dev.csv">"CSV"</a>
                </span>
            </div>
            <table class="leaderboard">
                <thead>
                    <tr>
                        {header(SortColumn::Rank, "Rank")}
                        {header(SortColumn::Name, "Submission")}
                        {header(SortColumn::Team, "Team")}
                        {header(SortColumn::Date, "Date")}
                        {header(SortColumn::Clemscore, "clemscore")}
                        {header(SortColumn::Statscore, "statscore")}
                        <th>"Description"</th>
                    </tr>
                </thead>
                <tbody>
                    {move || {
                        let (ranked, unranked) = arranged.get();
                        let nothing = ranked.is_empty() && unranked.is_empty();
                        view! {
                            {ranked.into_iter().map(|row| view! { <DevRow row/> }).collect_view()}
                            {(!unranked.is_empty()).then(|| view! {
                                <tr class="band-label"><th colspan="7" scope="rowgroup">"Unranked"</th></tr>
                            })}
                            {unranked.into_iter().map(|row| view! { <DevRow row/> }).collect_view()}
                            {nothing.then(|| view! {
                                <tr class="empty"><td colspan="7">"No entries match."</td></tr>
                            })}
                        }
                    }}
                </tbody>
            </table>
        </section>
    }
}

#[component]
fn DevRow(row: BoardRow) -> impl IntoView {
    let band = if row.rank.is_some() { "ranked" } else { "unranked" };
    let rank = match (row.rank, row.unranked_reason) {
        (Some(rank), _) => view! { {rank} }.into_any(),
        (None, reason) => view! { "–" <span class="reason">{reason}</span> }.into_any(),
    };
    view! {
        <tr class=band data-band=band data-id=row.id>
            <td class="rank">{rank}</td>
            <td class="name">
                <a href=format!("/submissions/{}", row.id)>{row.name}</a>
                {row.is_baseline.then(|| view! { <span class="badge">"baseline"</span> })}
                {row.repository_url.map(|url| view! { " " <a class="repo" href=url rel="noopener">"repo"</a> })}
            </td>
            <td class="team">{row.team}</td>
            <td class="date">{row.submitted_on}</td>
            <td class="score clemscore"><ScoreCell score=row.clemscore delta=row.clemscore_delta/></td>
            <td class="score statscore"><ScoreCell score=row.statscore delta=row.statscore_delta/></td>
            <td class="description" inner_html=row.description_html></td>
        </tr>
    }
}

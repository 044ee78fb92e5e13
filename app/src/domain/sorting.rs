//! How a visitor re-sorts and filters a board in the browser. The ranked and
//! unranked bands stay apart: sorting never lifts an unranked entry into the ranking.

use crate::model::BoardRow;
use std::cmp::Ordering;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortColumn {
    Rank,
    Name,
    Team,
    Date,
    Clemscore,
    Statscore,
}

impl SortColumn {
    /// Scores read best-first; everything else reads A to Z, oldest first, rank 1 first.
    pub fn starts_descending(self) -> bool {
        matches!(self, Self::Clemscore | Self::Statscore)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SortOrder {
    pub column: SortColumn,
    pub descending: bool,
}

impl Default for SortOrder {
    fn default() -> Self {
        Self { column: SortColumn::Rank, descending: false }
    }
}

impl SortOrder {
    /// The order after a click on `column`'s header: the same column flips, another starts fresh.
    pub fn clicked(self, column: SortColumn) -> Self {
        if self.column == column {
            Self { column, descending: !self.descending }
        } else {
            Self { column, descending: column.starts_descending() }
        }
    }
}

fn compare_scores(a: Option<f64>, b: Option<f64>) -> Ordering {
    // Missing scores sort as lowest.
    match (a, b) {
        (Some(a), Some(b)) => a.total_cmp(&b),
        (Some(_), None) => Ordering::Greater,
        (None, Some(_)) => Ordering::Less,
        (None, None) => Ordering::Equal,
    }
}

fn compare(a: &BoardRow, b: &BoardRow, column: SortColumn) -> Ordering {
    match column {
        SortColumn::Rank => Ordering::Equal,
        SortColumn::Name => a.name.to_lowercase().cmp(&b.name.to_lowercase()),
        SortColumn::Team => a.team.to_lowercase().cmp(&b.team.to_lowercase()),
        SortColumn::Date => a.submitted_on.cmp(&b.submitted_on),
        SortColumn::Clemscore => compare_scores(a.clemscore, b.clemscore),
        SortColumn::Statscore => compare_scores(a.statscore, b.statscore),
    }
}

/// Whether a row matches the search box: every word must appear in its
/// name, team or description, ignoring case.
pub fn matches_query(row: &BoardRow, query: &str) -> bool {
    let haystack = format!("{} {} {}", row.name, row.team, row.description).to_lowercase();
    query.split_whitespace().all(|word| haystack.contains(&word.to_lowercase()))
}

/// The rows to show, in order: each band sorted on its own, ranked band first.
/// Rows arrive in board order, which the stable sort keeps among equals.
pub fn arrange(rows: &[BoardRow], order: SortOrder, query: &str) -> (Vec<BoardRow>, Vec<BoardRow>) {
    let (mut ranked, mut unranked): (Vec<BoardRow>, Vec<BoardRow>) = rows
        .iter()
        .filter(|row| matches_query(row, query))
        .cloned()
        .partition(|row| row.rank.is_some());
    for band in [&mut ranked, &mut unranked] {
        if order.column == SortColumn::Rank {
            if order.descending {
                band.reverse();
            }
            continue;
        }
        band.sort_by(|a, b| {
            let ordering = compare(a, b, order.column);
            if order.descending { ordering.reverse() } else { ordering }
        });
    }
    (ranked, unranked)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: i64, rank: Option<u32>, name: &str, team: &str, clem: Option<f64>) -> BoardRow {
        BoardRow {
            id,
            rank,
            unranked_reason: rank.is_none().then(|| "statscore pending".to_string()),
            name: name.to_string(),
            team: team.to_string(),
            submitted_on: format!("2025-07-0{id}"),
            clemscore: clem,
            statscore: None,
            clemscore_delta: None,
            statscore_delta: None,
            average_played: None,
            average_quality: None,
            description: format!("entry {name}"),
            description_html: String::new(),
            repository_url: None,
            is_baseline: false,
        }
    }

    fn ids(rows: &[BoardRow]) -> Vec<i64> {
        rows.iter().map(|r| r.id).collect()
    }

    fn board() -> Vec<BoardRow> {
        vec![
            row(1, Some(1), "Zeta", "OrgTeam", Some(30.0)),
            row(2, Some(2), "alpha", "Team B", Some(20.0)),
            row(3, None, "Beta", "Team C", Some(40.0)),
            row(4, None, "gamma", "Team D", None),
        ]
    }

    #[test]
    fn rank_order_is_the_board_order() {
        let (ranked, unranked) = arrange(&board(), SortOrder::default(), "");
        assert_eq!((ids(&ranked), ids(&unranked)), (vec![1, 2], vec![3, 4]));
    }

    #[test]
    fn sorting_by_name_keeps_the_bands_apart() {
        let order = SortOrder::default().clicked(SortColumn::Name);
        let (ranked, unranked) = arrange(&board(), order, "");
        assert_eq!((ids(&ranked), ids(&unranked)), (vec![2, 1], vec![3, 4]));
    }

    #[test]
    fn a_second_click_flips_the_order() {
        let order = SortOrder::default().clicked(SortColumn::Clemscore);
        assert!(order.descending);
        let (ranked, unranked) = arrange(&board(), order.clicked(SortColumn::Clemscore), "");
        assert_eq!((ids(&ranked), ids(&unranked)), (vec![2, 1], vec![4, 3]));
    }

    #[test]
    fn search_matches_every_word_in_any_field() {
        let (ranked, unranked) = arrange(&board(), SortOrder::default(), "team c");
        assert_eq!((ids(&ranked), ids(&unranked)), (vec![], vec![3]));
        let (ranked, _) = arrange(&board(), SortOrder::default(), "ENTRY zeta");
        assert_eq!(ids(&ranked), vec![1]);
    }
}

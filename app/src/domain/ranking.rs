//! The leaderboard's ranking rule, as plain functions over plain values.
//!
//! Entries are ranked by clemscore, highest first. While a phase's gate is on,
//! only entries whose statscore is present and not lower than the baseline's
//! enter the ranking; every other entry is listed below them, unranked, with
//! the reason. Equal clemscores share a rank (1, 1, 3) and are listed oldest
//! first.

use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::fmt;

/// What the rule needs to know about one entry.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub id: i64,
    /// ISO date (`YYYY-MM-DD`), so that text order is date order.
    pub submitted_on: String,
    pub clemscore: Option<f64>,
    pub statscore: Option<f64>,
}

/// A phase's statscore gate.
#[derive(Clone, Debug, PartialEq)]
pub enum Gate {
    Off,
    /// On, against the baseline's statscore (`None` while the baseline's is pending).
    On { baseline_statscore: Option<f64> },
}

/// Why an entry is not ranked.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum UnrankedReason {
    ClemscorePending,
    StatscorePending,
    BaselineStatscorePending,
    BelowBaseline { statscore: f64, baseline: f64 },
}

impl fmt::Display for UnrankedReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ClemscorePending => write!(f, "clemscore pending"),
            Self::StatscorePending => write!(f, "statscore pending"),
            Self::BaselineStatscorePending => write!(f, "baseline statscore pending"),
            Self::BelowBaseline { statscore, baseline } => {
                write!(f, "statscore {statscore:.2} below the baseline's {baseline:.2}")
            }
        }
    }
}

/// Where an entry stands on the board.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Standing {
    Ranked(u32),
    Unranked(UnrankedReason),
}

/// One entry's place, in display order.
#[derive(Clone, Debug, PartialEq)]
pub struct Placement {
    pub id: i64,
    pub standing: Standing,
}

/// Scores are published with two decimals; comparing in hundredths keeps
/// 55.45 equal to 55.45 whatever the float arithmetic did before.
fn hundredths(score: f64) -> i64 {
    (score * 100.0).round() as i64
}

fn unranked_reason(entry: &Entry, gate: &Gate) -> Option<UnrankedReason> {
    if entry.clemscore.is_none() {
        return Some(UnrankedReason::ClemscorePending);
    }
    let Gate::On { baseline_statscore } = gate else {
        return None;
    };
    let Some(statscore) = entry.statscore else {
        return Some(UnrankedReason::StatscorePending);
    };
    let Some(baseline) = *baseline_statscore else {
        return Some(UnrankedReason::BaselineStatscorePending);
    };
    (hundredths(statscore) < hundredths(baseline))
        .then_some(UnrankedReason::BelowBaseline { statscore, baseline })
}

/// Highest clemscore first (missing last), then oldest, then first stored.
fn board_order(a: &Entry, b: &Entry) -> Ordering {
    let clem = |e: &Entry| e.clemscore.map(hundredths);
    clem(b)
        .cmp(&clem(a))
        .then_with(|| a.submitted_on.cmp(&b.submitted_on))
        .then_with(|| a.id.cmp(&b.id))
}

/// Places every entry: the ranked band first, then the unranked band.
pub fn rank(entries: &[Entry], gate: &Gate) -> Vec<Placement> {
    let mut ranked: Vec<&Entry> = Vec::new();
    let mut unranked: Vec<(&Entry, UnrankedReason)> = Vec::new();
    for entry in entries {
        match unranked_reason(entry, gate) {
            None => ranked.push(entry),
            Some(reason) => unranked.push((entry, reason)),
        }
    }
    ranked.sort_by(|a, b| board_order(a, b));
    unranked.sort_by(|(a, _), (b, _)| board_order(a, b));

    let mut placements = Vec::with_capacity(entries.len());
    let mut previous: Option<(i64, u32)> = None;
    for (position, entry) in ranked.into_iter().enumerate() {
        let score = hundredths(entry.clemscore.unwrap_or_default());
        let rank = match previous {
            Some((previous_score, previous_rank)) if previous_score == score => previous_rank,
            _ => position as u32 + 1,
        };
        previous = Some((score, rank));
        placements.push(Placement { id: entry.id, standing: Standing::Ranked(rank) });
    }
    placements.extend(
        unranked
            .into_iter()
            .map(|(entry, reason)| Placement { id: entry.id, standing: Standing::Unranked(reason) }),
    );
    placements
}

/// The difference against the baseline's score, rounded to two decimals.
pub fn delta(score: Option<f64>, baseline: Option<f64>) -> Option<f64> {
    Some((hundredths(score?) - hundredths(baseline?)) as f64 / 100.0)
}

/// The rule in one sentence, as the board states it above the table.
pub fn rule_sentence(gate: &Gate) -> String {
    match gate {
        Gate::Off => "Entries are ranked by clemscore, highest first; \
                      the statscore gate is off in this phase."
            .to_string(),
        Gate::On { baseline_statscore: Some(baseline) } => format!(
            "Entries are ranked by clemscore, highest first, but only those whose statscore \
             is not below the baseline's ({baseline:.2}) enter the ranking; the rest are listed \
             below, unranked, with the reason."
        ),
        Gate::On { baseline_statscore: None } => "Entries are ranked by clemscore, highest first, \
             but only those whose statscore is not below the baseline's enter the ranking; \
             the baseline's statscore is still pending."
            .to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: i64, date: &str, clem: Option<f64>, stat: Option<f64>) -> Entry {
        Entry { id, submitted_on: date.to_string(), clemscore: clem, statscore: stat }
    }

    fn gate(baseline: f64) -> Gate {
        Gate::On { baseline_statscore: Some(baseline) }
    }

    fn standings(placements: &[Placement]) -> Vec<(i64, Standing)> {
        placements.iter().map(|p| (p.id, p.standing.clone())).collect()
    }

    #[test]
    fn empty_board_has_no_placements() {
        assert!(rank(&[], &gate(55.45)).is_empty());
        assert!(rank(&[], &Gate::Off).is_empty());
    }

    #[test]
    fn gate_on_ranks_only_entries_at_or_above_the_baseline() {
        let entries = [
            entry(1, "2025-07-03", Some(24.60), Some(55.45)),
            entry(2, "2025-07-04", Some(30.00), Some(52.10)),
            entry(3, "2025-07-05", Some(28.00), Some(60.00)),
        ];
        assert_eq!(
            standings(&rank(&entries, &gate(55.45))),
            vec![
                (3, Standing::Ranked(1)),
                (1, Standing::Ranked(2)),
                (
                    2,
                    Standing::Unranked(UnrankedReason::BelowBaseline {
                        statscore: 52.10,
                        baseline: 55.45
                    })
                ),
            ]
        );
    }

    #[test]
    fn statscore_equal_to_the_baseline_is_ranked() {
        // 55.45 computed in two different ways must still compare equal.
        let entries = [entry(1, "2025-07-03", Some(10.0), Some(55.4 + 0.05))];
        assert_eq!(rank(&entries, &gate(55.45))[0].standing, Standing::Ranked(1));
    }

    #[test]
    fn just_below_the_baseline_is_unranked() {
        let entries = [entry(1, "2025-07-03", Some(10.0), Some(55.44))];
        assert!(matches!(
            rank(&entries, &gate(55.45))[0].standing,
            Standing::Unranked(UnrankedReason::BelowBaseline { .. })
        ));
    }

    #[test]
    fn missing_statscore_is_pending_under_the_gate() {
        let entries = [
            entry(1, "2025-07-03", Some(24.60), Some(55.45)),
            entry(2, "2025-07-03", Some(19.58), None),
            entry(3, "2025-07-03", Some(14.39), None),
        ];
        assert_eq!(
            standings(&rank(&entries, &gate(55.45))),
            vec![
                (1, Standing::Ranked(1)),
                (2, Standing::Unranked(UnrankedReason::StatscorePending)),
                (3, Standing::Unranked(UnrankedReason::StatscorePending)),
            ]
        );
    }

    #[test]
    fn gate_off_ranks_every_entry_with_a_clemscore() {
        let entries = [
            entry(1, "2025-07-03", Some(24.60), Some(55.45)),
            entry(2, "2025-07-03", Some(30.0), Some(10.0)),
            entry(3, "2025-07-03", Some(14.39), None),
            entry(4, "2025-07-03", None, Some(70.0)),
        ];
        assert_eq!(
            standings(&rank(&entries, &Gate::Off)),
            vec![
                (2, Standing::Ranked(1)),
                (1, Standing::Ranked(2)),
                (3, Standing::Ranked(3)),
                (4, Standing::Unranked(UnrankedReason::ClemscorePending)),
            ]
        );
    }

    #[test]
    fn ties_share_a_rank_and_are_listed_oldest_first() {
        let entries = [
            entry(1, "2025-07-05", Some(40.0), Some(60.0)),
            entry(2, "2025-07-01", Some(40.0), Some(60.0)),
            entry(3, "2025-07-02", Some(35.0), Some(60.0)),
            entry(4, "2025-07-03", Some(50.0), Some(60.0)),
        ];
        assert_eq!(
            standings(&rank(&entries, &gate(55.45))),
            vec![
                (4, Standing::Ranked(1)),
                (2, Standing::Ranked(2)),
                (1, Standing::Ranked(2)),
                (3, Standing::Ranked(4)),
            ]
        );
    }

    #[test]
    fn a_tie_at_the_top_gives_one_one_three() {
        let entries = [
            entry(1, "2025-07-02", Some(40.0), None),
            entry(2, "2025-07-01", Some(40.0), None),
            entry(3, "2025-07-01", Some(30.0), None),
        ];
        let ranks: Vec<_> = rank(&entries, &Gate::Off).into_iter().map(|p| p.standing).collect();
        assert_eq!(ranks, vec![Standing::Ranked(1), Standing::Ranked(1), Standing::Ranked(3)]);
    }

    #[test]
    fn pending_baseline_statscore_ranks_nobody_under_the_gate() {
        let entries = [entry(1, "2025-07-03", Some(24.60), Some(60.0))];
        let gate = Gate::On { baseline_statscore: None };
        assert_eq!(
            rank(&entries, &gate)[0].standing,
            Standing::Unranked(UnrankedReason::BaselineStatscorePending)
        );
    }

    #[test]
    fn missing_clemscore_is_never_ranked() {
        let entries = [entry(1, "2025-07-03", None, Some(60.0))];
        assert_eq!(
            rank(&entries, &gate(55.45))[0].standing,
            Standing::Unranked(UnrankedReason::ClemscorePending)
        );
    }

    #[test]
    fn reasons_read_as_the_board_shows_them() {
        assert_eq!(UnrankedReason::StatscorePending.to_string(), "statscore pending");
        assert_eq!(
            UnrankedReason::BelowBaseline { statscore: 52.1, baseline: 55.45 }.to_string(),
            "statscore 52.10 below the baseline's 55.45"
        );
    }

    #[test]
    fn delta_is_rounded_and_needs_both_scores() {
        assert_eq!(delta(Some(19.58), Some(24.60)), Some(-5.02));
        assert_eq!(delta(Some(24.60), Some(24.60)), Some(0.0));
        assert_eq!(delta(None, Some(24.60)), None);
        assert_eq!(delta(Some(1.0), None), None);
    }

    #[test]
    fn rule_sentence_names_the_baseline() {
        assert!(rule_sentence(&gate(55.45)).contains("(55.45)"));
        assert!(rule_sentence(&Gate::Off).contains("gate is off"));
    }
}

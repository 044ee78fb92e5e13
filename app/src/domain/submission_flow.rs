//! The life of a browser submission, from a verified upload to a live row:
//! which state follows which event, and how long a failed GitHub call waits
//! before it is tried again.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubmissionStatus {
    /// Verified; no challenge repository is configured, so an organizer reviews it here.
    AwaitingReview,
    /// Verified and stored; its pull request is still to be opened.
    PrPending,
    PrOpen,
    /// On the board.
    Accepted,
    /// Its pull request was closed without merging.
    Rejected,
}

impl SubmissionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AwaitingReview => "awaiting_review",
            Self::PrPending => "pr_pending",
            Self::PrOpen => "pr_open",
            Self::Accepted => "accepted",
            Self::Rejected => "rejected",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::AwaitingReview, Self::PrPending, Self::PrOpen, Self::Accepted, Self::Rejected]
            .into_iter()
            .find(|status| status.as_str() == text)
    }

    /// The state a new, verified submission starts in.
    pub fn initial(has_repository: bool) -> Self {
        if has_repository { Self::PrPending } else { Self::AwaitingReview }
    }

    /// After its pull request was closed (merged or not); `None` when the
    /// event changes nothing, e.g. a second delivery of the same close.
    pub fn on_pull_request_closed(self, merged: bool) -> Option<Self> {
        match self {
            Self::PrPending | Self::PrOpen => Some(if merged { Self::Accepted } else { Self::Rejected }),
            Self::AwaitingReview | Self::Accepted | Self::Rejected => None,
        }
    }

    /// After an organizer accepted it in the app; `None` when it cannot be.
    pub fn on_organizer_accept(self) -> Option<Self> {
        match self {
            Self::AwaitingReview | Self::PrOpen => Some(Self::Accepted),
            Self::PrPending | Self::Accepted | Self::Rejected => None,
        }
    }

    /// Whether the entry has ended up on the board or off it for good.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Accepted | Self::Rejected)
    }
}

/// The one line the submission page shows about where the entry stands.
pub fn status_line(status: SubmissionStatus, pr_number: Option<i64>, failed_attempts: u32, last_error: Option<&str>) -> String {
    match (status, last_error) {
        (SubmissionStatus::AwaitingReview, _) => "Verified · waiting for an organizer's review".to_string(),
        (SubmissionStatus::PrPending, Some(error)) if failed_attempts > 0 => {
            format!("Verified · PR pending · {error} · retrying (failed attempts: {failed_attempts})")
        }
        (SubmissionStatus::PrPending, _) => "Verified · PR pending".to_string(),
        (SubmissionStatus::PrOpen, _) => match pr_number {
            Some(number) => format!("Verified · PR #{number} open"),
            None => "Verified · PR open".to_string(),
        },
        (SubmissionStatus::Accepted, _) => "Accepted · on the leaderboard".to_string(),
        (SubmissionStatus::Rejected, _) => "Rejected · the pull request was closed without merging".to_string(),
    }
}

/// Whether a phase closing on `closes_on` (its last day, `YYYY-MM-DD`) still
/// takes entries on `today`.
pub fn is_open(closes_on: Option<&str>, today: &str) -> bool {
    closes_on.is_none_or(|last_day| today <= last_day)
}

/// Seconds to wait before attempt `attempts + 1`: doubling from 5 s, at most 10 minutes.
pub fn retry_delay(attempts: u32) -> i64 {
    const FIRST: i64 = 5;
    const MOST: i64 = 600;
    FIRST.saturating_mul(1_i64 << attempts.min(20)).min(MOST)
}

#[cfg(test)]
mod tests {
    use super::SubmissionStatus::*;
    use super::*;

    #[test]
    fn a_pull_request_decides_once() {
        assert_eq!(PrOpen.on_pull_request_closed(true), Some(Accepted));
        assert_eq!(PrOpen.on_pull_request_closed(false), Some(Rejected));
        // A merge seen before the opening was recorded still counts.
        assert_eq!(PrPending.on_pull_request_closed(true), Some(Accepted));
        // Replays and late events change nothing.
        assert_eq!(Accepted.on_pull_request_closed(false), None);
        assert_eq!(Rejected.on_pull_request_closed(true), None);
        assert_eq!(AwaitingReview.on_pull_request_closed(true), None);
    }

    #[test]
    fn organizers_accept_what_is_waiting_for_them() {
        assert_eq!(AwaitingReview.on_organizer_accept(), Some(Accepted));
        assert_eq!(PrOpen.on_organizer_accept(), Some(Accepted));
        assert_eq!(PrPending.on_organizer_accept(), None, "no pull request to merge yet");
        assert_eq!(Rejected.on_organizer_accept(), None);
    }

    #[test]
    fn statuses_round_trip_through_their_names() {
        for status in [AwaitingReview, PrPending, PrOpen, Accepted, Rejected] {
            assert_eq!(SubmissionStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(SubmissionStatus::parse("merged"), None);
        assert_eq!(SubmissionStatus::initial(true), PrPending);
        assert_eq!(SubmissionStatus::initial(false), AwaitingReview);
    }

    #[test]
    fn the_status_line_says_what_is_happening_on_github() {
        assert_eq!(status_line(PrPending, None, 0, None), "Verified · PR pending");
        assert_eq!(
            status_line(PrPending, None, 2, Some("GitHub unreachable: 502 Bad Gateway")),
            "Verified · PR pending · GitHub unreachable: 502 Bad Gateway · retrying (failed attempts: 2)"
        );
        assert_eq!(status_line(PrOpen, Some(12), 0, None), "Verified · PR #12 open");
        assert_eq!(status_line(Accepted, Some(12), 0, None), "Accepted · on the leaderboard");
    }

    #[test]
    fn a_phase_takes_entries_through_its_last_day() {
        assert!(is_open(Some("2025-09-15"), "2025-09-15"));
        assert!(!is_open(Some("2025-09-15"), "2025-09-16"));
        assert!(is_open(None, "2030-01-01"));
    }

    #[test]
    fn retries_back_off_to_a_ceiling() {
        let delays: Vec<i64> = (0..9).map(retry_delay).collect();
        assert_eq!(delays, [5, 10, 20, 40, 80, 160, 320, 600, 600]);
        assert_eq!(retry_delay(u32::MAX), 600);
    }
}

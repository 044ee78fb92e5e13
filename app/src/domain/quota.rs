//! Submissions per team per day. Days are UTC calendar days, so the quota
//! resets at the same moment for every team wherever it works.

pub const SECONDS_PER_DAY: i64 = 86_400;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuotaStatus {
    pub used: u32,
    pub left: u32,
    /// When the count starts again (seconds since the epoch).
    pub resets_at: i64,
}

/// The first second of `now`'s UTC day.
pub fn day_start(now: i64) -> i64 {
    now.div_euclid(SECONDS_PER_DAY) * SECONDS_PER_DAY
}

/// Where a team stands after `used_today` counted submissions.
pub fn status(per_day: u32, used_today: u32, now: i64) -> QuotaStatus {
    QuotaStatus { used: used_today, left: per_day.saturating_sub(used_today), resets_at: day_start(now) + SECONDS_PER_DAY }
}

/// `YYYY-MM-DD` of a UTC timestamp (proleptic Gregorian calendar).
pub fn utc_date(timestamp: i64) -> String {
    // Howard Hinnant's days-to-civil algorithm.
    let days = timestamp.div_euclid(SECONDS_PER_DAY) + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 { month_index + 3 } else { month_index - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// `YYYY-MM-DD HH:MM UTC`, for messages.
pub fn utc_time(timestamp: i64) -> String {
    let seconds = timestamp.rem_euclid(SECONDS_PER_DAY);
    format!("{} {:02}:{:02} UTC", utc_date(timestamp), seconds / 3600, seconds % 3600 / 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2026-11-25 08:13:35 UTC
    const MORNING: i64 = 1_795_594_415;

    #[test]
    fn the_quota_resets_at_utc_midnight() {
        let status = status(3, 1, MORNING);
        assert_eq!((status.used, status.left), (1, 2));
        assert_eq!(utc_time(status.resets_at), "2026-11-26 00:00 UTC");
        assert_eq!(status.resets_at - day_start(MORNING), SECONDS_PER_DAY);
    }

    #[test]
    fn a_full_quota_leaves_nothing_and_never_underflows() {
        assert_eq!(status(3, 3, MORNING).left, 0);
        assert_eq!(status(3, 7, MORNING).left, 0);
    }

    #[test]
    fn dates_match_the_calendar() {
        assert_eq!(utc_time(MORNING), "2026-11-25 08:13 UTC");
        assert_eq!(utc_date(0), "1970-01-01");
        assert_eq!(utc_date(951_782_400), "2000-02-29");
        assert_eq!(utc_date(-1), "1969-12-31");
    }
}

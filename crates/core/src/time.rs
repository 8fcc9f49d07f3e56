//! Instants as the contract writes them: RFC 3339 UTC strings, whole seconds.

use chrono::{DateTime, Datelike, SecondsFormat, Utc};

pub type Instant = DateTime<Utc>;

/// Milliseconds since the Unix epoch, as `Date.now()` gives them; out-of-range values
/// clamp to the epoch rather than panic.
pub fn from_millis(ms: i64) -> Instant {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

pub fn rfc3339(at: Instant) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// `YYYY-MM-DD` (UTC). Written field by field, as `BillingPeriod::key` is: chrono's
/// `format` interprets a pattern at run time, and its machinery was 11 KB of the api
/// worker's gzipped wasm.
pub fn date(at: Instant) -> String {
    format!("{:04}-{:02}-{:02}", at.year(), at.month(), at.day())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_are_written_as_utc_with_whole_seconds() {
        assert_eq!(rfc3339(from_millis(1_764_000_000_999)), "2025-11-24T16:00:00Z");
        assert_eq!(date(from_millis(1_764_000_000_999)), "2025-11-24");
    }

    #[test]
    fn a_date_is_written_as_chrono_writes_it_across_years_and_month_ends() {
        for ms in [0, 951_782_400_000, 1_767_225_599_999, 4_107_542_400_000, 253_402_300_799_000] {
            let at = from_millis(ms);
            assert_eq!(date(at), at.format("%Y-%m-%d").to_string(), "{ms}");
        }
    }
}

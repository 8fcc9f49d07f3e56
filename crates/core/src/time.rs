//! Instants as the contract writes them: RFC 3339 UTC strings, whole seconds.

use chrono::{DateTime, SecondsFormat, Utc};

pub type Instant = DateTime<Utc>;

/// Milliseconds since the Unix epoch, as `Date.now()` gives them; out-of-range values
/// clamp to the epoch rather than panic.
pub fn from_millis(ms: i64) -> Instant {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

pub fn rfc3339(at: Instant) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

pub fn date(at: Instant) -> String {
    at.format("%Y-%m-%d").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_are_written_as_utc_with_whole_seconds() {
        assert_eq!(rfc3339(from_millis(1_764_000_000_999)), "2025-11-24T16:00:00Z");
        assert_eq!(date(from_millis(1_764_000_000_999)), "2025-11-24");
    }
}

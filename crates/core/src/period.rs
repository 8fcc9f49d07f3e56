//! The billing period: the UTC calendar month. Counts reset at its end.

use crate::time::Instant;
use chrono::{Datelike, NaiveDate, TimeZone, Utc};

/// `[start, end)`: from the first instant of a UTC month to the first of the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BillingPeriod {
    pub start: Instant,
    pub end: Instant,
}

impl BillingPeriod {
    pub fn containing(now: Instant) -> Self {
        let (year, month) = (now.year(), now.month());
        let (next_year, next_month) = if month == 12 { (year + 1, 1) } else { (year, month + 1) };
        Self { start: first_of(year, month), end: first_of(next_year, next_month) }
    }

    /// `YYYY-MM`: what stored counters remember to know when they roll over.
    pub fn key(&self) -> String {
        format!("{:04}-{:02}", self.start.year(), self.start.month())
    }
}

fn first_of(year: i32, month: u32) -> Instant {
    let date = NaiveDate::from_ymd_opt(year, month, 1).unwrap_or_default();
    Utc.from_utc_datetime(&date.and_hms_opt(0, 0, 0).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::rfc3339;
    use chrono::Duration;
    use proptest::prelude::*;

    fn at(s: &str) -> Instant {
        s.parse().expect("valid RFC 3339")
    }

    #[test]
    fn a_period_runs_from_the_first_of_the_month_to_the_first_of_the_next() {
        let p = BillingPeriod::containing(at("2026-11-25T18:20:00Z"));
        assert_eq!(rfc3339(p.start), "2026-11-01T00:00:00Z");
        assert_eq!(rfc3339(p.end), "2026-12-01T00:00:00Z");
        assert_eq!(p.key(), "2026-11");
    }

    #[test]
    fn december_rolls_over_into_january_of_the_next_year() {
        let p = BillingPeriod::containing(at("2026-12-31T23:59:59.999Z"));
        assert_eq!(rfc3339(p.end), "2027-01-01T00:00:00Z");
        let next = BillingPeriod::containing(at("2027-01-01T00:00:00Z"));
        assert_eq!(next.start, p.end);
        assert_eq!(next.key(), "2027-01");
    }

    #[test]
    fn a_leap_february_has_29_days_and_a_common_one_28() {
        let leap = BillingPeriod::containing(at("2028-02-29T12:00:00Z"));
        assert_eq!(rfc3339(leap.end), "2028-03-01T00:00:00Z");
        assert_eq!(leap.end - leap.start, Duration::days(29));
        let common = BillingPeriod::containing(at("2027-02-14T12:00:00Z"));
        assert_eq!(common.end - common.start, Duration::days(28));
    }

    #[test]
    fn the_last_millisecond_of_a_month_is_still_in_it() {
        let p = BillingPeriod::containing(at("2026-11-30T23:59:59.999Z"));
        assert_eq!(p.key(), "2026-11");
        assert_eq!(BillingPeriod::containing(p.end).key(), "2026-12");
    }

    proptest! {
        #[test]
        fn every_instant_lies_inside_its_period(ms in 0i64..4_102_444_800_000) {
            let now = crate::time::from_millis(ms);
            let p = BillingPeriod::containing(now);
            prop_assert!(p.start <= now && now < p.end);
            prop_assert!(p.end - p.start >= Duration::days(28));
            prop_assert!(p.end - p.start <= Duration::days(31));
        }
    }
}

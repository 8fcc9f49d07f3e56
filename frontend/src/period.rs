//! Calendar dates as the developer reads them, and the billing period in words: "Dec 1 –
//! Dec 31, resets in 12 days". The browser turns instants into dates ([`crate::time`]:
//! a period's are UTC days, as it is a UTC month); what is said about those dates is
//! here, tested natively.
//!
//! A period is `[periodStart, periodEnd)` (dream-core's `BillingPeriod`: from the first
//! instant of a UTC month to the first instant of the next), so its last day is the day
//! of the instant just before `periodEnd`.

/// A day of the calendar (month 1–12, day 1–31).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

const MONTHS: [&str; 12] =
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

impl Date {
    pub fn new(year: i32, month: u32, day: u32) -> Self {
        Self { year, month, day }
    }

    /// `YYYY-MM-DD` (the dates of the API's daily rows); `None` for anything else.
    pub fn parse(text: &str) -> Option<Self> {
        let mut parts = text.splitn(3, '-');
        let year = parts.next()?.parse().ok()?;
        let month = parts.next()?.parse().ok().filter(|m| (1..=12).contains(m))?;
        let day = parts.next()?.parse().ok().filter(|d| (1..=31).contains(d))?;
        Some(Self { year, month, day })
    }

    /// "Dec 3".
    pub fn short(self) -> String {
        let month = MONTHS.get(self.month.saturating_sub(1) as usize).unwrap_or(&"?");
        format!("{month} {}", self.day)
    }

    /// Days since 1970-01-01 (negative before), for the proleptic Gregorian calendar.
    pub fn days_since_epoch(self) -> i64 {
        let year = i64::from(self.year) - i64::from(self.month <= 2);
        let era = year.div_euclid(400);
        let year_of_era = year - era * 400;
        let month = i64::from(self.month);
        let day_of_year =
            (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
        era * 146_097 + day_of_era - 719_468
    }
}

/// "`YYYY-MM-DD`" as "Dec 3", or the text as given when it is not a date.
pub fn short_date(text: &str) -> String {
    Date::parse(text).map_or_else(|| text.to_string(), Date::short)
}

/// When the counts start again, from today: "resets today", "resets tomorrow", "resets
/// in 12 days". A reset already past (an answer read just before it) is "today".
pub fn resets_words(resets: Date, today: Date) -> String {
    match resets.days_since_epoch() - today.days_since_epoch() {
        ..=0 => "resets today".into(),
        1 => "resets tomorrow".into(),
        n => format!("resets in {n} days"),
    }
}

/// "Dec 1 – Dec 31, resets in 12 days": the period's first and last day and the days
/// until its reset.
pub fn period_text(first: Date, last: Date, resets: Date, today: Date) -> String {
    format!("{} – {}, {}", first.short(), last.short(), resets_words(resets, today))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> Date {
        Date::parse(text).expect("a date")
    }

    #[test]
    fn a_december_period_reads_from_the_first_to_the_last_day_with_the_days_left() {
        let text = period_text(d("2026-12-01"), d("2026-12-31"), d("2027-01-01"), d("2026-12-20"));
        assert_eq!(text, "Dec 1 – Dec 31, resets in 12 days");
    }

    #[test]
    fn the_reset_is_today_or_tomorrow_when_it_is_so() {
        assert_eq!(resets_words(d("2027-01-01"), d("2026-12-31")), "resets tomorrow");
        assert_eq!(resets_words(d("2026-12-31"), d("2026-12-31")), "resets today");
        assert_eq!(resets_words(d("2026-12-31"), d("2027-01-01")), "resets today");
        assert_eq!(resets_words(d("2027-01-01"), d("2026-12-30")), "resets in 2 days");
    }

    #[test]
    fn days_are_counted_across_months_leap_days_and_years() {
        assert_eq!(d("1970-01-01").days_since_epoch(), 0);
        assert_eq!(d("2000-03-01").days_since_epoch() - d("2000-02-28").days_since_epoch(), 2);
        assert_eq!(d("2027-03-01").days_since_epoch() - d("2027-02-28").days_since_epoch(), 1);
        assert_eq!(d("2027-01-01").days_since_epoch() - d("2026-01-01").days_since_epoch(), 365);
        assert_eq!(d("1969-12-31").days_since_epoch(), -1);
        let text = period_text(d("2028-02-01"), d("2028-02-29"), d("2028-03-01"), d("2028-02-01"));
        assert_eq!(text, "Feb 1 – Feb 29, resets in 29 days");
    }

    #[test]
    fn only_well_formed_dates_read_and_others_are_shown_as_given() {
        assert_eq!(Date::parse("2026-12-03"), Some(Date::new(2026, 12, 3)));
        assert_eq!(short_date("2026-12-03"), "Dec 3");
        assert_eq!(short_date("2026-01-31"), "Jan 31");
        for bad in ["2026-13-01", "2026-12-00", "2026-12", "yesterday", ""] {
            assert_eq!(Date::parse(bad), None, "{bad}");
        }
        assert_eq!(short_date("yesterday"), "yesterday");
    }
}

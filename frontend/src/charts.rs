//! What the dashboard's charts and the revenue card show, as plain functions of what
//! the API answered (dream-core's `Stats` and `Revenue`): dollars, the dates on an
//! axis, each day's words and the bars' and line's geometry. No browser here, so all of it is tested
//! natively.

use crate::period::short_date;
use dream_core::stats::DailyCount;

pub use dream_core::revenue::{Revenue, RevenueDay, TierRevenue};

/// Nothing to chart: no subscription now and none started or ended in the window.
pub fn no_revenue(revenue: &Revenue) -> bool {
    revenue.active_subscriptions == 0
        && revenue.daily.iter().all(|d| d.new_subscriptions == 0 && d.cancellations == 0)
}

/// "$1,234.50": whole dollars grouped by thousands, always with the cents.
pub fn dollars(cents: u64) -> String {
    let whole = (cents / 100).to_string();
    let mut grouped = String::new();
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    format!("${grouped}.{:02}", cents % 100)
}

/// "1 active subscription", "3 active subscriptions".
pub fn subscriptions_text(count: u64) -> String {
    format!("{count} active subscription{}", if count == 1 { "" } else { "s" })
}

fn plural(count: u64, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

/// The dates under a chart: its first, middle and last day ("Dec 3"), each once.
pub fn axis_labels<'a>(dates: impl ExactSizeIterator<Item = &'a str> + Clone) -> Vec<String> {
    let len = dates.len();
    if len == 0 {
        return Vec::new();
    }
    let mut picks = vec![0, len / 2, len - 1];
    picks.dedup();
    let at = |i: usize| dates.clone().nth(i).map(short_date).unwrap_or_default();
    picks.into_iter().map(at).collect()
}

/// One day of the usage chart, as it is read out and shown on hover or focus: "Dec 3:
/// 12 calls, 2 denied".
pub fn day_label(day: &DailyCount) -> String {
    format!(
        "{}: {}, {} denied",
        short_date(&day.date),
        plural(day.calls, "call", "calls"),
        day.denied
    )
}

/// A bar's height out of 100 for `value` against the chart's `max`; a day with any
/// calls keeps a visible sliver.
pub fn bar_height(value: u64, max: u64) -> u64 {
    if value == 0 {
        return 0;
    }
    (value.saturating_mul(100) / max.max(1)).clamp(1, 100)
}

/// The MRR line's points in a `width` × 100 box (higher MRR nearer the top), one per
/// day from left to right; a flat line at the bottom when it never rose above zero.
pub fn mrr_points(days: &[RevenueDay], width: u64) -> String {
    let max = days.iter().map(|d| d.mrr_cents).max().unwrap_or(0).max(1);
    let last = (days.len() as u64).saturating_sub(1).max(1);
    let point = |(i, d): (usize, &RevenueDay)| {
        let x = i as u64 * width / last;
        format!("{x},{}", 100 - d.mrr_cents.saturating_mul(100) / max)
    };
    days.iter().enumerate().map(point).collect::<Vec<_>>().join(" ")
}

/// What the MRR chart says to a screen reader.
pub fn mrr_summary(days: &[RevenueDay]) -> String {
    match (days.first(), days.last()) {
        (Some(first), Some(last)) => format!(
            "MRR over {} days: {} on {}, {} on {}",
            days.len(),
            dollars(first.mrr_cents),
            short_date(&first.date),
            dollars(last.mrr_cents),
            short_date(&last.date)
        ),
        _ => "No MRR yet".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answers::read;

    fn day(date: &str, mrr_cents: u64) -> RevenueDay {
        RevenueDay { date: date.into(), new_subscriptions: 0, cancellations: 0, mrr_cents }
    }

    #[test]
    fn dollars_group_thousands_and_always_show_cents() {
        assert_eq!(dollars(0), "$0.00");
        assert_eq!(dollars(900), "$9.00");
        assert_eq!(dollars(123_456_705), "$1,234,567.05");
        assert_eq!(dollars(100_000), "$1,000.00");
        assert_eq!(dollars(99_999), "$999.99");
    }

    #[test]
    fn the_axis_names_the_first_middle_and_last_day_once_each() {
        let dates = ["2026-11-04", "2026-11-05", "2026-11-06", "2026-11-07", "2026-11-08"];
        assert_eq!(axis_labels(dates.iter().copied()), ["Nov 4", "Nov 6", "Nov 8"]);
        assert_eq!(axis_labels(["2026-12-01"].iter().copied()), ["Dec 1"]);
        assert_eq!(axis_labels(["2026-12-01", "2026-12-02"].iter().copied()), ["Dec 1", "Dec 2"]);
        assert!(axis_labels([].iter().copied()).is_empty());
    }

    #[test]
    fn each_day_reads_its_calls_and_denials() {
        let d = DailyCount { date: "2026-12-03".into(), calls: 12, denied: 2 };
        assert_eq!(day_label(&d), "Dec 3: 12 calls, 2 denied");
        let d = DailyCount { date: "2026-12-04".into(), calls: 1, denied: 0 };
        assert_eq!(day_label(&d), "Dec 4: 1 call, 0 denied");
    }

    #[test]
    fn bars_scale_to_the_busiest_value_and_a_small_one_stays_visible() {
        assert_eq!(bar_height(50, 100), 50);
        assert_eq!(bar_height(100, 100), 100);
        assert_eq!(bar_height(1, 1000), 1);
        assert_eq!(bar_height(0, 1000), 0);
        assert_eq!(bar_height(3, 0), 100);
    }

    #[test]
    fn the_mrr_line_rises_with_mrr_from_left_to_right() {
        let days = [day("2026-12-01", 0), day("2026-12-02", 450), day("2026-12-03", 900)];
        assert_eq!(mrr_points(&days, 200), "0,100 100,50 200,0");
        assert_eq!(mrr_points(&[day("2026-12-01", 0)], 200), "0,100");
        assert_eq!(mrr_summary(&days), "MRR over 3 days: $0.00 on Dec 1, $9.00 on Dec 3");
    }

    #[test]
    fn revenue_reads_as_sent_and_is_empty_only_without_any_subscription_in_the_window() {
        let text = r#"{"currency": "usd", "mrrCents": 900, "activeSubscriptions": 1,
            "byTier": [{"tier": "pro", "subscriptions": 1, "mrrCents": 900}],
            "daily": [{"date": "2026-12-03", "newSubscriptions": 1, "cancellations": 0, "mrrCents": 900}]}"#;
        let revenue: Revenue = read(200, text).expect("revenue");
        assert_eq!((revenue.mrr_cents, revenue.by_tier[0].tier.as_str()), (900, "pro"));
        assert!(!no_revenue(&revenue));
        let none = Revenue { active_subscriptions: 0, mrr_cents: 0, by_tier: vec![], ..revenue };
        assert!(!no_revenue(&none), "a subscription started in the window is still shown");
        let quiet = Revenue { daily: vec![day("2026-12-03", 0)], ..none };
        assert!(no_revenue(&quiet));
        assert_eq!(subscriptions_text(1), "1 active subscription");
        assert_eq!(subscriptions_text(0), "0 active subscriptions");
    }
}

//! Usage alerts: at which counts `usage.threshold_reached` (an end-user against their
//! tier's limit) and `platform.quota_threshold_reached` (a platform against its plan's
//! quota) fire.
//!
//! The platform's object decides every `track` in turn and knows the count before and
//! after each allowed call, so [`crossed`] on that pair decides each alert exactly once,
//! whatever the concurrency: two calls never see the same `before`.

use crate::error::Invalid;
use crate::json::{whole_number, JsonObject};
use serde::{Deserialize, Serialize};

/// A platform's thresholds until its developer sets others.
pub const DEFAULT_THRESHOLDS: [u8; 2] = [80, 100];
/// At most this many thresholds.
pub const MAX_THRESHOLDS: usize = 5;

/// Percentages of a limit (1–100), at most five, ascending and distinct. Empty means no
/// usage alerts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<u64>", into = "Vec<u8>")]
pub struct Thresholds(Vec<u8>);

impl Default for Thresholds {
    fn default() -> Self {
        Self(DEFAULT_THRESHOLDS.to_vec())
    }
}

impl Thresholds {
    /// `PUT /v1/alerts {thresholds: [int]}`.
    pub fn from_request(body: &JsonObject) -> Result<Self, Invalid> {
        let values = body
            .required_array("thresholds")?
            .iter()
            .map(|v| whole_number(v).ok_or_else(out_of_range))
            .collect::<Result<Vec<u64>, Invalid>>()?;
        Self::new(values)
    }

    /// Each a whole percent from 1 to 100, at most five as sent (as the API's schema
    /// counts them); kept sorted, a repeated value once.
    pub fn new(values: Vec<u64>) -> Result<Self, Invalid> {
        if values.len() > MAX_THRESHOLDS {
            return Err(Invalid::new(format!(
                "thresholds must have at most {MAX_THRESHOLDS} entries"
            )));
        }
        let mut percents = values
            .into_iter()
            .map(|v| {
                u8::try_from(v).ok().filter(|p| (1..=100).contains(p)).ok_or_else(out_of_range)
            })
            .collect::<Result<Vec<u8>, Invalid>>()?;
        percents.sort_unstable();
        percents.dedup();
        Ok(Self(percents))
    }

    pub fn as_slice(&self) -> &[u8] {
        &self.0
    }
}

fn out_of_range() -> Invalid {
    Invalid::new("thresholds must be whole numbers from 1 to 100")
}

impl TryFrom<Vec<u64>> for Thresholds {
    type Error = Invalid;
    fn try_from(values: Vec<u64>) -> Result<Self, Invalid> {
        Self::new(values)
    }
}

impl From<Thresholds> for Vec<u8> {
    fn from(t: Thresholds) -> Vec<u8> {
        t.0
    }
}

/// The smallest count that is at least `percent`% of `limit`: `ceil(limit × percent / 100)`.
///
/// Rounding up is what "reached 80 %" means: with a limit of 3, two calls are 67 %, so
/// the 80 % alert waits for the third (and fires with the 100 % one). For a limit ≥ 1
/// the boundary is from 1 to `limit`, so a count that reaches the limit has crossed
/// every threshold. Computed in 128 bits: no limit overflows it.
pub fn boundary(limit: u64, percent: u8) -> u64 {
    let scaled = u128::from(limit) * u128::from(percent);
    let ceil = scaled.div_ceil(100);
    // ceil ≤ limit because percent ≤ 100 (Thresholds guarantees it).
    u64::try_from(ceil).unwrap_or(u64::MAX)
}

/// The thresholds an allowed call crossed, taking the count from `before` to `after`:
/// those whose [`boundary`] lies in `(before, after]`, ascending. One call of a large
/// `amount` may cross several.
///
/// - Unlimited (`limit` `None`): never any.
/// - A limit of 0: never any. No call is ever allowed, so no count ever moves (and a
///   boundary of 0 lies in no `(before, after]`).
/// - A count above the limit (after a downgrade) crosses nothing: every boundary is at
///   or below the limit.
/// - A threshold added while the count is already past it does not fire for that
///   period: an alert is a crossing, not a state.
///
/// Each threshold is crossed once per limit and period. A tier change in the middle of a
/// period moves the boundaries, so use [`SentThresholds`] as well to keep the
/// contract's "once per end-user, threshold and period".
pub fn crossed(before: u64, after: u64, limit: Option<u64>, thresholds: &Thresholds) -> Vec<u8> {
    let Some(limit) = limit else {
        return Vec::new();
    };
    thresholds
        .as_slice()
        .iter()
        .copied()
        .filter(|&percent| {
            let at = boundary(limit, percent);
            before < at && at <= after
        })
        .collect()
}

/// The thresholds already announced in one billing period, stored beside the count, so
/// that an alert fires at most once per period even if the limit changes in between.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentThresholds {
    /// The `BillingPeriod::key` (`YYYY-MM`) of `sent`.
    period: String,
    sent: Vec<u8>,
}

impl SentThresholds {
    /// Of `crossed`, those not yet announced in `period`, now recorded as announced. A
    /// new period starts with none.
    pub fn take(&mut self, period: &str, crossed: Vec<u8>) -> Vec<u8> {
        if self.period != period {
            *self = Self { period: period.to_owned(), sent: Vec::new() };
        }
        let fresh: Vec<u8> = crossed.into_iter().filter(|t| !self.sent.contains(t)).collect();
        self.sent.extend(&fresh);
        fresh
    }

    /// The alerts a count moving from `before` to `after` against `limit` raises in
    /// `period`: [`crossed`], then [`Self::take`]. Most calls cross nothing and leave
    /// this untouched.
    pub fn raise(
        &mut self,
        period: &str,
        before: u64,
        after: u64,
        limit: Option<u64>,
        thresholds: &Thresholds,
    ) -> Vec<u8> {
        let crossed = crossed(before, after, limit, thresholds);
        if crossed.is_empty() {
            return crossed;
        }
        self.take(period, crossed)
    }

    /// Nothing raised yet (what a stored meter leaves out).
    pub fn is_empty(&self) -> bool {
        self.sent.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn t(values: &[u64]) -> Thresholds {
        Thresholds::new(values.to_vec()).expect("valid thresholds")
    }

    fn request(body: &str) -> Result<Thresholds, String> {
        Thresholds::from_request(&JsonObject::parse(body.as_bytes()).expect("object"))
            .map_err(|e| e.0)
    }

    #[test]
    fn thresholds_default_to_80_and_100() {
        assert_eq!(Thresholds::default().as_slice(), [80, 100]);
    }

    #[test]
    fn thresholds_are_sorted_and_a_repeated_value_kept_once() {
        assert_eq!(request(r#"{"thresholds": [100, 50, 80, 50]}"#), Ok(t(&[50, 80, 100])));
        assert_eq!(t(&[100, 50, 80, 50]).as_slice(), [50, 80, 100]);
        assert_eq!(request(r#"{"thresholds": [1.0, 100]}"#).map(Vec::from), Ok(vec![1, 100]));
        assert_eq!(request(r#"{"thresholds": []}"#).map(Vec::from), Ok(vec![]));
    }

    #[test]
    fn thresholds_outside_1_to_100_or_more_than_five_are_refused_with_a_message() {
        let range = Err("thresholds must be whole numbers from 1 to 100".to_owned());
        for bad in ["[0]", "[101]", "[80.5]", "[-1]", "[\"80\"]", "[null]", "[256]", "[1e30]"] {
            assert_eq!(request(&format!(r#"{{"thresholds": {bad}}}"#)), range, "{bad}");
        }
        assert_eq!(
            request(r#"{"thresholds": [10, 20, 30, 40, 50, 60]}"#),
            Err("thresholds must have at most 5 entries".to_owned())
        );
        assert_eq!(request("{}"), Err("thresholds is required".to_owned()));
        assert_eq!(request(r#"{"thresholds": 80}"#), Err("thresholds must be an array".to_owned()));
        assert!(serde_json::from_str::<Thresholds>("[0, 50]").is_err());
        let stored: Thresholds = serde_json::from_str("[100, 50]").expect("valid");
        assert_eq!(serde_json::to_string(&stored).expect("serialises"), "[50,100]");
    }

    #[test]
    fn a_limit_of_ten_crosses_80_at_the_eighth_call_and_100_at_the_tenth() {
        let th = Thresholds::default();
        let fired: Vec<(u64, Vec<u8>)> =
            (0..10).map(|n| (n + 1, crossed(n, n + 1, Some(10), &th))).collect();
        for (count, alerts) in &fired {
            let expected: &[u8] = match count {
                8 => &[80],
                10 => &[100],
                _ => &[],
            };
            assert_eq!(alerts, expected, "count {count}");
        }
    }

    #[test]
    fn boundaries_round_up_so_a_threshold_means_at_least_that_share() {
        assert_eq!(boundary(3, 80), 3);
        assert_eq!(boundary(3, 50), 2);
        assert_eq!(boundary(1, 1), 1);
        assert_eq!(boundary(1000, 80), 800);
        assert_eq!(boundary(u64::MAX, 100), u64::MAX);
        assert_eq!(boundary(u64::MAX, 50), u64::MAX / 2 + 1);
        assert_eq!(crossed(0, 3, Some(3), &Thresholds::default()), [80, 100]);
    }

    #[test]
    fn unlimited_limit_zero_and_counts_past_the_limit_cross_nothing() {
        let th = t(&[1, 50, 100]);
        assert!(crossed(0, 1_000_000, None, &th).is_empty());
        assert!(crossed(0, 0, Some(0), &th).is_empty());
        assert!(crossed(0, 5, Some(0), &th).is_empty());
        assert!(crossed(12, 13, Some(10), &th).is_empty());
        assert!(crossed(5, 5, Some(10), &th).is_empty());
        assert!(crossed(0, 10, Some(10), &t(&[])).is_empty());
    }

    #[test]
    fn an_alert_is_sent_once_per_period_even_when_the_limit_moves() {
        let mut sent = SentThresholds::default();
        assert_eq!(sent.take("2026-01", vec![80]), [80]);
        assert_eq!(sent.take("2026-01", vec![80, 100]), [100]);
        assert_eq!(sent.take("2026-01", vec![80]), Vec::<u8>::new());
        assert_eq!(sent.take("2026-02", vec![80]), [80]);
    }

    proptest! {
        #[test]
        fn any_allowed_increments_from_zero_to_the_limit_cross_each_threshold_exactly_once(
            limit in 1u64..5_000,
            percents in proptest::collection::vec(1u64..=100, 0..=5),
            amounts in proptest::collection::vec(1u64..2_000, 0..60),
        ) {
            let th = t(&percents);
            let mut count = 0;
            let mut fired = Vec::new();
            // The meter allows an amount only while it fits; the last call fills it up.
            let fill = amounts.into_iter().chain(std::iter::once(u64::MAX));
            for amount in fill {
                let amount = if amount == u64::MAX { limit - count } else { amount };
                if amount == 0 || count + amount > limit {
                    continue;
                }
                fired.extend(crossed(count, count + amount, Some(limit), &th));
                count += amount;
            }
            prop_assert_eq!(count, limit);
            fired.sort_unstable();
            prop_assert_eq!(fired, th.as_slice().to_vec());
        }

        #[test]
        fn a_threshold_is_crossed_exactly_when_the_count_first_reaches_its_share(
            limit in 0u64..u64::MAX,
            before in 0u64..u64::MAX,
            step in 0u64..u64::MAX,
            percent in 1u64..=100,
        ) {
            let after = before.saturating_add(step);
            let th = t(&[percent]);
            let share = u128::from(limit) * u128::from(percent);
            let reached = |count: u64| u128::from(count) * 100 >= share;
            let expected = limit > 0 && reached(after) && !reached(before);
            prop_assert_eq!(!crossed(before, after, Some(limit), &th).is_empty(), expected);
        }

        #[test]
        fn every_boundary_lies_between_one_and_the_limit(limit in 1u64..u64::MAX, percent in 1u8..=100) {
            let at = boundary(limit, percent);
            prop_assert!(at >= 1 && at <= limit);
        }
    }
}

//! Exact metering. Each end-user's [`UserMeter`] and each platform's [`PlatformMeter`]
//! is owned by one Durable Object, which loads the state, calls one function here and
//! stores the result, with no other await in between: that is what makes counts exact.
//!
//! A `track` is decided in this order: an idempotent replay returns the first answer;
//! then the end-user's tier limit (`403`); then their per-minute rate limit (`429`);
//! then the platform quota, which the caller reserves after the end-user's meter
//! allowed, and which, if refused, is undone with [`UserMeter::release`]. A denied call
//! consumes nothing anywhere.

use crate::period::BillingPeriod;
use crate::stats::DailyCount;
use crate::time::{rfc3339, Instant};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How long an idempotency key's first answer is replayed.
pub const IDEMPOTENCY_TTL_MS: i64 = 24 * 60 * 60 * 1000;
/// The rate-limit window: a minute from the first call in it.
pub const RATE_WINDOW_MS: i64 = 60 * 1000;

/// A count against a limit within a billing period, as the contract shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Usage {
    pub count: u64,
    pub limit: Option<u64>,
    pub remaining: Option<u64>,
    pub period_start: String,
    pub period_end: String,
    pub resets_at: String,
}

impl Usage {
    /// After a downgrade the stored count can be above the new limit; it is shown as the
    /// limit, used up, so that `count` never exceeds `limit` in any answer.
    pub fn new(count: u64, limit: Option<u64>, now: Instant) -> Self {
        let period = BillingPeriod::containing(now);
        let count = limit.map_or(count, |l| count.min(l));
        Self {
            count,
            limit,
            remaining: limit.map(|l| l - count),
            period_start: rfc3339(period.start),
            period_end: rfc3339(period.end),
            resets_at: rfc3339(period.end),
        }
    }
}

/// A count that starts again at zero every billing period.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeriodCount {
    /// `YYYY-MM` of the period `count` belongs to.
    pub period: String,
    pub count: u64,
}

impl PeriodCount {
    /// The count in the period containing `now` (zero once the period has rolled over).
    pub fn current(&self, now: Instant) -> u64 {
        if self.period == BillingPeriod::containing(now).key() {
            self.count
        } else {
            0
        }
    }

    /// Adds `amount` if the result stays within `limit`; otherwise changes nothing.
    pub fn try_add(&mut self, amount: u64, limit: Option<u64>, now: Instant) -> bool {
        let current = self.current(now);
        let next = current.saturating_add(amount);
        if limit.is_some_and(|l| next > l) {
            return false;
        }
        *self = Self { period: BillingPeriod::containing(now).key(), count: next };
        true
    }

    /// Gives back `amount` taken by [`PeriodCount::try_add`] in the same period.
    pub fn release(&mut self, amount: u64, now: Instant) {
        if self.period == BillingPeriod::containing(now).key() {
            self.count = self.count.saturating_sub(amount);
        }
    }

    pub fn usage(&self, limit: Option<u64>, now: Instant) -> Usage {
        Usage::new(self.current(now), limit, now)
    }
}

/// The state of a per-minute rate limit: a window opens at the first call and lasts a
/// minute, so a burst is never split across two windows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateWindow {
    pub started_at_ms: i64,
    pub calls: u64,
}

/// What the `RateLimit-*` and `Retry-After` headers say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RateStatus {
    pub limit: u64,
    pub remaining: u64,
    /// Whole seconds until the window ends, rounded up.
    pub reset_seconds: u64,
}

impl RateWindow {
    fn is_open(&self, window_ms: i64, now_ms: i64) -> bool {
        self.calls > 0
            && now_ms < self.started_at_ms.saturating_add(window_ms)
            && now_ms >= self.started_at_ms
    }

    /// The status without taking a call.
    pub fn peek(&self, limit: u64, window_ms: i64, now_ms: i64) -> RateStatus {
        if self.is_open(window_ms, now_ms) {
            let left_ms = self.started_at_ms + window_ms - now_ms;
            RateStatus {
                limit,
                remaining: limit.saturating_sub(self.calls),
                reset_seconds: u64::try_from((left_ms + 999) / 1000).unwrap_or(0),
            }
        } else {
            RateStatus {
                limit,
                remaining: limit,
                reset_seconds: u64::try_from(window_ms / 1000).unwrap_or(0),
            }
        }
    }

    /// Takes one call if the window has room: `Ok` with the status after it, or `Err`
    /// with the status that explains the refusal (its `reset_seconds` is `Retry-After`).
    pub fn try_acquire(
        &mut self,
        limit: u64,
        window_ms: i64,
        now_ms: i64,
    ) -> Result<RateStatus, RateStatus> {
        if !self.is_open(window_ms, now_ms) {
            *self = Self { started_at_ms: now_ms, calls: 0 };
        }
        if self.calls >= limit {
            return Err(self.peek(limit, window_ms, now_ms));
        }
        self.calls += 1;
        Ok(self.peek(limit, window_ms, now_ms))
    }

    /// Gives back a call taken at `taken_at_ms`, if its window is still the current one.
    pub fn release(&mut self, taken_at_ms: i64, window_ms: i64) {
        if self.is_open(window_ms, taken_at_ms) {
            self.calls = self.calls.saturating_sub(1);
        }
    }
}

/// One end-user's stored meter.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserMeter {
    pub usage: PeriodCount,
    pub window: RateWindow,
    /// The tier the end-user is on; `None` means the platform's first tier.
    pub plan: Option<String>,
}

/// The first answer given to an idempotency key, replayed for 24 hours.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdempotencyRecord {
    pub recorded_at_ms: i64,
    pub answer: Value,
}

impl IdempotencyRecord {
    pub fn is_live(&self, now_ms: i64) -> bool {
        now_ms < self.recorded_at_ms.saturating_add(IDEMPOTENCY_TTL_MS)
    }
}

/// Everything `track` needs besides the stored state.
#[derive(Debug, Clone)]
pub struct TrackInput<'a> {
    pub amount: u64,
    /// The limit of the end-user's tier; `None` is unlimited.
    pub limit: Option<u64>,
    pub rate_limit_per_minute: u64,
    /// The stored answer to this call's idempotency key, if it had one and it was seen.
    pub prior: Option<&'a IdempotencyRecord>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TrackDecision {
    /// The key was answered before, within 24 h: give the same answer, count nothing.
    Replay {
        answer: Value,
        rate: RateStatus,
    },
    Allowed {
        usage: Usage,
        rate: RateStatus,
    },
    TierLimitReached {
        usage: Usage,
        rate: RateStatus,
    },
    RateLimited {
        usage: Usage,
        rate: RateStatus,
    },
}

impl UserMeter {
    /// Decides one `track` call and returns the state to store. Only `Allowed` changes
    /// the state.
    pub fn track(&self, input: &TrackInput<'_>, now: Instant) -> (TrackDecision, Self) {
        let now_ms = now.timestamp_millis();
        let rate_peek = self.window.peek(input.rate_limit_per_minute, RATE_WINDOW_MS, now_ms);
        if let Some(prior) = input.prior.filter(|p| p.is_live(now_ms)) {
            return (
                TrackDecision::Replay { answer: prior.answer.clone(), rate: rate_peek },
                self.clone(),
            );
        }
        let mut next = self.clone();
        if !next.usage.try_add(input.amount, input.limit, now) {
            let usage = self.usage.usage(input.limit, now);
            return (TrackDecision::TierLimitReached { usage, rate: rate_peek }, self.clone());
        }
        match next.window.try_acquire(input.rate_limit_per_minute, RATE_WINDOW_MS, now_ms) {
            Ok(rate) => {
                (TrackDecision::Allowed { usage: next.usage.usage(input.limit, now), rate }, next)
            }
            Err(rate) => {
                let usage = self.usage.usage(input.limit, now);
                (TrackDecision::RateLimited { usage, rate }, self.clone())
            }
        }
    }

    /// Undoes an allowed `track` of `amount` made at `taken_at` (the platform quota
    /// refused it), so that the denied call consumes nothing.
    pub fn release(&self, amount: u64, taken_at: Instant) -> Self {
        let mut next = self.clone();
        next.usage.release(amount, taken_at);
        next.window.release(taken_at.timestamp_millis(), RATE_WINDOW_MS);
        next
    }

    pub fn usage(&self, limit: Option<u64>, now: Instant) -> Usage {
        self.usage.usage(limit, now)
    }
}

/// One platform's stored quota meter, with today's call counts beside it so that a
/// reservation is one write of one row.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlatformMeter {
    pub usage: PeriodCount,
    /// Calls allowed and denied on the most recent day with any (UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub today: Option<DailyCount>,
}

impl PlatformMeter {
    /// Adds to `date`'s allowed calls (never below zero: a release takes one back) and
    /// denied calls. When `date` is a new day, the previous day is returned, finished,
    /// for the caller to keep.
    pub fn count_day(&mut self, date: &str, calls: i64, denied: u64) -> Option<DailyCount> {
        let finished = match &self.today {
            Some(day) if day.date == date => None,
            _ => self.today.replace(DailyCount { date: date.to_string(), calls: 0, denied: 0 }),
        };
        if let Some(day) = self.today.as_mut() {
            day.calls = day.calls.saturating_add_signed(calls);
            day.denied += denied;
        }
        finished
    }

    /// Reserves `amount` of the platform's monthly quota: `Ok` with the usage after it,
    /// or `Err` with the usage that is in the way (nothing reserved).
    pub fn reserve(
        &mut self,
        amount: u64,
        limit: Option<u64>,
        now: Instant,
    ) -> Result<Usage, Usage> {
        if self.usage.try_add(amount, limit, now) {
            Ok(self.usage.usage(limit, now))
        } else {
            Err(self.usage.usage(limit, now))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn at(s: &str) -> Instant {
        s.parse().expect("valid RFC 3339")
    }

    fn input(amount: u64, limit: Option<u64>) -> TrackInput<'static> {
        TrackInput { amount, limit, rate_limit_per_minute: 100, prior: None }
    }

    fn allowed(d: &TrackDecision) -> bool {
        matches!(d, TrackDecision::Allowed { .. })
    }

    #[test]
    fn calls_are_allowed_until_the_limit_and_denied_after_without_counting() {
        let now = at("2026-11-25T12:00:00Z");
        let mut m = UserMeter::default();
        for i in 1..=5 {
            let (d, next) = m.track(&input(1, Some(5)), now);
            assert!(allowed(&d), "call {i}");
            m = next;
        }
        let (d, next) = m.track(&input(1, Some(5)), now);
        assert!(
            matches!(d, TrackDecision::TierLimitReached { ref usage, .. } if usage.count == 5 && usage.remaining == Some(0))
        );
        assert_eq!(next, m, "a denied call changes nothing");
    }

    #[test]
    fn an_amount_that_does_not_fit_is_denied_whole() {
        let now = at("2026-11-25T12:00:00Z");
        let (_, m) = UserMeter::default().track(&input(3, Some(5)), now);
        let (d, m2) = m.track(&input(3, Some(5)), now);
        assert!(matches!(d, TrackDecision::TierLimitReached { .. }));
        assert_eq!(m2.usage.count, 3);
        let (d, m3) = m2.track(&input(2, Some(5)), now);
        assert!(allowed(&d));
        assert_eq!(m3.usage.count, 5);
    }

    #[test]
    fn unlimited_tiers_count_without_a_ceiling() {
        let now = at("2026-11-25T12:00:00Z");
        let (d, m) = UserMeter::default().track(&input(1_000_000, None), now);
        assert!(
            matches!(d, TrackDecision::Allowed { ref usage, .. } if usage.limit.is_none() && usage.remaining.is_none())
        );
        assert_eq!(m.usage.count, 1_000_000);
    }

    #[test]
    fn the_count_starts_again_when_the_month_rolls_over() {
        let (_, m) = UserMeter::default().track(&input(5, Some(5)), at("2026-12-31T23:59:59Z"));
        let (d, _) = m.track(&input(1, Some(5)), at("2026-12-31T23:59:59.999Z"));
        assert!(matches!(d, TrackDecision::TierLimitReached { .. }));
        let (d, m) = m.track(&input(1, Some(5)), at("2027-01-01T00:00:00Z"));
        assert!(
            matches!(d, TrackDecision::Allowed { ref usage, .. } if usage.count == 1 && usage.period_start == "2027-01-01T00:00:00Z")
        );
        assert_eq!(m.usage.period, "2027-01");
    }

    #[test]
    fn the_rate_limit_allows_exactly_its_calls_then_resets_after_a_minute() {
        let start = at("2026-11-25T12:00:00Z");
        let mut m = UserMeter::default();
        for _ in 0..100 {
            let (d, next) = m.track(&input(1, None), start);
            assert!(allowed(&d));
            m = next;
        }
        let later = start + chrono::Duration::seconds(59);
        let (d, _) = m.track(&input(1, None), later);
        assert!(
            matches!(d, TrackDecision::RateLimited { rate, .. } if rate.remaining == 0 && rate.reset_seconds == 1)
        );
        let (d, next) = m.track(&input(1, None), start + chrono::Duration::seconds(60));
        assert!(
            matches!(d, TrackDecision::Allowed { rate, .. } if rate.remaining == 99 && rate.reset_seconds == 60)
        );
        assert_eq!(next.usage.count, 101);
    }

    #[test]
    fn a_rate_limited_call_consumes_nothing() {
        let now = at("2026-11-25T12:00:00Z");
        let m = UserMeter {
            window: RateWindow { started_at_ms: now.timestamp_millis(), calls: 100 },
            ..Default::default()
        };
        let (d, next) = m.track(&input(1, Some(10)), now);
        assert!(matches!(d, TrackDecision::RateLimited { ref usage, .. } if usage.count == 0));
        assert_eq!(next, m);
    }

    #[test]
    fn an_idempotent_replay_returns_the_first_answer_and_counts_once() {
        let now = at("2026-11-25T12:00:00Z");
        let (d, m) = UserMeter::default().track(&input(1, Some(5)), now);
        let TrackDecision::Allowed { usage, .. } = d else { panic!("allowed") };
        let record = IdempotencyRecord {
            recorded_at_ms: now.timestamp_millis(),
            answer: json!({"usage": usage}),
        };
        let replay_input = TrackInput { prior: Some(&record), ..input(1, Some(5)) };
        let (d, after) = m.track(&replay_input, now + chrono::Duration::hours(23));
        assert!(matches!(d, TrackDecision::Replay { ref answer, .. } if answer == &record.answer));
        assert_eq!(after.usage.count, 1);
        let (d, after) = m.track(&replay_input, now + chrono::Duration::hours(24));
        assert!(allowed(&d), "after 24 h the key is forgotten");
        assert_eq!(after.usage.count, 2);
    }

    #[test]
    fn a_release_gives_back_the_count_and_the_rate_slot() {
        let now = at("2026-11-25T12:00:00Z");
        let (_, m) = UserMeter::default().track(&input(4, Some(5)), now);
        let released = m.release(4, now);
        assert_eq!(released.usage.count, 0);
        assert_eq!(released.window.calls, 0);
    }

    #[test]
    fn a_downgraded_user_shows_the_new_limit_used_up_never_more() {
        let now = at("2026-11-25T12:00:00Z");
        let (_, m) = UserMeter::default().track(&input(40, Some(50)), now);
        let usage = m.usage(Some(5), now);
        assert_eq!((usage.count, usage.limit, usage.remaining), (5, Some(5), Some(0)));
    }

    #[test]
    fn the_platform_quota_reserves_only_what_fits() {
        let now = at("2026-11-25T12:00:00Z");
        let mut p = PlatformMeter::default();
        assert!(p.reserve(5, Some(5), now).is_ok());
        let denied = p.reserve(1, Some(5), now).unwrap_err();
        assert_eq!((denied.count, denied.remaining), (5, Some(0)));
        assert_eq!(p.usage.count, 5);
    }

    #[test]
    fn a_platform_counts_today_in_its_own_state_and_hands_back_a_finished_day() {
        let mut p = PlatformMeter::default();
        assert_eq!(p.count_day("2026-11-25", 1, 0), None);
        assert_eq!(p.count_day("2026-11-25", 1, 1), None);
        assert_eq!(p.count_day("2026-11-25", -1, 1), None);
        let finished = p.count_day("2026-11-26", 1, 0).expect("the 25th is finished");
        assert_eq!((finished.date.as_str(), finished.calls, finished.denied), ("2026-11-25", 1, 2));
        let today = p.today.clone().expect("the 26th");
        assert_eq!((today.date.as_str(), today.calls, today.denied), ("2026-11-26", 1, 0));
    }

    #[test]
    fn a_release_never_takes_a_day_below_zero_calls() {
        let mut p = PlatformMeter::default();
        p.count_day("2026-11-25", -1, 1);
        let today = p.today.expect("today");
        assert_eq!((today.calls, today.denied), (0, 1));
    }

    #[test]
    fn a_platform_meter_stored_before_daily_counts_still_loads() {
        let p: PlatformMeter =
            serde_json::from_str(r#"{"usage":{"period":"2026-11","count":3}}"#).expect("loads");
        assert_eq!((p.usage.count, p.today), (3, None));
    }

    #[derive(Debug, Clone)]
    enum Step {
        Track { amount: u64, idem: Option<u8> },
        Release,
        Wait { ms: i64 },
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            6 => (1u64..20, proptest::option::of(0u8..4)).prop_map(|(amount, idem)| Step::Track { amount, idem }),
            1 => Just(Step::Release),
            2 => (0i64..40 * 24 * 3600 * 1000).prop_map(|ms| Step::Wait { ms }),
        ]
    }

    proptest! {
        /// Any sequence of tracks (with and without replays), releases of the last
        /// allowed call, and waits across months: `count` stays within `limit`, replays
        /// never count, and the sum of allowed amounts in a period equals the count.
        #[test]
        fn the_meter_never_lets_count_exceed_limit(limit in 0u64..60, steps in proptest::collection::vec(step(), 1..120)) {
            let mut now = at("2026-11-20T00:00:00Z");
            let mut m = UserMeter::default();
            let mut records: std::collections::HashMap<u8, IdempotencyRecord> = Default::default();
            let mut last_allowed: Option<(u64, Instant)> = None;
            let mut allowed_this_period = 0u64;
            let mut period = BillingPeriod::containing(now).key();
            for s in steps {
                match s {
                    Step::Track { amount, idem } => {
                        let prior = idem.and_then(|k| records.get(&k));
                        let i = TrackInput { amount, limit: Some(limit), rate_limit_per_minute: 1_000, prior };
                        let (d, next) = m.track(&i, now);
                        if let TrackDecision::Allowed { usage, .. } = &d {
                            allowed_this_period += amount;
                            last_allowed = Some((amount, now));
                            if let Some(k) = idem {
                                records.insert(k, IdempotencyRecord { recorded_at_ms: now.timestamp_millis(), answer: json!({"count": usage.count}) });
                            }
                        } else {
                            prop_assert_eq!(&next, &m, "only an allowed call changes the state");
                        }
                        m = next;
                    }
                    Step::Release => {
                        if let Some((amount, taken_at)) = last_allowed.take() {
                            if BillingPeriod::containing(taken_at).key() == period {
                                allowed_this_period -= amount;
                            }
                            m = m.release(amount, taken_at);
                        }
                    }
                    Step::Wait { ms } => {
                        now += chrono::Duration::milliseconds(ms);
                        let p = BillingPeriod::containing(now).key();
                        if p != period {
                            period = p;
                            allowed_this_period = 0;
                            last_allowed = None;
                        }
                    }
                }
                prop_assert!(m.usage.current(now) <= limit);
                prop_assert_eq!(m.usage.current(now), allowed_this_period);
            }
        }

        #[test]
        fn the_rate_window_never_allows_more_than_its_limit_in_any_window(
            limit in 1u64..20,
            gaps in proptest::collection::vec(0i64..5_000, 1..200),
        ) {
            let mut w = RateWindow::default();
            let mut now_ms = 1_700_000_000_000i64;
            let mut allowed_at: Vec<i64> = vec![];
            for gap in gaps {
                now_ms += gap;
                if w.try_acquire(limit, RATE_WINDOW_MS, now_ms).is_ok() {
                    allowed_at.push(now_ms);
                }
                let in_window = allowed_at.iter().filter(|&&t| t >= w.started_at_ms).count() as u64;
                prop_assert!(in_window <= limit);
            }
        }
    }
}

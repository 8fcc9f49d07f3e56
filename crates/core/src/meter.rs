//! Exact metering. A platform's [`PlatformMeter`] and every one of its end-users'
//! [`UserMeter`]s are owned by the platform's one Durable Object, which loads the state,
//! calls [`track`] and stores the result, with no await in between: that is what makes
//! both counts exact at once. A denied call consumes nothing anywhere.

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

/// What the preview's end-user limit says of this call's end-user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PreviewSeat {
    /// Not in preview, or the preview serves this end-user already.
    Served,
    /// In preview, a new end-user, and the preview has room: an allowed call takes the
    /// seat.
    Room,
    /// In preview, a new end-user, and the preview serves its most already.
    Full,
}

/// Everything a `track` needs besides the stored state.
#[derive(Debug, Clone)]
pub struct TrackInput<'a> {
    pub amount: u64,
    /// The limit of the end-user's tier; `None` is unlimited.
    pub tier_limit: Option<u64>,
    /// The platform's monthly quota under its plan; `None` is unlimited.
    pub platform_limit: Option<u64>,
    pub rate_limit_per_minute: u64,
    pub preview: PreviewSeat,
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
    /// Counted for the end-user and the platform alike.
    Allowed {
        usage: Usage,
        rate: RateStatus,
    },
    /// The preview serves its most end-users already; this one is new.
    PreviewFull {
        rate: RateStatus,
    },
    /// The platform's own monthly quota is used up (`platform` is its usage).
    PlatformQuotaReached {
        platform: Usage,
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

impl TrackDecision {
    /// What the call adds to the day's statistics: allowed calls and denied calls. A
    /// replay is no new call and adds nothing.
    pub fn day_counts(&self) -> (i64, u64) {
        match self {
            Self::Replay { .. } => (0, 0),
            Self::Allowed { .. } => (1, 0),
            _ => (0, 1),
        }
    }

    /// The end-user's rate-limit status, whatever the outcome.
    pub fn rate(&self) -> &RateStatus {
        match self {
            Self::Replay { rate, .. }
            | Self::Allowed { rate, .. }
            | Self::PreviewFull { rate }
            | Self::PlatformQuotaReached { rate, .. }
            | Self::TierLimitReached { rate, .. }
            | Self::RateLimited { rate, .. } => rate,
        }
    }
}

/// Decides one `track` against both limits at once and, only when it is allowed, moves
/// both counts: the end-user's and the platform's. One object owns both, so the
/// decision is a single step: exact by construction, with nothing to give back.
///
/// The order: an idempotent replay returns the first answer (it is no new call); the
/// preview's end-user limit; the platform quota, which applies to every call and so
/// wins over the end-user's own refusals; the end-user's tier limit (`403`); their
/// per-minute rate limit (`429`).
pub fn track(
    platform: &mut PlatformMeter,
    user: &mut UserMeter,
    input: &TrackInput<'_>,
    now: Instant,
) -> TrackDecision {
    let now_ms = now.timestamp_millis();
    let rate = user.window.peek(input.rate_limit_per_minute, RATE_WINDOW_MS, now_ms);
    if let Some(prior) = input.prior.filter(|p| p.is_live(now_ms)) {
        return TrackDecision::Replay { answer: prior.answer.clone(), rate };
    }
    if input.preview == PreviewSeat::Full {
        return TrackDecision::PreviewFull { rate };
    }
    let mut quota = platform.usage.clone();
    if !quota.try_add(input.amount, input.platform_limit, now) {
        let platform = platform.usage.usage(input.platform_limit, now);
        return TrackDecision::PlatformQuotaReached { platform, rate };
    }
    let mut next = user.clone();
    if !next.usage.try_add(input.amount, input.tier_limit, now) {
        let usage = user.usage.usage(input.tier_limit, now);
        return TrackDecision::TierLimitReached { usage, rate };
    }
    match next.window.try_acquire(input.rate_limit_per_minute, RATE_WINDOW_MS, now_ms) {
        Ok(rate) => {
            let usage = next.usage.usage(input.tier_limit, now);
            *user = next;
            platform.usage = quota;
            TrackDecision::Allowed { usage, rate }
        }
        Err(rate) => {
            TrackDecision::RateLimited { usage: user.usage.usage(input.tier_limit, now), rate }
        }
    }
}

impl UserMeter {
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
        TrackInput {
            amount,
            tier_limit: limit,
            platform_limit: None,
            rate_limit_per_minute: 100,
            preview: PreviewSeat::Served,
            prior: None,
        }
    }

    /// One end-user's view: a track with an unlimited platform quota.
    trait Track {
        fn track(&self, input: &TrackInput<'_>, now: Instant) -> (TrackDecision, UserMeter);
    }

    impl Track for UserMeter {
        fn track(&self, input: &TrackInput<'_>, now: Instant) -> (TrackDecision, UserMeter) {
            let mut next = self.clone();
            let decision = track(&mut PlatformMeter::default(), &mut next, input, now);
            (decision, next)
        }
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
    fn a_downgraded_user_shows_the_new_limit_used_up_never_more() {
        let now = at("2026-11-25T12:00:00Z");
        let (_, m) = UserMeter::default().track(&input(40, Some(50)), now);
        let usage = m.usage(Some(5), now);
        assert_eq!((usage.count, usage.limit, usage.remaining), (5, Some(5), Some(0)));
    }

    #[test]
    fn the_platform_quota_takes_only_what_fits_and_a_refused_call_moves_neither_count() {
        let now = at("2026-11-25T12:00:00Z");
        let mut p = PlatformMeter::default();
        let mut u = UserMeter::default();
        let quota = TrackInput { platform_limit: Some(5), ..input(5, None) };
        assert!(allowed(&track(&mut p, &mut u, &quota, now)));
        let before = (p.clone(), u.clone());
        let d = track(&mut p, &mut u, &TrackInput { amount: 1, ..quota }, now);
        assert!(
            matches!(d, TrackDecision::PlatformQuotaReached { ref platform, .. } if platform.count == 5 && platform.remaining == Some(0))
        );
        assert_eq!((p, u), before);
    }

    #[test]
    fn the_platform_quota_wins_over_the_end_users_own_refusal_but_not_over_a_replay() {
        let now = at("2026-11-25T12:00:00Z");
        let mut p = PlatformMeter {
            usage: PeriodCount { period: "2026-11".into(), count: 5 },
            today: None,
        };
        let mut u = UserMeter {
            usage: PeriodCount { period: "2026-11".into(), count: 3 },
            ..Default::default()
        };
        let full = TrackInput { platform_limit: Some(5), ..input(1, Some(3)) };
        assert!(matches!(
            track(&mut p, &mut u, &full, now),
            TrackDecision::PlatformQuotaReached { .. }
        ));
        let record =
            IdempotencyRecord { recorded_at_ms: now.timestamp_millis(), answer: json!({"n": 1}) };
        let replay = TrackInput { prior: Some(&record), ..full };
        assert!(matches!(track(&mut p, &mut u, &replay, now), TrackDecision::Replay { .. }));
    }

    #[test]
    fn a_full_preview_refuses_a_new_end_user_before_counting_anything() {
        let now = at("2026-11-25T12:00:00Z");
        let mut p = PlatformMeter::default();
        let mut u = UserMeter::default();
        let full = TrackInput { preview: PreviewSeat::Full, ..input(1, None) };
        assert!(matches!(track(&mut p, &mut u, &full, now), TrackDecision::PreviewFull { .. }));
        assert_eq!((p.usage.count, u.usage.count), (0, 0));
        let room = TrackInput { preview: PreviewSeat::Room, ..input(1, None) };
        assert!(allowed(&track(&mut p, &mut u, &room, now)));
    }

    #[test]
    fn a_replay_adds_nothing_to_the_day_and_every_refusal_counts_as_denied() {
        let rate = RateStatus { limit: 1, remaining: 1, reset_seconds: 60 };
        assert_eq!(TrackDecision::Replay { answer: json!({}), rate }.day_counts(), (0, 0));
        assert_eq!(TrackDecision::PreviewFull { rate }.day_counts(), (0, 1));
        let usage = Usage::new(1, Some(1), at("2026-11-25T12:00:00Z"));
        assert_eq!(TrackDecision::Allowed { usage, rate }.day_counts(), (1, 0));
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
        Wait { ms: i64 },
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            6 => (1u64..20, proptest::option::of(0u8..4)).prop_map(|(amount, idem)| Step::Track { amount, idem }),
            2 => (0i64..40 * 24 * 3600 * 1000).prop_map(|ms| Step::Wait { ms }),
        ]
    }

    /// The contract's rules, written out plainly: what a meter must decide, kept apart
    /// from the meter's own state so that the properties below compare two answers.
    #[derive(Debug, Default)]
    struct Model {
        /// `(year, month)` of the month `count` belongs to.
        month: (i32, u32),
        count: u64,
        /// When each idempotency key's call was allowed.
        keys: std::collections::HashMap<u8, i64>,
    }

    #[derive(Debug, PartialEq)]
    enum Expected {
        Replay,
        Allowed,
        Denied,
    }

    impl Model {
        fn count_in(&self, now: Instant) -> u64 {
            use chrono::Datelike;
            if self.month == (now.year(), now.month()) {
                self.count
            } else {
                0
            }
        }

        /// A key is answered again for 24 hours after its allowed call; otherwise the
        /// call is allowed exactly when `amount` still fits under `limit` this month.
        fn track(&mut self, amount: u64, limit: u64, key: Option<u8>, now: Instant) -> Expected {
            use chrono::Datelike;
            let now_ms = now.timestamp_millis();
            if key.and_then(|k| self.keys.get(&k)).is_some_and(|&t| now_ms - t < 24 * 3600 * 1000) {
                return Expected::Replay;
            }
            let count = self.count_in(now);
            if count + amount > limit {
                return Expected::Denied;
            }
            self.month = (now.year(), now.month());
            self.count = count + amount;
            if let Some(k) = key {
                self.keys.insert(k, now_ms);
            }
            Expected::Allowed
        }
    }

    fn outcome(d: &TrackDecision) -> Expected {
        match d {
            TrackDecision::Replay { .. } => Expected::Replay,
            TrackDecision::Allowed { .. } => Expected::Allowed,
            _ => Expected::Denied,
        }
    }

    proptest! {
        /// Any sequence of tracks (with and without replays) and waits across months: each
        /// call gets exactly the decision the contract's rules give (so the meter neither
        /// allows too much nor denies what fits), `count` is what those rules count and
        /// never exceeds `limit`, and only an allowed call changes the stored state.
        #[test]
        fn the_meter_allows_exactly_what_fits_and_never_lets_count_exceed_limit(limit in 0u64..60, steps in proptest::collection::vec(step(), 1..120)) {
            let mut now = at("2026-11-20T00:00:00Z");
            let mut m = UserMeter::default();
            let mut model = Model::default();
            let mut records: std::collections::HashMap<u8, IdempotencyRecord> = Default::default();
            for s in steps {
                match s {
                    Step::Track { amount, idem } => {
                        let expected = model.track(amount, limit, idem, now);
                        let prior = idem.and_then(|k| records.get(&k));
                        let i = TrackInput { rate_limit_per_minute: 1_000, prior, ..input(amount, Some(limit)) };
                        let (d, next) = m.track(&i, now);
                        prop_assert_eq!(outcome(&d), expected, "{:?}", d);
                        if let TrackDecision::Allowed { usage, .. } = &d {
                            prop_assert_eq!(usage.count, model.count_in(now));
                            if let Some(k) = idem {
                                records.insert(k, IdempotencyRecord { recorded_at_ms: now.timestamp_millis(), answer: json!({"count": usage.count}) });
                            }
                        } else {
                            prop_assert_eq!(&next, &m, "only an allowed call changes the state");
                        }
                        m = next;
                    }
                    Step::Wait { ms } => now += chrono::Duration::milliseconds(ms),
                }
                prop_assert!(m.usage.current(now) <= limit);
                prop_assert_eq!(m.usage.current(now), model.count_in(now));
            }
        }

        /// End-users with a tier limit each, sharing a platform quota, calling in any
        /// order: a call is allowed exactly when both counts have room for it, the
        /// platform's count is the sum of its end-users', and neither passes its limit.
        #[test]
        fn both_limits_bind_exactly_whatever_the_order_of_calls(
            quota in 0u64..40,
            tier in 0u64..15,
            calls in proptest::collection::vec((0usize..6, 1u64..4), 1..150),
        ) {
            let now = at("2026-11-25T12:00:00Z");
            let mut platform = PlatformMeter::default();
            let mut users = vec![UserMeter::default(); 6];
            // The expected counts, kept by the test alone.
            let mut expected_users = [0u64; 6];
            let mut expected_platform = 0u64;
            for (who, amount) in calls {
                let fits = expected_users[who] + amount <= tier && expected_platform + amount <= quota;
                if fits {
                    expected_users[who] += amount;
                    expected_platform += amount;
                }
                let i = TrackInput { platform_limit: Some(quota), rate_limit_per_minute: 1_000, ..input(amount, Some(tier)) };
                let d = track(&mut platform, &mut users[who], &i, now);
                prop_assert_eq!(allowed(&d), fits, "{:?}", d);
                prop_assert_eq!(platform.usage.current(now), expected_platform);
                prop_assert_eq!(users.iter().map(|u| u.usage.current(now)).collect::<Vec<_>>(), expected_users.to_vec());
                prop_assert!(platform.usage.count <= quota);
                prop_assert!(users.iter().all(|u| u.usage.count <= tier));
            }
        }

        /// Calls at any pace: the window opens at the first call after the previous one
        /// ended and lasts exactly a minute; in it, exactly the first `limit` calls are
        /// allowed. The expected window is kept by the test from the call times alone,
        /// and every decision, `remaining` and `reset_seconds` must match it.
        #[test]
        fn the_rate_window_allows_exactly_the_first_limit_calls_of_each_minute_long_window(
            limit in 1u64..20,
            gaps in proptest::collection::vec(0i64..5_000, 1..200),
        ) {
            let mut w = RateWindow::default();
            let mut now_ms = 1_700_000_000_000i64;
            let mut window: Option<(i64, u64)> = None;
            let (mut allowed_total, mut expected_total) = (0u64, 0u64);
            for gap in gaps {
                now_ms += gap;
                let (opened, calls) = match window {
                    Some((opened, calls)) if now_ms < opened + 60_000 => (opened, calls),
                    _ => (now_ms, 0),
                };
                let fits = calls < limit;
                let calls = calls + u64::from(fits);
                window = Some((opened, calls));
                expected_total += u64::from(fits);
                let reset = u64::try_from((opened + 60_000 - now_ms + 999) / 1000).expect("ahead");
                let status = w.try_acquire(limit, RATE_WINDOW_MS, now_ms);
                allowed_total += u64::from(status.is_ok());
                prop_assert_eq!(status.is_ok(), fits, "at {} in the window opened at {}", now_ms, opened);
                let status = status.unwrap_or_else(|refused| refused);
                prop_assert_eq!((status.remaining, status.reset_seconds), (limit - calls, reset));
            }
            prop_assert_eq!(allowed_total, expected_total);
            prop_assert!(allowed_total >= 1, "the first call always fits");
        }
    }
}

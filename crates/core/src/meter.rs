//! Exact metering. A platform's [`PlatformMeter`] and every one of its end-users'
//! [`UserMeter`]s are owned by the platform's one Durable Object, which loads the state,
//! calls [`track`] and stores the result, with no await in between: that is what makes
//! both counts exact at once. A denied call consumes nothing anywhere.

use crate::alerts::{SentThresholds, Thresholds};
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
    /// The window's length in seconds.
    pub window_seconds: u64,
}

impl RateStatus {
    /// The response headers that say it: `RateLimit-Limit`, `-Remaining` and `-Reset`
    /// (the fields clients read today), and `RateLimit-Policy` and `RateLimit` as
    /// draft-ietf-httpapi-ratelimit-headers-11 writes them (one policy, `"default"`).
    pub fn headers(&self) -> [(&'static str, String); 5] {
        [
            ("RateLimit-Limit", self.limit.to_string()),
            ("RateLimit-Remaining", self.remaining.to_string()),
            ("RateLimit-Reset", self.reset_seconds.to_string()),
            ("RateLimit-Policy", format!("\"default\";q={};w={}", self.limit, self.window_seconds)),
            ("RateLimit", format!("\"default\";r={};t={}", self.remaining, self.reset_seconds)),
        ]
    }
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
                window_seconds: u64::try_from(window_ms / 1000).unwrap_or(0),
            }
        } else {
            RateStatus {
                limit,
                remaining: limit,
                reset_seconds: u64::try_from(window_ms / 1000).unwrap_or(0),
                window_seconds: u64::try_from(window_ms / 1000).unwrap_or(0),
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
    /// The usage alerts already raised for this end-user this period.
    #[serde(default, skip_serializing_if = "SentThresholds::is_empty")]
    pub alerted: SentThresholds,
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
    /// The platform's usage-alert thresholds (percent of a limit).
    pub thresholds: &'a Thresholds,
}

/// The usage alerts an allowed call raised: the thresholds it took a count across for
/// the first time this period, of the end-user's tier limit and of the platform's quota.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Alerts {
    pub user: Vec<u8>,
    pub platform: Vec<u8>,
}

impl Alerts {
    pub fn is_empty(&self) -> bool {
        self.user.is_empty() && self.platform.is_empty()
    }
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
        alerts: Alerts,
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
            let period = quota.period.clone();
            let alerts = Alerts {
                user: next.alerted.raise(
                    &period,
                    user.usage.current(now),
                    next.usage.count,
                    input.tier_limit,
                    input.thresholds,
                ),
                platform: platform.alerted.raise(
                    &period,
                    platform.usage.current(now),
                    quota.count,
                    input.platform_limit,
                    input.thresholds,
                ),
            };
            *user = next;
            platform.usage = quota;
            TrackDecision::Allowed { usage, rate, alerts }
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
    /// The quota alerts already raised this period.
    #[serde(default, skip_serializing_if = "SentThresholds::is_empty")]
    pub alerted: SentThresholds,
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
mod tests;

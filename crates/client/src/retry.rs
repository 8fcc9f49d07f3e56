//! When a call is tried again, and after how long. No I/O here: the transport reports
//! what an attempt came to and asks [`Policy::next`].

use std::time::Duration;

/// How safely a call may be repeated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Repeat {
    /// Reads and `PUT`s, and checkouts (Stripe-side idempotent): repeating changes
    /// nothing twice.
    Safe,
    /// A `track`, always under an idempotency key, so a repeat is replayed, never counted
    /// again; its `rate_limited` is the end-user's answer, not a failure.
    Track,
    /// A call that must not happen twice (rotating the key: a lost answer would lose the
    /// new key): repeated only when the request never left.
    OnlyUnsent,
}

/// What one attempt came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome<'a> {
    /// No connection was made: the request never reached the API.
    Unsent,
    /// Sent, but nothing came back: the connection dropped, or the time ran out.
    Lost,
    /// An answer, with its `error.code` when it had one.
    Answered { status: u16, code: Option<&'a str> },
}

/// What to do after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// Wait this long, then try again.
    RetryAfter(Duration),
    /// Hand this outcome to the caller.
    Stop,
}

/// Whether this outcome is worth another attempt at all.
pub(crate) fn is_retryable(repeat: Repeat, outcome: Outcome<'_>) -> bool {
    match (repeat, outcome) {
        (_, Outcome::Unsent) => true,
        (Repeat::OnlyUnsent, _) => false,
        (_, Outcome::Lost) => true,
        (Repeat::Track, Outcome::Answered { status: 429, code: Some("rate_limited") }) => false,
        (_, Outcome::Answered { status, .. }) => status >= 500 || status == 429,
    }
}

/// Exponential backoff with equal jitter: retry `n` (from 0) waits between half and all
/// of `min(cap, base · 2ⁿ)`, and never less than the answer's `Retry-After`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Policy {
    pub max_retries: u32,
    pub base: Duration,
    pub cap: Duration,
    /// A `Retry-After` longer than this is not waited for: the error goes back to the
    /// caller, who can decide to wait that long.
    pub longest_retry_after: Duration,
}

impl Policy {
    pub const fn new(max_retries: u32) -> Self {
        Self {
            max_retries,
            base: Duration::from_millis(200),
            cap: Duration::from_secs(5),
            longest_retry_after: Duration::from_secs(30),
        }
    }

    /// The wait before retry number `retry` (0 for the first) with `unit` drawn from
    /// `[0, 1)`, or `None` when `retry_after` asks for longer than this client waits.
    pub fn delay(&self, retry: u32, unit: f64, retry_after: Option<Duration>) -> Option<Duration> {
        if retry_after.is_some_and(|wait| wait > self.longest_retry_after) {
            return None;
        }
        let ceiling = self.base.saturating_mul(1u32.checked_shl(retry).unwrap_or(u32::MAX));
        let ceiling = ceiling.min(self.cap);
        let jittered = ceiling / 2 + ceiling.div_f64(2.0).mul_f64(unit.clamp(0.0, 1.0));
        Some(jittered.max(retry_after.unwrap_or_default()))
    }

    /// After `retries_done` retries, what to do with this outcome.
    pub fn next(
        &self,
        repeat: Repeat,
        outcome: Outcome<'_>,
        retries_done: u32,
        unit: f64,
        retry_after: Option<Duration>,
    ) -> Step {
        if retries_done >= self.max_retries || !is_retryable(repeat, outcome) {
            return Step::Stop;
        }
        match self.delay(retries_done, unit, retry_after) {
            Some(wait) => Step::RetryAfter(wait),
            None => Step::Stop,
        }
    }
}

/// `Retry-After` as the API sends it: whole seconds. (An HTTP date is not sent by the
/// API, and is ignored.)
pub(crate) fn parse_retry_after(value: &str) -> Option<Duration> {
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAFE: Repeat = Repeat::Safe;
    const TRACK: Repeat = Repeat::Track;
    const ONCE: Repeat = Repeat::OnlyUnsent;

    fn answered(status: u16, code: &str) -> Outcome<'_> {
        Outcome::Answered { status, code: Some(code) }
    }

    #[test]
    fn connection_failures_timeouts_and_server_errors_are_retried() {
        for repeat in [SAFE, TRACK] {
            assert!(is_retryable(repeat, Outcome::Unsent));
            assert!(is_retryable(repeat, Outcome::Lost));
            assert!(is_retryable(repeat, answered(500, "internal")));
            assert!(is_retryable(repeat, answered(502, "upstream_error")));
            assert!(is_retryable(repeat, Outcome::Answered { status: 503, code: None }));
        }
    }

    #[test]
    fn a_tracks_denials_and_client_errors_are_answers_and_never_retried() {
        for (status, code) in [
            (403, "tier_limit_reached"),
            (403, "platform_quota_reached"),
            (429, "rate_limited"),
            (400, "invalid_request"),
            (401, "invalid_api_key"),
            (403, "forbidden"),
            (404, "not_found"),
        ] {
            assert!(!is_retryable(TRACK, answered(status, code)), "{status} {code}");
        }
    }

    #[test]
    fn a_429_other_than_an_end_users_rate_limit_on_a_track_is_retried() {
        assert!(is_retryable(SAFE, answered(429, "rate_limited")));
        assert!(is_retryable(TRACK, Outcome::Answered { status: 429, code: None }));
    }

    #[test]
    fn a_call_that_must_not_happen_twice_is_retried_only_when_it_never_left() {
        assert!(is_retryable(ONCE, Outcome::Unsent));
        assert!(!is_retryable(ONCE, Outcome::Lost));
        assert!(!is_retryable(ONCE, answered(503, "internal")));
    }

    #[test]
    fn the_backoff_doubles_from_200_ms_within_equal_jitter_and_stops_growing_at_5_s() {
        let policy = Policy::new(10);
        let ms = |retry, unit| policy.delay(retry, unit, None).map(|d| d.as_millis());
        assert_eq!((ms(0, 0.0), ms(0, 0.999_999)), (Some(100), Some(199)));
        assert_eq!((ms(1, 0.0), ms(1, 0.5)), (Some(200), Some(300)));
        assert_eq!((ms(2, 0.0), ms(3, 0.0)), (Some(400), Some(800)));
        assert_eq!((ms(5, 0.0), ms(5, 0.999_999)), (Some(2500), Some(4999)));
        assert_eq!(ms(40, 0.0), Some(2500), "no overflow, however many retries");
    }

    #[test]
    fn retry_after_is_waited_for_in_full_unless_it_is_longer_than_30_s() {
        let policy = Policy::new(2);
        let wait = |secs| policy.delay(0, 0.5, Some(Duration::from_secs(secs)));
        assert_eq!(wait(3), Some(Duration::from_secs(3)));
        assert_eq!(wait(30), Some(Duration::from_secs(30)));
        assert_eq!(wait(31), None);
        assert_eq!(policy.delay(3, 0.0, Some(Duration::ZERO)), Some(Duration::from_millis(800)));
    }

    #[test]
    fn at_most_max_retries_follow_the_first_attempt() {
        let policy = Policy::new(2);
        let lost = |done| policy.next(TRACK, Outcome::Lost, done, 0.0, None);
        assert_eq!(lost(0), Step::RetryAfter(Duration::from_millis(100)));
        assert_eq!(lost(1), Step::RetryAfter(Duration::from_millis(200)));
        assert_eq!(lost(2), Step::Stop);
        assert_eq!(Policy::new(0).next(SAFE, Outcome::Unsent, 0, 0.0, None), Step::Stop);
    }

    #[test]
    fn a_long_retry_after_or_a_denial_stops_at_once() {
        let policy = Policy::new(5);
        let long = Some(Duration::from_secs(3600));
        assert_eq!(policy.next(SAFE, answered(503, "internal"), 0, 0.0, long), Step::Stop);
        let denied = answered(403, "tier_limit_reached");
        assert_eq!(policy.next(TRACK, denied, 0, 0.0, None), Step::Stop);
    }

    #[test]
    fn retry_after_is_read_as_whole_seconds() {
        assert_eq!(parse_retry_after(" 7 "), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2026 07:28:00 GMT"), None);
        assert_eq!(parse_retry_after("-1"), None);
    }
}

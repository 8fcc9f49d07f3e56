//! Delivering a message to an endpoint: what an answer means, when to try again, what
//! the body is, and what the delivery history records.
//!
//! Delivery is at least once: a message is retried until an answer says it arrived, so a
//! receiver may see it more than once and recognises it by its `webhook-id`, which is the
//! same on every attempt. The attempt's own time goes in `webhook-timestamp` (and its
//! signature), the event's time in the body, so a retry's body is the same bytes.

use super::events::{Event, EventType};
use super::ids::MessageId;
use crate::error::Invalid;
use crate::time::{rfc3339, Instant};
use chrono::Duration;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `WEBHOOK_RETRY_SCHEDULE` when unset: retries after 5 s, 5 min, 30 min, 2 h, 5 h,
/// 10 h and 10 h (Standard Webhooks' and Svix's schedule), about 27 h in all.
pub const DEFAULT_RETRY_SCHEDULE: &str = "5,300,1800,7200,18000,36000,36000";
/// At most this many retries.
pub const MAX_RETRIES: usize = 10;
/// The longest delay before a retry: 12 h, the longest a Cloudflare Queue holds back a
/// message (`delaySeconds`).
pub const MAX_RETRY_DELAY_SECONDS: u32 = 12 * 60 * 60;
/// How long an attempt waits for an answer; no answer by then is a failed attempt.
pub const TIMEOUT_SECONDS: u32 = 15;

/// The delays, in seconds, before each retry: the first attempt is made at once, the
/// `n`th retry `delays[n - 1]` seconds after the attempt before it failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule(Vec<u32>);

impl Default for RetrySchedule {
    fn default() -> Self {
        Self(vec![5, 300, 1800, 7200, 18000, 36000, 36000])
    }
}

impl RetrySchedule {
    /// A comma-separated list of 1 to 10 whole numbers of seconds, each from 1 to
    /// 43 200; spaces around an entry are ignored.
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let problem = || {
            Invalid::new(format!(
                "WEBHOOK_RETRY_SCHEDULE must be 1 to {MAX_RETRIES} comma-separated whole \
                 numbers of seconds from 1 to {MAX_RETRY_DELAY_SECONDS}, such as \
                 {DEFAULT_RETRY_SCHEDULE}"
            ))
        };
        let delays = s
            .split(',')
            .map(|entry| {
                let entry = entry.trim();
                let valid = !entry.is_empty() && entry.bytes().all(|b| b.is_ascii_digit());
                entry
                    .parse::<u32>()
                    .ok()
                    .filter(|d| valid && (1..=MAX_RETRY_DELAY_SECONDS).contains(d))
                    .ok_or_else(problem)
            })
            .collect::<Result<Vec<u32>, Invalid>>()?;
        if delays.len() > MAX_RETRIES {
            return Err(problem());
        }
        Ok(Self(delays))
    }

    /// The variable as the worker reads it: unset or blank is the default.
    pub fn from_env(value: Option<&str>) -> Result<Self, Invalid> {
        match value.map(str::trim) {
            None | Some("") => Ok(Self::default()),
            Some(s) => Self::parse(s),
        }
    }

    pub fn delays(&self) -> &[u32] {
        &self.0
    }

    /// Attempts in all: the first and one per retry.
    pub fn max_attempts(&self) -> u32 {
        u32::try_from(self.0.len()).unwrap_or(u32::MAX).saturating_add(1)
    }
}

/// What one attempt's answer means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A `2xx`: the receiver has it.
    Delivered,
    /// `410 Gone`: the receiver says the endpoint is no more; disable it and stop.
    Disable,
    /// Anything else (including a `3xx`, as redirects are not followed), or no answer
    /// within [`TIMEOUT_SECONDS`] (`None`).
    Retry,
}

pub fn outcome(status: Option<u16>) -> Outcome {
    match status {
        Some(200..=299) => Outcome::Delivered,
        Some(410) => Outcome::Disable,
        _ => Outcome::Retry,
    }
}

/// When to make the next attempt, `attempts_made` attempts having failed (the last one
/// at `now`): at once for the first, then after each delay of the schedule in turn;
/// `None` once every retry has been used, and the message is marked failed.
pub fn next_attempt(attempts_made: u32, schedule: &RetrySchedule, now: Instant) -> Option<Instant> {
    let Some(retry) = attempts_made.checked_sub(1) else {
        return Some(now);
    };
    let delay = schedule.delays().get(usize::try_from(retry).ok()?)?;
    Some(now + Duration::seconds(i64::from(*delay)))
}

/// What follows an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    Delivered,
    /// The endpoint answered `410`: disable it; the message is not retried.
    Disabled,
    RetryAt(Instant),
    /// Every attempt failed.
    Failed,
}

impl Next {
    /// The whole seconds from `now` until the next attempt (at least 1), if there is one:
    /// the delay the queue holds the retry back.
    pub fn retry_in(self, now: Instant) -> Option<u32> {
        match self {
            Self::RetryAt(when) => {
                let ms = (when - now).num_milliseconds().max(0);
                Some(u32::try_from(((ms + 999) / 1000).max(1)).unwrap_or(MAX_RETRY_DELAY_SECONDS))
            }
            Self::Delivered | Self::Disabled | Self::Failed => None,
        }
    }
}

/// One message for endpoints: the body's `type`, `timestamp` (when the event happened)
/// and `data`, and the `webhook-id` every attempt carries. This is what is queued.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub id: MessageId,
    #[serde(rename = "type")]
    pub event_type: EventType,
    pub timestamp: Instant,
    pub data: Value,
}

#[derive(Serialize)]
struct Body<'a> {
    #[serde(rename = "type")]
    event_type: EventType,
    timestamp: String,
    data: &'a Value,
}

impl Message {
    pub fn new(id: MessageId, event: &Event, timestamp: Instant) -> Self {
        Self { id, event_type: event.event_type(), timestamp, data: event.data() }
    }

    /// The request body, `{type, timestamp, data}` with the timestamp in RFC 3339: the
    /// same bytes on every attempt.
    pub fn body(&self) -> String {
        let body = Body {
            event_type: self.event_type,
            timestamp: rfc3339(self.timestamp),
            data: &self.data,
        };
        serde_json::to_string(&body).unwrap_or_else(|_| unreachable!("a JSON value serialises"))
    }
}

/// One item of an endpoint's delivery history, as `GET /v1/webhooks/{id}/deliveries`
/// answers it. Pending: no `deliveredAt`, a `nextAttemptAt`. Delivered: `deliveredAt`.
/// Failed (or the endpoint disabled): neither.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryRecord {
    pub message_id: MessageId,
    #[serde(rename = "type")]
    pub event_type: EventType,
    pub attempts: u32,
    /// The last answer's status; `null` if none came within the timeout.
    pub last_status: Option<u16>,
    pub last_attempt_at: Option<String>,
    pub next_attempt_at: Option<String>,
    pub delivered_at: Option<String>,
}

impl DeliveryRecord {
    /// A message queued for an endpoint, its first attempt due at `now`.
    pub fn pending(message: &Message, now: Instant) -> Self {
        Self {
            message_id: message.id.clone(),
            event_type: message.event_type,
            attempts: 0,
            last_status: None,
            last_attempt_at: None,
            next_attempt_at: Some(rfc3339(now)),
            delivered_at: None,
        }
    }

    /// Delivered, or given up (every retry used, or the endpoint disabled): no attempt
    /// is due.
    pub fn is_finished(&self) -> bool {
        self.next_attempt_at.is_none()
    }

    /// Gives the delivery up without an attempt: its endpoint was disabled (a `410` to
    /// another message) before this one's turn came.
    pub fn abandon(&mut self) {
        self.next_attempt_at = None;
    }

    /// Records an attempt made at `at` that got `status` (`None`: no answer in time),
    /// and says what follows.
    pub fn record(&mut self, status: Option<u16>, at: Instant, schedule: &RetrySchedule) -> Next {
        self.attempts = self.attempts.saturating_add(1);
        self.last_status = status;
        self.last_attempt_at = Some(rfc3339(at));
        let next = match outcome(status) {
            Outcome::Delivered => Next::Delivered,
            Outcome::Disable => Next::Disabled,
            Outcome::Retry => {
                next_attempt(self.attempts, schedule, at).map_or(Next::Failed, Next::RetryAt)
            }
        };
        self.next_attempt_at = match next {
            Next::RetryAt(when) => Some(rfc3339(when)),
            _ => None,
        };
        if next == Next::Delivered {
            self.delivered_at = Some(rfc3339(at));
        }
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::from_millis;
    use proptest::prelude::*;
    use serde_json::json;

    const T0: i64 = 1_764_000_000_000;

    fn at(seconds_after: i64) -> Instant {
        from_millis(T0 + seconds_after * 1000)
    }

    fn message() -> Message {
        let id = MessageId::parse("msg_p5jXN8AQM9LWM0D4loKWxJek").expect("valid");
        Message::new(id, &Event::WebhookTest, at(0))
    }

    #[test]
    fn the_default_schedule_retries_after_5s_5min_30min_2h_5h_10h_and_10h() {
        let default = RetrySchedule::default();
        assert_eq!(default.delays(), [5, 300, 1800, 7200, 18000, 36000, 36000]);
        assert_eq!(RetrySchedule::parse(DEFAULT_RETRY_SCHEDULE), Ok(default.clone()));
        assert_eq!(RetrySchedule::from_env(None), Ok(default.clone()));
        assert_eq!(RetrySchedule::from_env(Some("  ")), Ok(default.clone()));
        assert_eq!(default.max_attempts(), 8);
    }

    #[test]
    fn a_schedule_of_whole_positive_seconds_is_read_with_spaces_around_entries() {
        assert_eq!(RetrySchedule::from_env(Some("1, 1,2 ")).map(|s| s.0), Ok(vec![1, 1, 2]));
        assert_eq!(RetrySchedule::parse("43200").map(|s| s.0), Ok(vec![43200]));
        assert!(RetrySchedule::parse(&["1"; 10].join(",")).is_ok());
    }

    #[test]
    fn a_bad_schedule_is_refused_saying_what_is_allowed() {
        for bad in [
            "",
            "0",
            "5,,10",
            "5,-1",
            "+5",
            "1.5",
            "5s",
            "43201",
            "99999999999",
            "1,2,3,4,5,6,7,8,9,10,11",
        ] {
            let message = RetrySchedule::parse(bad).map(|_| ()).expect_err(bad).0;
            assert_eq!(
                message,
                "WEBHOOK_RETRY_SCHEDULE must be 1 to 10 comma-separated whole numbers of seconds \
                 from 1 to 43200, such as 5,300,1800,7200,18000,36000,36000",
                "{bad}"
            );
        }
        assert!(RetrySchedule::from_env(Some("soon")).is_err());
    }

    #[test]
    fn a_2xx_is_delivered_410_disables_and_anything_else_or_silence_is_retried() {
        for status in [200, 201, 204, 299] {
            assert_eq!(outcome(Some(status)), Outcome::Delivered, "{status}");
        }
        assert_eq!(outcome(Some(410)), Outcome::Disable);
        for status in [100, 199, 300, 301, 302, 400, 401, 404, 409, 429, 500, 502, 503] {
            assert_eq!(outcome(Some(status)), Outcome::Retry, "{status}");
        }
        assert_eq!(outcome(None), Outcome::Retry);
    }

    #[test]
    fn the_first_attempt_is_at_once_and_each_retry_follows_the_schedule_until_it_ends() {
        let schedule = RetrySchedule::parse("5,300").expect("valid");
        assert_eq!(next_attempt(0, &schedule, at(0)), Some(at(0)));
        assert_eq!(next_attempt(1, &schedule, at(0)), Some(at(5)));
        assert_eq!(next_attempt(2, &schedule, at(10)), Some(at(310)));
        assert_eq!(next_attempt(3, &schedule, at(400)), None);
        assert_eq!(next_attempt(u32::MAX, &schedule, at(400)), None);
    }

    #[test]
    fn the_body_is_type_timestamp_and_data_with_an_rfc_3339_timestamp() {
        let usage = crate::meter::Usage::new(8, Some(10), at(0));
        let rotated = Event::KeyRotated { previous_key_expires_at: rfc3339(at(60)) };
        let m = Message::new(message().id, &rotated, at(0));
        assert_eq!(
            m.body(),
            r#"{"type":"key.rotated","timestamp":"2025-11-24T16:00:00Z","data":{"previousKeyExpiresAt":"2025-11-24T16:01:00Z"}}"#
        );
        assert_eq!(
            message().body(),
            r#"{"type":"webhook.test","timestamp":"2025-11-24T16:00:00Z","data":{}}"#
        );
        let user = crate::ids::UserId::parse("u1").expect("valid");
        let plan = crate::ids::TierId::parse("free").expect("valid");
        let alert = Event::UsageThresholdReached { user_id: user, plan, threshold: 80, usage };
        let body: Value =
            serde_json::from_str(&Message::new(m.id, &alert, at(0)).body()).expect("JSON");
        assert_eq!(body["type"], "usage.threshold_reached");
        assert_eq!(body["data"]["usage"]["count"], 8);
    }

    #[test]
    fn a_queued_message_reads_back_unchanged_and_gives_the_same_body() {
        let m = message();
        let queued = serde_json::to_string(&m).expect("serialises");
        let back: Message = serde_json::from_str(&queued).expect("reads back");
        assert_eq!(back, m);
        assert_eq!(back.body(), m.body());
    }

    #[test]
    fn two_failures_then_a_200_record_three_attempts_and_the_delivery() {
        let schedule = RetrySchedule::default();
        let mut record = DeliveryRecord::pending(&message(), at(0));
        assert_eq!(record.next_attempt_at.as_deref(), Some("2025-11-24T16:00:00Z"));
        assert_eq!(record.record(Some(500), at(0), &schedule), Next::RetryAt(at(5)));
        assert_eq!(record.record(None, at(20), &schedule), Next::RetryAt(at(320)));
        assert_eq!(record.last_status, None);
        assert_eq!(record.record(Some(200), at(320), &schedule), Next::Delivered);
        assert_eq!(
            serde_json::to_value(&record).expect("serialises"),
            json!({"messageId": "msg_p5jXN8AQM9LWM0D4loKWxJek", "type": "webhook.test",
                "attempts": 3, "lastStatus": 200, "lastAttemptAt": "2025-11-24T16:05:20Z",
                "nextAttemptAt": null, "deliveredAt": "2025-11-24T16:05:20Z"})
        );
    }

    #[test]
    fn a_410_disables_at_once_and_a_message_fails_after_its_last_retry() {
        let schedule = RetrySchedule::parse("1").expect("valid");
        let mut gone = DeliveryRecord::pending(&message(), at(0));
        assert_eq!(gone.record(Some(410), at(0), &schedule), Next::Disabled);
        assert_eq!((gone.next_attempt_at, gone.delivered_at), (None, None));
        let mut failing = DeliveryRecord::pending(&message(), at(0));
        assert_eq!(failing.record(Some(503), at(0), &schedule), Next::RetryAt(at(1)));
        assert_eq!(failing.record(Some(503), at(1), &schedule), Next::Failed);
        assert_eq!(failing.attempts, 2);
        assert_eq!((failing.next_attempt_at, failing.delivered_at), (None, None));
    }

    proptest! {
        #[test]
        fn a_message_that_keeps_failing_is_tried_once_plus_once_per_scheduled_delay(
            delays in proptest::collection::vec(1u32..=43_200, 1..=10),
        ) {
            let text = delays.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
            let schedule = RetrySchedule::parse(&text).expect("valid");
            let mut record = DeliveryRecord::pending(&message(), at(0));
            let mut now = at(0);
            let mut waits = Vec::new();
            loop {
                match record.record(None, now, &schedule) {
                    Next::RetryAt(when) => {
                        waits.push(u32::try_from((when - now).num_seconds()).expect("fits"));
                        now = when;
                    }
                    Next::Failed => break,
                    other => prop_assert!(false, "unexpected {:?}", other),
                }
            }
            prop_assert_eq!(record.attempts, schedule.max_attempts());
            prop_assert_eq!(waits, delays);
        }
    }

    #[test]
    fn a_delivery_is_finished_once_delivered_given_up_or_its_endpoint_disabled() {
        let schedule = RetrySchedule::parse("5").expect("valid");
        let mut record = DeliveryRecord::pending(&message(), at(0));
        assert!(!record.is_finished(), "a new delivery waits for its first attempt");
        assert_eq!(record.record(Some(500), at(1), &schedule), Next::RetryAt(at(6)));
        assert!(!record.is_finished());
        assert_eq!(record.record(None, at(6), &schedule), Next::Failed);
        assert!(record.is_finished());
        let mut delivered = DeliveryRecord::pending(&message(), at(0));
        delivered.record(Some(204), at(1), &schedule);
        assert!(delivered.is_finished());
        let mut gone = DeliveryRecord::pending(&message(), at(0));
        gone.record(Some(410), at(1), &schedule);
        assert!(gone.is_finished());
        let mut waiting = DeliveryRecord::pending(&message(), at(0));
        waiting.abandon();
        assert!(waiting.is_finished());
        assert_eq!((waiting.attempts, waiting.delivered_at.as_deref()), (0, None));
    }

    #[test]
    fn the_queue_holds_a_retry_back_for_whole_seconds_and_nothing_follows_an_end() {
        let now = at(10);
        let in_ms = |ms: i64| Next::RetryAt(now + Duration::milliseconds(ms));
        assert_eq!(in_ms(5_000).retry_in(now), Some(5));
        assert_eq!(in_ms(4_001).retry_in(now), Some(5));
        assert_eq!(in_ms(0).retry_in(now), Some(1));
        assert_eq!(in_ms(-3_000).retry_in(now), Some(1));
        assert_eq!(Next::Delivered.retry_in(now), None);
        assert_eq!(Next::Disabled.retry_in(now), None);
        assert_eq!(Next::Failed.retry_in(now), None);
    }
}

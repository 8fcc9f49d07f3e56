//! `track`'s options and its three answers: allowed, denied, or degraded (fail-open).

use crate::error::Error;
use crate::runtime::random_bytes;
use crate::transport::Answer;
use dream_core::ids::{IdempotencyKey, TierId, UserId};
use dream_core::meter::Usage;
use dream_core::random::base62_string;
use serde::{Deserialize, Serialize};

/// What a `track` may say besides the end-user.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrackOptions {
    /// Units to count (1 to 1 000 000); 1 when `None`. An end-user's own token meters 1.
    pub amount: Option<u64>,
    /// Makes the call safe to repeat for 24 h: the first answer is replayed and counted
    /// once. When `None` the client makes one, which its own retries reuse.
    pub idempotency_key: Option<IdempotencyKey>,
}

/// Why a `track` was refused. These are answers about the end-user or the platform,
/// not failures, and are never retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DenyReason {
    /// The end-user used every call of their tier this month: offer an upgrade.
    TierLimitReached,
    /// The platform used its own monthly quota with dream-api.
    PlatformQuotaReached,
    /// The end-user made too many calls this minute: try again after `retry_after_seconds`.
    RateLimited,
}

impl DenyReason {
    /// The contract's error code.
    pub fn code(self) -> &'static str {
        match self {
            DenyReason::TierLimitReached => "tier_limit_reached",
            DenyReason::PlatformQuotaReached => "platform_quota_reached",
            DenyReason::RateLimited => "rate_limited",
        }
    }

    fn of(status: u16, code: &str) -> Option<Self> {
        [Self::TierLimitReached, Self::PlatformQuotaReached, Self::RateLimited]
            .into_iter()
            .find(|reason| reason.code() == code && reason.status() == status)
    }

    fn status(self) -> u16 {
        match self {
            DenyReason::RateLimited => 429,
            _ => 403,
        }
    }
}

/// A `track`'s answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Track {
    /// Counted: go ahead. `usage` is the end-user's after this call; `preview` says the
    /// platform is in preview.
    Allowed { user_id: UserId, plan: TierId, usage: Usage, preview: bool },
    /// Refused, and nothing was counted. `usage` is the end-user's for a tier limit or a
    /// rate limit, the platform's for its quota (absent when an end-user's own token
    /// asked); `retry_after_seconds` comes with a rate limit.
    Denied { reason: DenyReason, usage: Option<Usage>, retry_after_seconds: Option<u64> },
    /// The API could not be reached after every retry and the client fails open: go
    /// ahead uncounted.
    Degraded,
}

impl Track {
    /// Whether the action may go ahead (allowed, or degraded under fail-open).
    pub fn is_allowed(&self) -> bool {
        !matches!(self, Track::Denied { .. })
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TrackBody<'a> {
    pub user_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<u64>,
    pub idempotency_key: &'a IdempotencyKey,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AllowedBody {
    user_id: UserId,
    plan: TierId,
    usage: Usage,
    #[serde(default)]
    preview: bool,
}

#[derive(Deserialize)]
struct DeniedBody {
    usage: Option<Usage>,
}

/// The answer as a [`Track`]: 2xx is allowed; the three refusals are denied; anything
/// else is the answer's error.
pub(crate) fn track_from(answer: Answer) -> Result<Track, Error> {
    let reason = answer.code().and_then(|code| DenyReason::of(answer.status, code));
    match reason {
        Some(reason) => {
            let usage =
                serde_json::from_slice::<DeniedBody>(&answer.body).ok().and_then(|b| b.usage);
            let retry_after_seconds = answer.retry_after.map(|wait| wait.as_secs());
            Ok(Track::Denied { reason, usage, retry_after_seconds })
        }
        None => {
            let AllowedBody { user_id, plan, usage, preview } = answer.decode()?;
            Ok(Track::Allowed { user_id, plan, usage, preview })
        }
    }
}

/// A fresh key for one `track` (`trk_` and 32 base62 characters, 190 random bits).
pub(crate) fn new_idempotency_key() -> Result<IdempotencyKey, Error> {
    let mut failure = None;
    let random = base62_string(
        &mut |buf: &mut [u8]| {
            if let Err(e) = random_bytes(buf) {
                failure = Some(e);
            }
        },
        32,
    );
    if let Some(e) = failure {
        return Err(e);
    }
    IdempotencyKey::parse(&format!("trk_{random}"))
        .map_err(|e| Error::local("internal", e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::Answer;

    const USAGE: &str = r#"{"count": 5, "limit": 5, "remaining": 0,
        "periodStart": "2026-11-01T00:00:00Z", "periodEnd": "2026-12-01T00:00:00Z",
        "resetsAt": "2026-12-01T00:00:00Z"}"#;

    fn answer(status: u16, headers: &[(&'static str, &str)], body: String) -> Answer {
        let mut map = reqwest::header::HeaderMap::new();
        for (name, value) in headers {
            map.insert(*name, value.parse().expect("a header value"));
        }
        Answer::new(status, &map, body.into_bytes())
    }

    #[test]
    fn an_allowed_track_decodes_the_end_users_plan_usage_and_preview_mark() {
        let body = format!(
            r#"{{"allowed": true, "userId": "u1", "plan": "free", "usage": {USAGE}, "preview": true}}"#
        );
        let Ok(Track::Allowed { user_id, plan, usage, preview }) =
            track_from(answer(200, &[], body))
        else {
            panic!("allowed");
        };
        assert_eq!(
            (user_id.as_str(), plan.as_str(), usage.count, preview),
            ("u1", "free", 5, true)
        );
    }

    #[test]
    fn each_refusal_is_a_denial_with_its_usage_and_retry_after() {
        let error = |code: &str| {
            format!(r#"{{"error": {{"code": "{code}", "message": "No."}}, "usage": {USAGE}}}"#)
        };
        let tier = track_from(answer(403, &[], error("tier_limit_reached"))).expect("an answer");
        assert!(
            matches!(tier, Track::Denied { reason: DenyReason::TierLimitReached, usage: Some(ref u), retry_after_seconds: None } if u.count == 5)
        );
        let quota =
            track_from(answer(403, &[], error("platform_quota_reached"))).expect("an answer");
        assert!(matches!(quota, Track::Denied { reason: DenyReason::PlatformQuotaReached, .. }));
        let rate = track_from(answer(429, &[("retry-after", "42")], error("rate_limited")))
            .expect("an answer");
        assert!(matches!(
            rate,
            Track::Denied { reason: DenyReason::RateLimited, retry_after_seconds: Some(42), .. }
        ));
        assert!(!rate.is_allowed());
    }

    #[test]
    fn a_platform_quota_refusal_without_usage_is_still_a_denial() {
        let body = r#"{"error": {"code": "platform_quota_reached", "message": "No."}}"#;
        let denied = track_from(answer(403, &[], body.into())).expect("an answer");
        assert_eq!(
            denied,
            Track::Denied {
                reason: DenyReason::PlatformQuotaReached,
                usage: None,
                retry_after_seconds: None
            }
        );
    }

    #[test]
    fn other_refusals_are_errors_with_the_request_id() {
        let body = r#"{"error": {"code": "forbidden", "message": "Preview is full."}}"#;
        let error = track_from(answer(403, &[("x-request-id", "req_9")], body.into()))
            .expect_err("an error");
        assert_eq!((error.status, error.code.as_str()), (403, "forbidden"));
        assert_eq!(error.request_id.as_deref(), Some("req_9"));
    }

    #[test]
    fn generated_idempotency_keys_are_valid_and_differ() {
        let a = new_idempotency_key().expect("a key");
        let b = new_idempotency_key().expect("a key");
        assert_ne!(a, b);
        assert!(a.as_str().starts_with("trk_") && a.as_str().len() == 36);
    }

    #[test]
    fn a_track_body_carries_its_idempotency_key_and_leaves_out_a_default_amount() {
        let key = new_idempotency_key().expect("a key");
        let body = TrackBody { user_id: "u1", amount: None, idempotency_key: &key };
        let json = serde_json::to_value(&body).expect("encodes");
        assert_eq!(json, serde_json::json!({"userId": "u1", "idempotencyKey": key.as_str()}));
    }
}

//! The messages between the workers and the metering Durable Objects. Both sides use
//! these types, so a change to one side that the other does not follow fails to build.
//!
//! A `track` asks the end-user's meter ([`TrackCommand`]) and reserves the platform
//! quota ([`ReserveCommand`]) at the same time; whichever side allowed a call that the
//! other refused is then given back ([`SettleCommand`], [`ReleaseCommand`]), before the
//! answer is sent. Each meter stays exact on its own: neither count can pass its limit.

use crate::billing::{BillingAccount, EndUserChange};
use crate::ids::{PlatformId, UserId};
use crate::meter::{RateStatus, Usage};
use crate::tier::TierConfig;
use crate::webhook::StripeEvent;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Paths the meters answer on (`https://meter{path}`; the host is never resolved).
pub mod path {
    pub const TRACK: &str = "/track";
    pub const USER: &str = "/user";
    pub const RESERVE: &str = "/reserve";
    pub const SETTLE: &str = "/settle";
    pub const RELEASE: &str = "/release";
    pub const PLATFORM_USAGE: &str = "/usage";
    pub const STATS: &str = "/stats";
    pub const LIMIT: &str = "/limit";
    pub const ADMIT: &str = "/admit";
    pub const BILLING: &str = "/billing";
    pub const BILLING_EVENT: &str = "/billing-event";
}

/// A tier as the meters see it: its id and limit. The first is the default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TierLimit {
    pub id: String,
    pub limit: Option<u64>,
}

/// Every tier's limit, first tier first; never empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TierLimits(Vec<TierLimit>);

impl TierLimits {
    /// The tier an end-user on `plan` is on (the first, when the plan is gone or unset).
    pub fn resolve(&self, plan: Option<&str>) -> TierLimit {
        plan.and_then(|p| self.0.iter().find(|t| t.id == p))
            .or(self.0.first())
            .cloned()
            .unwrap_or(TierLimit { id: "free".into(), limit: Some(0) })
    }
}

impl From<&TierConfig> for TierLimits {
    fn from(config: &TierConfig) -> Self {
        Self(
            config
                .tiers()
                .iter()
                .map(|t| TierLimit { id: t.id.to_string(), limit: t.limit })
                .collect(),
        )
    }
}

/// Worker → UsageMeter: meter one call.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrackCommand {
    pub platform_id: PlatformId,
    pub user_id: UserId,
    pub amount: u64,
    pub idempotency_key: Option<String>,
    pub tiers: TierLimits,
    pub rate_limit_per_minute: u64,
}

/// UsageMeter → worker. Externally tagged (`{"allowed": {…}}`): serde's internally
/// tagged enums buffer the whole value first, which costs the shipped wasm kilobytes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrackReply {
    /// `answer` is the response body; `replayed` when an idempotency key repeated it
    /// (then nothing was taken). `taken_at_ms` is the meter's clock when it took the
    /// call, which a release needs to find the same period and rate window.
    Allowed {
        answer: Value,
        rate: RateStatus,
        replayed: bool,
        taken_at_ms: i64,
    },
    TierLimitReached {
        plan: String,
        usage: Usage,
        rate: RateStatus,
    },
    RateLimited {
        plan: String,
        usage: Usage,
        rate: RateStatus,
    },
    /// The same idempotency key is being answered right now.
    InProgress {
        rate: RateStatus,
    },
}

impl TrackReply {
    /// The end-user's rate-limit status, whatever the outcome.
    pub fn rate(&self) -> &RateStatus {
        match self {
            Self::Allowed { rate, .. }
            | Self::TierLimitReached { rate, .. }
            | Self::RateLimited { rate, .. }
            | Self::InProgress { rate } => rate,
        }
    }
}

/// How a `track` ends once both meters have answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrackOutcome {
    /// `200` with the end-user meter's answer.
    Allowed { replayed: bool },
    /// `403 platform_quota_reached`: the quota applies to every call, so it wins over
    /// the end-user's own refusals (but not over a replay, which is no new call).
    PlatformQuotaReached,
    /// The end-user meter's refusal (`403`, `429` or `409`).
    EndUserDenied,
}

/// What to give back, and the outcome, given the end-user meter's reply and whether
/// the platform quota was reserved. A denied call must consume nothing anywhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settlement {
    pub outcome: TrackOutcome,
    /// Undo the end-user meter's count (it allowed a call the platform refused).
    pub release_user: bool,
    /// Undo the platform reservation; `Some(true)` counts the call as denied.
    pub release_platform: Option<bool>,
}

pub fn settle(user: &TrackReply, platform_allowed: bool) -> Settlement {
    let release_platform = |denied| platform_allowed.then_some(denied);
    match user {
        TrackReply::Allowed { replayed: true, .. } => Settlement {
            outcome: TrackOutcome::Allowed { replayed: true },
            release_user: false,
            release_platform: release_platform(false),
        },
        TrackReply::Allowed { replayed: false, .. } if platform_allowed => Settlement {
            outcome: TrackOutcome::Allowed { replayed: false },
            release_user: false,
            release_platform: None,
        },
        TrackReply::Allowed { replayed: false, .. } => Settlement {
            outcome: TrackOutcome::PlatformQuotaReached,
            release_user: true,
            release_platform: None,
        },
        _ if !platform_allowed => Settlement {
            outcome: TrackOutcome::PlatformQuotaReached,
            release_user: false,
            release_platform: None,
        },
        _ => Settlement {
            outcome: TrackOutcome::EndUserDenied,
            release_user: false,
            release_platform: Some(true),
        },
    }
}

/// The body of an allowed `track` and of the end-user read routes.
pub fn user_answer(user_id: &UserId, plan: &str, usage: &Usage, allowed: Option<bool>) -> Value {
    let mut body = json!({ "userId": user_id, "plan": plan, "usage": usage });
    if let (Some(allowed), Value::Object(map)) = (allowed, &mut body) {
        map.insert("allowed".into(), Value::Bool(allowed));
    }
    body
}

/// Worker → UsageMeter: read an end-user (and optionally set their plan first).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserCommand {
    pub platform_id: PlatformId,
    pub user_id: UserId,
    pub tiers: TierLimits,
    pub set_plan: Option<String>,
}

/// Worker → UsageMeter, after the platform answered: keep or give back a call the
/// meter allowed. `release` undoes it (the platform quota refused it); without it the
/// call stands and its idempotency key is answered from now on.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SettleCommand {
    pub idempotency_key: Option<String>,
    pub release: Option<Release>,
    pub rate_limit_per_minute: u64,
}

/// What to give back: the amount, and when it was taken (for its period and window).
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Release {
    pub amount: u64,
    pub taken_at_ms: i64,
}

/// Worker → PlatformMeter: take `amount` of the quota for `user_id`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReserveCommand {
    pub amount: u64,
    pub limit: Option<u64>,
    pub user_id: UserId,
    /// In preview: how many distinct end-users the platform may serve.
    #[serde(default)]
    pub preview_limit: Option<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReserveReply {
    pub allowed: bool,
    pub usage: Usage,
    /// Refused because the preview already serves its most end-users (nothing taken).
    #[serde(default)]
    pub preview_full: bool,
    /// This call made the end-user one the preview serves; a release forgets them.
    #[serde(default)]
    pub new_end_user: bool,
}

/// Worker → PlatformMeter: give back a reservation. `denied` when the end-user's meter
/// refused the call (it then counts as denied in the statistics); not when the call was
/// an idempotent replay (which is no new call at all).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseCommand {
    pub amount: u64,
    pub denied: bool,
    /// An end-user this reservation admitted to the preview, to forget again.
    #[serde(default)]
    pub forget_user: Option<UserId>,
}

/// Worker → PlatformMeter: may `user_id` be served (the preview's end-user limit)?
/// Admits them if so.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdmitCommand {
    pub user_id: UserId,
    pub preview_limit: Option<u64>,
}

/// Worker → UsageMeter: apply a Stripe event to the end-user's plan, once and in order,
/// if it comes from an account it may (`EndUserBilling::apply`). `tier` is the tier
/// bought, resolved by the worker against the platform's tiers.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BillingEventCommand {
    pub platform_id: PlatformId,
    pub user_id: UserId,
    pub event: StripeEvent,
    pub change: EndUserChange,
    pub tier: Option<String>,
    /// The account the platform's end-users pay through now.
    pub current_account: BillingAccount,
}

/// UsageMeter → worker: the end-user's Stripe customer and subscription.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BillingView {
    pub customer_id: Option<String>,
    pub customer_account: Option<BillingAccount>,
    pub subscription_id: Option<String>,
}

/// Worker → PlatformMeter: the platform's quota usage under `limit`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PlatformUsageQuery {
    pub limit: Option<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StatsQuery {
    pub days: u64,
}

/// Worker → RateLimiter: take one call from the fixed window named by the object.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LimitCommand {
    pub limit: u64,
    pub window_ms: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LimitReply {
    pub allowed: bool,
    pub rate: RateStatus,
}

/// `usage:{platformId}:{userId}` in `USAGE_KV`: what dashboards list. Kept small, as it
/// also travels as the KV key's metadata so that one list call returns every user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageSnapshot {
    pub user_id: UserId,
    pub plan: Option<String>,
    pub period: String,
    pub count: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meter::Usage;

    #[test]
    fn a_plan_that_is_gone_or_unset_resolves_to_the_first_tier() {
        let tiers: TierLimits = (&TierConfig::default_for_new_platform()).into();
        assert_eq!(tiers.resolve(None).id, "free");
        assert_eq!(tiers.resolve(Some("removed")).limit, Some(100));
    }

    #[test]
    fn replies_are_keyed_by_their_outcome_and_read_back_whole() {
        let now = "2026-11-25T00:00:00Z".parse().expect("valid");
        let reply = TrackReply::TierLimitReached {
            plan: "free".into(),
            usage: Usage::new(5, Some(5), now),
            rate: RateStatus { limit: 100, remaining: 99, reset_seconds: 60 },
        };
        let json = serde_json::to_value(&reply).expect("json");
        assert_eq!(json["tier_limit_reached"]["plan"], "free");
        assert_eq!(serde_json::from_value::<TrackReply>(json).expect("back"), reply);
    }

    #[test]
    fn an_allowed_answer_says_allowed_beside_the_user_and_usage() {
        let now = "2026-11-25T00:00:00Z".parse().expect("valid");
        let user = UserId::parse("u1").expect("valid");
        let body = user_answer(&user, "free", &Usage::new(1, Some(5), now), Some(true));
        assert_eq!(body["allowed"], true);
        assert_eq!(body["usage"]["remaining"], 4);
        assert!(user_answer(&user, "free", &Usage::new(1, None, now), None)
            .get("allowed")
            .is_none());
    }

    fn rate() -> RateStatus {
        RateStatus { limit: 100, remaining: 99, reset_seconds: 60 }
    }

    fn allowed(replayed: bool) -> TrackReply {
        TrackReply::Allowed { answer: json!({}), rate: rate(), replayed, taken_at_ms: 0 }
    }

    fn denied() -> TrackReply {
        let now = "2026-11-25T00:00:00Z".parse().expect("valid");
        TrackReply::TierLimitReached {
            plan: "free".into(),
            usage: Usage::new(5, Some(5), now),
            rate: rate(),
        }
    }

    #[test]
    fn a_call_both_meters_allow_stands_and_nothing_is_given_back() {
        let s = settle(&allowed(false), true);
        assert_eq!(s.outcome, TrackOutcome::Allowed { replayed: false });
        assert_eq!((s.release_user, s.release_platform), (false, None));
    }

    #[test]
    fn a_call_the_platform_refuses_is_given_back_to_the_end_user_meter() {
        let s = settle(&allowed(false), false);
        assert_eq!(s.outcome, TrackOutcome::PlatformQuotaReached);
        assert_eq!((s.release_user, s.release_platform), (true, None));
    }

    #[test]
    fn a_call_the_end_user_meter_refuses_is_given_back_to_the_platform_as_denied() {
        let s = settle(&denied(), true);
        assert_eq!(s.outcome, TrackOutcome::EndUserDenied);
        assert_eq!((s.release_user, s.release_platform), (false, Some(true)));
        let in_flight = settle(&TrackReply::InProgress { rate: rate() }, true);
        assert_eq!(in_flight.release_platform, Some(true));
    }

    #[test]
    fn an_exhausted_platform_quota_answers_every_new_call_but_not_a_replay() {
        let s = settle(&denied(), false);
        assert_eq!(s.outcome, TrackOutcome::PlatformQuotaReached);
        assert_eq!((s.release_user, s.release_platform), (false, None));
        let replay = settle(&allowed(true), false);
        assert_eq!(replay.outcome, TrackOutcome::Allowed { replayed: true });
        assert_eq!((replay.release_user, replay.release_platform), (false, None));
    }

    #[test]
    fn a_replay_gives_back_its_platform_reservation_without_counting_a_denial() {
        let s = settle(&allowed(true), true);
        assert_eq!(s.outcome, TrackOutcome::Allowed { replayed: true });
        assert_eq!((s.release_user, s.release_platform), (false, Some(false)));
    }
}

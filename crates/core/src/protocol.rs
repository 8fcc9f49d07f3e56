//! Every message to a Durable Object, each a [`Command`] (or a [`PlatformCommand`],
//! which travels in a `ToPlatform` envelope saying who asks). Both sides use these
//! types, so a change to one side that the other does not follow fails to build.
//!
//! The objects: `Platform`, one per platform, the only writer of everything the
//! platform owns (its key set, plan, connection, tiers, and every end-user's count,
//! rate window, idempotency keys and billing); `Developer`, one per Clerk user, the
//! only writer of the developer → platform claim; `RateLimiter`, one fixed window per
//! name; `OAuthStates`, the Connect OAuth nonces of one platform. The platform's
//! commands about webhooks to developers (endpoints, alert thresholds) are in
//! [`webhooks`].

use crate::api_key::ApiKeyHash;
use crate::billing::{BillingAccount, EndUserChange, PlanUpdate, StoredAccount};
use crate::command;
use crate::error::{ErrorCode, Refusal};
use crate::ids::{IdempotencyKey, PlatformId, UserId};
use crate::logs;
use crate::meter::{RateStatus, TrackDecision, Usage};
use crate::platform::{Connection, Mode, PlatformPlan, PlatformRecord};
use crate::stats::Stats;
use crate::tier::{Tier, TierConfig};
use crate::webhook::{PlanChange, StripeEvent};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

pub mod activity;
pub mod webhooks;

/// A tier as metering sees it: its id and limit. The first is the default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TierLimit {
    pub id: String,
    pub limit: Option<u64>,
}

/// The tier an end-user on `plan` is on (the first, when the plan is gone or unset).
pub fn resolve_tier(config: &TierConfig, plan: Option<&str>) -> TierLimit {
    let tier = plan.and_then(|p| config.find(p)).unwrap_or_else(|| config.first());
    TierLimit { id: tier.id.to_string(), limit: tier.limit }
}

/// The body of an allowed `track` and of the end-user read routes.
pub fn user_answer(user_id: &UserId, plan: &str, usage: &Usage, allowed: Option<bool>) -> Value {
    let mut body = json!({ "userId": user_id, "plan": plan, "usage": usage });
    if let (Some(allowed), Value::Object(map)) = (allowed, &mut body) {
        map.insert("allowed".into(), Value::Bool(allowed));
    }
    body
}

// ---- The platform's object ----

/// Stores a new platform (`409` if the object holds one already).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CreatePlatform {
    pub record: PlatformRecord,
}

command!(PlatformCommand for CreatePlatform = "/create" -> ());

/// Meters one call for an end-user: the tier limit, the platform quota, the rate limit
/// and idempotency, decided in one step.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Track {
    pub user_id: UserId,
    pub amount: u64,
    pub idempotency_key: Option<IdempotencyKey>,
    /// Asked with the end-user's own session token: only `amount: 1`, and no answer
    /// carries the platform's own quota.
    pub by_end_user: bool,
    /// The `X-Request-Id` of the call, for its entry in the platform's request log.
    pub request_id: String,
    /// When the api worker received the call (ms since the epoch).
    pub received_ms: i64,
}

command!(PlatformCommand for Track = "/track" -> TrackAnswer);

/// What a `track` answers. Externally tagged: serde's internally tagged enums buffer
/// the whole value first, which costs the shipped wasm kilobytes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrackAnswer {
    /// `answer` is the response body; `replayed` when an idempotency key repeated it.
    Allowed { answer: Value, rate: RateStatus, replayed: bool },
    /// A refusal, with the end-user's rate-limit status for the headers.
    Refused { refusal: Refusal, rate: RateStatus },
}

impl TrackAnswer {
    /// What the call's entry in the request log says of it: the status and code it was
    /// answered with (a replay is `200` with [`logs::REPLAY_CODE`]).
    pub fn logged_as(&self) -> (u16, Option<&'static str>) {
        match self {
            Self::Allowed { replayed: false, .. } => (200, None),
            Self::Allowed { replayed: true, .. } => (200, Some(logs::REPLAY_CODE)),
            Self::Refused { refusal, .. } => logged_refusal(refusal),
        }
    }
}

/// What the request log says of a refused metered call: its status and error code.
pub fn logged_refusal(refusal: &Refusal) -> (u16, Option<&'static str>) {
    (refusal.code.status(), Some(refusal.code.as_str()))
}

/// Only this amount may be metered with an end-user's session token: one signed-in
/// end-user must not be able to spend the developer's whole plan in one call.
pub const END_USER_AMOUNT: u64 = 1;

/// The refusal of an amount an end-user's token may not meter, if it may not.
pub fn end_user_amount(amount: u64) -> Result<(), Refusal> {
    if amount == END_USER_AMOUNT {
        Ok(())
    } else {
        Err(Refusal::new(
            ErrorCode::Forbidden,
            "An end-user session token meters one call at a time (amount 1); larger amounts need the API key.",
        ))
    }
}

/// The answer to a decided `track`, in the contract's terms.
pub fn track_answer(
    user_id: &UserId,
    plan: &str,
    decision: TrackDecision,
    by_end_user: bool,
    preview_end_users: u64,
) -> TrackAnswer {
    let refused = |refusal, rate| TrackAnswer::Refused { refusal, rate };
    match decision {
        TrackDecision::Replay { answer, rate } => {
            TrackAnswer::Allowed { answer, rate, replayed: true }
        }
        TrackDecision::Allowed { usage, rate, .. } => TrackAnswer::Allowed {
            answer: user_answer(user_id, plan, &usage, Some(true)),
            rate,
            replayed: false,
        },
        TrackDecision::PreviewFull { rate } => refused(
            Refusal::new(
                ErrorCode::Forbidden,
                format!("This platform is in preview, which serves at most {preview_end_users} end-users; connect Stripe in the dashboard to serve more."),
            ),
            rate,
        ),
        TrackDecision::PlatformQuotaReached { platform, rate } => {
            let refusal = Refusal::new(
                ErrorCode::PlatformQuotaReached,
                "This platform has used its monthly API calls; upgrade the dream-api plan to continue.",
            );
            let refusal =
                if by_end_user { refusal } else { refusal.with_extra(json!({ "usage": platform })) };
            refused(refusal, rate)
        }
        TrackDecision::TierLimitReached { usage, rate } => refused(
            Refusal::new(
                ErrorCode::TierLimitReached,
                format!("{user_id} has used every call of the \"{plan}\" tier this period."),
            )
            .with_extra(json!({ "userId": user_id, "plan": plan, "usage": usage })),
            rate,
        ),
        TrackDecision::RateLimited { usage, rate } => refused(
            Refusal::new(
                ErrorCode::RateLimited,
                format!(
                    "{user_id} made more than {} calls this minute; retry after the window resets.",
                    rate.limit
                ),
            )
            .with_extra(json!({ "userId": user_id, "plan": plan, "usage": usage })),
            rate,
        ),
    }
}

/// Reads an end-user's plan and usage; never counts.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReadUser {
    pub user_id: UserId,
}

command!(PlatformCommand for ReadUser = "/user" -> Value);

/// The developer's override of an end-user's tier (`plan` must be one of its tiers).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetUserPlan {
    pub user_id: UserId,
    pub plan: String,
}

command!(PlatformCommand for SetUserPlan = "/user/plan" -> Value);

/// The tier `plan` names, or the message of a `400` listing the platform's tiers.
pub fn plan_override(config: &TierConfig, plan: &str) -> Result<String, Refusal> {
    match config.find(plan) {
        Some(tier) => Ok(tier.id.to_string()),
        None => {
            let ids: Vec<&str> = config.tiers().iter().map(|t| t.id.as_str()).collect();
            Err(Refusal::new(
                ErrorCode::InvalidRequest,
                format!("plan must be one of this platform's tiers: {}", ids.join(", ")),
            ))
        }
    }
}

/// A page of end-users, in `userId` order, after `after`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ListUsers {
    pub after: Option<UserId>,
    pub limit: u64,
}

command!(PlatformCommand for ListUsers = "/users" -> UsersPage);

/// A page of end-users, as `GET /v1/users` answers it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UsersPage {
    pub users: Vec<Value>,
    /// The last end-user of a full page: the next page starts after it.
    #[serde(rename = "nextCursor")]
    pub next: Option<UserId>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GetStats {
    pub days: u64,
}

command!(PlatformCommand for GetStats = "/stats" -> Stats);

/// The platform as its developer sees it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GetPlatform;

command!(PlatformCommand for GetPlatform = "/platform" -> PlatformView);

/// The platform as its object holds it: what the developer sees (`info`, the answer of
/// `GET /v1/platform`) and what only the workers use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlatformView {
    #[serde(flatten)]
    pub info: PlatformInfo,
    pub subscribed: bool,
    pub subscription_id: Option<String>,
    pub customer_id: Option<String>,
    pub developer: Option<String>,
    /// While the key a rotation replaced still works: when it stops (RFC 3339 UTC, the
    /// rotation's own `previousKeyExpiresAt`); `None` otherwise.
    #[serde(default)]
    pub previous_key_expires_at: Option<String>,
}

/// The developer's platform as `GET /v1/platform` answers it: its own plan with
/// dream-api and that plan's quota across all end-users.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlatformInfo {
    pub platform_id: PlatformId,
    pub name: Option<String>,
    pub email: String,
    pub mode: Mode,
    pub plan: PlatformPlan,
    /// The platform quota: units metered this month across all end-users.
    pub usage: Usage,
    /// RFC 3339.
    pub created_at: String,
}

/// Makes `next` the platform's key. Asked with a key (`Auth::Key`), that key must be
/// the current one; the dashboard's developer may always rotate.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RotateKey {
    pub next: ApiKeyHash,
    pub grace_seconds: u64,
}

// The reply: when the replaced key stops working (RFC 3339).
command!(PlatformCommand for RotateKey = "/keys/rotate" -> String);

/// What billing needs: the mode, the sealed connection, the tiers and where they are
/// priced.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GetBilling;

command!(PlatformCommand for GetBilling = "/billing" -> BillingState);

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BillingState {
    pub platform_id: PlatformId,
    pub email: String,
    pub mode: Mode,
    pub connection: Option<Connection>,
    pub tiers: Vec<Tier>,
    pub prices_account: Option<StoredAccount>,
}

/// Stores tiers priced on `account`; refused (`409`) if the platform's end-users no
/// longer pay through that account (it connected or disconnected meanwhile).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SetTiers {
    pub tiers: Vec<Tier>,
    pub account: BillingAccount,
}

command!(PlatformCommand for SetTiers = "/tiers" -> Vec<Tier>);

/// Stores the connected account (sealed); a ready one puts the platform in production.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Connect {
    pub connection: Connection,
}

command!(PlatformCommand for Connect = "/connect" -> Mode);

/// Forgets the connected account (only if it is `account_hash`, when given) and returns
/// the platform to preview. Replies with the connection it removed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Disconnect {
    pub account_hash: Option<String>,
}

command!(PlatformCommand for Disconnect = "/disconnect" -> Option<Connection>);

/// Admits an end-user to the preview if it has room (routes that serve an end-user
/// without metering, such as checkout).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdmitEndUser {
    pub user_id: UserId,
}

command!(PlatformCommand for AdmitEndUser = "/admit" -> bool);

/// An end-user's Stripe customer and subscription.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetEndUserBilling {
    pub user_id: UserId,
}

command!(PlatformCommand for GetEndUserBilling = "/user/billing" -> BillingView);

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BillingView {
    pub customer_id: Option<String>,
    pub customer_account: Option<StoredAccount>,
    pub subscription_id: Option<String>,
}

impl BillingView {
    /// The end-user's Stripe customer if it exists on `account`, the one end-users pay
    /// through now: a customer of ours is unknown to a connected account, and the other
    /// way round, so after the platform connects or disconnects they start again.
    pub fn customer_on(&self, account: &BillingAccount) -> Option<&str> {
        let here = self.customer_account.as_ref() == Some(&StoredAccount::from(account));
        self.customer_id.as_deref().filter(|_| here)
    }
}

/// Applies a Stripe event to an end-user's plan, once and in order. The tier bought is
/// resolved by the object against its own tiers, so a tier added a moment ago counts.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplyEndUserEvent {
    pub user_id: UserId,
    pub event: StripeEvent,
    pub change: EndUserChange,
    /// The account the platform's end-users pay through now.
    pub current_account: BillingAccount,
}

command!(PlatformCommand for ApplyEndUserEvent = "/user/event" -> EventOutcome);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventOutcome {
    Applied(PlanUpdate),
    /// It cannot be applied yet (no tier has the price bought): nothing was recorded,
    /// so the webhook answers `5xx` and Stripe retries it.
    NotYet,
}

/// Applies a Stripe event to the platform's own plan, once and in order.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApplyPlanEvent {
    pub event: StripeEvent,
    pub change: PlanChange,
}

// The reply: the platform afterwards (its Clerk copy is written from it).
command!(PlatformCommand for ApplyPlanEvent = "/plan/event" -> PlatformView);

// ---- The developer's object ----

/// Claims the developer's one platform and creates it: exactly one of any number of
/// simultaneous claims creates a platform; the others learn which one exists.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClaimPlatform {
    pub record: PlatformRecord,
}

command!(Command for ClaimPlatform = "/claim" -> Result<Claim, Refusal>);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Claim {
    Created,
    Exists(PlatformId),
}

/// The platform the developer owns, if any.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OwnedPlatform;

command!(Command for OwnedPlatform = "/owned" -> Option<PlatformId>);

// ---- The small objects ----

/// Takes one call from the fixed window of a `RateLimiter` (named by the object).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TakeFromLimit {
    pub limit: u64,
    pub window_ms: i64,
}

command!(Command for TakeFromLimit = "/limit" -> LimitReply);

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LimitReply {
    pub allowed: bool,
    pub rate: RateStatus,
}

/// Remembers a Connect OAuth state's nonce until it expires.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IssueNonce {
    pub nonce: String,
    pub expires_at: i64,
    pub now: i64,
}

command!(Command for IssueNonce = "/issue" -> bool);

/// Uses up a nonce: whether it was issued, unexpired and unclaimed.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimNonce {
    pub nonce: String,
    pub now: i64,
}

command!(Command for ClaimNonce = "/claim" -> bool);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_counted_call_a_replay_and_a_refusal_are_logged_with_the_status_and_code_they_answered() {
        let rate = RateStatus { limit: 100, remaining: 99, reset_seconds: 60, window_seconds: 60 };
        let allowed = |replayed| TrackAnswer::Allowed { answer: json!({}), rate, replayed };
        let refused = |code| TrackAnswer::Refused { refusal: Refusal::new(code, "x"), rate };
        assert_eq!(allowed(false).logged_as(), (200, None));
        assert_eq!(allowed(true).logged_as(), (200, Some("idempotent_replay")));
        assert_eq!(
            refused(ErrorCode::TierLimitReached).logged_as(),
            (403, Some("tier_limit_reached"))
        );
        assert_eq!(refused(ErrorCode::RateLimited).logged_as(), (429, Some("rate_limited")));
    }

    #[test]
    fn a_platform_view_travels_as_one_flat_object_and_its_info_is_the_developers_answer() {
        let info = PlatformInfo {
            platform_id: PlatformId::parse("plt_0123456789ab").expect("an id"),
            name: None,
            email: "ada@example.com".into(),
            mode: Mode::Preview,
            plan: PlatformPlan::Free,
            usage: Usage::new(0, Some(5), crate::time::from_millis(0)),
            created_at: "2026-12-01T00:00:00Z".into(),
        };
        let view = PlatformView {
            info: info.clone(),
            subscribed: false,
            subscription_id: None,
            customer_id: None,
            developer: Some("user_1".into()),
            previous_key_expires_at: Some("2026-12-01T00:01:00Z".into()),
        };
        let wire = serde_json::to_value(&view).expect("JSON");
        assert_eq!(wire["platformId"], "plt_0123456789ab");
        assert_eq!(wire["developer"], "user_1");
        assert_eq!(wire["previousKeyExpiresAt"], "2026-12-01T00:01:00Z");
        assert!(wire.get("info").is_none());
        let back: PlatformView = serde_json::from_value(wire).expect("reads back");
        assert_eq!(back, view);
        let answer = serde_json::to_value(&info).expect("JSON");
        assert!(answer.get("developer").is_none() && answer.get("subscribed").is_none());
        assert!(answer.get("previousKeyExpiresAt").is_none(), "GET /v1/platform is unchanged");
    }

    #[test]
    fn a_customer_counts_only_on_the_account_it_was_created_on() {
        let connected = BillingAccount::Connected(
            crate::billing::StripeAccountId::parse("acct_1Dev").expect("an account id"),
        );
        let ours = BillingView {
            customer_id: Some("cus_1".into()),
            customer_account: Some(StoredAccount::Ours),
            subscription_id: None,
        };
        assert_eq!(ours.customer_on(&BillingAccount::Ours), Some("cus_1"));
        assert_eq!(ours.customer_on(&connected), None);
        let theirs =
            BillingView { customer_account: Some(StoredAccount::from(&connected)), ..ours.clone() };
        assert_eq!(theirs.customer_on(&connected), Some("cus_1"));
        assert_eq!(theirs.customer_on(&BillingAccount::Ours), None);
        assert_eq!(BillingView::default().customer_on(&BillingAccount::Ours), None);
    }
    use crate::meter::Usage;

    fn now() -> crate::time::Instant {
        "2026-11-25T00:00:00Z".parse().expect("valid")
    }

    fn rate() -> RateStatus {
        RateStatus { limit: 100, remaining: 99, reset_seconds: 60, window_seconds: 60 }
    }

    fn user() -> UserId {
        UserId::parse("u1").expect("valid")
    }

    #[test]
    fn a_plan_that_is_gone_or_unset_resolves_to_the_first_tier() {
        let tiers = TierConfig::default_for_new_platform();
        assert_eq!(resolve_tier(&tiers, None).id, "free");
        assert_eq!(resolve_tier(&tiers, Some("removed")).limit, Some(100));
    }

    #[test]
    fn an_override_must_name_one_of_the_platforms_tiers() {
        let tiers = TierConfig::default_for_new_platform();
        assert_eq!(plan_override(&tiers, "free").expect("a tier"), "free");
        let refused = plan_override(&tiers, "gold").expect_err("not a tier");
        assert_eq!(refused.code, ErrorCode::InvalidRequest);
        assert!(refused.message.contains("free"), "{}", refused.message);
    }

    #[test]
    fn answers_are_keyed_by_their_outcome_and_read_back_whole() {
        let answer = track_answer(
            &user(),
            "free",
            TrackDecision::TierLimitReached { usage: Usage::new(5, Some(5), now()), rate: rate() },
            false,
            100,
        );
        let json = serde_json::to_value(&answer).expect("json");
        assert_eq!(json["refused"]["refusal"]["code"], "tier_limit_reached");
        assert_eq!(json["refused"]["refusal"]["extra"]["plan"], "free");
        assert_eq!(serde_json::from_value::<TrackAnswer>(json).expect("back"), answer);
    }

    #[test]
    fn an_allowed_answer_says_allowed_beside_the_user_and_usage() {
        let body = user_answer(&user(), "free", &Usage::new(1, Some(5), now()), Some(true));
        assert_eq!(body["allowed"], true);
        assert_eq!(body["usage"]["remaining"], 4);
        assert!(user_answer(&user(), "free", &Usage::new(1, None, now()), None)
            .get("allowed")
            .is_none());
    }

    #[test]
    fn an_end_user_never_sees_the_platforms_own_quota() {
        let decision = || TrackDecision::PlatformQuotaReached {
            platform: Usage::new(5, Some(5), now()),
            rate: rate(),
        };
        let TrackAnswer::Refused { refusal, .. } =
            track_answer(&user(), "free", decision(), true, 100)
        else {
            panic!("refused")
        };
        assert_eq!(refusal.code, ErrorCode::PlatformQuotaReached);
        assert_eq!(refusal.extra, None);
        let TrackAnswer::Refused { refusal, .. } =
            track_answer(&user(), "free", decision(), false, 100)
        else {
            panic!("refused")
        };
        assert_eq!(refusal.extra.expect("usage")["usage"]["limit"], 5);
    }

    #[test]
    fn an_end_user_token_meters_one_call_at_a_time() {
        assert!(end_user_amount(1).is_ok());
        for amount in [0, 2, 5, 1_000] {
            assert_eq!(end_user_amount(amount).expect_err("refused").code, ErrorCode::Forbidden);
        }
    }

    #[test]
    fn a_replay_is_allowed_and_marked_replayed() {
        let answer = track_answer(
            &user(),
            "free",
            TrackDecision::Replay { answer: json!({"n": 1}), rate: rate() },
            false,
            100,
        );
        assert_eq!(
            answer,
            TrackAnswer::Allowed { answer: json!({"n": 1}), rate: rate(), replayed: true }
        );
    }
}

//! The answers the dashboard reads, typed as API.md gives them. Where dream-core already
//! has the type the workers serialise (`Usage`, `Tier`, `Stats`, the plan, the mode, the
//! platform id), it is used as is; the rest are here. An answer that does not read as
//! its type is an "unexpected answer" [`Problem`], never a silently blank screen.
//! Fields the dashboard does not need may be left out: unknown fields are ignored, as
//! the contract allows (`"preview": true` is added to answers in preview, for one).

use crate::state::{ErrorDetail, Problem};
use dream_core::ids::PlatformId;
use dream_core::platform::{Mode, PlatformPlan};
use dream_core::tier::Tier;
use serde::de::DeserializeOwned;
use serde::Deserialize;

pub use dream_core::meter::Usage;
pub use dream_core::stats::{DailyCount, Stats};

/// `GET /v1/me`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Me {
    pub user_id: String,
    /// Clerk may hold no address for the developer.
    pub email: Option<String>,
    pub plan: PlatformPlan,
    pub subscribed: bool,
    /// The platform's quota this month (`0` of the plan's limit before credentials).
    pub usage: Usage,
    /// `null` until the developer creates credentials.
    pub platform: Option<MyPlatform>,
}

/// `/v1/me`'s `platform`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MyPlatform {
    pub platform_id: PlatformId,
    pub mode: Mode,
    pub preview_url: String,
    /// While a rotated-out key still works: until when (RFC 3339).
    #[serde(default)]
    pub previous_key_expires_at: Option<String>,
}

/// `GET /v1/users`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UsersPage {
    pub users: Vec<EndUser>,
    pub next_cursor: Option<String>,
}

/// One end-user of the list: the tier they are on and their usage of it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EndUser {
    pub user_id: String,
    pub plan: String,
    pub usage: Usage,
}

/// `GET`/`PUT /v1/tiers`, and the public `GET /v1/public/{platformId}/tiers` (which
/// also names the platform).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct TierList {
    pub tiers: Vec<Tier>,
    /// The api worker marks every answer about a platform in preview.
    #[serde(default)]
    pub preview: bool,
}

/// `GET /v1/demo`: the developer's demo end-user, as their end-users' usage reads.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DemoUser {
    pub user_id: String,
    pub plan: String,
    pub usage: Usage,
}

/// `POST /v1/credentials` (`201`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Credentials {
    pub platform_id: PlatformId,
    pub api_key: String,
}

/// `POST /v1/credentials/rotate`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rotation {
    pub api_key: String,
    /// When the replaced key stops working (RFC 3339).
    pub previous_key_expires_at: String,
}

/// `GET /v1/connect/status`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectStatus {
    /// An account is connected and can take payments.
    pub connected: bool,
    /// `acct_…`, also while onboarding.
    pub stripe_user_id: Option<String>,
    pub livemode: bool,
    pub mode: Mode,
}

/// `POST /v1/connect/deauthorize`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Disconnected {
    pub connected: bool,
    pub mode: Mode,
}

/// A page of Stripe's to send the developer to: checkout and portal (the plan), Connect's
/// authorization and onboarding.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct StripePage {
    pub url: String,
}

/// The error shape every worker answers with; both fields may be missing from an
/// answer that is not the contract's (a proxy's page), which then reads as empty.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct ErrorAnswer {
    #[serde(default)]
    pub error: ErrorDetail,
}

/// Reads an answer: a success as `T`, anything else as the problem it states.
pub fn read<T: DeserializeOwned>(status: u16, text: &str) -> Result<T, Problem> {
    if !(200..300).contains(&status) {
        let answer = serde_json::from_str::<serde_json::Value>(text)
            .and_then(ErrorAnswer::deserialize)
            .unwrap_or_default();
        return Err(Problem::from_answer(status, &answer.error));
    }
    // An empty success (`204`) reads as JSON `null`, which only `()`-like types accept.
    // The text is parsed once, untyped, then read as `T`: one JSON parser in the app
    // whatever the number of answer types.
    let text = if text.trim().is_empty() { "null" } else { text };
    serde_json::from_str::<serde_json::Value>(text)
        .and_then(T::deserialize)
        .map_err(|e| Problem::unexpected(status, &e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const USAGE: &str = r#"{"count": 3, "limit": 5, "remaining": 2, "periodStart": "2026-12-01T00:00:00Z", "periodEnd": "2027-01-01T00:00:00Z", "resetsAt": "2027-01-01T00:00:00Z"}"#;

    #[test]
    fn me_reads_the_plan_the_usage_and_the_platform_or_its_absence() {
        let text = format!(
            r#"{{"userId": "user_1", "email": "dev@example.com", "plan": "paid", "subscribed": true, "usage": {USAGE},
              "platform": {{"platformId": "plt_0123456789ab", "mode": "production", "previewUrl": "http://d/preview/plt_0123456789ab"}}}}"#
        );
        let me: Me = read(200, &text).expect("a valid answer");
        assert_eq!(me.plan, PlatformPlan::Paid);
        assert_eq!((me.usage.count, me.usage.limit, me.usage.remaining), (3, Some(5), Some(2)));
        let platform = me.platform.expect("a platform");
        assert_eq!(platform.platform_id.as_str(), "plt_0123456789ab");
        assert_eq!(platform.mode, Mode::Production);

        let text = format!(
            r#"{{"userId": "user_1", "email": null, "plan": "free", "subscribed": false, "usage": {USAGE}, "platform": null}}"#
        );
        let me: Me = read(200, &text).expect("no platform yet");
        assert_eq!((me.plan, me.platform, me.email), (PlatformPlan::Free, None, None));
    }

    #[test]
    fn a_renamed_field_is_an_unexpected_answer_not_a_blank() {
        let text = USAGE.replace("count", "calls");
        let problem = read::<Usage>(200, &text).expect_err("count is missing");
        assert_eq!(problem.code, "unexpected_answer");
        assert!(problem.message.contains("count"), "{}", problem.message);
        let problem = read::<ConnectStatus>(200, "").expect_err("an empty answer");
        assert_eq!(problem.code, "unexpected_answer");
    }

    #[test]
    fn error_answers_keep_their_code_and_message_whatever_else_they_carry() {
        let text = json!({"error": {"code": "platform_quota_reached", "message": "Used up."}, "usage": {}});
        let problem = read::<Me>(403, &text.to_string()).expect_err("an error");
        assert_eq!((problem.status, problem.code.as_str()), (403, "platform_quota_reached"));
        assert_eq!(problem.message, "Used up.");
        let page = read::<Me>(502, "<html>Bad gateway</html>").expect_err("not JSON");
        assert_eq!(page.message, "The request failed (502).");
    }

    #[test]
    fn the_users_list_reads_each_end_users_plan_and_usage() {
        let text = format!(
            r#"{{"users": [{{"userId": "u1", "plan": "pro", "usage": {USAGE}}}], "nextCursor": null, "preview": true}}"#
        );
        let page: UsersPage = read(200, &text).expect("a page");
        assert_eq!(page.users[0].user_id, "u1");
        assert_eq!(page.users[0].plan, "pro");
        assert_eq!(page.next_cursor, None);
    }

    #[test]
    fn tiers_and_stats_read_as_the_core_types_the_workers_serialise() {
        let tiers = json!({"platformId": "plt_0123456789ab", "tiers": [
            {"id": "free", "name": "Free", "priceCents": 0, "limit": 5, "features": [], "popular": false, "stripePriceId": null},
            {"id": "pro", "name": "Pro", "priceCents": 900, "limit": null, "features": ["Email"], "popular": true, "stripePriceId": "price_1"}
        ]});
        let list: TierList = read(200, &tiers.to_string()).expect("tiers");
        assert_eq!(list.tiers[1].price_cents, 900);
        assert_eq!(list.tiers[1].limit, None);
        assert_eq!(list.tiers[1].stripe_price_id.as_deref(), Some("price_1"));

        let stats = json!({"totalCalls": 4, "deniedCalls": 1, "uniqueUsers": 2,
            "daily": [{"date": "2026-12-01", "calls": 4, "denied": 1}]});
        let stats: Stats = read(200, &stats.to_string()).expect("stats");
        assert_eq!((stats.total_calls, stats.daily[0].calls), (4, 4));
    }

    #[test]
    fn keys_connection_and_stripe_pages_read_as_the_workers_send_them() {
        let created: Credentials =
            read(201, r#"{"platformId": "plt_0123456789ab", "apiKey": "pk_live_x"}"#).expect("201");
        assert_eq!(created.api_key, "pk_live_x");
        let rotated: Rotation =
            read(200, r#"{"apiKey": "pk_live_y", "previousKeyExpiresAt": "2026-12-01T00:00:00Z"}"#)
                .expect("a rotation");
        assert_eq!(rotated.previous_key_expires_at, "2026-12-01T00:00:00Z");
        let status: ConnectStatus = read(
            200,
            r#"{"connected": false, "stripeUserId": "acct_1", "livemode": false, "mode": "preview"}"#,
        )
        .expect("a status");
        assert_eq!((status.connected, status.stripe_user_id.as_deref()), (false, Some("acct_1")));
        let gone: Disconnected =
            read(200, r#"{"connected": false, "mode": "preview"}"#).expect("disconnected");
        assert_eq!(gone.mode, Mode::Preview);
        let page: StripePage =
            read(200, r#"{"url": "https://checkout.stripe.com/c/1", "sessionId": "cs_1"}"#)
                .expect("a page");
        assert_eq!(page.url, "https://checkout.stripe.com/c/1");
    }
}

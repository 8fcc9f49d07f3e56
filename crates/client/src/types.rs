//! Request and response bodies that `dream-core` does not already define (it has
//! `Usage`, `Tier`, `Stats`, `Mode`, `PlatformPlan` and the ids, re-exported by this
//! crate).

use dream_core::api_key::ApiKey;
use dream_core::ids::{TierId, UserId};
use dream_core::meter::Usage;
use dream_core::tier::Tier;
use serde::{Deserialize, Serialize};

/// An end-user's tier and usage (`GET /v1/usage/{userId}`, `PUT /v1/users/{userId}/plan`,
/// each entry of `GET /v1/users`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserUsage {
    pub user_id: UserId,
    /// The end-user's tier: the platform's first when none was set.
    pub plan: TierId,
    pub usage: Usage,
}

/// The developer's platform (`GET /v1/platform`), as the api worker writes it.
pub use dream_core::protocol::PlatformInfo;

/// `POST /v1/checkout`: Stripe Checkout for an end-user's paid tier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckoutRequest {
    pub user_id: String,
    /// The paid tier's id.
    pub tier: String,
    pub success_url: String,
    pub cancel_url: String,
    /// Prefilled on Stripe's page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// A Stripe Checkout session to send the end-user to.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckoutSession {
    pub url: String,
    pub session_id: String,
}

/// `POST /v1/portal`: Stripe's customer portal for an end-user who has paid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PortalRequest {
    pub user_id: String,
    pub return_url: String,
}

/// A Stripe customer portal session.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PortalSession {
    pub url: String,
}

/// A rotated key (`POST /v1/keys/rotate`). The new key is shown only here; the client
/// that rotated it already uses it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "RotationBody")]
pub struct Rotation {
    /// `Debug` shows only its first characters.
    pub api_key: ApiKey,
    /// RFC 3339: when the previous key stops working.
    pub previous_key_expires_at: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RotationBody {
    api_key: String,
    previous_key_expires_at: String,
}

impl TryFrom<RotationBody> for Rotation {
    type Error = String;

    fn try_from(body: RotationBody) -> Result<Self, String> {
        let api_key =
            ApiKey::parse(&body.api_key).map_err(|e| format!("apiKey is not a key ({e:?})"))?;
        Ok(Self { api_key, previous_key_expires_at: body.previous_key_expires_at })
    }
}

#[derive(Serialize, Deserialize)]
pub(crate) struct TierList {
    pub tiers: Vec<Tier>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UsersPage {
    pub users: Vec<UserUsage>,
    pub next_cursor: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PlanChange<'a> {
    pub plan: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RotateRequest {
    pub grace_seconds: u32,
}

#[cfg(test)]
mod tests {
    use super::*;
    use dream_core::platform::{Mode, PlatformPlan};

    const USAGE: &str = r#"{"count": 2, "limit": 5, "remaining": 3,
        "periodStart": "2026-11-01T00:00:00Z", "periodEnd": "2026-12-01T00:00:00Z",
        "resetsAt": "2026-12-01T00:00:00Z"}"#;

    #[test]
    fn the_platform_answer_decodes_into_cores_mode_plan_and_usage() {
        let body = format!(
            r#"{{"platformId": "plt_4fGh7Kp2QzX9", "name": null, "email": "dev@example.com",
               "mode": "preview", "plan": "free", "usage": {USAGE},
               "createdAt": "2026-11-02T10:00:00Z", "preview": true}}"#
        );
        let platform: PlatformInfo = serde_json::from_str(&body).expect("decodes");
        assert_eq!((platform.mode, platform.plan), (Mode::Preview, PlatformPlan::Free));
        assert_eq!((platform.usage.count, platform.usage.remaining), (2, Some(3)));
        assert_eq!(platform.name, None);
    }

    #[test]
    fn a_user_page_with_an_invalid_user_id_is_refused_rather_than_passed_on() {
        let page = format!(
            r#"{{"users": [{{"userId": "a b", "plan": "free", "usage": {USAGE}}}], "nextCursor": null}}"#
        );
        assert!(serde_json::from_str::<UsersPage>(&page).is_err());
    }

    #[test]
    fn a_rotation_decodes_the_new_key_and_keeps_it_out_of_debug_output() {
        let key = ApiKey::generate(&mut |buf: &mut [u8]| buf.fill(7));
        let body = |key: &str| {
            format!(r#"{{"apiKey": "{key}", "previousKeyExpiresAt": "2026-11-02T10:00:00Z"}}"#)
        };
        let rotation: Rotation = serde_json::from_str(&body(key.expose())).expect("decodes");
        assert_eq!(rotation.api_key, key);
        assert!(!format!("{rotation:?}").contains(key.expose()));
        // A key whose check characters do not match is no key.
        let typo = key.expose().replacen("pk_live_", "pk_live_X", 1)[..ApiKey::LEN].to_string();
        assert!(serde_json::from_str::<Rotation>(&body(&typo)).is_err());
    }

    #[test]
    fn a_checkout_request_leaves_out_an_absent_email_and_names_fields_in_camel_case() {
        let request = CheckoutRequest {
            user_id: "u1".into(),
            tier: "pro".into(),
            success_url: "https://app.example/ok".into(),
            cancel_url: "https://app.example/".into(),
            email: None,
        };
        let json = serde_json::to_value(&request).expect("encodes");
        assert_eq!(
            json,
            serde_json::json!({"userId": "u1", "tier": "pro", "successUrl": "https://app.example/ok",
                               "cancelUrl": "https://app.example/"})
        );
    }
}

/// Which entries of the request log to read (`GET /v1/logs`); every field is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogQuery {
    /// Only this end-user's calls.
    pub user_id: Option<UserId>,
    /// Only calls answered with this status (200, 403 or 429).
    pub status: Option<u16>,
    /// A previous page's `next_before`.
    pub before: Option<String>,
    /// Page size, 1 to 100 (the API's default is 50).
    pub limit: Option<u32>,
}

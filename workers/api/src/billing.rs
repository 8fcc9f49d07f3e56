//! Paid plans through Stripe: end-users' (`POST /v1/checkout`, `POST /v1/portal`, and
//! the webhook that moves them between tiers) and the platform's own
//! (`POST /v1/platform/checkout`, `POST /v1/platform/portal`, for a platform registered
//! through the API, with its key). In preview end-users pay on dream-api's Stripe
//! account; in production on the developer's connected account, where every call
//! carries `Stripe-Account` and an event must come from that account.

use crate::auth::Caller;
use crate::call::{end_user_of, Call};
use dream_core::billing::{account_hash, deauthorized_account, end_user_event, return_url};
use dream_core::command::Auth;
use dream_core::error::ErrorCode;
use dream_core::ids::Email;
use dream_core::protocol::{ApplyEndUserEvent, EventOutcome, GetEndUserBilling};
use dream_edge::billing::{
    billing_account, disconnect, end_user_checkout, plan_checkout, plan_portal, state, ReturnUrls,
};
use dream_edge::error::{ApiError, ApiResult};
use dream_edge::http::{json_body, Incoming, Reply};
use dream_edge::objects;
use dream_edge::store::Store;
use dream_edge::stripe;
use serde_json::json;
use worker::Env;

/// `POST /v1/checkout` `{userId, tier, successUrl, cancelUrl, email?}` → `{url, sessionId}`.
pub async fn checkout(call: &mut Call<'_>) -> ApiResult<Reply> {
    let caller = call.caller().await?;
    let body = json_body(&mut call.req, false).await?;
    let user = end_user_of(&caller, body.optional_str("userId")?)?;
    let tier_id = body.required_str("tier")?;
    let urls = ReturnUrls::from_body(&body)?;
    let email = body.optional_str("email")?.map(Email::parse).transpose()?;
    let platform = caller.platform();
    end_user_checkout(call.env, platform, caller.auth(), &user, tier_id, &urls, email.as_ref())
        .await
}

/// `POST /v1/portal` `{userId, returnUrl}` → `{url}`, for an end-user who has paid.
pub async fn portal(call: &mut Call<'_>) -> ApiResult<Reply> {
    let caller = call.caller().await?;
    let body = json_body(&mut call.req, false).await?;
    let user = end_user_of(&caller, body.optional_str("userId")?)?;
    let return_to = return_url("returnUrl", body.required_str("returnUrl")?)?;
    let platform = caller.platform();
    let command = GetEndUserBilling { user_id: user.clone() };
    let (billing, preview) = objects::platform(call.env, platform, caller.auth(), command).await?;
    let result = async {
        let account = billing_account(call.env, &state(call.env, platform).await?).await?;
        let customer = billing.customer_on(&account).ok_or_else(|| {
                ApiError::new(
                    ErrorCode::NotFound,
                    format!("{user} has no subscription on this platform's Stripe account yet; start with POST /v1/checkout."),
                )
            })?;
        let params = json!({ "customer": customer, "return_url": return_to });
        let session =
            stripe::post_as(call.env, &account, "/v1/billing_portal/sessions", &params, None)
                .await?;
        Reply::ok(json!({ "url": session["url"] }))
    }
    .await;
    result.map(|r| r.previewing(preview)).map_err(|e| e.previewing(preview))
}

/// The platform of an API key, for the platform's own plan routes.
async fn key_holder(call: &Call<'_>) -> ApiResult<(dream_core::ids::PlatformId, Auth)> {
    match call.caller().await? {
        Caller::Developer { platform, auth } => Ok((platform, auth)),
        Caller::EndUser { .. } => Err(ApiError::new(
            ErrorCode::Forbidden,
            "The platform's own plan is managed with its API key.",
        )),
    }
}

/// `POST /v1/platform/checkout` `{successUrl, cancelUrl}` → `{url, sessionId}`.
pub async fn platform_checkout(call: &mut Call<'_>) -> ApiResult<Reply> {
    let (platform, auth) = key_holder(call).await?;
    let body = json_body(&mut call.req, false).await?;
    let success_url = return_url("successUrl", body.required_str("successUrl")?)?;
    let cancel_url = return_url("cancelUrl", body.required_str("cancelUrl")?)?;
    plan_checkout(call.env, &platform, auth, &success_url, &cancel_url).await
}

/// `POST /v1/platform/portal` `{returnUrl}` → `{url}`.
pub async fn platform_portal(call: &mut Call<'_>) -> ApiResult<Reply> {
    let (platform, auth) = key_holder(call).await?;
    let body = json_body(&mut call.req, false).await?;
    let return_to = return_url("returnUrl", body.required_str("returnUrl")?)?;
    plan_portal(call.env, &platform, auth, &return_to).await
}

/// `POST /webhooks/stripe`: an end-user's checkout or subscription change moves them
/// between tiers, applied once and in order by the platform's object, which also
/// resolves the tier bought. A purchase counts only from the platform's current
/// account; the end of a subscription from the account it lives on. Events about
/// anything else, or about a platform that does not exist, change nothing and are
/// acknowledged; one that cannot be applied yet answers `503`, so Stripe retries it.
pub async fn webhook(req: &mut Incoming, env: &Env) -> ApiResult<Reply> {
    let event = stripe::verified_event(req, env).await?;
    let received = Reply::ok(json!({ "received": true }));
    if let Some(account) = deauthorized_account(&event) {
        // Access revoked from Stripe's side: the platform connected to that account (if
        // it still is) returns to preview.
        let hash = account_hash(&account);
        if let Some(platform) = Store::new(env).connected_platform(&hash).await? {
            match disconnect(env, &platform, Some(hash)).await {
                Ok(_) => {}
                Err(e) if e.code == ErrorCode::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        return received;
    }
    let Some(change) = end_user_event(&event) else {
        return received;
    };
    let state = match state(env, &change.platform_id).await {
        Ok(state) => state,
        Err(e) if e.code == ErrorCode::NotFound => {
            worker::console_log!("{}: no platform {}; ignored", event.id, change.platform_id);
            return received;
        }
        Err(e) => return Err(e),
    };
    let command = ApplyEndUserEvent {
        user_id: change.user_id,
        event,
        change: change.change,
        current_account: billing_account(env, &state).await?,
    };
    match objects::platform(env, &change.platform_id, Auth::Verified, command).await?.0 {
        EventOutcome::Applied(_) => received,
        EventOutcome::NotYet => Err(ApiError::new(
            ErrorCode::UpstreamError,
            "No tier of this platform has the price bought (yet); retry later.",
        )
        .with_header("Retry-After", 30)),
    }
}

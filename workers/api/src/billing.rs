//! End-users' paid plans: `POST /v1/checkout`, `POST /v1/portal` and the Stripe webhook
//! that moves end-users between tiers. In preview the payments run on dream-api's
//! Stripe account; in production on the developer's connected account, where every
//! call carries `Stripe-Account` and an event must come from that account.

use crate::routes::{end_user_of, Call};
use dream_core::billing::{
    checkout_tier, deauthorized_account, end_user_event, return_url, tier_bought, CheckoutRequest,
    EndUserChange, PlanUpdate, StripeAccountId, PREVIEW_END_USERS,
};
use dream_core::error::ErrorCode;
use dream_core::ids::{Email, PlatformId, UserId};
use dream_core::platform::{Mode, PlatformMeta};
use dream_core::protocol::{path, AdmitCommand, BillingEventCommand, BillingView};
use dream_core::storage;
use dream_edge::billing::{billing_account, connect_record, current_prices, disconnect};
use dream_edge::error::{ApiError, ApiResult};
use dream_edge::http::{json_body, Reply};
use dream_edge::meters;
use dream_edge::store::Store;
use dream_edge::stripe;
use serde_json::json;
use worker::{Context, Env, Request};

/// The preview's end-user limit, for a platform in preview.
pub fn preview_limit(meta: &PlatformMeta) -> Option<u64> {
    (meta.mode == Mode::Preview).then_some(PREVIEW_END_USERS)
}

/// `403 forbidden` for an end-user beyond the preview's limit.
pub fn preview_full() -> ApiError {
    ApiError::new(
        ErrorCode::Forbidden,
        format!(
            "This platform is in preview, which serves at most {PREVIEW_END_USERS} end-users; connect Stripe in the dashboard to serve more."
        ),
    )
}

async fn billing_view(env: &Env, platform: &PlatformId, user: &UserId) -> ApiResult<BillingView> {
    let meter = meters::stub(env, "USAGE_METER", &storage::usage_meter_name(platform, user))?;
    Ok(meters::call(&meter, path::BILLING, &()).await?)
}

/// `POST /v1/checkout` `{userId, tier, successUrl, cancelUrl, email?}` → `{url, sessionId}`.
pub async fn checkout(call: &mut Call<'_>) -> ApiResult<Reply> {
    let caller = call.caller().await?;
    let body = json_body(&mut call.req, false).await?;
    let (platform, user) = end_user_of(caller, body.optional_str("userId")?)?;
    let tier_id = body.required_str("tier")?;
    let success_url = return_url("successUrl", body.required_str("successUrl")?)?;
    let cancel_url = return_url("cancelUrl", body.required_str("cancelUrl")?)?;
    let email = body.optional_str("email")?.map(Email::parse).transpose()?;

    let meta = call.store.existing_platform(call.ctx, &platform).await?;
    let account = billing_account(call.env, &call.store, &meta).await?;
    let tiers = current_prices(call.env, call.ctx, &call.store, &meta, &account).await?;
    let tier = checkout_tier(&tiers, tier_id)?;
    let price_id = tier
        .stripe_price_id
        .as_deref()
        .ok_or_else(|| ApiError::internal(format!("paid tier {} has no Stripe price", tier.id)))?;
    if let Some(limit) = preview_limit(&meta) {
        let meter = meters::stub(call.env, "PLATFORM_METER", platform.as_str())?;
        let command = AdmitCommand { user_id: user.clone(), preview_limit: Some(limit) };
        let admitted: bool = meters::call(&meter, path::ADMIT, &command).await?;
        if !admitted {
            return Err(preview_full());
        }
    }
    let billing = billing_view(call.env, &platform, &user).await?;
    let customer = billing
        .customer_id
        .as_deref()
        .filter(|_| billing.customer_account.as_ref() == Some(&account));
    let params = CheckoutRequest {
        platform: &platform,
        user: &user,
        tier,
        price_id,
        success_url: &success_url,
        cancel_url: &cancel_url,
        email: email.as_ref().map(Email::as_str),
        customer,
    }
    .params();
    let session =
        stripe::post_as(call.env, &account, "/v1/checkout/sessions", &params, None).await?;
    Reply::ok(json!({ "url": session["url"], "sessionId": session["id"] }))
}

/// `POST /v1/portal` `{userId, returnUrl}` → `{url}`, for an end-user who has paid.
pub async fn portal(call: &mut Call<'_>) -> ApiResult<Reply> {
    let caller = call.caller().await?;
    let body = json_body(&mut call.req, false).await?;
    let (platform, user) = end_user_of(caller, body.optional_str("userId")?)?;
    let return_to = return_url("returnUrl", body.required_str("returnUrl")?)?;
    let meta = call.store.existing_platform(call.ctx, &platform).await?;
    let account = billing_account(call.env, &call.store, &meta).await?;
    let billing = billing_view(call.env, &platform, &user).await?;
    let customer = billing
        .customer_id
        .filter(|_| billing.customer_account.as_ref() == Some(&account))
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::NotFound,
                format!("{user} has no subscription on this platform's Stripe account yet; start with POST /v1/checkout."),
            )
        })?;
    let params = json!({ "customer": customer, "return_url": return_to });
    let session =
        stripe::post_as(call.env, &account, "/v1/billing_portal/sessions", &params, None).await?;
    Reply::ok(json!({ "url": session["url"] }))
}

/// A developer revoked our access from Stripe's side: their platform is back in preview
/// (nothing happens if the account is no longer theirs).
async fn deauthorized(env: &Env, ctx: &Context, account: &StripeAccountId) -> ApiResult<()> {
    let store = Store::new(env);
    let Some(platform) = store.connected_platform(account).await? else {
        return Ok(());
    };
    let Some(meta) = store.platform_meta(ctx, &platform).await? else {
        return Ok(());
    };
    let record = connect_record(env, &store, &platform).await?;
    if record.as_ref().is_some_and(|r| r.stripe_user_id == *account) {
        disconnect(env, ctx, &store, meta, record.as_ref()).await?;
    }
    Ok(())
}

/// `POST /webhooks/stripe`: an end-user's checkout or subscription change moves them
/// between tiers, applied once and in order by their meter. A purchase counts only from
/// the platform's current account; the end of a subscription from the account it lives
/// on. Events about anything else, about an unknown platform, or from another account
/// change nothing (and are acknowledged, so Stripe stops sending them).
pub async fn webhook(req: &mut Request, env: &Env, ctx: &Context) -> ApiResult<Reply> {
    let event = stripe::verified_event(req, env).await?;
    let received = Reply::ok(json!({ "received": true }));
    if let Some(account) = deauthorized_account(&event) {
        deauthorized(env, ctx, &account).await?;
        return received;
    }
    let Some(change) = end_user_event(&event) else {
        return received;
    };
    let store = Store::new(env);
    let Some(meta) = store.platform_meta(ctx, &change.platform_id).await? else {
        worker::console_log!("{}: no platform {}; ignored", event.id, change.platform_id);
        return received;
    };
    // Which accounts may speak for this end-user is the meter's to decide: it knows
    // where their subscription lives (`EndUserBilling::apply`).
    let account = billing_account(env, &store, &meta).await?;
    let tiers = store.tier_config(ctx, &meta.platform_id).await?;
    let tier = match &change.change {
        EndUserChange::Subscribed { price_id, tier_id, .. } => {
            tier_bought(&tiers, price_id.as_deref(), tier_id.as_deref()).map(|t| t.id.to_string())
        }
        EndUserChange::Cancelled { .. } => None,
    };
    let meter = meters::stub(
        env,
        "USAGE_METER",
        &storage::usage_meter_name(&change.platform_id, &change.user_id),
    )?;
    let command = BillingEventCommand {
        platform_id: change.platform_id,
        user_id: change.user_id,
        event,
        change: change.change,
        tier,
        current_account: account,
    };
    let _: PlanUpdate = meters::call(&meter, path::BILLING_EVENT, &command).await?;
    received
}

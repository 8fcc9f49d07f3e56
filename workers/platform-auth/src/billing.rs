//! The developer's own subscription to dream-api ($29/month, `STRIPE_PRICE_ID`): Stripe
//! Checkout and the customer portal, and the webhook that moves the plan. The plan lives
//! in Clerk's public metadata and is mirrored into the platform's KV metadata, which is
//! what the api worker's platform quota reads.

use dream_core::billing::is_end_user_event;
use dream_core::clerk::SessionClaims;
use dream_core::error::ErrorCode;
use dream_core::platform::PlatformPlan;
use dream_core::webhook::{plan_change, Admission, PlanChange};
use dream_edge::error::{ApiError, ApiResult};
use dream_edge::http::{json_body, Reply};
use dream_edge::store::Store;
use dream_edge::{clerk, config, meters, stripe};
use serde_json::json;
use worker::{Context, Env, Request};

/// `POST /v1/checkout` `{successUrl?, cancelUrl?}` → `{url, sessionId}`.
pub async fn checkout(req: &mut Request, env: &Env, developer: &SessionClaims) -> ApiResult<Reply> {
    let body = json_body(req, true).await?;
    let user = clerk::user(env, &developer.user_id).await?;
    if user["public_metadata"]["subscribed"].as_bool() == Some(true) {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            "You are already subscribed; manage it in the portal.",
        ));
    }
    let dashboard = config::dashboard_url(env);
    let success = body
        .optional_str("successUrl")?
        .map_or_else(|| format!("{dashboard}/?upgraded=1"), str::to_string);
    let cancel =
        body.optional_str("cancelUrl")?.map_or_else(|| format!("{dashboard}/"), str::to_string);
    let params = json!({
        "mode": "subscription",
        "line_items": [{ "price": config::required(env, "STRIPE_PRICE_ID")?, "quantity": 1 }],
        "success_url": success,
        "cancel_url": cancel,
        "client_reference_id": developer.user_id,
        "customer_email": clerk::primary_email(&user),
        "subscription_data": { "metadata": { "reference": developer.user_id } },
    });
    let session = stripe::post(env, "/v1/checkout/sessions", &params, None).await?;
    Reply::ok(json!({ "url": session["url"], "sessionId": session["id"] }))
}

/// `POST /v1/portal` `{returnUrl?}` → `{url}`, for a developer who has subscribed.
pub async fn portal(req: &mut Request, env: &Env, developer: &SessionClaims) -> ApiResult<Reply> {
    let body = json_body(req, true).await?;
    let user = clerk::user(env, &developer.user_id).await?;
    let customer = user["public_metadata"]["stripeCustomerId"].as_str().ok_or_else(|| {
        ApiError::new(ErrorCode::Conflict, "There is no subscription to manage yet: upgrade first.")
    })?;
    let dashboard = config::dashboard_url(env);
    let return_url =
        body.optional_str("returnUrl")?.map_or_else(|| format!("{dashboard}/"), str::to_string);
    let params = json!({ "customer": customer, "return_url": return_url });
    let session = stripe::post(env, "/v1/billing_portal/sessions", &params, None).await?;
    Reply::ok(json!({ "url": session["url"] }))
}

/// `POST /webhooks/stripe`: verified, applied once, in order per subscription. Only the
/// developers' own subscriptions are this worker's.
pub async fn webhook(req: &mut Request, env: &Env, ctx: &Context) -> ApiResult<Reply> {
    let event = stripe::verified_event(req, env).await?;
    let received = Reply::ok(json!({ "received": true }));
    // End-users' subscriptions (ours in preview, or on a connected account) are the api
    // worker's.
    if event.account.is_some() || is_end_user_event(&event) {
        return received;
    }
    let Some(change) = plan_change(&event) else {
        return received;
    };
    let ledger = meters::stub(env, "BILLING_LEDGER", "platform-billing")?;
    let admission: Admission = meters::call(&ledger, "/check", &event).await?;
    if admission != Admission::Apply {
        return received;
    }
    apply(env, ctx, &change).await?;
    let _: Admission = meters::call(&ledger, "/record", &event).await?;
    received
}

async fn apply(env: &Env, ctx: &Context, change: &PlanChange) -> ApiResult<()> {
    let (reference, plan, metadata) = match change {
        PlanChange::Subscribed { reference, subscription_id, customer_id } => (
            reference,
            PlatformPlan::Paid,
            json!({ "plan": "paid", "subscribed": true, "subscriptionId": subscription_id, "stripeCustomerId": customer_id }),
        ),
        PlanChange::Cancelled { reference, .. } => {
            (reference, PlatformPlan::Free, json!({ "plan": "free", "subscribed": false }))
        }
    };
    let Some(developer) = reference else {
        worker::console_error!("a plan event names no developer; ignored");
        return Ok(());
    };
    // The quota the api worker enforces first, then Clerk, which `/v1/me` reports: once
    // the dashboard shows the new plan, the quota already follows it.
    let store = Store::new(env);
    if let Some(platform) = store.developer_platform(developer).await? {
        let mut meta = store.existing_platform(ctx, &platform).await?;
        meta.plan = plan;
        store.put_platform_meta(&meta).await?;
    }
    clerk::merge_public_metadata(env, developer, metadata).await
}

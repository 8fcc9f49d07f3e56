//! The developer's own subscription to dream-api ($29/month, `STRIPE_PRICE_ID`): Stripe
//! Checkout and the customer portal, and the webhook that moves the plan. The plan
//! belongs to the platform: its object applies each plan event once and in order, and
//! Clerk's public metadata gets a copy for the dashboard.

use dream_core::billing::{is_end_user_event, return_url};
use dream_core::clerk::SessionClaims;
use dream_core::command::Auth;
use dream_core::developer::DeveloperMetadata;
use dream_core::error::ErrorCode;
use dream_core::protocol::{ApplyPlanEvent, PlatformView};
use dream_core::webhook::plan_change;
use dream_edge::billing::{plan_checkout, plan_portal};
use dream_edge::developer::owned;
use dream_edge::error::ApiResult;
use dream_edge::http::{json_body, Incoming, Reply};
use dream_edge::Received;
use dream_edge::{clerk, config, objects, stripe};
use serde_json::json;
use worker::Env;

/// A URL from the body, checked as the api worker checks its own, or the dashboard's.
fn url_or(body: &dream_core::json::JsonObject, field: &str, default: String) -> ApiResult<String> {
    match body.optional_str(field)? {
        Some(url) => Ok(return_url(field, url)?),
        None => Ok(default),
    }
}

/// `POST /v1/checkout` `{successUrl?, cancelUrl?}` → `{url, sessionId}`.
pub async fn checkout(
    req: &mut Incoming,
    env: &Env,
    developer: &SessionClaims,
    received: &Received,
) -> ApiResult<Reply> {
    let body = json_body(req, true).await?;
    let dashboard = config::dashboard_url(env);
    let success = url_or(&body, "successUrl", format!("{dashboard}/?upgraded=1"))?;
    let cancel = url_or(&body, "cancelUrl", format!("{dashboard}/"))?;
    let id = owned(env, developer, received).await?;
    plan_checkout(env, &id, Auth::Verified, &success, &cancel).await
}

/// `POST /v1/portal` `{returnUrl?}` → `{url}`, for a developer who has subscribed.
pub async fn portal(
    req: &mut Incoming,
    env: &Env,
    developer: &SessionClaims,
    received: &Received,
) -> ApiResult<Reply> {
    let body = json_body(req, true).await?;
    let return_to = url_or(&body, "returnUrl", format!("{}/", config::dashboard_url(env)))?;
    let id = owned(env, developer, received).await?;
    plan_portal(env, &id, Auth::Verified, &return_to).await
}

/// `POST /webhooks/stripe`: verified, then applied once and in order by the platform's
/// object. Only platforms' own subscriptions are this worker's; an event for a
/// platform that does not exist is acknowledged and changes nothing.
pub async fn webhook(req: &mut Incoming, env: &Env) -> ApiResult<Reply> {
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
    let Some(id) = change.platform().cloned() else {
        worker::console_log!("{}: a plan event that names no platform; ignored", event.id);
        return received;
    };
    let event_id = event.id.clone();
    let command = ApplyPlanEvent { event, change };
    let view = match objects::platform(env, &id, Auth::Verified, command).await {
        Ok((view, _)) => view,
        Err(e) if e.code == ErrorCode::NotFound => {
            worker::console_log!("{event_id}: no platform {id}; ignored");
            return received;
        }
        Err(e) => return Err(e),
    };
    copy_to_clerk(env, &view).await?;
    received
}

/// Copies the platform's plan into its developer's Clerk metadata (merged, not
/// replaced), for the dashboard. Written on every delivery, duplicates included, so a
/// copy that failed once is written by Stripe's retry. A developer Clerk no longer has
/// changes nothing.
async fn copy_to_clerk(env: &Env, view: &PlatformView) -> ApiResult<()> {
    let Some(developer) = &view.developer else {
        return Ok(());
    };
    if !clerk::merge_public_metadata(env, developer, &DeveloperMetadata::of(view)).await? {
        worker::console_log!("Clerk has no user {developer}; its plan copy is skipped");
    }
    Ok(())
}

//! The api worker's routes (API.md "api worker"). Each handler parses into core types,
//! lets the platform's object (`objects::Platform`, through `dream_edge::objects`) or core
//! decide, and answers with a [`Reply`] or an [`ApiError`].

use crate::auth::Caller;
use crate::billing;
use crate::call::{end_user_of, not_own_user, Call};
use dream_core::account::registration_bucket;
use dream_core::command::Auth;
use dream_core::error::ErrorCode;
use dream_core::ids::{Email, IdempotencyKey, PlatformId};
use dream_core::protocol::{
    CreatePlatform, GetPlatform, ReadUser, SetUserPlan, Track, TrackAnswer,
};
use dream_core::routing::Route;
use dream_edge::activity;
use dream_edge::error::{ApiError, ApiResult};
use dream_edge::http::{json_body, rate_headers, rate_limited, Reply};
use dream_edge::objects;
use dream_edge::platform;
use dream_edge::store::Store;
use dream_edge::webhooks;
use dream_edge::Service;
use serde_json::json;

const REGISTRATIONS_PER_HOUR: u64 = 5;
const MAX_AMOUNT: u64 = 1_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteId {
    Register,
    Platform,
    PlatformCheckout,
    PlatformPortal,
    GetTiers,
    PutTiers,
    Track,
    Usage,
    SetPlan,
    Users,
    Stats,
    Logs,
    Revenue,
    RotateKey,
    Checkout,
    Portal,
    StripeWebhook,
    PublicTiers,
    CreateWebhook,
    ListWebhooks,
    DeleteWebhook,
    RotateWebhookSecret,
    TestWebhook,
    WebhookDeliveries,
    GetAlerts,
    PutAlerts,
}

pub const ROUTES: &[Route<RouteId>] = &[
    Route { method: "POST", pattern: "/v1/developers", id: RouteId::Register },
    Route { method: "GET", pattern: "/v1/platform", id: RouteId::Platform },
    Route { method: "POST", pattern: "/v1/platform/checkout", id: RouteId::PlatformCheckout },
    Route { method: "POST", pattern: "/v1/platform/portal", id: RouteId::PlatformPortal },
    Route { method: "GET", pattern: "/v1/tiers", id: RouteId::GetTiers },
    Route { method: "PUT", pattern: "/v1/tiers", id: RouteId::PutTiers },
    Route { method: "POST", pattern: "/v1/usage/track", id: RouteId::Track },
    Route { method: "GET", pattern: "/v1/usage/{userId}", id: RouteId::Usage },
    Route { method: "PUT", pattern: "/v1/users/{userId}/plan", id: RouteId::SetPlan },
    Route { method: "GET", pattern: "/v1/users", id: RouteId::Users },
    Route { method: "GET", pattern: "/v1/stats", id: RouteId::Stats },
    Route { method: "GET", pattern: "/v1/logs", id: RouteId::Logs },
    Route { method: "GET", pattern: "/v1/revenue", id: RouteId::Revenue },
    Route { method: "POST", pattern: "/v1/keys/rotate", id: RouteId::RotateKey },
    Route { method: "POST", pattern: "/v1/checkout", id: RouteId::Checkout },
    Route { method: "POST", pattern: "/v1/portal", id: RouteId::Portal },
    Route { method: "POST", pattern: "/webhooks/stripe", id: RouteId::StripeWebhook },
    Route { method: "GET", pattern: "/v1/public/{platformId}/tiers", id: RouteId::PublicTiers },
    Route { method: "POST", pattern: "/v1/webhooks", id: RouteId::CreateWebhook },
    Route { method: "GET", pattern: "/v1/webhooks", id: RouteId::ListWebhooks },
    Route { method: "DELETE", pattern: "/v1/webhooks/{id}", id: RouteId::DeleteWebhook },
    Route {
        method: "POST",
        pattern: "/v1/webhooks/{id}/rotate-secret",
        id: RouteId::RotateWebhookSecret,
    },
    Route { method: "POST", pattern: "/v1/webhooks/{id}/test", id: RouteId::TestWebhook },
    Route {
        method: "GET",
        pattern: "/v1/webhooks/{id}/deliveries",
        id: RouteId::WebhookDeliveries,
    },
    Route { method: "GET", pattern: "/v1/alerts", id: RouteId::GetAlerts },
    Route { method: "PUT", pattern: "/v1/alerts", id: RouteId::PutAlerts },
];

/// The worker's routes and its OpenAPI document.
pub const SERVICE: Service<RouteId> =
    Service { routes: ROUTES, openapi: include_str!("openapi.json") };

/// Answers one call; a platform in preview says so in every answer (`"preview": true`).
pub async fn handle(route: RouteId, mut call: Call<'_>) -> ApiResult<Reply> {
    dispatch(route, &mut call).await.map(Reply::marked).map_err(ApiError::marked)
}

async fn dispatch(route: RouteId, call: &mut Call<'_>) -> ApiResult<Reply> {
    match route {
        RouteId::Register => register(call).await,
        RouteId::Platform => platform_info(call).await,
        RouteId::PlatformCheckout => billing::platform_checkout(call).await,
        RouteId::PlatformPortal => billing::platform_portal(call).await,
        RouteId::GetTiers => {
            let (id, auth) = call.developer().await?;
            platform::get_tiers(call.env, &id, auth).await
        }
        RouteId::PutTiers => {
            let (id, auth) = call.developer().await?;
            platform::put_tiers(&mut call.req, call.env, &id, auth).await
        }
        RouteId::Track => track(call).await,
        RouteId::Usage => usage(call).await,
        RouteId::SetPlan => set_plan(call).await,
        RouteId::Users => {
            let (id, auth) = call.developer().await?;
            platform::users(&call.req, call.env, &id, auth).await
        }
        RouteId::Stats => {
            let (id, auth) = call.developer().await?;
            platform::stats(&call.req, call.env, &id, auth).await
        }
        RouteId::Logs => {
            let (id, auth) = call.developer().await?;
            activity::logs(&call.req, call.env, &id, auth).await
        }
        RouteId::Revenue => {
            let (id, auth) = call.developer().await?;
            activity::revenue(call.env, &id, auth).await
        }
        RouteId::RotateKey => {
            let (id, auth) = call.developer().await?;
            platform::rotate_key(&mut call.req, call.env, &id, auth).await
        }
        RouteId::Checkout => billing::checkout(call).await,
        RouteId::Portal => billing::portal(call).await,
        RouteId::StripeWebhook => billing::webhook(&mut call.req, call.env).await,
        RouteId::PublicTiers => public_tiers(call).await,
        RouteId::CreateWebhook => {
            let (id, auth) = call.developer().await?;
            webhooks::create(&mut call.req, call.env, &id, auth).await
        }
        RouteId::ListWebhooks => {
            let (id, auth) = call.developer().await?;
            webhooks::list(call.env, &id, auth).await
        }
        RouteId::DeleteWebhook => {
            let (id, auth) = call.developer().await?;
            webhooks::delete(call.env, &id, auth, call.param("id")?).await
        }
        RouteId::RotateWebhookSecret => {
            let (id, auth) = call.developer().await?;
            webhooks::rotate_secret(call.env, &id, auth, call.param("id")?).await
        }
        RouteId::TestWebhook => {
            let (id, auth) = call.developer().await?;
            webhooks::send_test(call.env, &id, auth, call.param("id")?).await
        }
        RouteId::WebhookDeliveries => {
            let (id, auth) = call.developer().await?;
            webhooks::deliveries(&call.req, call.env, &id, auth, call.param("id")?).await
        }
        RouteId::GetAlerts => {
            let (id, auth) = call.developer().await?;
            webhooks::get_alerts(call.env, &id, auth).await
        }
        RouteId::PutAlerts => {
            let (id, auth) = call.developer().await?;
            webhooks::put_alerts(&mut call.req, call.env, &id, auth).await
        }
    }
}

async fn register(call: &mut Call<'_>) -> ApiResult<Reply> {
    let body = json_body(&mut call.req, false).await?;
    let email = Email::parse(body.required_str("email")?)?;
    let new = platform::new_platform(email, body.optional_str("name")?)?;
    let ip = call.req.headers().get("CF-Connecting-IP")?.unwrap_or_else(|| "unknown".into());
    let rate = objects::take_from_limit(
        call.env,
        &format!("register:{}", registration_bucket(&ip)),
        REGISTRATIONS_PER_HOUR,
        3_600_000,
        "Too many registrations from this address; try again later.",
    )
    .await?;
    let id = new.record.platform_id.clone();
    let command = CreatePlatform { record: new.record };
    let ((), preview) = objects::platform(call.env, &id, Auth::Verified, command).await?;
    let body = json!({ "platformId": id, "apiKey": new.api_key.expose() });
    Ok(Reply::with_status(201, body)?.with_rate(&rate).previewing(preview))
}

async fn platform_info(call: &Call<'_>) -> ApiResult<Reply> {
    let (id, auth) = call.developer().await?;
    let (view, preview) = objects::platform(call.env, &id, auth, GetPlatform).await?;
    Ok(Reply::ok(view.info)?.previewing(preview))
}

async fn track(call: &mut Call<'_>) -> ApiResult<Reply> {
    let caller = call.caller().await?;
    let body = json_body(&mut call.req, false).await?;
    let user_id = end_user_of(&caller, body.optional_str("userId")?)?;
    let amount = body.optional_int("amount", 1, MAX_AMOUNT)?.unwrap_or(1);
    let idempotency_key =
        body.optional_str("idempotencyKey")?.map(IdempotencyKey::parse).transpose()?;
    let command = Track {
        user_id,
        amount,
        idempotency_key,
        by_end_user: matches!(caller, Caller::EndUser { .. }),
        request_id: call.received.request_id.clone(),
        received_ms: call.received.at_ms,
    };
    let (answer, preview) =
        objects::platform(call.env, caller.platform(), caller.auth(), command).await?;
    match answer {
        TrackAnswer::Allowed { answer, rate, replayed } => {
            let reply = Reply::ok(answer)?.with_rate(&rate).previewing(preview);
            Ok(if replayed { reply.with_header("Idempotent-Replayed", "true") } else { reply })
        }
        TrackAnswer::Refused { refusal, rate } => {
            let mut e = if refusal.code == ErrorCode::RateLimited {
                let extra = refusal.extra.clone().unwrap_or_else(|| json!({}));
                rate_limited(&refusal.message, &rate).with_extra(extra)
            } else {
                let mut e = ApiError::from(refusal);
                e.headers.extend(rate_headers(&rate));
                e
            };
            e.preview = preview;
            Err(e)
        }
    }
}

/// `GET /v1/usage/{userId}`: the developer's, or the end-user's own.
async fn usage(call: &mut Call<'_>) -> ApiResult<Reply> {
    let caller = call.caller().await?;
    let user_id = call.user_param()?;
    if matches!(&caller, Caller::EndUser { user, .. } if *user != user_id) {
        return Err(not_own_user());
    }
    let command = ReadUser { user_id };
    let (answer, preview) =
        objects::platform(call.env, caller.platform(), caller.auth(), command).await?;
    Ok(Reply::ok(answer)?.previewing(preview))
}

/// `PUT /v1/users/{userId}/plan`: the developer's override.
async fn set_plan(call: &mut Call<'_>) -> ApiResult<Reply> {
    let (id, auth) = call.developer().await?;
    let user_id = call.user_param()?;
    let body = json_body(&mut call.req, false).await?;
    let command = SetUserPlan { user_id, plan: body.required_str("plan")?.to_string() };
    let (answer, preview) = objects::platform(call.env, &id, auth, command).await?;
    Ok(Reply::ok(answer)?.previewing(preview))
}

async fn public_tiers(call: &Call<'_>) -> ApiResult<Reply> {
    let not_found = || ApiError::not_found("The platform");
    let platform = PlatformId::parse(call.param("platformId")?).map_err(|_| not_found())?;
    let tiers =
        Store::new(call.env).public_tiers(call.ctx, &platform).await?.ok_or_else(not_found)?;
    Reply::ok(json!({ "platformId": platform, "tiers": tiers }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use dream_core::routing::document_differences;

    #[test]
    fn the_openapi_document_lists_exactly_the_routes_the_worker_serves() {
        assert_eq!(document_differences(SERVICE.routes, SERVICE.openapi), Vec::<String>::new());
    }
}

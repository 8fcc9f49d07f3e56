//! The dashboard's backend (API.md "platform-auth worker"): a developer signed in with
//! Clerk gets credentials for their platform and manages it. Every call carries the
//! developer's Clerk session token; the platform is the one `developer:{clerkUserId}`
//! names. What is done with a platform is `dream_edge::platform`, shared with the api
//! worker.

use dream_core::clerk::SessionClaims;
use dream_core::error::ErrorCode;
use dream_core::ids::Email;
use dream_core::meter::Usage;
use dream_core::platform::PlatformPlan;
use dream_core::routing::Route;
use dream_core::time::from_millis;
use dream_edge::error::{ApiError, ApiResult};
use dream_edge::http::Reply;
use dream_edge::store::{now_ms, Store};
use dream_edge::{clerk, config, platform};
use serde_json::{json, Value};
use worker::{event, Context, Env, Request, Response};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteId {
    Health,
    OpenApi,
    Me,
    Credentials,
    RotateCredentials,
    GetTiers,
    PutTiers,
    Stats,
    Users,
    Checkout,
    Portal,
    StripeWebhook,
}

pub const ROUTES: &[Route<RouteId>] = &[
    Route { method: "GET", pattern: "/health", id: RouteId::Health },
    Route { method: "GET", pattern: "/openapi.json", id: RouteId::OpenApi },
    Route { method: "GET", pattern: "/v1/me", id: RouteId::Me },
    Route { method: "POST", pattern: "/v1/credentials", id: RouteId::Credentials },
    Route { method: "POST", pattern: "/v1/credentials/rotate", id: RouteId::RotateCredentials },
    Route { method: "GET", pattern: "/v1/tiers", id: RouteId::GetTiers },
    Route { method: "PUT", pattern: "/v1/tiers", id: RouteId::PutTiers },
    Route { method: "GET", pattern: "/v1/stats", id: RouteId::Stats },
    Route { method: "GET", pattern: "/v1/users", id: RouteId::Users },
    Route { method: "POST", pattern: "/v1/checkout", id: RouteId::Checkout },
    Route { method: "POST", pattern: "/v1/portal", id: RouteId::Portal },
    Route { method: "POST", pattern: "/webhooks/stripe", id: RouteId::StripeWebhook },
];

const OPENAPI: &str = include_str!("openapi.json");

mod billing;
mod ledger;

pub use ledger::BillingLedger;

#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> worker::Result<Response> {
    dream_edge::serve(req, &env, ROUTES, |id, req, _| handle(id, req, &env, &ctx)).await
}

async fn handle(route: RouteId, mut req: Request, env: &Env, ctx: &Context) -> ApiResult<Reply> {
    match route {
        RouteId::Health => return Reply::ok(json!({ "ok": true })),
        RouteId::OpenApi => return Reply::ok(serde_json::from_str::<Value>(OPENAPI)?),
        RouteId::StripeWebhook => return billing::webhook(&mut req, env, ctx).await,
        _ => {}
    }
    let (developer, rate) = platform::developer_call(&req, env).await?;
    let store = Store::new(env);
    let reply = match route {
        RouteId::Me => me(env, ctx, &store, &developer).await,
        RouteId::Credentials => create_credentials(env, &store, &developer).await,
        RouteId::RotateCredentials => {
            platform::rotate_key(&mut req, &store, &platform::owned(&store, &developer).await?)
                .await
        }
        RouteId::GetTiers => {
            platform::get_tiers(ctx, &store, &platform::owned(&store, &developer).await?).await
        }
        RouteId::PutTiers => {
            let id = platform::owned(&store, &developer).await?;
            platform::put_tiers(&mut req, env, ctx, &store, &id).await
        }
        RouteId::Stats => {
            platform::stats(&req, env, &platform::owned(&store, &developer).await?).await
        }
        RouteId::Users => {
            platform::users(&req, env, ctx, &store, &platform::owned(&store, &developer).await?)
                .await
        }
        RouteId::Checkout => billing::checkout(&mut req, env, &developer).await,
        RouteId::Portal => billing::portal(&mut req, env, &developer).await,
        RouteId::Health | RouteId::OpenApi | RouteId::StripeWebhook => {
            unreachable!("answered above")
        }
    };
    Ok(reply?.with_rate(&rate))
}

/// The developer's plan with us, as Clerk's public metadata says.
fn plan_of(public_metadata: &Value) -> PlatformPlan {
    match public_metadata["plan"].as_str() {
        Some("paid") => PlatformPlan::Paid,
        _ => PlatformPlan::Free,
    }
}

async fn me(
    env: &Env,
    ctx: &Context,
    store: &Store,
    developer: &SessionClaims,
) -> ApiResult<Reply> {
    // The plan from Clerk itself: the session token's copy may be a minute old.
    let user = clerk::user(env, &developer.user_id).await?;
    let plan = plan_of(&user["public_metadata"]);
    let (usage, platform) = match store.developer_platform(&developer.user_id).await? {
        Some(id) => {
            let meta = store.existing_platform(ctx, &id).await?;
            let dashboard = config::dashboard_url(env);
            let preview = format!("{}/preview/{id}", dashboard.trim_end_matches('/'));
            let usage = platform::usage(env, &meta).await?;
            (usage, json!({ "platformId": id, "mode": meta.mode, "previewUrl": preview }))
        }
        None => {
            let limit = config::platform_tiers(env)?.limit(plan);
            (Usage::new(0, limit, from_millis(now_ms())), Value::Null)
        }
    };
    Reply::ok(json!({
        "userId": developer.user_id,
        "email": clerk::primary_email(&user),
        "plan": plan,
        "subscribed": user["public_metadata"]["subscribed"].as_bool().unwrap_or(false),
        "usage": usage,
        "platform": platform,
    }))
}

async fn create_credentials(
    env: &Env,
    store: &Store,
    developer: &SessionClaims,
) -> ApiResult<Reply> {
    if store.developer_platform(&developer.user_id).await?.is_some() {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            "You already have a platform; rotate its key to get a new one.",
        ));
    }
    let user = clerk::user(env, &developer.user_id).await?;
    let email = Email::parse(clerk::primary_email(&user).unwrap_or_default())?;
    let mut new = platform::new_platform(email, None)?;
    new.meta.plan = plan_of(&user["public_metadata"]);
    let new = platform::create(store, new).await?;
    store.put_developer_platform(&developer.user_id, &new.meta.platform_id).await?;
    Reply::with_status(
        201,
        json!({ "platformId": new.meta.platform_id, "apiKey": new.api_key.expose() }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use dream_core::routing::{openapi_operations, table_operations};

    #[test]
    fn the_openapi_document_lists_exactly_the_routes_the_worker_serves() {
        let doc: Value = serde_json::from_str(OPENAPI).expect("valid JSON");
        assert_eq!(openapi_operations(&doc), table_operations(ROUTES));
    }
}

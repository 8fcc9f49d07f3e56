//! The dashboard's backend (API.md "platform-auth worker"): a developer signed in with
//! Clerk gets credentials for their platform and manages it. Every call carries the
//! developer's Clerk session token; the platform is the one the developer's object
//! (`Developer`, in the api worker) claimed for them. What is done with a platform is `dream_edge::platform`, shared with the api
//! worker.

use dream_core::clerk::SessionClaims;
use dream_core::command::Auth;
use dream_core::error::ErrorCode;
use dream_core::ids::Email;
use dream_core::meter::Usage;
use dream_core::platform::PlatformPlan;
use dream_core::protocol::{Claim, ClaimPlatform, GetPlatform};
use dream_core::routing::Route;
use dream_core::time::from_millis;
use dream_edge::error::{ApiError, ApiResult};
use dream_edge::http::Reply;
use dream_edge::store::{now_ms, Store};
use dream_edge::{clerk, config, objects, platform};
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

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> worker::Result<Response> {
    dream_edge::serve(req, &env, ROUTES, |id, req, _| handle(id, req, &env)).await
}

async fn handle(route: RouteId, mut req: Request, env: &Env) -> ApiResult<Reply> {
    match route {
        RouteId::Health => return Reply::ok(json!({ "ok": true })),
        RouteId::OpenApi => return Reply::ok(serde_json::from_str::<Value>(OPENAPI)?),
        RouteId::StripeWebhook => return billing::webhook(&mut req, env).await,
        _ => {}
    }
    let (developer, rate) = platform::developer_call(&req, env).await?;
    let verified = Auth::Verified;
    let reply = match route {
        RouteId::Me => me(env, &developer).await,
        RouteId::Credentials => create_credentials(env, &developer).await,
        RouteId::RotateCredentials => {
            let id = platform::owned(env, &developer).await?;
            platform::rotate_key(&mut req, env, &id, verified).await
        }
        RouteId::GetTiers => {
            platform::get_tiers(env, &platform::owned(env, &developer).await?, verified).await
        }
        RouteId::PutTiers => {
            let id = platform::owned(env, &developer).await?;
            platform::put_tiers(&mut req, env, &id, verified).await
        }
        RouteId::Stats => {
            platform::stats(&req, env, &platform::owned(env, &developer).await?, verified).await
        }
        RouteId::Users => {
            platform::users(&req, env, &platform::owned(env, &developer).await?, verified).await
        }
        RouteId::Checkout => billing::checkout(&mut req, env, &developer).await,
        RouteId::Portal => billing::portal(&mut req, env, &developer).await,
        RouteId::Health | RouteId::OpenApi | RouteId::StripeWebhook => {
            unreachable!("answered above")
        }
    };
    Ok(reply?.with_rate(&rate))
}

/// `GET /v1/me`: the developer (email from Clerk) and their platform (plan, usage and
/// mode from the platform's object, which holds them).
async fn me(env: &Env, developer: &SessionClaims) -> ApiResult<Reply> {
    let user = clerk::user(env, &developer.user_id).await?;
    let owned = match platform::owned(env, developer).await {
        Ok(id) => Some(id),
        Err(e) if e.code == ErrorCode::NotFound => None,
        Err(e) => return Err(e),
    };
    let (plan, subscribed, usage, platform) = match owned {
        Some(id) => {
            let (view, _) = objects::platform(env, &id, Auth::Verified, GetPlatform).await?;
            let dashboard = config::dashboard_url(env);
            let preview = format!("{}/preview/{id}", dashboard.trim_end_matches('/'));
            let platform = json!({ "platformId": id, "mode": view.mode, "previewUrl": preview });
            (view.plan, view.subscribed, view.usage, platform)
        }
        None => {
            let plan = PlatformPlan::Free;
            let limit = config::platform_tiers(env)?.limit(plan);
            (plan, false, Usage::new(0, limit, from_millis(now_ms())), Value::Null)
        }
    };
    Reply::ok(json!({
        "userId": developer.user_id,
        "email": clerk::primary_email(&user),
        "plan": plan,
        "subscribed": subscribed,
        "usage": usage,
        "platform": platform,
    }))
}

/// `POST /v1/credentials`: the developer's one platform, claimed through their object,
/// so simultaneous calls create exactly one (`201` once, `409` for the rest).
async fn create_credentials(env: &Env, developer: &SessionClaims) -> ApiResult<Reply> {
    let conflict = || {
        ApiError::new(
            ErrorCode::Conflict,
            "You already have a platform; rotate its key to get a new one.",
        )
    };
    if Store::new(env).developer_platform(&developer.user_id).await?.is_some() {
        return Err(conflict());
    }
    let user = clerk::user(env, &developer.user_id).await?;
    let email = Email::parse(clerk::primary_email(&user).unwrap_or_default())?;
    let mut new = platform::new_platform(email, None)?;
    new.record.developer = Some(developer.user_id.clone());
    let id = new.record.platform_id.clone();
    let claim = ClaimPlatform { record: new.record };
    match objects::send(&platform::developer_object(env, developer)?, &claim).await? {
        Ok(Claim::Created) => {
            Reply::with_status(201, json!({ "platformId": id, "apiKey": new.api_key.expose() }))
        }
        Ok(Claim::Exists(_)) => Err(conflict()),
        Err(refusal) => Err(refusal.into()),
    }
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

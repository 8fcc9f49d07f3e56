//! The dashboard's backend (API.md "platform-auth worker"): a developer signed in with
//! Clerk gets credentials for their platform and manages it. Every call carries the
//! developer's Clerk session token; the platform is the one the developer's object
//! (`Developer`, in the objects worker) claimed for them. What is done with a platform is `dream_edge::platform`, shared with the api
//! worker.

use dream_core::clerk::SessionClaims;
use dream_core::command::Auth;
use dream_core::error::ErrorCode;
use dream_core::ids::Email;
use dream_core::meter::Usage;
use dream_core::platform::PlatformPlan;
use dream_core::protocol::{Claim, ClaimPlatform, GetPlatform};
use dream_core::routing::Route;
use dream_edge::developer::{developer_call, developer_object, owned};
use dream_edge::error::{ApiError, ApiResult};
use dream_edge::http::{Incoming, Reply, RuntimeRequest};
use dream_edge::store::Store;
use dream_edge::{activity, clerk, clock, config, objects, platform, webhooks};
use dream_edge::{Received, Service};
use serde_json::{json, Value};
use std::rc::Rc;
use worker::{event, Context, Env, Response};

/// The routes: Stripe's events about developers' plans (authenticated by their
/// signature), and a signed-in developer's calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteId {
    StripeWebhook,
    Developer(DeveloperRoute),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeveloperRoute {
    Me,
    Credentials,
    RotateCredentials,
    GetTiers,
    PutTiers,
    Stats,
    Logs,
    Revenue,
    Users,
    Checkout,
    Portal,
    Demo,
    DemoCheckout,
    CreateWebhook,
    ListWebhooks,
    DeleteWebhook,
    RotateWebhookSecret,
    TestWebhook,
    WebhookDeliveries,
    GetAlerts,
    PutAlerts,
}

use DeveloperRoute::*;

const fn developer(
    method: &'static str,
    pattern: &'static str,
    id: DeveloperRoute,
) -> Route<RouteId> {
    Route { method, pattern, id: RouteId::Developer(id) }
}

pub const ROUTES: &[Route<RouteId>] = &[
    developer("GET", "/v1/me", Me),
    developer("POST", "/v1/credentials", Credentials),
    developer("POST", "/v1/credentials/rotate", RotateCredentials),
    developer("GET", "/v1/tiers", GetTiers),
    developer("PUT", "/v1/tiers", PutTiers),
    developer("GET", "/v1/stats", Stats),
    developer("GET", "/v1/logs", Logs),
    developer("GET", "/v1/revenue", Revenue),
    developer("GET", "/v1/users", Users),
    developer("POST", "/v1/checkout", Checkout),
    developer("POST", "/v1/portal", Portal),
    developer("GET", "/v1/demo", Demo),
    developer("POST", "/v1/demo/checkout", DemoCheckout),
    developer("POST", "/v1/webhooks", CreateWebhook),
    developer("GET", "/v1/webhooks", ListWebhooks),
    developer("DELETE", "/v1/webhooks/{id}", DeleteWebhook),
    developer("POST", "/v1/webhooks/{id}/rotate-secret", RotateWebhookSecret),
    developer("POST", "/v1/webhooks/{id}/test", TestWebhook),
    developer("GET", "/v1/webhooks/{id}/deliveries", WebhookDeliveries),
    developer("GET", "/v1/alerts", GetAlerts),
    developer("PUT", "/v1/alerts", PutAlerts),
    Route { method: "POST", pattern: "/webhooks/stripe", id: RouteId::StripeWebhook },
];

/// The worker's routes and its OpenAPI document.
const SERVICE: Service<RouteId> = Service { routes: ROUTES, openapi: include_str!("openapi.json") };

mod billing;
mod demo;

#[event(fetch)]
async fn fetch(req: RuntimeRequest, env: Env, _ctx: Context) -> worker::Result<Response> {
    dream_edge::serve(req, &env, &SERVICE, |id, req, params, received| {
        handle(id, req, &env, params, received)
    })
    .await
}

type Params = Vec<(&'static str, String)>;

async fn handle(
    route: RouteId,
    mut req: Incoming,
    env: &Env,
    params: Params,
    received: Rc<Received>,
) -> ApiResult<Reply> {
    match route {
        RouteId::StripeWebhook => billing::webhook(&mut req, env).await,
        RouteId::Developer(route) => for_developer(route, req, env, &params, &received).await,
    }
}

/// The path parameter `name` of the matched route.
fn param<'a>(params: &'a Params, name: &str) -> ApiResult<&'a str> {
    params
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.as_str())
        .ok_or_else(|| ApiError::internal(format!("route has no {name} parameter")))
}

/// A signed-in developer's call (one of their calls this minute).
async fn for_developer(
    route: DeveloperRoute,
    mut req: Incoming,
    env: &Env,
    params: &Params,
    received: &Received,
) -> ApiResult<Reply> {
    let (developer, rate) = developer_call(&req, env).await?;
    let verified = Auth::Verified;
    let reply = match route {
        Me => me(env, &developer, received).await,
        Credentials => create_credentials(env, &developer).await,
        RotateCredentials => {
            let id = owned(env, &developer, received).await?;
            platform::rotate_key(&mut req, env, &id, verified).await
        }
        GetTiers => {
            platform::get_tiers(env, &owned(env, &developer, received).await?, verified).await
        }
        PutTiers => {
            let id = owned(env, &developer, received).await?;
            platform::put_tiers(&mut req, env, &id, verified).await
        }
        Stats => {
            platform::stats(&req, env, &owned(env, &developer, received).await?, verified).await
        }
        Logs => activity::logs(&req, env, &owned(env, &developer, received).await?, verified).await,
        Revenue => activity::revenue(env, &owned(env, &developer, received).await?, verified).await,
        Users => {
            platform::users(&req, env, &owned(env, &developer, received).await?, verified).await
        }
        Checkout => billing::checkout(&mut req, env, &developer, received).await,
        Portal => billing::portal(&mut req, env, &developer, received).await,
        Demo => demo::usage(env, &developer, received).await,
        DemoCheckout => demo::checkout(&mut req, env, &developer, received).await,
        CreateWebhook => {
            let id = owned(env, &developer, received).await?;
            webhooks::create(&mut req, env, &id, verified).await
        }
        ListWebhooks => {
            webhooks::list(env, &owned(env, &developer, received).await?, verified).await
        }
        DeleteWebhook => {
            let id = owned(env, &developer, received).await?;
            webhooks::delete(env, &id, verified, param(params, "id")?).await
        }
        RotateWebhookSecret => {
            let id = owned(env, &developer, received).await?;
            webhooks::rotate_secret(env, &id, verified, param(params, "id")?).await
        }
        TestWebhook => {
            let id = owned(env, &developer, received).await?;
            webhooks::send_test(env, &id, verified, param(params, "id")?).await
        }
        WebhookDeliveries => {
            let id = owned(env, &developer, received).await?;
            webhooks::deliveries(&req, env, &id, verified, param(params, "id")?).await
        }
        GetAlerts => {
            webhooks::get_alerts(env, &owned(env, &developer, received).await?, verified).await
        }
        PutAlerts => {
            let id = owned(env, &developer, received).await?;
            webhooks::put_alerts(&mut req, env, &id, verified).await
        }
    };
    Ok(reply?.with_rate(&rate))
}

/// `GET /v1/me`: the developer (email from Clerk) and their platform (plan, usage, mode
/// and a rotated-out key's grace from the platform's object, which holds them).
async fn me(env: &Env, developer: &SessionClaims, received: &Received) -> ApiResult<Reply> {
    let user = clerk::user(env, &developer.user_id).await?;
    let platform_id = match owned(env, developer, received).await {
        Ok(id) => Some(id),
        Err(e) if e.code == ErrorCode::NotFound => None,
        Err(e) => return Err(e),
    };
    let (plan, subscribed, usage, platform) = match platform_id {
        Some(id) => {
            let (view, _) = objects::platform(env, &id, Auth::Verified, GetPlatform).await?;
            let dashboard = config::dashboard_url(env);
            let preview = format!("{}/preview/{id}", dashboard.trim_end_matches('/'));
            let platform = json!({
                "platformId": id,
                "mode": view.info.mode,
                "previewUrl": preview,
                "previousKeyExpiresAt": view.previous_key_expires_at,
            });
            (view.info.plan, view.subscribed, view.info.usage, platform)
        }
        None => {
            let plan = PlatformPlan::Free;
            let limit = config::platform_tiers(env)?.limit(plan);
            (plan, false, Usage::new(0, limit, clock::now()), Value::Null)
        }
    };
    Reply::ok(json!({
        "userId": developer.user_id,
        "email": user.primary_email(),
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
    let email = Email::parse(user.primary_email().unwrap_or_default())?;
    let mut new = platform::new_platform(email, None)?;
    new.record.developer = Some(developer.user_id.clone());
    let id = new.record.platform_id.clone();
    let claim = ClaimPlatform { record: new.record };
    match objects::send(&developer_object(env, developer)?, &claim).await? {
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
    use dream_core::routing::document_differences;

    #[test]
    fn the_openapi_document_lists_exactly_the_routes_the_worker_serves() {
        assert_eq!(document_differences(SERVICE.routes, SERVICE.openapi), Vec::<String>::new());
    }
}

//! The stripe-oauth worker (API.md "stripe-oauth worker"): a developer connects their
//! Stripe account so that their end-users pay them. Two ways in: Connect OAuth (an
//! existing account approves us) and Account Links onboarding (Stripe's recommended
//! path: we create the account and Stripe onboards the developer). Once an account can
//! take payments the platform is in `production`; disconnecting returns it to
//! `preview`. The account and its tokens are stored sealed (`dream_edge::billing`).
//!
//! Every route but the callback takes the developer's Clerk session token, like the
//! dashboard's backend, and shares its 100 calls a minute.

mod states;

use dream_core::billing::{ConnectRecord, ConnectedVia, OAuthToken, StripeAccountId};
use dream_core::command::Auth;
use dream_core::error::ErrorCode;
use dream_core::ids::PlatformId;
use dream_core::oauth_state::{self, StateError};
use dream_core::platform::Mode;
use dream_core::protocol::{BillingState, ClaimNonce, Connect, IssueNonce};
use dream_core::routing::Route;
use dream_core::time::rfc3339;
use dream_edge::billing::{connect_record, disconnect, reprice, seal, state};
use dream_edge::clock::{self, now_secs};
use dream_edge::developer::{developer_call, owned};
use dream_edge::error::{ApiError, ApiResult};
use dream_edge::http::{Incoming, Reply, RuntimeRequest};
use dream_edge::{config, objects, stripe};
use dream_edge::{Received, Service};
use serde_json::json;
use std::rc::Rc;
use worker::{event, Context, Env, Response};

pub use states::OAuthStates;

/// What the `state` HMAC key is derived for, from `TOKEN_ENCRYPTION_KEY`.
pub const STATE_KEY_PURPOSE: &str = "stripe-connect-oauth-state";

/// The routes: Stripe's redirect back (`Callback`, authenticated by its signed
/// `state`), and a signed-in developer's calls about their own platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteId {
    Callback,
    Developer(DeveloperRoute),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeveloperRoute {
    Status,
    Authorize,
    Onboarding,
    Deauthorize,
}

use DeveloperRoute::*;

pub const ROUTES: &[Route<RouteId>] = &[
    Route { method: "GET", pattern: "/v1/connect/status", id: RouteId::Developer(Status) },
    Route { method: "POST", pattern: "/v1/connect/authorize", id: RouteId::Developer(Authorize) },
    Route { method: "GET", pattern: "/v1/connect/callback", id: RouteId::Callback },
    Route { method: "POST", pattern: "/v1/connect/onboarding", id: RouteId::Developer(Onboarding) },
    Route {
        method: "POST",
        pattern: "/v1/connect/deauthorize",
        id: RouteId::Developer(Deauthorize),
    },
];

/// The worker's routes and its OpenAPI document.
const SERVICE: Service<RouteId> = Service { routes: ROUTES, openapi: include_str!("openapi.json") };

#[event(fetch)]
async fn fetch(req: RuntimeRequest, env: Env, _ctx: Context) -> worker::Result<Response> {
    dream_edge::serve(req, &env, &SERVICE, |id, req, _, received| handle(id, req, &env, received))
        .await
}

async fn handle(
    route: RouteId,
    req: Incoming,
    env: &Env,
    received: Rc<Received>,
) -> ApiResult<Reply> {
    match route {
        RouteId::Callback => callback(&req, env).await,
        RouteId::Developer(route) => for_developer(route, &req, env, &received).await,
    }
}

/// A signed-in developer's call (one of their calls this minute), about the platform
/// they own.
async fn for_developer(
    route: DeveloperRoute,
    req: &Incoming,
    env: &Env,
    received: &Received,
) -> ApiResult<Reply> {
    let (developer, rate) = developer_call(req, env).await?;
    let id = owned(env, &developer, received).await?;
    let reply = match route {
        Status => status(env, state(env, &id).await?).await,
        Authorize => authorize(req, env, &id).await,
        Onboarding => onboarding(env, state(env, &id).await?).await,
        Deauthorize => deauthorize(env, &id).await,
    };
    Ok(reply?.with_rate(&rate))
}

fn state_key(env: &Env) -> ApiResult<[u8; 32]> {
    Ok(config::sealing_key(env)?.derive(STATE_KEY_PURPOSE))
}

/// Hands the platform's object its connected account (sealed); a ready account puts
/// the platform in production, and its tiers are priced there (best effort: checkout
/// does it too if this fails).
async fn store_connection(
    env: &Env,
    platform: &PlatformId,
    record: &ConnectRecord,
) -> ApiResult<Mode> {
    let connection = seal(env, record).await?;
    let (mode, _) =
        objects::platform(env, platform, Auth::Verified, Connect { connection }).await?;
    if mode == Mode::Production {
        reprice(env, platform).await;
    }
    Ok(mode)
}

/// `GET /v1/connect/status`. An account still being onboarded is asked about once
/// more: when Stripe says it can take payments, the platform moves to production.
async fn status(env: &Env, state: BillingState) -> ApiResult<Reply> {
    let mut record = connect_record(env, state.connection.as_ref()).await?;
    let mut mode = state.mode;
    if let Some(r) = record.as_mut().filter(|r| !r.ready) {
        let account = stripe::get(env, &format!("/v1/accounts/{}", r.stripe_user_id)).await?;
        if account["charges_enabled"].as_bool() == Some(true) {
            r.ready = true;
            mode = store_connection(env, &state.platform_id, r).await?;
        }
    }
    let connected = record.as_ref().is_some_and(|r| r.ready);
    Reply::ok(json!({
        "connected": connected,
        "stripeUserId": record.as_ref().map(|r| r.stripe_user_id.to_string()),
        "livemode": record.as_ref().is_some_and(|r| r.livemode),
        "mode": mode,
    }))
}

/// `POST /v1/connect/authorize` → `{url}`: Stripe's OAuth page, with a `state` that names
/// the platform, expires in ten minutes and is accepted once.
async fn authorize(req: &Incoming, env: &Env, platform: &PlatformId) -> ApiResult<Reply> {
    let client_id = config::required(env, "STRIPE_CLIENT_ID")?;
    let mut nonce = [0u8; 16];
    dream_edge::random::fill_random(&mut nonce)?;
    let nonce: String = nonce.iter().map(|b| format!("{b:02x}")).collect();
    let now = now_secs();
    let state = oauth_state::issue(&state_key(env)?, platform, &nonce, now);
    let command = IssueNonce { nonce, expires_at: now + oauth_state::LIFETIME_SECONDS, now };
    let states = objects::oauth_states(env, platform)?;
    objects::send(&states, &command).await?;
    let origin = dream_edge::http::origin(req)?;
    let mut url =
        worker::Url::parse(&format!("{}/oauth/authorize", config::stripe_connect_base(env)))
            .map_err(|e| ApiError::internal(format!("STRIPE_CONNECT_BASE: {e}")))?;
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &client_id)
        .append_pair("scope", "read_write")
        .append_pair("state", &state)
        .append_pair("redirect_uri", &format!("{origin}/v1/connect/callback"));
    Reply::ok(json!({ "url": url.as_str() }))
}

fn bad_state(e: StateError) -> ApiError {
    ApiError::invalid(match e {
        StateError::Malformed | StateError::Forged => {
            "The state is not one this service issued; start again from the dashboard."
        }
        StateError::Expired => "The state expired (10 minutes); start again from the dashboard.",
    })
}

/// `GET /v1/connect/callback?code=&state=`: Stripe sends the developer back here. The
/// state is checked and used up first; then the code is exchanged, the account and
/// tokens are stored sealed, and the platform moves to production.
async fn callback(req: &Incoming, env: &Env) -> ApiResult<Reply> {
    let param = |name: &str| -> ApiResult<Option<String>> {
        Ok(dream_edge::http::query(req, name)?.filter(|v| !v.is_empty()))
    };
    let state = param("state")?.ok_or_else(|| ApiError::invalid("state is missing"))?;
    let now = now_secs();
    let claims = oauth_state::verify(&state_key(env)?, &state, now).map_err(bad_state)?;
    let states = objects::oauth_states(env, &claims.platform_id)?;
    let claimed = objects::send(&states, &ClaimNonce { nonce: claims.nonce.clone(), now }).await?;
    if !claimed {
        return Err(ApiError::invalid(
            "This state was already used; start again from the dashboard.",
        ));
    }
    let dashboard = config::dashboard_url(env);
    let settings = format!("{}/settings", dashboard.trim_end_matches('/'));
    if let Some(error) = param("error")? {
        // The developer declined on Stripe's page: back to the dashboard, nothing changed.
        let error: String =
            error.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
        return Reply::with_status(302, json!({ "connected": false, "error": error }))
            .map(|r| r.with_header("Location", format!("{settings}?connected=0&error={error}")));
    }
    let code = param("code")?.ok_or_else(|| ApiError::invalid("code is missing"))?;
    let params = json!({ "grant_type": "authorization_code", "code": code });
    let token = match stripe::connect_post(env, "/oauth/token", &params).await? {
        Ok(token) => token,
        Err(refusal) => {
            worker::console_log!("oauth/token refused: {}", refusal.error);
            return Err(ApiError::invalid(format!(
                "Stripe refused the authorization ({}): {} Start again from the dashboard.",
                refusal.error, refusal.description
            )));
        }
    };
    let token: OAuthToken = serde_json::from_value(token)
        .map_err(|e| ApiError::internal(format!("oauth/token answer: {e}")))?;
    let record = token.into_record(rfc3339(clock::now()));
    store_connection(env, &claims.platform_id, &record).await?;
    Reply::with_status(302, json!({ "connected": true }))
        .map(|r| r.with_header("Location", format!("{settings}?connected=1")))
}

/// `POST /v1/connect/onboarding` → `{url}`: creates a Stripe account for the developer
/// (or reuses the one being onboarded) and an Account Link to Stripe's onboarding.
async fn onboarding(env: &Env, state: BillingState) -> ApiResult<Reply> {
    let existing = connect_record(env, state.connection.as_ref()).await?;
    if existing.as_ref().is_some_and(|r| r.ready) {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            "A Stripe account is already connected; disconnect it first.",
        ));
    }
    let account_id = match existing {
        Some(record) => record.stripe_user_id,
        None => {
            let params = json!({
                "type": "standard",
                "email": state.email,
                "metadata": { "platformId": state.platform_id },
            });
            let key = format!("onboarding:{}", state.platform_id);
            let account = stripe::post(env, "/v1/accounts", &params, Some(&key)).await?;
            let id = StripeAccountId::parse(account["id"].as_str().unwrap_or_default())
                .map_err(|_| ApiError::internal("Stripe returned an account without an id"))?;
            let record = ConnectRecord {
                stripe_user_id: id.clone(),
                via: ConnectedVia::Onboarding,
                livemode: account["livemode"].as_bool().unwrap_or(false),
                ready: false,
                access_token: None,
                refresh_token: None,
                scope: None,
                connected_at: rfc3339(clock::now()),
            };
            store_connection(env, &state.platform_id, &record).await?;
            id
        }
    };
    let settings = format!("{}/settings", config::dashboard_url(env).trim_end_matches('/'));
    let params = json!({
        "account": account_id,
        "refresh_url": format!("{settings}?onboarding=refresh"),
        "return_url": format!("{settings}?onboarding=done"),
        "type": "account_onboarding",
    });
    let link = stripe::post(env, "/v1/account_links", &params, None).await?;
    Reply::ok(json!({ "url": link["url"] }))
}

/// `POST /v1/connect/deauthorize`: forgets the account, returns the platform to
/// preview, and revokes our access (OAuth). Disconnecting twice is not an error.
async fn deauthorize(env: &Env, platform: &PlatformId) -> ApiResult<Reply> {
    // Forget the account here first, then tell Stripe: Stripe answers a revocation with
    // `account.application.deauthorized`, which the api worker handles too, and by then
    // there is nothing left for it to change. If Stripe cannot be told, the platform is
    // still disconnected here (its token is gone), and the developer can revoke the
    // access in Stripe's dashboard.
    let removed = disconnect(env, platform, None).await?;
    let record = connect_record(env, removed.as_ref()).await?;
    if let Some(record) = record.as_ref().filter(|r| r.via == ConnectedVia::OAuth) {
        let params = json!({
            "client_id": config::required(env, "STRIPE_CLIENT_ID")?,
            "stripe_user_id": record.stripe_user_id,
        });
        match stripe::connect_post(env, "/oauth/deauthorize", &params).await {
            Ok(Ok(_)) => {}
            // Already disconnected on Stripe's side.
            Ok(Err(refusal)) => {
                worker::console_log!("oauth/deauthorize refused: {}", refusal.error)
            }
            Err(e) => worker::console_error!("oauth/deauthorize failed: {}", e.message),
        }
    }
    Reply::ok(json!({ "connected": false, "mode": Mode::Preview }))
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

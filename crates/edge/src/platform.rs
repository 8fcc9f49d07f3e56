//! What every worker does with a developer's platform once it knows which one: create
//! it, rotate its key, read and set its tiers, list its end-users and its statistics.
//! Each is a command to the platform's object (`crate::objects::platform`); the api
//! worker asks with the API key (`Auth::Key`), the dashboard's backend for a signed-in
//! developer (`Auth::Verified`).

use crate::billing;
use crate::clock;
use crate::error::{ApiError, ApiResult};
use crate::http::Incoming;
use crate::http::{json_body, query, query_int, Reply};
use crate::objects::{self, take_from_limit};
use crate::random::random_source;
use dream_core::account::NewPlatform;
use dream_core::api_key::ApiKey;
use dream_core::command::Auth;
use dream_core::ids::{Email, PlatformId, UserId};
use dream_core::keys::MAX_GRACE_SECONDS;
use dream_core::protocol::{GetBilling, GetStats, ListUsers, RotateKey};
use dream_core::stats::MAX_DAYS;
use dream_core::tier::TierConfig;
use serde_json::json;
use worker::Env;

const MAX_PAGE: u64 = 100;
const DEFAULT_PAGE: u64 = 50;
/// `PUT …/tiers` creates Stripe objects: at most this many a minute per platform.
pub const TIER_CHANGES_PER_MINUTE: u64 = 10;

/// A new platform for `email`, not yet stored.
pub fn new_platform(email: Email, name: Option<&str>) -> ApiResult<NewPlatform> {
    Ok(NewPlatform::create(&mut random_source()?, email, name, clock::now())?)
}

/// `POST …/rotate` with `{graceSeconds?}`.
pub async fn rotate_key(
    req: &mut Incoming,
    env: &Env,
    platform: &PlatformId,
    auth: Auth,
) -> ApiResult<Reply> {
    let body = json_body(req, true).await?;
    let grace_seconds = body.optional_int("graceSeconds", 0, MAX_GRACE_SECONDS)?.unwrap_or(0);
    let key = ApiKey::generate(&mut random_source()?);
    let command = RotateKey { next: key.hash(), grace_seconds };
    let (expires_at, preview) = objects::platform(env, platform, auth, command).await?;
    Ok(Reply::ok(json!({ "apiKey": key.expose(), "previousKeyExpiresAt": expires_at }))?
        .previewing(preview))
}

pub async fn get_tiers(env: &Env, platform: &PlatformId, auth: Auth) -> ApiResult<Reply> {
    let (state, preview) = objects::platform(env, platform, auth, GetBilling).await?;
    Ok(Reply::ok(json!({ "tiers": state.tiers }))?.previewing(preview))
}

/// `PUT …/tiers`: validated, then each paid tier gets its Stripe price on the account
/// the platform's end-users pay through (`billing::price_tiers`).
pub async fn put_tiers(
    req: &mut Incoming,
    env: &Env,
    platform: &PlatformId,
    auth: Auth,
) -> ApiResult<Reply> {
    let body = json_body(req, false).await?;
    let config = TierConfig::from_request(body.required_array("tiers")?)?;
    let (state, preview) = objects::platform(env, platform, auth, GetBilling).await?;
    take_from_limit(
        env,
        &format!("tiers:{platform}"),
        TIER_CHANGES_PER_MINUTE,
        60_000,
        "Tiers can change at most 10 times a minute (each change may create Stripe prices).",
    )
    .await
    .map_err(|e| e.previewing(preview))?;
    let account = billing::billing_account(env, &state).await?;
    let tiers = billing::price_tiers(env, &state, &config, &account).await?;
    Ok(Reply::ok(json!({ "tiers": tiers }))?.previewing(preview))
}

/// `GET …/stats?days=` (1–90, default 30).
pub async fn stats(
    req: &Incoming,
    env: &Env,
    platform: &PlatformId,
    auth: Auth,
) -> ApiResult<Reply> {
    let days = query_int(req, "days", 1, MAX_DAYS)?.unwrap_or(30);
    let (stats, preview) = objects::platform_json(env, platform, auth, GetStats { days }).await?;
    Ok(Reply::ok(stats)?.previewing(preview))
}

/// `GET …/users?cursor=&limit=`: the platform's end-users in `userId` order, from its
/// object (so the list never lags the counts).
pub async fn users(
    req: &Incoming,
    env: &Env,
    platform: &PlatformId,
    auth: Auth,
) -> ApiResult<Reply> {
    let limit = query_int(req, "limit", 1, MAX_PAGE)?.unwrap_or(DEFAULT_PAGE);
    let after = query(req, "cursor")?
        .filter(|c| !c.is_empty())
        .map(|c| {
            UserId::parse(&c).map_err(|_| ApiError::invalid("cursor is not one this API returned"))
        })
        .transpose()?;
    let (page, preview) =
        objects::platform_json(env, platform, auth, ListUsers { after, limit }).await?;
    Ok(Reply::ok(page)?.previewing(preview))
}

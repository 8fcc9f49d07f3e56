//! What every worker does with a developer's platform once it knows which one: create
//! it, rotate its key, read and set its tiers, list its end-users and its statistics,
//! and take a call from a fixed-window limit. Each is a command to the platform's
//! object (`crate::objects::platform`); the api worker asks with the API key
//! (`Auth::Key`), the dashboard's backend for a signed-in developer (`Auth::Verified`).

use crate::billing;
use crate::error::{ApiError, ApiResult};
use crate::http::{json_body, query, query_int, rate_limited, Reply};
use crate::objects::{self, Stub};
use crate::store::{now_ms, Store};
use dream_core::account::NewPlatform;
use dream_core::api_key::ApiKey;
use dream_core::clerk::SessionClaims;
use dream_core::command::Auth;
use dream_core::error::ErrorCode;
use dream_core::ids::{Email, PlatformId, UserId};
use dream_core::keys::MAX_GRACE_SECONDS;
use dream_core::meter::RateStatus;
use dream_core::protocol::{
    GetStats, ListUsers, OwnedPlatform, RotateKey, TakeFromLimit, UsersPage,
};
use dream_core::random::RandomSource;
use dream_core::stats::MAX_DAYS;
use dream_core::tier::TierConfig;
use dream_core::time::from_millis;
use serde_json::json;
use worker::{Env, Request};

const MAX_PAGE: u64 = 100;
const DEFAULT_PAGE: u64 = 50;
/// `PUT …/tiers` creates Stripe objects: at most this many a minute per platform.
pub const TIER_CHANGES_PER_MINUTE: u64 = 10;

/// The platform's CSPRNG, probed once so that a missing one is a clean 500.
pub fn random_source() -> ApiResult<impl RandomSource> {
    getrandom::getrandom(&mut [0u8; 1])
        .map_err(|e| ApiError::internal(format!("no randomness: {e}")))?;
    Ok(|buf: &mut [u8]| {
        if let Err(e) = getrandom::getrandom(buf) {
            panic!("the CSPRNG failed after answering: {e}");
        }
    })
}

/// Fills `buf` from the platform's CSPRNG (a failure is a clean 500).
pub fn fill_random(buf: &mut [u8]) -> ApiResult<()> {
    getrandom::getrandom(buf).map_err(|e| ApiError::internal(format!("no randomness: {e}")))
}

/// A signed-in developer's calls a minute, across the dashboard's backends.
pub const DEVELOPER_CALLS_PER_MINUTE: u64 = 100;

/// The developer calling a dashboard backend (their verified Clerk session), having
/// taken one of their calls this minute (or `429`).
pub async fn developer_call(req: &Request, env: &Env) -> ApiResult<(SessionClaims, RateStatus)> {
    let developer = crate::clerk::developer(req, env).await?;
    let rate = take_from_limit(
        env,
        &format!("developer:{}", developer.user_id),
        DEVELOPER_CALLS_PER_MINUTE,
        60_000,
        "Too many calls this minute; retry after the window resets.",
    )
    .await?;
    Ok((developer, rate))
}

/// Takes one call from the fixed window `name` (a `RateLimiter` object), or answers 429.
pub async fn take_from_limit(
    env: &Env,
    name: &str,
    limit: u64,
    window_ms: i64,
    message: &str,
) -> ApiResult<RateStatus> {
    let limiter = objects::stub(env, objects::RATE_LIMITER, name)?;
    let reply = objects::send(&limiter, &TakeFromLimit { limit, window_ms }).await?;
    if reply.allowed {
        Ok(reply.rate)
    } else {
        Err(rate_limited(message, &reply.rate))
    }
}

/// The developer's object (one per Clerk user): the only writer of their claim.
pub fn developer_object(env: &Env, developer: &SessionClaims) -> ApiResult<Stub> {
    Ok(objects::stub(env, objects::DEVELOPER, &developer.user_id)?)
}

/// The platform a signed-in developer owns, or `404` before they created credentials.
/// KV's copy answers first; the developer's object when the copy has not arrived yet.
pub async fn owned(env: &Env, developer: &SessionClaims) -> ApiResult<PlatformId> {
    if let Some(id) = Store::new(env).developer_platform(&developer.user_id).await? {
        return Ok(id);
    }
    objects::send(&developer_object(env, developer)?, &OwnedPlatform).await?.ok_or_else(|| {
        ApiError::new(ErrorCode::NotFound, "You have no platform yet: create credentials first.")
    })
}

/// A new platform for `email`, not yet stored.
pub fn new_platform(email: Email, name: Option<&str>) -> ApiResult<NewPlatform> {
    Ok(NewPlatform::create(&mut random_source()?, email, name, from_millis(now_ms()))?)
}

/// `POST …/rotate` with `{graceSeconds?}`.
pub async fn rotate_key(
    req: &mut Request,
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
    let (state, preview) =
        objects::platform(env, platform, auth, dream_core::protocol::GetBilling).await?;
    Ok(Reply::ok(json!({ "tiers": state.tiers }))?.previewing(preview))
}

/// `PUT …/tiers`: validated, then each paid tier gets its Stripe price on the account
/// the platform's end-users pay through (`billing::price_tiers`).
pub async fn put_tiers(
    req: &mut Request,
    env: &Env,
    platform: &PlatformId,
    auth: Auth,
) -> ApiResult<Reply> {
    let body = json_body(req, false).await?;
    let config = TierConfig::from_request(body.required_array("tiers")?)?;
    let (state, preview) =
        objects::platform(env, platform, auth, dream_core::protocol::GetBilling).await?;
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
    req: &Request,
    env: &Env,
    platform: &PlatformId,
    auth: Auth,
) -> ApiResult<Reply> {
    let days = query_int(req, "days", 1, MAX_DAYS)?.unwrap_or(30);
    let (stats, preview) = objects::platform(env, platform, auth, GetStats { days }).await?;
    Ok(Reply::ok(stats)?.previewing(preview))
}

/// `GET …/users?cursor=&limit=`: the platform's end-users in `userId` order, from its
/// object (so the list never lags the counts).
pub async fn users(
    req: &Request,
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
    let (page, preview): (UsersPage, bool) =
        objects::platform(env, platform, auth, ListUsers { after, limit }).await?;
    Ok(Reply::ok(json!({ "users": page.users, "nextCursor": page.next }))?.previewing(preview))
}

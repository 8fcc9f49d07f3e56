//! What every worker does with a developer's platform once it knows which one: create
//! it, rotate its key, read and set its tiers, list its end-users, its statistics and
//! its quota usage, and take a call from a fixed-window limit. The api worker serves
//! these to API keys; the dashboard's backend to signed-in developers.

use crate::billing;
use crate::config;
use crate::error::{ApiError, ApiResult};
use crate::http::{json_body, query, query_int, rate_limited, Reply};
use crate::meters;
use crate::store::{now_ms, Store};
use dream_core::account::{NewPlatform, Rotation, MAX_GRACE_SECONDS};
use dream_core::clerk::SessionClaims;
use dream_core::error::ErrorCode;
use dream_core::ids::{Email, PlatformId};
use dream_core::meter::{PeriodCount, RateStatus, Usage};
use dream_core::platform::PlatformMeta;
use dream_core::protocol::{
    path, LimitCommand, LimitReply, PlatformUsageQuery, StatsQuery, TierLimits, UsageSnapshot,
};
use dream_core::random::RandomSource;
use dream_core::stats::{Stats, MAX_DAYS};
use dream_core::storage;
use dream_core::tier::TierConfig;
use dream_core::time::{from_millis, rfc3339};
use serde_json::{json, Value};
use worker::{Context, Env, Request};

const MAX_PAGE: u64 = 100;
const DEFAULT_PAGE: u64 = 50;

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
    let limiter = meters::stub(env, "RATE_LIMITER", name)?;
    let LimitReply { allowed, rate } =
        meters::call(&limiter, path::LIMIT, &LimitCommand { limit, window_ms }).await?;
    if allowed {
        Ok(rate)
    } else {
        Err(rate_limited(message, &rate))
    }
}

/// The platform a signed-in developer owns, or `404` before they created credentials.
pub async fn owned(store: &Store, developer: &SessionClaims) -> ApiResult<PlatformId> {
    store.developer_platform(&developer.user_id).await?.ok_or_else(|| {
        ApiError::new(ErrorCode::NotFound, "You have no platform yet: create credentials first.")
    })
}

/// Creates and stores a platform with its first key; the key is in the result, to be
/// shown once.
pub async fn create(store: &Store, new: NewPlatform) -> ApiResult<NewPlatform> {
    let hash = new.api_key.hash();
    // Metadata first: a key must never point at a platform that is not there.
    store.put_platform_meta(&new.meta).await?;
    store.put_tier_config(&new.meta.platform_id, &TierConfig::default_for_new_platform()).await?;
    store.put_key_record(&hash, &new.key_record).await?;
    store.put_current_key_hash(&new.meta.platform_id, &hash).await?;
    Ok(new)
}

/// A new platform for `email`, not yet stored.
pub fn new_platform(email: Email, name: Option<&str>) -> ApiResult<NewPlatform> {
    Ok(NewPlatform::create(&mut random_source()?, email, name, from_millis(now_ms()))?)
}

/// `POST …/rotate` with `{graceSeconds?}`.
pub async fn rotate_key(
    req: &mut Request,
    store: &Store,
    platform: &PlatformId,
) -> ApiResult<Reply> {
    let body = json_body(req, true).await?;
    let grace = body.optional_int("graceSeconds", 0, MAX_GRACE_SECONDS)?.unwrap_or(0);
    let rotation = Rotation::new(&mut random_source()?, platform, grace, from_millis(now_ms()));
    let new_hash = rotation.api_key.hash();
    store.put_key_record(&new_hash, &rotation.key_record).await?;
    if let Some(previous) = store.current_key_hash(platform).await? {
        store.put_key_record(&previous, &rotation.previous_record).await?;
    }
    store.put_current_key_hash(platform, &new_hash).await?;
    Reply::ok(json!({
        "apiKey": rotation.api_key.expose(),
        "previousKeyExpiresAt": rotation.previous_record.expires_at.map(rfc3339),
    }))
}

pub async fn get_tiers(ctx: &Context, store: &Store, platform: &PlatformId) -> ApiResult<Reply> {
    Reply::ok(json!({ "tiers": store.tier_config(ctx, platform).await?.tiers() }))
}

/// `PUT …/tiers`: validated, then each paid tier gets its Stripe price on the account
/// the platform's end-users pay through (`billing::price_tiers`).
pub async fn put_tiers(
    req: &mut Request,
    env: &Env,
    ctx: &Context,
    store: &Store,
    platform: &PlatformId,
) -> ApiResult<Reply> {
    let body = json_body(req, false).await?;
    let config = TierConfig::from_request(body.required_array("tiers")?)?;
    let meta = store.existing_platform(ctx, platform).await?;
    let account = billing::billing_account(env, store, &meta).await?;
    let config = billing::price_tiers(env, ctx, store, platform, &config, &account).await?;
    Reply::ok(json!({ "tiers": config.tiers() }))
}

/// The platform's quota usage this period, under its plan.
pub async fn usage(env: &Env, meta: &PlatformMeta) -> ApiResult<Usage> {
    let limit = config::platform_tiers(env)?.limit(meta.plan);
    let meter = meters::stub(env, "PLATFORM_METER", meta.platform_id.as_str())?;
    Ok(meters::call(&meter, path::PLATFORM_USAGE, &PlatformUsageQuery { limit }).await?)
}

/// `GET …/stats?days=` (1–90, default 30).
pub async fn stats(req: &Request, env: &Env, platform: &PlatformId) -> ApiResult<Reply> {
    let days = query_int(req, "days", 1, MAX_DAYS)?.unwrap_or(30);
    let meter = meters::stub(env, "PLATFORM_METER", platform.as_str())?;
    let stats: Stats = meters::call(&meter, path::STATS, &StatsQuery { days }).await?;
    Reply::ok(stats)
}

/// `GET …/users?cursor=&limit=`: the end-users' snapshots from `USAGE_KV`.
pub async fn users(
    req: &Request,
    env: &Env,
    ctx: &Context,
    store: &Store,
    platform: &PlatformId,
) -> ApiResult<Reply> {
    let limit = query_int(req, "limit", 1, MAX_PAGE)?.unwrap_or(DEFAULT_PAGE);
    let cursor = query(req, "cursor")?.filter(|c| !c.is_empty());
    let tiers = TierLimits::from(&store.tier_config(ctx, platform).await?);
    let kv = env.kv("USAGE_KV")?;
    let mut list = kv.list().prefix(storage::usage_snapshot_prefix(platform)).limit(limit);
    let had_cursor = cursor.is_some();
    if let Some(cursor) = cursor {
        list = list.cursor(cursor);
    }
    let page = list.execute().await.map_err(|e| {
        if had_cursor {
            ApiError::invalid("cursor is not one this API returned")
        } else {
            ApiError::internal(format!("listing USAGE_KV: {e}"))
        }
    })?;
    let now = from_millis(now_ms());
    let users: Vec<Value> = page
        .keys
        .into_iter()
        .filter_map(|key| serde_json::from_value::<UsageSnapshot>(key.metadata?).ok())
        .map(|snapshot| {
            let tier = tiers.resolve(snapshot.plan.as_deref());
            let count = PeriodCount { period: snapshot.period, count: snapshot.count };
            json!({ "userId": snapshot.user_id, "plan": tier.id, "usage": count.usage(tier.limit, now) })
        })
        .collect();
    let next_cursor = if page.list_complete { None } else { page.cursor };
    Reply::ok(json!({ "users": users, "nextCursor": next_cursor }))
}

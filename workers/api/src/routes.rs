//! The api worker's routes (API.md "api worker"). Each handler parses into core types,
//! lets core or a meter decide, and answers with a [`Reply`] or an [`ApiError`].

use crate::auth::{authenticate, Caller};
use crate::billing::{self, preview_full, preview_limit};
use dream_core::error::ErrorCode;
use dream_core::ids::{Email, IdempotencyKey, PlatformId, UserId};
use dream_core::meter::{RateStatus, Usage};
use dream_core::platform::Mode;
use dream_core::protocol::{
    path, settle, Release, ReleaseCommand, ReserveCommand, ReserveReply, SettleCommand, TierLimits,
    TrackCommand, TrackOutcome, TrackReply, UserCommand,
};
use dream_core::routing::{percent_decode, Route};
use dream_core::storage;
use dream_edge::config;
use dream_edge::error::{ApiError, ApiResult};
use dream_edge::http::{json_body, rate_headers, rate_limited, Reply};
use dream_edge::meters;
use dream_edge::platform;
use dream_edge::store::Store;
use serde_json::{json, Value};
use std::cell::Cell;
use worker::{Context, Env, Request};

const REGISTRATIONS_PER_HOUR: u64 = 5;
const MAX_AMOUNT: u64 = 1_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteId {
    Health,
    OpenApi,
    Register,
    Platform,
    GetTiers,
    PutTiers,
    Track,
    Usage,
    SetPlan,
    Users,
    Stats,
    RotateKey,
    Checkout,
    Portal,
    StripeWebhook,
    PublicTiers,
}

pub const ROUTES: &[Route<RouteId>] = &[
    Route { method: "GET", pattern: "/health", id: RouteId::Health },
    Route { method: "GET", pattern: "/openapi.json", id: RouteId::OpenApi },
    Route { method: "POST", pattern: "/v1/developers", id: RouteId::Register },
    Route { method: "GET", pattern: "/v1/platform", id: RouteId::Platform },
    Route { method: "GET", pattern: "/v1/tiers", id: RouteId::GetTiers },
    Route { method: "PUT", pattern: "/v1/tiers", id: RouteId::PutTiers },
    Route { method: "POST", pattern: "/v1/usage/track", id: RouteId::Track },
    Route { method: "GET", pattern: "/v1/usage/{userId}", id: RouteId::Usage },
    Route { method: "PUT", pattern: "/v1/users/{userId}/plan", id: RouteId::SetPlan },
    Route { method: "GET", pattern: "/v1/users", id: RouteId::Users },
    Route { method: "GET", pattern: "/v1/stats", id: RouteId::Stats },
    Route { method: "POST", pattern: "/v1/keys/rotate", id: RouteId::RotateKey },
    Route { method: "POST", pattern: "/v1/checkout", id: RouteId::Checkout },
    Route { method: "POST", pattern: "/v1/portal", id: RouteId::Portal },
    Route { method: "POST", pattern: "/webhooks/stripe", id: RouteId::StripeWebhook },
    Route { method: "GET", pattern: "/v1/public/{platformId}/tiers", id: RouteId::PublicTiers },
];

/// `src/openapi.json`, minified by `build.rs`.
pub const OPENAPI: &str = include_str!(concat!(env!("OUT_DIR"), "/openapi.min.json"));

/// What every handler gets.
pub struct Call<'a> {
    pub req: Request,
    pub env: &'a Env,
    pub ctx: &'a Context,
    pub store: Store,
    pub params: Vec<(&'static str, String)>,
    /// Set once the caller's platform is known to be in preview: the answer then
    /// carries `"preview": true`.
    pub preview: Cell<bool>,
}

impl Call<'_> {
    fn param(&self, name: &str) -> ApiResult<&str> {
        self.params
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
            .ok_or_else(|| ApiError::internal(format!("route has no {name} parameter")))
    }

    fn user_param(&self) -> ApiResult<UserId> {
        let raw = self.param("userId")?;
        let decoded = percent_decode(raw)
            .ok_or_else(|| ApiError::invalid("userId is not valid percent-encoding"))?;
        Ok(UserId::parse(&decoded)?)
    }

    pub async fn caller(&self) -> ApiResult<Caller> {
        let caller = authenticate(&self.req, &self.store, self.env, self.ctx).await?;
        let platform = match &caller {
            Caller::Developer(platform) | Caller::EndUser { platform, .. } => platform,
        };
        if let Some(meta) = self.store.platform_meta(self.ctx, platform).await? {
            self.preview.set(meta.mode == Mode::Preview);
        }
        Ok(caller)
    }

    /// The platform of a developer's API key; end-user tokens are refused here.
    async fn platform(&self) -> ApiResult<PlatformId> {
        match self.caller().await? {
            Caller::Developer(platform) => Ok(platform),
            Caller::EndUser { .. } => Err(api_key_required()),
        }
    }
}

fn api_key_required() -> ApiError {
    ApiError::new(
        ErrorCode::Forbidden,
        "An end-user session token may only meter and read its own usage; this route needs the API key.",
    )
}

fn not_own_user() -> ApiError {
    ApiError::new(
        ErrorCode::Forbidden,
        "An end-user session token may only meter and read its own usage.",
    )
}

/// The platform and end-user a metering or billing call is for: the API key's platform
/// and the `userId` given, or the session token's own (a `userId` given must match).
pub fn end_user_of(caller: Caller, given: Option<&str>) -> ApiResult<(PlatformId, UserId)> {
    match caller {
        Caller::Developer(platform) => {
            let user = given.ok_or_else(|| ApiError::invalid("userId is required"))?;
            Ok((platform, UserId::parse(user)?))
        }
        Caller::EndUser { platform, user } => {
            if given.is_some_and(|given| given != user.as_str()) {
                return Err(not_own_user());
            }
            Ok((platform, user))
        }
    }
}

/// Answers one call; a platform in preview says so in every answer (`"preview": true`).
pub async fn handle(route: RouteId, mut call: Call<'_>) -> ApiResult<Reply> {
    let result = dispatch(route, &mut call).await;
    if !call.preview.get() {
        return result;
    }
    let mark = |body: &mut Value| {
        if let Value::Object(map) = body {
            map.insert("preview".into(), Value::Bool(true));
        }
    };
    match result {
        Ok(mut reply) => {
            mark(&mut reply.body);
            Ok(reply)
        }
        Err(mut e) => {
            let mut extra = e.extra.take().unwrap_or_else(|| json!({}));
            mark(&mut extra);
            Err(e.with_extra(extra))
        }
    }
}

async fn dispatch(route: RouteId, call: &mut Call<'_>) -> ApiResult<Reply> {
    match route {
        RouteId::Health => Reply::ok(json!({ "ok": true })),
        RouteId::OpenApi => Reply::ok(serde_json::from_str::<Value>(OPENAPI)?),
        RouteId::Register => register(call).await,
        RouteId::Platform => platform_info(call).await,
        RouteId::GetTiers => {
            platform::get_tiers(call.ctx, &call.store, &call.platform().await?).await
        }
        RouteId::PutTiers => {
            let id = call.platform().await?;
            platform::put_tiers(&mut call.req, call.env, call.ctx, &call.store, &id).await
        }
        RouteId::Track => track(call).await,
        RouteId::Usage => user(call, false).await,
        RouteId::SetPlan => user(call, true).await,
        RouteId::Users => {
            let id = call.platform().await?;
            platform::users(&call.req, call.env, call.ctx, &call.store, &id).await
        }
        RouteId::Stats => platform::stats(&call.req, call.env, &call.platform().await?).await,
        RouteId::RotateKey => {
            let id = call.platform().await?;
            platform::rotate_key(&mut call.req, &call.store, &id).await
        }
        RouteId::Checkout => billing::checkout(call).await,
        RouteId::Portal => billing::portal(call).await,
        RouteId::StripeWebhook => billing::webhook(&mut call.req, call.env, call.ctx).await,
        RouteId::PublicTiers => public_tiers(call).await,
    }
}

async fn register(call: &mut Call<'_>) -> ApiResult<Reply> {
    let body = json_body(&mut call.req, false).await?;
    let email = Email::parse(body.required_str("email")?)?;
    let new = platform::new_platform(email, body.optional_str("name")?)?;
    let ip = call.req.headers().get("CF-Connecting-IP")?.unwrap_or_else(|| "unknown".into());
    let rate = platform::take_from_limit(
        call.env,
        &format!("register:{ip}"),
        REGISTRATIONS_PER_HOUR,
        3_600_000,
        "Too many registrations from this address; try again later.",
    )
    .await?;
    let new = platform::create(&call.store, new).await?;
    let body = json!({ "platformId": new.meta.platform_id, "apiKey": new.api_key.expose() });
    Ok(Reply::with_status(201, body)?.with_rate(&rate))
}

async fn platform_info(call: &Call<'_>) -> ApiResult<Reply> {
    let platform = call.platform().await?;
    let meta = call.store.existing_platform(call.ctx, &platform).await?;
    let usage = platform::usage(call.env, &meta).await?;
    Reply::ok(json!({
        "platformId": meta.platform_id,
        "name": meta.name,
        "email": meta.email,
        "mode": meta.mode,
        "plan": meta.plan,
        "usage": usage,
        "createdAt": meta.created_at,
    }))
}

async fn track(call: &mut Call<'_>) -> ApiResult<Reply> {
    let caller = call.caller().await?;
    let body = json_body(&mut call.req, false).await?;
    let (platform, user_id) = end_user_of(caller, body.optional_str("userId")?)?;
    let amount = body.optional_int("amount", 1, MAX_AMOUNT)?.unwrap_or(1);
    let idempotency_key = body
        .optional_str("idempotencyKey")?
        .map(IdempotencyKey::parse)
        .transpose()?
        .map(|k| k.to_string());

    let meta = call.store.existing_platform(call.ctx, &platform).await?;
    let tiers = call.store.tier_config(call.ctx, &platform).await?;
    let rate_limit_per_minute = config::rate_limit_per_minute(call.env)?;
    let meters = Meters {
        user: meters::stub(
            call.env,
            "USAGE_METER",
            &storage::usage_meter_name(&platform, &user_id),
        )?,
        platform: meters::stub(call.env, "PLATFORM_METER", platform.as_str())?,
        user_id: user_id.clone(),
        new_end_user: Cell::new(false),
        idempotency_key: idempotency_key.clone(),
        amount,
        rate_limit_per_minute,
    };
    let command = TrackCommand {
        platform_id: platform.clone(),
        user_id: user_id.clone(),
        amount,
        idempotency_key,
        tiers: TierLimits::from(&tiers),
        rate_limit_per_minute,
    };
    let reserve = ReserveCommand {
        amount,
        limit: config::platform_tiers(call.env)?.limit(meta.plan),
        user_id: user_id.clone(),
        preview_limit: preview_limit(&meta),
    };
    // Both meters at once; whichever allowed what the other refused gives it back
    // before the answer goes out.
    let (user, quota) = futures_util::future::join(
        meters::call::<_, TrackReply>(&meters.user, path::TRACK, &command),
        meters::call::<_, ReserveReply>(&meters.platform, path::RESERVE, &reserve),
    )
    .await;
    let quota = match (&user, quota) {
        (_, Ok(q)) => q,
        (Ok(TrackReply::Allowed { replayed: false, taken_at_ms, .. }), Err(e)) => {
            meters.release_user(*taken_at_ms).await?;
            return Err(e.into());
        }
        (_, Err(e)) => return Err(e.into()),
    };
    meters.new_end_user.set(quota.new_end_user);
    let user = match user {
        Ok(u) => u,
        Err(e) => {
            if quota.allowed {
                meters.release_platform(false).await?;
            }
            return Err(e.into());
        }
    };

    let settlement = settle(&user, quota.allowed);
    let mut rate = *user.rate();
    if settlement.release_user {
        if let TrackReply::Allowed { taken_at_ms, .. } = &user {
            rate = meters.release_user(*taken_at_ms).await?;
        }
    }
    if let Some(denied) = settlement.release_platform {
        meters.release_platform(denied).await?;
    }
    match (settlement.outcome, user) {
        (TrackOutcome::Allowed { replayed }, TrackReply::Allowed { answer, .. }) => {
            if !replayed && meters.idempotency_key.is_some() {
                // The key's first answer now stands; until this lands, a repeat of it
                // gets 409, which is safe to retry.
                call.ctx.wait_until(async move {
                    if let Err(e) = meters.settle(None).await {
                        worker::console_error!("settling an idempotency key: {e}");
                    }
                });
            }
            let reply = Reply::ok(answer)?.with_rate(&rate);
            Ok(if replayed { reply.with_header("Idempotent-Replayed", "true") } else { reply })
        }
        (TrackOutcome::PlatformQuotaReached, _) if quota.preview_full => {
            let mut e = preview_full();
            e.headers.extend(rate_headers(&rate));
            Err(e)
        }
        (TrackOutcome::PlatformQuotaReached, _) => Err(platform_quota_reached(&quota.usage, &rate)),
        (_, denied) => Err(end_user_denial(&user_id, denied)),
    }
}

/// The two meters of one `track`, and how to give back what one took.
struct Meters {
    user: meters::Meter,
    platform: meters::Meter,
    user_id: UserId,
    /// The platform's reservation admitted this end-user to its preview: a release
    /// forgets them again, since a denied call consumes nothing.
    new_end_user: Cell<bool>,
    idempotency_key: Option<String>,
    amount: u64,
    rate_limit_per_minute: u64,
}

impl Meters {
    async fn settle(&self, release: Option<Release>) -> worker::Result<RateStatus> {
        let command = SettleCommand {
            idempotency_key: self.idempotency_key.clone(),
            release,
            rate_limit_per_minute: self.rate_limit_per_minute,
        };
        meters::call(&self.user, path::SETTLE, &command).await
    }

    async fn release_user(&self, taken_at_ms: i64) -> worker::Result<RateStatus> {
        self.settle(Some(Release { amount: self.amount, taken_at_ms })).await
    }

    async fn release_platform(&self, denied: bool) -> worker::Result<bool> {
        let forget_user = self.new_end_user.get().then(|| self.user_id.clone());
        let command = ReleaseCommand { amount: self.amount, denied, forget_user };
        meters::call(&self.platform, path::RELEASE, &command).await
    }
}

fn platform_quota_reached(usage: &Usage, rate: &RateStatus) -> ApiError {
    let mut e = ApiError::new(
        ErrorCode::PlatformQuotaReached,
        "This platform has used its monthly API calls; upgrade the dream-api plan to continue.",
    )
    .with_extra(json!({ "usage": usage }));
    e.headers.extend(rate_headers(rate));
    e
}

/// The answer to a call the end-user's own meter refused.
fn end_user_denial(user_id: &UserId, reply: TrackReply) -> ApiError {
    match reply {
        TrackReply::TierLimitReached { plan, usage, rate } => {
            let message =
                format!("{user_id} has used every call of the \"{plan}\" tier this period.");
            let mut e = ApiError::new(ErrorCode::TierLimitReached, message)
                .with_extra(json!({ "userId": user_id, "plan": plan, "usage": usage }));
            e.headers.extend(rate_headers(&rate));
            e
        }
        TrackReply::RateLimited { plan, usage, rate } => {
            let message = format!(
                "{user_id} made more than {} calls this minute; retry after the window resets.",
                rate.limit
            );
            rate_limited(&message, &rate)
                .with_extra(json!({ "userId": user_id, "plan": plan, "usage": usage }))
        }
        TrackReply::InProgress { rate } => {
            let mut e = ApiError::new(
                ErrorCode::Conflict,
                "A call with this idempotencyKey is still being processed; retry in a moment.",
            );
            e.headers.extend(rate_headers(&rate));
            e
        }
        TrackReply::Allowed { .. } => ApiError::internal("an allowed call was handled as a denial"),
    }
}

async fn user(call: &mut Call<'_>, set_plan: bool) -> ApiResult<Reply> {
    let caller = call.caller().await?;
    let user_id = call.user_param()?;
    let platform = match caller {
        Caller::Developer(platform) => platform,
        Caller::EndUser { .. } if set_plan => return Err(api_key_required()),
        Caller::EndUser { platform, user } if user == user_id => platform,
        Caller::EndUser { .. } => return Err(not_own_user()),
    };
    let tiers = call.store.tier_config(call.ctx, &platform).await?;
    let set_plan = if set_plan {
        let body = json_body(&mut call.req, false).await?;
        let plan = body.required_str("plan")?;
        if tiers.find(plan).is_none() {
            let ids: Vec<&str> = tiers.tiers().iter().map(|t| t.id.as_str()).collect();
            return Err(ApiError::invalid(format!(
                "plan must be one of this platform's tiers: {}",
                ids.join(", ")
            )));
        }
        Some(plan.to_string())
    } else {
        None
    };
    let command = UserCommand {
        platform_id: platform.clone(),
        user_id: user_id.clone(),
        tiers: (&tiers).into(),
        set_plan,
    };
    let meter =
        meters::stub(call.env, "USAGE_METER", &storage::usage_meter_name(&platform, &user_id))?;
    let answer: Value = meters::call(&meter, path::USER, &command).await?;
    Reply::ok(answer)
}

async fn public_tiers(call: &Call<'_>) -> ApiResult<Reply> {
    let not_found = || ApiError::not_found("The platform");
    let platform = PlatformId::parse(call.param("platformId")?).map_err(|_| not_found())?;
    call.store.platform_meta(call.ctx, &platform).await?.ok_or_else(not_found)?;
    let tiers = call.store.tier_config(call.ctx, &platform).await?;
    Reply::ok(json!({ "platformId": platform, "tiers": tiers.tiers() }))
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

//! A signed-in developer calling a dashboard backend: their verified Clerk session,
//! their calls a minute, their object (`Developer`, one per Clerk user, the only writer
//! of their claim) and the platform it claimed for them.

use crate::error::{ApiError, ApiResult};
use crate::http::Incoming;
use crate::objects::{self, Stub};
use crate::store::Store;
use crate::Received;
use dream_core::clerk::SessionClaims;
use dream_core::error::ErrorCode;
use dream_core::ids::PlatformId;
use dream_core::meter::RateStatus;
use dream_core::protocol::OwnedPlatform;
use worker::Env;

/// A signed-in developer's calls a minute, across the dashboard's backends.
pub const DEVELOPER_CALLS_PER_MINUTE: u64 = 100;

/// The developer calling a dashboard backend (their verified Clerk session), having
/// taken one of their calls this minute (or `429`).
pub async fn developer_call(req: &Incoming, env: &Env) -> ApiResult<(SessionClaims, RateStatus)> {
    let developer = crate::clerk::developer(req, env).await?;
    let rate = objects::take_from_limit(
        env,
        &format!("developer:{}", developer.user_id),
        DEVELOPER_CALLS_PER_MINUTE,
        60_000,
        "Too many calls this minute; retry after the window resets.",
    )
    .await?;
    Ok((developer, rate))
}

/// The developer's object (one per Clerk user): the only writer of their claim.
pub fn developer_object(env: &Env, developer: &SessionClaims) -> ApiResult<Stub> {
    objects::developer(env, &developer.user_id)
}

/// The platform a signed-in developer owns, or `404` before they created credentials;
/// noted in the request's log line. KV's copy answers first; the developer's object
/// when the copy has not arrived yet.
pub async fn owned(
    env: &Env,
    developer: &SessionClaims,
    received: &Received,
) -> ApiResult<PlatformId> {
    let id = match Store::new(env).developer_platform(&developer.user_id).await? {
        Some(id) => id,
        None => objects::send(&developer_object(env, developer)?, &OwnedPlatform)
            .await?
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::NotFound,
                    "You have no platform yet: create credentials first.",
                )
            })?,
    };
    received.note_platform(id.as_str());
    Ok(id)
}

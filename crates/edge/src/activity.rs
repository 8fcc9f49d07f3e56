//! `GET /v1/logs` and `GET /v1/revenue` (API.md "Request log and revenue"), the same on
//! the api worker (with the API key) and the dashboard's backend (for a signed-in
//! developer): each is one read from the platform's object, which writes both.

use crate::error::{ApiError, ApiResult};
use crate::http::Incoming;
use crate::http::{query, query_int, Reply};
use crate::objects;
use dream_core::command::Auth;
use dream_core::ids::{PlatformId, UserId};
use dream_core::logs;
use dream_core::protocol::activity::{ReadLogs, ReadRevenue};
use worker::Env;

/// `GET …/logs?userId=&status=&before=&limit=`.
pub async fn logs(
    req: &Incoming,
    env: &Env,
    platform: &PlatformId,
    auth: Auth,
) -> ApiResult<Reply> {
    let command = ReadLogs {
        user_id: query(req, "userId")?
            .filter(|u| !u.is_empty())
            .map(|u| {
                UserId::parse(&u)
                    .map_err(|_| ApiError::invalid("userId is not a valid end-user id"))
            })
            .transpose()?,
        status: query_int(req, "status", 100, 599)?
            .and_then(|s| u16::try_from(s).ok())
            .map(|s| {
                logs::known_status(s).then_some(s).ok_or_else(|| {
                    ApiError::invalid(
                        "status must be 200, 403 or 429: the statuses a metered call answers",
                    )
                })
            })
            .transpose()?,
        before: query(req, "before")?
            .filter(|c| !c.is_empty())
            .map(|c| {
                logs::parse_cursor(&c)
                    .ok_or_else(|| ApiError::invalid("before is not a cursor this API returned"))
            })
            .transpose()?,
        limit: query_int(req, "limit", 1, logs::MAX_PAGE)?.unwrap_or(logs::DEFAULT_PAGE),
    };
    let (page, preview) = objects::platform_json(env, platform, auth, command).await?;
    Ok(Reply::ok(page)?.previewing(preview))
}

/// `GET …/revenue`.
pub async fn revenue(env: &Env, platform: &PlatformId, auth: Auth) -> ApiResult<Reply> {
    let (revenue, preview) = objects::platform_json(env, platform, auth, ReadRevenue).await?;
    Ok(Reply::ok(revenue)?.previewing(preview))
}

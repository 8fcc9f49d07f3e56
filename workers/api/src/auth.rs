//! Who is calling. `Authorization: Bearer pk_live_…` is a developer's server: the
//! checksum turns away typos and guesses before any storage read, and a valid key is
//! one cached KV read to find its platform (whose object then checks the key itself).
//! `Authorization: Bearer <Clerk session JWT>` is an end-user of the platform named by
//! the token's `metadata.platformId` (see `dream_edge::clerk`).

use dream_core::api_key::{ApiKey, ApiKeyError};
use dream_core::command::Auth;
use dream_core::error::ErrorCode;
use dream_core::ids::{PlatformId, UserId};
use dream_edge::clerk;
use dream_edge::clock::now;
use dream_edge::error::{ApiError, ApiResult};
use dream_edge::http::Incoming;
use dream_edge::store::Store;
use worker::{Context, Env};

pub enum Caller {
    /// A developer's server, with the platform's API key: every route.
    Developer { platform: PlatformId, auth: Auth },
    /// An end-user with a session token: their own usage, checkout and portal only.
    EndUser { platform: PlatformId, user: UserId },
}

impl Caller {
    pub fn platform(&self) -> &PlatformId {
        match self {
            Self::Developer { platform, .. } | Self::EndUser { platform, .. } => platform,
        }
    }

    /// How the platform's object is to check this caller.
    pub fn auth(&self) -> Auth {
        match self {
            Self::Developer { auth, .. } => auth.clone(),
            Self::EndUser { .. } => Auth::EndUser,
        }
    }
}

pub async fn authenticate(req: &Incoming, env: &Env, ctx: &Context) -> ApiResult<Caller> {
    let header = req.headers().get("Authorization")?.ok_or_else(|| {
        ApiError::new(
            ErrorCode::Unauthenticated,
            "Send your API key as Authorization: Bearer pk_live_….",
        )
    })?;
    let token = header.strip_prefix("Bearer ").map(str::trim).ok_or_else(|| {
        ApiError::new(
            ErrorCode::Unauthenticated,
            "The Authorization header must be Bearer <API key>.",
        )
    })?;
    if clerk::looks_like_session_token(token) {
        return end_user(token, env).await;
    }
    let key = ApiKey::parse(token).map_err(|e| {
        let message = match e {
            ApiKeyError::Malformed => {
                "That is not a dream-api key (pk_live_ followed by 38 letters and digits)."
            }
            ApiKeyError::BadChecksum => {
                "The API key's check characters do not match: it was mistyped or cut short."
            }
        };
        ApiError::new(ErrorCode::InvalidApiKey, message)
    })?;
    let hash = key.hash();
    match Store::new(env).key_record(ctx, &hash).await? {
        Some(r) if r.is_valid_at(now()) => {
            Ok(Caller::Developer { platform: r.platform_id, auth: Auth::Key(hash) })
        }
        Some(_) => Err(ApiError::new(
            ErrorCode::InvalidApiKey,
            "This API key was rotated and has expired.",
        )),
        None => Err(ApiError::new(
            ErrorCode::InvalidApiKey,
            "This API key does not exist or was revoked.",
        )),
    }
}

async fn end_user(token: &str, env: &Env) -> ApiResult<Caller> {
    let claims = clerk::verify(env, token).await?;
    let unauthenticated = |message: &str| ApiError::new(ErrorCode::Unauthenticated, message);
    let platform =
        claims.metadata_str("platformId").and_then(|p| PlatformId::parse(p).ok()).ok_or_else(
            || unauthenticated("The session token names no platform (metadata.platformId)."),
        )?;
    let user = UserId::parse(&claims.user_id)
        .map_err(|_| unauthenticated("The session token's user id is not a valid userId."))?;
    Ok(Caller::EndUser { platform, user })
}

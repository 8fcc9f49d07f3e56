//! `Authorization: Bearer pk_live_…` → the platform. The checksum turns away typos and
//! guesses before any storage read; a valid key is one cached KV read.

use crate::error::{ApiError, ApiResult};
use crate::store::{now_ms, Store};
use dream_core::api_key::{ApiKey, ApiKeyError};
use dream_core::error::ErrorCode;
use dream_core::ids::PlatformId;
use dream_core::time::from_millis;
use worker::{Context, Request};

pub async fn authenticate(req: &Request, store: &Store, ctx: &Context) -> ApiResult<PlatformId> {
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
    let record = store.key_record(ctx, &key.hash()).await?;
    match record {
        Some(r) if r.is_valid_at(from_millis(now_ms())) => Ok(r.platform_id),
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

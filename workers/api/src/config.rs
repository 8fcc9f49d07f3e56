//! Configuration from wrangler vars, read per request (vars are constant, and reading
//! one is a property lookup). A malformed value is a `500` naming it, never a guess.

use crate::error::{ApiError, ApiResult};
use dream_core::platform::PlatformTiers;
use worker::Env;

pub const DEFAULT_RATE_LIMIT_PER_MINUTE: u64 = 100;

pub fn var(env: &Env, name: &str) -> Option<String> {
    env.var(name)
        .ok()
        .map(|v| v.to_string())
        .filter(|v| !v.trim().is_empty())
}

pub fn rate_limit_per_minute(env: &Env) -> ApiResult<u64> {
    match var(env, "RATE_LIMIT_PER_MINUTE") {
        None => Ok(DEFAULT_RATE_LIMIT_PER_MINUTE),
        Some(v) => v
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|&n| n > 0)
            .ok_or_else(|| ApiError::internal("RATE_LIMIT_PER_MINUTE must be a positive integer")),
    }
}

pub fn platform_tiers(env: &Env) -> ApiResult<PlatformTiers> {
    PlatformTiers::parse(var(env, "PLATFORM_TIERS").as_deref()).map_err(ApiError::internal)
}

pub fn allowed_origins(env: &Env) -> Vec<String> {
    var(env, "ALLOWED_ORIGINS")
        .map(|v| {
            v.split(',')
                .map(|o| o.trim().to_string())
                .filter(|o| !o.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

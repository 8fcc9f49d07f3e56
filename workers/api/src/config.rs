//! Configuration from wrangler vars. Vars are fixed for an isolate's life, so they are
//! read and parsed once per isolate, not per request. A malformed value is a `500`
//! whose log line names it, never a guess.

use crate::error::{ApiError, ApiResult};
use dream_core::platform::PlatformTiers;
use std::cell::OnceCell;
use std::rc::Rc;
use worker::Env;

pub const DEFAULT_RATE_LIMIT_PER_MINUTE: u64 = 100;

struct Config {
    rate_limit_per_minute: Result<u64, String>,
    platform_tiers: Result<PlatformTiers, String>,
    allowed_origins: Rc<[String]>,
}

thread_local! {
    static CONFIG: OnceCell<Rc<Config>> = const { OnceCell::new() };
}

fn config(env: &Env) -> Rc<Config> {
    CONFIG.with(|cell| cell.get_or_init(|| Rc::new(Config::read(env))).clone())
}

impl Config {
    fn read(env: &Env) -> Self {
        let rate_limit_per_minute = match var(env, "RATE_LIMIT_PER_MINUTE") {
            None => Ok(DEFAULT_RATE_LIMIT_PER_MINUTE),
            Some(v) => v
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|&n| n > 0)
                .ok_or_else(|| "RATE_LIMIT_PER_MINUTE must be a positive integer".to_string()),
        };
        let platform_tiers =
            PlatformTiers::parse(var(env, "PLATFORM_TIERS").as_deref()).map_err(|e| e.0);
        let allowed_origins = var(env, "ALLOWED_ORIGINS")
            .map(|v| v.split(',').map(|o| o.trim().to_string()).filter(|o| !o.is_empty()).collect())
            .unwrap_or_default();
        Self { rate_limit_per_minute, platform_tiers, allowed_origins }
    }
}

fn var(env: &Env, name: &str) -> Option<String> {
    env.var(name).ok().map(|v| v.to_string()).filter(|v| !v.trim().is_empty())
}

pub fn rate_limit_per_minute(env: &Env) -> ApiResult<u64> {
    config(env).rate_limit_per_minute.clone().map_err(ApiError::internal)
}

pub fn platform_tiers(env: &Env) -> ApiResult<PlatformTiers> {
    config(env).platform_tiers.clone().map_err(ApiError::internal)
}

pub fn allowed_origins(env: &Env) -> Rc<[String]> {
    config(env).allowed_origins.clone()
}

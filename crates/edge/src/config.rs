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
    request_logs: bool,
    rate_limit_per_minute: Result<u64, String>,
    platform_tiers: Result<PlatformTiers, String>,
    allowed_origins: Rc<[String]>,
    clerk: Result<ClerkConfig, String>,
}

/// Where and how to check Clerk session tokens (end-user token mode).
#[derive(Clone)]
pub struct ClerkConfig {
    pub secret_key: String,
    /// The Backend API, e.g. `https://api.clerk.com`.
    pub api_url: String,
    pub jwks_url: String,
    /// Empty: any `azp` is accepted.
    pub authorized_parties: Vec<String>,
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
        let clerk = var(env, "CLERK_SECRET_KEY")
            .ok_or_else(|| {
                "CLERK_SECRET_KEY is not set: end-user tokens cannot be checked".to_string()
            })
            .map(|secret_key| {
                let api =
                    var(env, "CLERK_API_URL").unwrap_or_else(|| "https://api.clerk.com".into());
                ClerkConfig {
                    secret_key,
                    api_url: api.trim_end_matches('/').to_string(),
                    jwks_url: var(env, "CLERK_JWKS_URL")
                        .unwrap_or_else(|| format!("{}/v1/jwks", api.trim_end_matches('/'))),
                    authorized_parties: list(var(env, "CLERK_AUTHORIZED_PARTIES")),
                }
            });
        let allowed_origins = list(var(env, "ALLOWED_ORIGINS")).into();
        let request_logs = var(env, "REQUEST_LOGS").is_none_or(|v| v.trim() != "off");
        Self { request_logs, rate_limit_per_minute, platform_tiers, allowed_origins, clerk }
    }
}

/// A var or a secret (wrangler keeps them apart; `.dev.vars` and `--var` give vars).
fn var(env: &Env, name: &str) -> Option<String> {
    env.secret(name)
        .map(|s| s.to_string())
        .or_else(|_| env.var(name).map(|v| v.to_string()))
        .ok()
        .filter(|v| !v.trim().is_empty())
}

fn list(value: Option<String>) -> Vec<String> {
    value
        .map(|v| v.split(',').map(|o| o.trim().to_string()).filter(|o| !o.is_empty()).collect())
        .unwrap_or_default()
}

pub fn rate_limit_per_minute(env: &Env) -> ApiResult<u64> {
    config(env).rate_limit_per_minute.clone().map_err(ApiError::internal)
}

pub fn platform_tiers(env: &Env) -> ApiResult<PlatformTiers> {
    config(env).platform_tiers.clone().map_err(ApiError::internal)
}

pub fn clerk(env: &Env) -> ApiResult<ClerkConfig> {
    config(env).clerk.clone().map_err(ApiError::internal)
}

/// How to call Stripe (`STRIPE_SECRET_KEY`, `STRIPE_API_BASE`).
#[derive(Clone)]
pub struct StripeConfig {
    pub secret_key: String,
    /// `https://api.stripe.com`, or the stand-in.
    pub api_base: String,
}

pub fn stripe(env: &Env) -> ApiResult<StripeConfig> {
    let secret_key = required(env, "STRIPE_SECRET_KEY")?;
    let api_base = var(env, "STRIPE_API_BASE").unwrap_or_else(|| "https://api.stripe.com".into());
    Ok(StripeConfig { secret_key, api_base: api_base.trim_end_matches('/').to_string() })
}

/// Where Connect OAuth lives (`STRIPE_CONNECT_BASE`, default `https://connect.stripe.com`).
pub fn stripe_connect_base(env: &Env) -> String {
    var(env, "STRIPE_CONNECT_BASE")
        .unwrap_or_else(|| "https://connect.stripe.com".into())
        .trim_end_matches('/')
        .to_string()
}

/// The key that seals Stripe Connect tokens at rest (`TOKEN_ENCRYPTION_KEY`).
pub fn sealing_key(env: &Env) -> ApiResult<dream_core::sealed::SealingKey> {
    let encoded = required(env, "TOKEN_ENCRYPTION_KEY")?;
    dream_core::sealed::SealingKey::from_base64(&encoded).map_err(ApiError::internal)
}

/// Whether webhook endpoints may be loopback addresses (`ALLOW_LOOPBACK_WEBHOOKS`,
/// exactly `true`: local development and tests only).
pub fn loopback_webhooks(env: &Env) -> dream_core::webhooks::Loopback {
    dream_core::webhooks::Loopback::from_env(var(env, "ALLOW_LOOPBACK_WEBHOOKS").as_deref())
}

/// The delays before each retry of a webhook delivery (`WEBHOOK_RETRY_SCHEDULE`,
/// seconds, comma-separated; the contract's schedule when unset).
pub fn retry_schedule(env: &Env) -> ApiResult<dream_core::webhooks::RetrySchedule> {
    dream_core::webhooks::RetrySchedule::from_env(var(env, "WEBHOOK_RETRY_SCHEDULE").as_deref())
        .map_err(|e| ApiError::internal(e.0))
}

/// A var or secret a route cannot work without: a `500` naming it when it is missing.
pub fn required(env: &Env, name: &str) -> ApiResult<String> {
    var(env, name).ok_or_else(|| ApiError::internal(format!("{name} is not set")))
}

/// Where the dashboard is served (`DASHBOARD_URL`), for links such as preview pages.
pub fn dashboard_url(env: &Env) -> String {
    var(env, "DASHBOARD_URL").unwrap_or_else(|| "http://127.0.0.1:8790".into())
}

/// Whether each request leaves its JSON line in the log (`REQUEST_LOGS`, on unless
/// `off`). Under `wrangler dev` every line crosses to wrangler's Node process on the
/// same cores, which the benchmark turns off as it does the trace collector.
pub fn request_logs(env: &Env) -> bool {
    config(env).request_logs
}

pub fn allowed_origins(env: &Env) -> Rc<[String]> {
    config(env).allowed_origins.clone()
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    fn workspace() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
    }

    fn read(path: &Path) -> String {
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    /// Every `NAME` in `…call("NAME"` or `…call(env, "NAME"` for each call given.
    fn names_read(source: &str, calls: &[&str]) -> Vec<String> {
        let mut names = Vec::new();
        for call in calls {
            for (at, _) in source.match_indices(call) {
                let rest = &source[at + call.len()..];
                let name: String =
                    rest.chars().take_while(|c| c.is_ascii_uppercase() || *c == '_').collect();
                if !name.is_empty() && rest[name.len()..].starts_with('"') {
                    names.push(name);
                }
            }
        }
        names
    }

    /// The names this module reads (above its tests) and that workers and the rest of
    /// this crate read through `config::required`.
    fn every_name_read() -> Vec<String> {
        let root = workspace();
        let this = read(&root.join("crates/edge/src/config.rs"));
        let (code, _) = this.split_once("#[cfg(test)]").expect("config.rs has its tests last");
        let mut names = names_read(code, &["var(env, \"", "required(env, \""]);
        let mut dirs = vec![root.join("crates/edge/src")];
        for worker in ["api", "platform-auth", "stripe-oauth"] {
            dirs.push(root.join("workers").join(worker).join("src"));
        }
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).expect("a source directory") {
                let path = entry.expect("a directory entry").path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    names.extend(names_read(&read(&path), &["config::required(env, \""]));
                }
            }
        }
        names.sort();
        names.dedup();
        names
    }

    #[test]
    fn the_names_read_are_found_in_the_source() {
        let names = every_name_read();
        for expected in [
            "ALLOWED_ORIGINS",
            "CLERK_SECRET_KEY",
            "TOKEN_ENCRYPTION_KEY",
            "STRIPE_WEBHOOK_SECRET",
            "STRIPE_CLIENT_ID",
        ] {
            assert!(names.iter().any(|n| n == expected), "{expected} not found in {names:?}");
        }
    }

    #[test]
    fn the_deploy_document_mentions_every_secret_and_variable_the_workers_read() {
        let doc = read(&workspace().join("docs/deploy.md"));
        let missing: Vec<String> = every_name_read()
            .into_iter()
            .filter(|name| !doc.contains(&format!("`{name}`")))
            .collect();
        assert!(missing.is_empty(), "docs/deploy.md does not mention {missing:?}");
    }
}

//! End-user token mode: a Clerk session token instead of an API key. The token's
//! signature is checked with WebCrypto against the instance's JWKS (fetched with the
//! secret key, cached by `dream_core::clerk::JwksCache`'s rules: one fetch at a time per
//! isolate, backing off after failures, at most one a minute for unknown `kid`s); every
//! other rule is `dream_core::clerk`'s. And Clerk's Backend API: users and their public
//! metadata, where "Clerk has no such user" and "Clerk could not be reached" stay apart.

use crate::clock::now_ms;
use crate::config::{self, ClerkConfig};
use crate::crypto::{object, subtle};
use crate::error::{ApiError, ApiResult};
use crate::http;
use dream_core::clerk::{
    ClerkAnswer, Jwk, Jwks, JwksCache, JwksStep, SessionClaims, TokenError, UnverifiedToken,
};
use dream_core::developer::{ClerkUser, DeveloperMetadata};
use dream_core::error::ErrorCode;
use js_sys::Array;
use std::cell::RefCell;
use std::collections::HashMap;
use std::time::Duration;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::CryptoKey;
use worker::{Delay, Env, Headers, Method, Request, RequestInit};

/// How often a request waiting for another request's JWKS fetch looks again. Waiting by
/// timer in its own request, rather than awaiting the other request's promise, keeps a
/// request from hanging when the one it waits on is cancelled.
const JWKS_WAIT_MS: u64 = 20;

thread_local! {
    static JWKS: RefCell<JwksCache> = RefCell::new(JwksCache::default());
    /// Imported keys by `kid`: importing is the costly part of a WebCrypto check.
    static KEYS: RefCell<HashMap<String, CryptoKey>> = RefCell::new(HashMap::new());
}

/// A token is a Clerk session token when it is not an API key and has JWT's shape.
pub fn looks_like_session_token(token: &str) -> bool {
    !token.starts_with("pk_") && token.matches('.').count() == 2
}

fn refused(e: TokenError) -> ApiError {
    ApiError::new(ErrorCode::Unauthenticated, format!("The session token was refused: {e}."))
}

pub async fn verify(env: &Env, token: &str) -> ApiResult<SessionClaims> {
    let clerk = config::clerk(env)?;
    let unverified = UnverifiedToken::parse(token).map_err(refused)?;
    let kid = unverified.kid().ok_or_else(|| refused(TokenError::UnknownKey))?.to_string();
    let jwk = published_key(&clerk, &kid).await?;
    let valid = check_signature(&jwk, unverified.signing_input(), unverified.signature()).await?;
    unverified.finish(valid, now_ms() / 1000, &clerk.authorized_parties).map_err(refused)
}

/// The key published under `kid`, fetching the JWKS when [`JwksCache`] says so.
async fn published_key(clerk: &ClerkConfig, kid: &str) -> ApiResult<Jwk> {
    loop {
        match JWKS.with(|c| c.borrow_mut().next_step(Some(kid), now_ms() / 1000)) {
            JwksStep::UseCached => break,
            JwksStep::Wait => Delay::from(Duration::from_millis(JWKS_WAIT_MS)).await,
            JwksStep::Fetch => {
                let fetched = fetch_jwks(clerk).await;
                let now = now_ms() / 1000;
                match fetched {
                    Ok(jwks) => JWKS.with(|c| c.borrow_mut().store(jwks, Some(kid), now)),
                    Err(e) => {
                        JWKS.with(|c| c.borrow_mut().fail(now));
                        // Keep using the keys we have; with none at all, say why.
                        if JWKS.with(|c| c.borrow().jwks().is_none()) {
                            return Err(e);
                        }
                        worker::console_error!(
                            "refreshing the JWKS, keeping the cached one: {}",
                            e.message
                        );
                    }
                }
                break;
            }
        }
    }
    match JWKS.with(|c| c.borrow().jwks().map(|j| j.rsa_key(kid).cloned())) {
        Some(Some(jwk)) => Ok(jwk),
        Some(None) => Err(refused(TokenError::UnknownKey)),
        // Backing off after failed fetches, with no keys to check with.
        None => Err(unreachable()),
    }
}

/// A Clerk user, from the Backend API. Clerk having no such user is `404 not_found`;
/// see [`find_user`] to tell it apart.
pub async fn user(env: &Env, user_id: &str) -> ApiResult<ClerkUser> {
    find_user(env, user_id).await?.ok_or_else(|| no_such_user(user_id))
}

/// A Clerk user, or `None` when Clerk answers that it has no such user (deleted, or
/// never there), which no retry will change: a webhook about it can be acknowledged.
/// Clerk unreachable, slow, or answering anything else is `502 upstream_error`.
pub async fn find_user(env: &Env, user_id: &str) -> ApiResult<Option<ClerkUser>> {
    let clerk = config::clerk(env)?;
    let url = format!("{}/v1/users/{user_id}", clerk.api_url);
    match backend(&clerk, Method::Get, &url, None).await? {
        Some(text) => serde_json::from_str(&text).map(Some).map_err(|e| unreadable(&url, e)),
        None => Ok(None),
    }
}

fn no_such_user(user_id: &str) -> ApiError {
    ApiError::new(ErrorCode::NotFound, format!("Clerk has no user {user_id}."))
}

/// Merges the plan copy into a developer's public metadata (Clerk deep-merges; `null`
/// removes): `false` when Clerk answers that it has no such user (nothing to change,
/// and no retry will change that). Clerk unreachable, slow, or answering anything else
/// is `502 upstream_error`.
pub async fn merge_public_metadata(
    env: &Env,
    user_id: &str,
    metadata: &DeveloperMetadata,
) -> ApiResult<bool> {
    let clerk = config::clerk(env)?;
    let url = format!("{}/v1/users/{user_id}/metadata", clerk.api_url);
    let body = metadata.merge_patch().to_string();
    Ok(backend(&clerk, Method::Patch, &url, Some(body)).await?.is_some())
}

fn unreachable() -> ApiError {
    ApiError::new(ErrorCode::UpstreamError, "Clerk could not be reached; please retry.")
}

fn unreadable(url: &str, e: impl std::fmt::Display) -> ApiError {
    worker::console_error!("reading Clerk's answer from {url}: {e}");
    ApiError::new(ErrorCode::UpstreamError, "Clerk's answer could not be read; please retry.")
}

/// A call to Clerk's Backend API with the secret key: the body on `200`, `None` on `404`.
async fn backend(
    clerk: &ClerkConfig,
    method: Method,
    url: &str,
    body: Option<String>,
) -> ApiResult<Option<String>> {
    let headers = Headers::new();
    headers.set("Authorization", &format!("Bearer {}", clerk.secret_key))?;
    headers.set("Content-Type", "application/json")?;
    let mut init = RequestInit::new();
    init.with_method(method).with_headers(headers);
    if let Some(body) = body {
        init.with_body(Some(wasm_bindgen::JsValue::from_str(&body)));
    }
    let req = Request::new_with_init(url, &init)?;
    let (status, text) = http::fetch_upstream("Clerk", &req).await?;
    match ClerkAnswer::of(status) {
        ClerkAnswer::Found => Ok(Some(text)),
        ClerkAnswer::NotFound => Ok(None),
        ClerkAnswer::Failed => {
            worker::console_error!("calling Clerk at {url}: status {status}: {text}");
            Err(ApiError::new(
                ErrorCode::UpstreamError,
                format!("Clerk answered {status}; please retry."),
            ))
        }
    }
}

async fn fetch_jwks(clerk: &ClerkConfig) -> ApiResult<Jwks> {
    let url = &clerk.jwks_url;
    let text = backend(clerk, Method::Get, url, None).await?.ok_or_else(|| {
        worker::console_error!("Clerk has no JWKS at {url}");
        ApiError::new(ErrorCode::UpstreamError, "Clerk answered 404 for its signing keys.")
    })?;
    Jwks::parse(&text).map_err(|e| unreadable(url, e))
}

/// RSASSA-PKCS1-v1_5 with SHA-256 (RS256), by WebCrypto.
async fn check_signature(jwk: &Jwk, data: &[u8], signature: &[u8]) -> ApiResult<bool> {
    let subtle = subtle()?;
    let algorithm = object(&[("name", "RSASSA-PKCS1-v1_5".into()), ("hash", "SHA-256".into())])?;
    let key = match KEYS.with(|k| k.borrow().get(&jwk.kid).cloned()) {
        Some(key) => key,
        None => {
            let key_data = object(&[
                ("kty", "RSA".into()),
                ("n", jwk.n.as_str().into()),
                ("e", jwk.e.as_str().into()),
                ("alg", "RS256".into()),
                ("ext", true.into()),
            ])?;
            let usages = Array::of1(&"verify".into());
            let promise = subtle
                .import_key_with_object("jwk", &key_data, &algorithm, false, &usages)
                .map_err(|_| ApiError::internal("importing a JWKS key"))?;
            let key: CryptoKey = JsFuture::from(promise)
                .await
                .ok()
                .and_then(|k| k.dyn_into().ok())
                .ok_or_else(|| refused(TokenError::UnknownKey))?;
            KEYS.with(|k| k.borrow_mut().insert(jwk.kid.clone(), key.clone()));
            key
        }
    };
    let promise = subtle
        .verify_with_object_and_u8_array_and_u8_array(&algorithm, &key, signature, data)
        .map_err(|_| ApiError::internal("calling WebCrypto verify"))?;
    Ok(JsFuture::from(promise).await.ok().and_then(|v| v.as_bool()).unwrap_or(false))
}

/// The verified Clerk session of a developer calling a dashboard backend
/// (`Authorization: Bearer <session token>`; an API key is refused).
pub async fn developer(req: &crate::http::Incoming, env: &Env) -> ApiResult<SessionClaims> {
    let token = req
        .headers()
        .get("Authorization")?
        .and_then(|h| h.strip_prefix("Bearer ").map(|t| t.trim().to_string()))
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::Unauthenticated,
                "Sign in: send your Clerk session token as Authorization: Bearer <token>.",
            )
        })?;
    if !looks_like_session_token(&token) {
        return Err(ApiError::new(
            ErrorCode::Unauthenticated,
            "This route takes a Clerk session token, not an API key.",
        ));
    }
    verify(env, &token).await
}

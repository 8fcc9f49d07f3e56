//! End-user token mode: a Clerk session token instead of an API key. The token's
//! signature is checked with WebCrypto against the instance's JWKS (fetched with the
//! secret key, cached by `dream_core::clerk::JwksCache`'s rules); every other rule is
//! `dream_core::clerk`'s.

use crate::config::{self, ClerkConfig};
use crate::crypto::{object, subtle};
use crate::error::{ApiError, ApiResult};
use crate::http;
use crate::store::now_ms;
use dream_core::clerk::{Jwk, Jwks, JwksCache, SessionClaims, TokenError, UnverifiedToken};
use dream_core::error::ErrorCode;
use js_sys::Array;
use std::cell::RefCell;
use std::collections::HashMap;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::CryptoKey;
use worker::{Env, Headers, Method, Request, RequestInit};

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
    let now = now_ms() / 1000;
    if JWKS.with(|c| c.borrow().should_fetch(Some(&kid), now)) {
        match fetch_jwks(&clerk).await {
            Ok(jwks) => JWKS.with(|c| c.borrow_mut().store(jwks, Some(&kid), now)),
            // Keep using the keys we have; with none at all, Clerk is unreachable.
            Err(e) if JWKS.with(|c| c.borrow().jwks().is_none()) => return Err(e),
            Err(e) => {
                worker::console_error!("refreshing the JWKS, keeping the cached one: {}", e.message)
            }
        }
    }
    let jwk = JWKS
        .with(|c| c.borrow().jwks().and_then(|j| j.rsa_key(&kid)).cloned())
        .ok_or_else(|| refused(TokenError::UnknownKey))?;
    let valid = check_signature(&jwk, unverified.signing_input(), unverified.signature()).await?;
    unverified.finish(valid, now, &clerk.authorized_parties).map_err(refused)
}

/// A Clerk user, from the Backend API (`id`, `email_addresses`, `public_metadata`, …).
pub async fn user(env: &Env, user_id: &str) -> ApiResult<serde_json::Value> {
    let clerk = config::clerk(env)?;
    let url = format!("{}/v1/users/{user_id}", clerk.api_url);
    let text = backend(&clerk, Method::Get, &url, None).await?;
    serde_json::from_str(&text).map_err(|e| upstream(&url, e.to_string()))
}

/// The primary email address of a Clerk user.
pub fn primary_email(user: &serde_json::Value) -> Option<&str> {
    let primary = user["primary_email_address_id"].as_str();
    user["email_addresses"]
        .as_array()
        .and_then(|all| all.iter().find(|e| e["id"].as_str() == primary).or(all.first()))
        .and_then(|e| e["email_address"].as_str())
}

/// Merges `patch` into a user's public metadata (Clerk deep-merges; `null` removes).
pub async fn merge_public_metadata(
    env: &Env,
    user_id: &str,
    patch: serde_json::Value,
) -> ApiResult<()> {
    let clerk = config::clerk(env)?;
    let url = format!("{}/v1/users/{user_id}/metadata", clerk.api_url);
    let body = serde_json::json!({ "public_metadata": patch }).to_string();
    backend(&clerk, Method::Patch, &url, Some(body)).await.map(|_| ())
}

fn upstream(url: &str, what: String) -> ApiError {
    worker::console_error!("calling Clerk at {url}: {what}");
    ApiError::new(ErrorCode::UpstreamError, "Clerk could not be reached; please retry.")
}

/// A call to Clerk's Backend API with the secret key; the body on `200`.
async fn backend(
    clerk: &ClerkConfig,
    method: Method,
    url: &str,
    body: Option<String>,
) -> ApiResult<String> {
    let headers = Headers::new();
    headers
        .set("Authorization", &format!("Bearer {}", clerk.secret_key))
        .map_err(|e| upstream(url, e.to_string()))?;
    headers.set("Content-Type", "application/json").map_err(|e| upstream(url, e.to_string()))?;
    let mut init = RequestInit::new();
    init.with_method(method).with_headers(headers);
    if let Some(body) = body {
        init.with_body(Some(wasm_bindgen::JsValue::from_str(&body)));
    }
    let req = Request::new_with_init(url, &init).map_err(|e| upstream(url, e.to_string()))?;
    let (status, text) = http::fetch_text(&req).await.map_err(|e| upstream(url, e.to_string()))?;
    if status != 200 {
        return Err(upstream(url, format!("status {status}")));
    }
    Ok(text)
}

async fn fetch_jwks(clerk: &ClerkConfig) -> ApiResult<Jwks> {
    let text = backend(clerk, Method::Get, &clerk.jwks_url, None).await?;
    Jwks::parse(&text).map_err(|e| upstream(&clerk.jwks_url, e.to_string()))
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
pub async fn developer(req: &Request, env: &Env) -> ApiResult<SessionClaims> {
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

//! Calls to Stripe: the API (form-encoded with `dream_core::stripe_form`, our secret
//! key, `STRIPE_API_BASE`), as ourselves or on a connected account (`Stripe-Account`),
//! and Connect OAuth (`STRIPE_CONNECT_BASE`). Stripe's own errors, and no answer
//! within 10 s, become `502`; the OAuth endpoint's refusals are returned for the caller
//! to explain.

use crate::clock::now_ms;
use crate::config;
use crate::error::{ApiError, ApiResult};
use crate::http;
use dream_core::billing::BillingAccount;
use dream_core::error::ErrorCode;
use dream_core::stripe::{verify_any, WebhookSecret};
use dream_core::stripe_form;
use dream_core::webhook::StripeEvent;
use serde_json::Value;
use wasm_bindgen::JsValue;
use worker::{Env, Headers, Method, Request, RequestInit};

/// A webhook delivery's event, once its `Stripe-Signature` is verified over the raw
/// body with one of the comma-separated secrets of `STRIPE_WEBHOOK_SECRET` (API.md
/// "Webhooks"); a refused one is a `400`. The body is read with the 64 KiB cap.
pub async fn verified_event(req: &mut crate::http::Incoming, env: &Env) -> ApiResult<StripeEvent> {
    let secrets = WebhookSecret::list(&config::required(env, "STRIPE_WEBHOOK_SECRET")?);
    if secrets.is_empty() {
        return Err(ApiError::internal("STRIPE_WEBHOOK_SECRET holds no secret"));
    }
    let signature = req.headers().get("Stripe-Signature")?.unwrap_or_default();
    let body = http::body_bytes(req).await?;
    verify_any(&secrets, &signature, &body, now_ms() / 1000)
        .map_err(|e| ApiError::invalid(format!("The webhook signature was refused: {e}.")))?;
    Ok(StripeEvent::parse(&body)?)
}

fn upstream(what: &str, detail: impl std::fmt::Display) -> ApiError {
    worker::console_error!("Stripe {what}: {detail}");
    ApiError::new(ErrorCode::UpstreamError, "Stripe could not complete the request; please retry.")
}

/// Sends a request with our secret key and reads the JSON answer, whatever its status.
async fn send(
    env: &Env,
    method: Method,
    url: &str,
    params: Option<&Value>,
    headers: &[(&str, &str)],
) -> ApiResult<(u16, Value)> {
    let stripe = config::stripe(env)?;
    let failed = |detail: String| upstream(url, detail);
    let all = Headers::new();
    let bearer = format!("Bearer {}", stripe.secret_key);
    let form = [("Content-Type", "application/x-www-form-urlencoded"), ("Authorization", &bearer)];
    for (name, value) in form.iter().chain(headers) {
        all.set(name, value).map_err(|e| failed(e.to_string()))?;
    }
    let mut init = RequestInit::new();
    init.with_method(method).with_headers(all);
    if let Some(params) = params {
        init.with_body(Some(JsValue::from_str(&stripe_form::encode(params))));
    }
    let req = Request::new_with_init(url, &init).map_err(|e| failed(e.to_string()))?;
    let (status, text) = http::fetch_upstream("Stripe", &req).await?;
    let body: Value = serde_json::from_str(&text).map_err(|e| failed(e.to_string()))?;
    Ok((status, body))
}

/// `POST {STRIPE_API_BASE}{path}` on our own account; `idempotency_key` makes a retry
/// create nothing twice.
pub async fn post(
    env: &Env,
    path: &str,
    params: &Value,
    idempotency_key: Option<&str>,
) -> ApiResult<Value> {
    post_as(env, &BillingAccount::Ours, path, params, idempotency_key).await
}

/// `POST {STRIPE_API_BASE}{path}` on `account` (with `Stripe-Account` when connected).
pub async fn post_as(
    env: &Env,
    account: &BillingAccount,
    path: &str,
    params: &Value,
    idempotency_key: Option<&str>,
) -> ApiResult<Value> {
    let url = format!("{}{path}", config::stripe(env)?.api_base);
    let mut headers = vec![];
    if let Some(key) = idempotency_key {
        headers.push(("Idempotency-Key", key));
    }
    if let Some(acct) = account.header() {
        headers.push(("Stripe-Account", acct));
    }
    let (status, body) = send(env, Method::Post, &url, Some(params), &headers).await?;
    if status != 200 {
        return Err(upstream(path, format!("status {status}: {}", body["error"]["message"])));
    }
    Ok(body)
}

/// `GET {STRIPE_API_BASE}{path}` on our own account.
pub async fn get(env: &Env, path: &str) -> ApiResult<Value> {
    let url = format!("{}{path}", config::stripe(env)?.api_base);
    let (status, body) = send(env, Method::Get, &url, None, &[]).await?;
    if status != 200 {
        return Err(upstream(path, format!("status {status}: {}", body["error"]["message"])));
    }
    Ok(body)
}

/// An OAuth endpoint's refusal: `{error, error_description}`.
#[derive(Debug, Clone)]
pub struct OAuthRefusal {
    pub error: String,
    pub description: String,
}

/// `POST {STRIPE_CONNECT_BASE}{path}` (Connect OAuth): the answer, or the endpoint's
/// OAuth refusal (a `4xx` with `error`). Anything else is a `502`.
pub async fn connect_post(
    env: &Env,
    path: &str,
    params: &Value,
) -> ApiResult<Result<Value, OAuthRefusal>> {
    let url = format!("{}{path}", config::stripe_connect_base(env));
    let (status, body) = send(env, Method::Post, &url, Some(params), &[]).await?;
    match (status, body["error"].as_str()) {
        (200, _) => Ok(Ok(body)),
        (400..=499, Some(error)) => Ok(Err(OAuthRefusal {
            error: error.to_string(),
            description: body["error_description"].as_str().unwrap_or_default().to_string(),
        })),
        _ => Err(upstream(path, format!("status {status}"))),
    }
}

//! Calls to Stripe's API: form-encoded (`dream_core::stripe_form`), with the secret key,
//! to `STRIPE_API_BASE` (the stand-in locally). Stripe's own errors become `502`.

use crate::config;
use crate::error::{ApiError, ApiResult};
use dream_core::error::ErrorCode;
use dream_core::stripe_form;
use serde_json::Value;
use wasm_bindgen::JsValue;
use worker::{Env, Fetch, Headers, Method, Request, RequestInit};

/// `POST {STRIPE_API_BASE}{path}` with `params`; `idempotency_key` makes a retry create
/// nothing twice.
pub async fn post(
    env: &Env,
    path: &str,
    params: &Value,
    idempotency_key: Option<&str>,
) -> ApiResult<Value> {
    let stripe = config::stripe(env)?;
    let url = format!("{}{path}", stripe.api_base);
    let failed = |what: String| {
        worker::console_error!("Stripe {path}: {what}");
        ApiError::new(
            ErrorCode::UpstreamError,
            "Stripe could not complete the request; please retry.",
        )
    };
    let headers = Headers::new();
    headers
        .set("Authorization", &format!("Bearer {}", stripe.secret_key))
        .map_err(|e| failed(e.to_string()))?;
    headers
        .set("Content-Type", "application/x-www-form-urlencoded")
        .map_err(|e| failed(e.to_string()))?;
    if let Some(key) = idempotency_key {
        headers.set("Idempotency-Key", key).map_err(|e| failed(e.to_string()))?;
    }
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_body(Some(JsValue::from_str(&stripe_form::encode(params))));
    let req = Request::new_with_init(&url, &init).map_err(|e| failed(e.to_string()))?;
    let mut resp = Fetch::Request(req).send().await.map_err(|e| failed(e.to_string()))?;
    let status = resp.status_code();
    let body: Value = resp.json().await.map_err(|e| failed(e.to_string()))?;
    if status != 200 {
        return Err(failed(format!("status {status}: {}", body["error"]["message"])));
    }
    Ok(body)
}

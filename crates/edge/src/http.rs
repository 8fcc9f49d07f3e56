//! Reading requests and writing responses the way the contract says: JSON bodies up
//! to 64 KiB with a JSON content type, `X-Request-Id` and CORS on every answer. And the
//! other direction: reading the answers of our own outgoing calls ([`fetch_text`]).

use crate::error::{ApiError, ApiResult};
use dream_core::error::ErrorCode;
use dream_core::json::JsonObject;
use dream_core::meter::RateStatus;
use js_sys::Promise;
use serde::Serialize;
use serde_json::Value;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use worker::{Request, Response};

#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = fetch, catch)]
    fn global_fetch(req: &web_sys::Request) -> Result<Promise, JsValue>;
}

pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// A successful answer before it becomes a `worker::Response`.
pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub headers: Vec<(&'static str, String)>,
}

impl Reply {
    pub fn ok(body: impl Serialize) -> ApiResult<Self> {
        Self::with_status(200, body)
    }

    pub fn with_status(status: u16, body: impl Serialize) -> ApiResult<Self> {
        Ok(Self { status, body: serde_json::to_value(body)?, headers: vec![] })
    }

    pub fn with_header(mut self, name: &'static str, value: impl ToString) -> Self {
        self.headers.push((name, value.to_string()));
        self
    }

    pub fn with_rate(mut self, rate: &RateStatus) -> Self {
        self.headers.extend(rate_headers(rate));
        self
    }
}

pub fn rate_headers(rate: &RateStatus) -> Vec<(&'static str, String)> {
    vec![
        ("RateLimit-Limit", rate.limit.to_string()),
        ("RateLimit-Remaining", rate.remaining.to_string()),
        ("RateLimit-Reset", rate.reset_seconds.to_string()),
    ]
}

/// A refusal by a rate limit: `429` with `Retry-After` and the `RateLimit-*` headers.
pub fn rate_limited(message: &str, rate: &RateStatus) -> ApiError {
    let mut e = ApiError::new(ErrorCode::RateLimited, message)
        .with_header("Retry-After", rate.reset_seconds.max(1));
    e.headers.extend(rate_headers(rate));
    e
}

/// The body as a JSON object. `allow_empty` lets routes whose fields are all optional
/// take no body at all.
pub async fn json_body(req: &mut Request, allow_empty: bool) -> ApiResult<JsonObject> {
    let declared =
        req.headers().get("Content-Length")?.and_then(|v| v.trim().parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES) {
        return Err(too_large());
    }
    let bytes =
        req.bytes().await.map_err(|_| ApiError::invalid("The request body could not be read."))?;
    if bytes.len() > MAX_BODY_BYTES {
        return Err(too_large());
    }
    if allow_empty && bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(JsonObject::parse_or_empty(&bytes)?);
    }
    let content_type = req.headers().get("Content-Type")?.unwrap_or_default().to_ascii_lowercase();
    let media_type = content_type.split(';').next().unwrap_or_default().trim();
    if media_type != "application/json" {
        return Err(ApiError::invalid(
            "Send the body as JSON with Content-Type: application/json.",
        ));
    }
    Ok(JsonObject::parse(&bytes)?)
}

fn too_large() -> ApiError {
    ApiError::new(
        ErrorCode::PayloadTooLarge,
        format!("The request body is over {} KiB.", MAX_BODY_BYTES / 1024),
    )
}

pub fn query(req: &Request, name: &str) -> ApiResult<Option<String>> {
    Ok(req.url()?.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned()))
}

/// A query parameter that must be an integer in `min..=max` when present.
pub fn query_int(req: &Request, name: &str, min: u64, max: u64) -> ApiResult<Option<u64>> {
    match query(req, name)? {
        None => Ok(None),
        Some(v) => {
            v.parse::<u64>().ok().filter(|n| (min..=max).contains(n)).map(Some).ok_or_else(|| {
                ApiError::invalid(format!("{name} must be an integer from {min} to {max}"))
            })
        }
    }
}

pub fn to_response(
    status: u16,
    body: &Value,
    headers: &[(&'static str, String)],
) -> worker::Result<Response> {
    let mut resp = Response::from_json(body)?.with_status(status);
    for (name, value) in headers {
        resp.headers_mut().set(name, value)?;
    }
    Ok(resp)
}

pub fn empty_response(status: u16, headers: &[(&'static str, String)]) -> worker::Result<Response> {
    let mut resp = Response::empty()?.with_status(status);
    for (name, value) in headers {
        resp.headers_mut().set(name, value)?;
    }
    Ok(resp)
}

/// Sends `req` (to Stripe, Clerk, …) and reads the whole answer: its status and text.
pub async fn fetch_text(req: &Request) -> worker::Result<(u16, String)> {
    reply_text(global_fetch(req.inner())?).await
}

/// Awaits a pending `fetch` and reads its answer with the runtime's `Response.text()`.
/// (Reading it through `worker::Response` goes chunk by chunk from wasm, and releasing
/// that reader makes the runtime build an error with a full stack trace every time.)
pub(crate) async fn reply_text(pending: Promise) -> worker::Result<(u16, String)> {
    let resp: web_sys::Response = JsFuture::from(pending).await?.dyn_into()?;
    let text = JsFuture::from(resp.text()?).await?.as_string().unwrap_or_default();
    Ok((resp.status(), text))
}

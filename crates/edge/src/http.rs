//! Reading requests and writing responses the way the contract says: bodies read as
//! streams up to 64 KiB ([`body_bytes`]), JSON with a JSON content type, `X-Request-Id`
//! and CORS on every answer. And the other direction: our own outgoing calls to Stripe
//! and Clerk, given 10 s to answer ([`fetch_upstream`]), and Durable Objects' answers
//! ([`reply_text`]).

use crate::error::{ApiError, ApiResult};
use dream_core::access;
use dream_core::error::ErrorCode;
use dream_core::json::{BodyCap, BodyRead, JsonObject};
use dream_core::meter::RateStatus;
use js_sys::{Promise, Reflect, Uint8Array};
use serde::Serialize;
use serde_json::Value;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use worker::{Headers, Response};

#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = fetch, catch)]
    fn global_fetch(
        req: &web_sys::Request,
        init: &web_sys::RequestInit,
    ) -> Result<Promise, JsValue>;
}

/// A request as the runtime hands it to a worker's `fetch`: what `#[event(fetch)]`
/// takes, and what [`crate::serve`] makes an [`Incoming`] of.
pub type RuntimeRequest = web_sys::Request;

/// A request the worker received. Not `worker::Request`: making one reads the request's
/// `cf` property, an object the runtime parses out of the request's metadata on first
/// read, and no route uses it (under `wrangler dev` making a `worker::Request` was 9 % of
/// the api worker's CPU on a track). Our own outgoing calls are `worker::Request`s.
pub struct Incoming(RuntimeRequest);

impl Incoming {
    pub fn new(req: RuntimeRequest) -> Self {
        Self(req)
    }

    pub fn headers(&self) -> Headers {
        Headers(self.0.headers())
    }

    pub fn inner(&self) -> &RuntimeRequest {
        &self.0
    }
}

pub const MAX_BODY_BYTES: usize = dream_core::json::MAX_BODY_BYTES;

/// How long an outgoing call to Stripe or Clerk may take, reading its answer included.
pub const UPSTREAM_TIMEOUT_MS: u32 = 10_000;

/// A successful answer before it becomes a `worker::Response`.
pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub headers: Vec<(&'static str, String)>,
    /// The platform the answer is about is in preview (see `ApiError::preview`).
    pub preview: bool,
}

impl Reply {
    pub fn ok(body: impl Serialize) -> ApiResult<Self> {
        Self::with_status(200, body)
    }

    pub fn with_status(status: u16, body: impl Serialize) -> ApiResult<Self> {
        Ok(Self { status, body: serde_json::to_value(body)?, headers: vec![], preview: false })
    }

    pub fn with_header(mut self, name: &'static str, value: impl ToString) -> Self {
        self.headers.push((name, value.to_string()));
        self
    }

    pub fn previewing(mut self, preview: bool) -> Self {
        self.preview = preview;
        self
    }

    pub fn with_rate(mut self, rate: &RateStatus) -> Self {
        self.headers.extend(rate_headers(rate));
        self
    }

    /// The answer as the api worker sends it: `"preview": true` in the body of an
    /// answer about a platform in preview.
    pub fn marked(mut self) -> Self {
        if self.preview {
            if let Value::Object(map) = &mut self.body {
                map.insert("preview".into(), Value::Bool(true));
            }
        }
        self
    }
}

pub fn rate_headers(rate: &RateStatus) -> Vec<(&'static str, String)> {
    rate.headers().into()
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
pub async fn json_body(req: &mut Incoming, allow_empty: bool) -> ApiResult<JsonObject> {
    let bytes = body_bytes(req).await?;
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

/// The raw body, read chunk by chunk with a running 64 KiB cap (`dream_core::json::BodyCap`):
/// a `Content-Length` over it is refused before anything is read, and a body without
/// one (chunked) is given up as soon as it passes the cap, so no sender can make us
/// hold more than 64 KiB and one chunk.
pub async fn body_bytes(req: &mut Incoming) -> ApiResult<Vec<u8>> {
    let mut cap = BodyCap::default();
    let unreadable = |_| ApiError::invalid("The request body could not be read.");
    match cap.declared(req.headers().get("Content-Length")?.as_deref()) {
        BodyRead::TooLarge => return Err(too_large()),
        // One read of the runtime's instead of a stream driven from wasm.
        BodyRead::Fits => {
            let buffer = JsFuture::from(req.inner().array_buffer().map_err(unreadable)?)
                .await
                .map_err(unreadable)?;
            return Ok(Uint8Array::new(&buffer).to_vec());
        }
        BodyRead::Continue => {}
    }
    let Some(stream) = req.inner().body() else { return Ok(Vec::new()) };
    let reader = web_sys::ReadableStreamDefaultReader::new(&stream).map_err(unreadable)?;
    let mut bytes = Vec::new();
    loop {
        let chunk = JsFuture::from(reader.read()).await.map_err(unreadable)?;
        if Reflect::get(&chunk, &"done".into()).map_err(unreadable)?.as_bool() != Some(false) {
            // The reader is left to be collected with the finished stream: releasing its
            // lock from wasm makes the runtime build an error with a stack trace.
            return Ok(bytes);
        }
        let value: Uint8Array = Reflect::get(&chunk, &"value".into())
            .map_err(unreadable)?
            .dyn_into()
            .map_err(unreadable)?;
        let len = value.length() as usize;
        if cap.take(len) == BodyRead::TooLarge {
            // Nothing more is read: the answer goes out now, and the rest of the body is
            // left on the wire for the runtime to drop with the request.
            return Err(too_large());
        }
        let start = bytes.len();
        bytes.resize(start + len, 0);
        value.copy_to(&mut bytes[start..]);
    }
}

fn too_large() -> ApiError {
    ApiError::new(
        ErrorCode::PayloadTooLarge,
        format!("The request body is over {} KiB.", MAX_BODY_BYTES / 1024),
    )
}

/// The request's URL, parsed by the runtime's own `URL` (so no URL parser is compiled
/// into the wasm).
fn request_url(req: &Incoming) -> ApiResult<web_sys::Url> {
    web_sys::Url::new(&req.inner().url())
        .map_err(|_| ApiError::internal("the runtime gave a request URL it cannot parse"))
}

/// The origin (scheme, host and port) the request was sent to.
pub fn origin(req: &Incoming) -> ApiResult<String> {
    Ok(request_url(req)?.origin())
}

/// The request's path, still percent-encoded.
pub fn path(req: &Incoming) -> ApiResult<String> {
    Ok(request_url(req)?.pathname())
}

pub fn query(req: &Incoming, name: &str) -> ApiResult<Option<String>> {
    Ok(request_url(req)?.search_params().get(name))
}

/// A query parameter that must be an integer in `min..=max` when present.
pub fn query_int(req: &Incoming, name: &str, min: u64, max: u64) -> ApiResult<Option<u64>> {
    match query(req, name)? {
        None => Ok(None),
        Some(v) => {
            v.parse::<u64>().ok().filter(|n| (min..=max).contains(n)).map(Some).ok_or_else(|| {
                ApiError::invalid(format!("{name} must be an integer from {min} to {max}"))
            })
        }
    }
}

thread_local! {
    /// `access::SECURITY_HEADERS`, which every answer carries, as the runtime's `Headers`,
    /// built once per isolate: an answer's headers start as a copy of it (one call into JS
    /// where setting them one by one is one call each).
    static SECURITY_HEADERS: Option<web_sys::Headers> = web_sys::Headers::new().ok().filter(|h| {
        access::SECURITY_HEADERS.iter().all(|(name, value)| h.set(name, value).is_ok())
    });
}

/// `access::SECURITY_HEADERS` and `headers`, as an answer's headers.
fn answer_headers(headers: &[(&'static str, String)]) -> worker::Result<Headers> {
    let all = SECURITY_HEADERS
        .with(|security| match security {
            Some(security) => web_sys::Headers::new_with_headers(security),
            None => Err(JsValue::from_str("the security headers could not be built")),
        })
        .map_err(worker::Error::from)?;
    for (name, value) in headers {
        all.set(name, value)?;
    }
    Ok(Headers(all))
}

/// A JSON answer: `body` with the security headers and `headers`.
pub fn to_response(
    status: u16,
    body: &Value,
    headers: &[(&'static str, String)],
) -> worker::Result<Response> {
    let headers = answer_headers(headers)?;
    headers.set("Content-Type", "application/json")?;
    let text = serde_json::to_string(body)?;
    Ok(Response::builder().with_headers(headers).with_status(status).fixed(text.into_bytes()))
}

/// An answer with no body (`204`), with the security headers and `headers`.
pub fn empty_response(status: u16, headers: &[(&'static str, String)]) -> worker::Result<Response> {
    Ok(Response::builder().with_headers(answer_headers(headers)?).with_status(status).empty())
}

/// Why an outgoing call brought back no answer.
enum NoAnswer {
    /// Nothing (or not all of it) within [`UPSTREAM_TIMEOUT_MS`].
    TimedOut,
    Failed(String),
}

/// Sends `req` and reads its status and text, giving up after [`UPSTREAM_TIMEOUT_MS`].
async fn fetch_in_time(req: &worker::Request) -> Result<(u16, String), NoAnswer> {
    let signal = web_sys::AbortSignal::timeout_with_u32(UPSTREAM_TIMEOUT_MS);
    let init = web_sys::RequestInit::new();
    init.set_signal(Some(&signal));
    let answer = match global_fetch(req.inner(), &init) {
        Ok(pending) => reply_text(pending).await,
        Err(e) => Err(e.into()),
    };
    // The signal covers reading the answer too, so whatever failed after it fired
    // failed because of it.
    answer.map_err(|e| {
        if signal.aborted() {
            NoAnswer::TimedOut
        } else {
            NoAnswer::Failed(e.to_string())
        }
    })
}

/// Sends `req` to `upstream` ("Stripe", "Clerk") and reads the whole answer, whatever
/// its status. No answer within 10 s, or none at all, is `502 upstream_error`, saying
/// which.
pub async fn fetch_upstream(upstream: &str, req: &worker::Request) -> ApiResult<(u16, String)> {
    fetch_in_time(req).await.map_err(|e| {
        let url = req.inner().url();
        let message = match e {
            NoAnswer::TimedOut => {
                worker::console_error!(
                    "calling {upstream} at {url}: no answer within {UPSTREAM_TIMEOUT_MS} ms"
                );
                format!(
                    "{upstream} did not answer within {} s; please retry.",
                    UPSTREAM_TIMEOUT_MS / 1000
                )
            }
            NoAnswer::Failed(detail) => {
                worker::console_error!("calling {upstream} at {url}: {detail}");
                format!("{upstream} could not be reached; please retry.")
            }
        };
        ApiError::new(ErrorCode::UpstreamError, message)
    })
}

/// `POST`s `body` to `url` with `headers`, redirects not followed, and returns the
/// answer's status, or `None` if none came within `timeout_ms` or the request failed.
/// The answer's body is not read: only its status counts.
pub async fn post_status(
    url: &str,
    headers: &[(&str, String)],
    body: String,
    timeout_ms: u32,
) -> Option<u16> {
    let outgoing = web_sys::Headers::new().ok()?;
    for (name, value) in headers {
        outgoing.set(name, value).ok()?;
    }
    let signal = web_sys::AbortSignal::timeout_with_u32(timeout_ms);
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_headers(&outgoing);
    init.set_body(&JsValue::from_str(&body));
    init.set_redirect(web_sys::RequestRedirect::Manual);
    init.set_signal(Some(&signal));
    let req = web_sys::Request::new_with_str_and_init(url, &init).ok()?;
    let pending = global_fetch(&req, &web_sys::RequestInit::new()).ok()?;
    let resp: web_sys::Response = JsFuture::from(pending).await.ok()?.dyn_into().ok()?;
    if let Some(stream) = resp.body() {
        let _ = stream.cancel();
    }
    Some(resp.status())
}

/// Awaits a pending `fetch` and reads its answer with the runtime's `Response.text()`.
/// (Reading it through `worker::Response` goes chunk by chunk from wasm, and releasing
/// that reader makes the runtime build an error with a full stack trace every time.)
pub(crate) async fn reply_text(pending: Promise) -> worker::Result<(u16, String)> {
    let resp: web_sys::Response = JsFuture::from(pending).await?.dyn_into()?;
    let text = JsFuture::from(resp.text()?).await?.as_string().unwrap_or_default();
    Ok((resp.status(), text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rate() -> RateStatus {
        RateStatus { limit: 60, remaining: 0, reset_seconds: 0, window_seconds: 60 }
    }

    #[test]
    fn rate_headers_carry_the_limit_what_remains_and_when_it_resets() {
        let reply = Reply::ok(json!({})).unwrap().with_rate(&RateStatus {
            limit: 60,
            remaining: 59,
            reset_seconds: 42,
            window_seconds: 60,
        });
        assert_eq!(
            reply.headers,
            vec![
                ("RateLimit-Limit", "60".to_string()),
                ("RateLimit-Remaining", "59".to_string()),
                ("RateLimit-Reset", "42".to_string()),
                ("RateLimit-Policy", "\"default\";q=60;w=60".to_string()),
                ("RateLimit", "\"default\";r=59;t=42".to_string()),
            ]
        );
    }

    #[test]
    fn a_rate_limit_refusal_is_429_with_retry_after_of_at_least_a_second() {
        let e = rate_limited("Slow down.", &rate());
        assert_eq!(e.status(), 429);
        assert_eq!(e.body(), json!({"error": {"code": "rate_limited", "message": "Slow down."}}));
        assert!(e.headers.contains(&("Retry-After", "1".to_string())));
        assert!(e.headers.contains(&("RateLimit-Remaining", "0".to_string())));
    }

    #[test]
    fn only_an_answer_about_a_platform_in_preview_is_marked() {
        let marked = Reply::ok(json!({"ok": 1})).unwrap().previewing(true).marked();
        assert_eq!(marked.body, json!({"ok": 1, "preview": true}));
        let plain = Reply::ok(json!({"ok": 1})).unwrap().marked();
        assert_eq!(plain.body, json!({"ok": 1}));
        let created = Reply::with_status(201, json!({"id": "x"})).unwrap();
        assert_eq!(created.status, 201);
    }

    #[test]
    fn the_body_cap_is_the_contracts_64_kib() {
        assert_eq!(MAX_BODY_BYTES, 64 * 1024);
        assert_eq!(too_large().status(), 413);
        assert_eq!(too_large().body()["error"]["code"], "payload_too_large");
    }
}

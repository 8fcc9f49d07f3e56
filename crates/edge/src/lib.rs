//! What dream-api's workers share, so that no worker copies another: the JSON error
//! shape ([`error`]), the HTTP conventions ([`http`]), configuration ([`config`]), the KV
//! copies behind their in-isolate cache ([`store`]), the Durable Objects' one client
//! ([`objects`]), the Clerk session-token check and Backend API ([`clerk`]), Stripe's API
//! ([`stripe`]), end-user billing and the platform's own plan ([`billing`]), what is done
//! with a developer's platform ([`platform`]) and its webhook endpoints and alert
//! thresholds ([`webhooks`]), its request log and revenue ([`activity`]), and the
//! request entry ([`serve`]): request
//! id, CORS, route matching, and the one error → JSON mapping.
//!
//! The rules themselves live in `dream_core`; this crate is the I/O around them.

pub mod activity;
pub mod billing;
pub mod clerk;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod developer;
pub mod error;
pub mod http;
pub mod objects;
pub mod platform;
pub mod random;
pub mod store;
pub mod stripe;
pub mod webhooks;

/// What [`rpc_object!`] expands to needs, whichever crate it is used in.
#[doc(hidden)]
pub mod reexport {
    pub use js_sys;
    pub use wasm_bindgen;
    pub use wasm_bindgen_futures;
}

use dream_core::access;
use dream_core::cors;
use dream_core::error::ErrorCode;
use dream_core::routing::{match_route, Common, Route, RouteMatch, SERVED_BY_EVERY_WORKER};
use error::{ApiError, ApiResult};
use http::{Incoming, Reply, RuntimeRequest};
use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;
use worker::{Env, Response};

/// What a worker serves: its route table, and its OpenAPI document (JSON text, the
/// crate's `src/openapi.json`), which [`serve`] answers at `GET /openapi.json`.
///
/// The document is text inside the wasm, not a static asset: a worker with `[assets]`
/// and `run_worker_first` has the runtime's assets router in front of every request,
/// one more invocation per call (measured under `wrangler dev`: a track cost 1 970 µs of
/// CPU with it and 1 480 µs without, at 0.73× the throughput), for a document that
/// gzips to 18 KiB of the wasm.
pub struct Service<R: Copy + 'static> {
    pub routes: &'static [Route<R>],
    pub openapi: &'static str,
}

/// What [`serve`] tells a handler about the request it received: its id (the answer's
/// `X-Request-Id`) and when it arrived; a handler that learns the platform says so with
/// [`Received::note_platform`], for the request's log line.
#[derive(Debug)]
pub struct Received {
    pub request_id: String,
    pub at_ms: i64,
    platform: RefCell<Option<String>>,
}

impl Received {
    pub fn note_platform(&self, platform: &str) {
        *self.platform.borrow_mut() = Some(platform.to_string());
    }
}

/// Answers one request: `OPTIONS` preflights, then what every worker serves
/// (`GET /health`, `GET /openapi.json`), then the route table, then `handle` for the
/// matched route (with its path parameters); every answer gets `X-Request-Id`, CORS and
/// the security headers (`dream_core::access`), and leaves one JSON line in the log.
pub async fn serve<R, F, Fut>(
    req: RuntimeRequest,
    env: &Env,
    service: &Service<R>,
    handle: F,
) -> worker::Result<Response>
where
    R: Copy,
    F: FnOnce(R, Incoming, Vec<(&'static str, String)>, Rc<Received>) -> Fut,
    Fut: Future<Output = ApiResult<Reply>>,
{
    let req = Incoming::new(req);
    let received = Rc::new(Received {
        request_id: request_id(&req),
        at_ms: clock::now_ms(),
        platform: RefCell::new(None),
    });
    let origin = req.headers().get("Origin").ok().flatten();
    let allowed_origins = config::allowed_origins(env);

    // With `access::SECURITY_HEADERS`, which `http::to_response` adds to every answer.
    let mut headers = vec![("X-Request-Id", received.request_id.clone())];
    // The method as sent: `worker::Method` reads any method it does not know (`QUERY`,
    // `FOO`) as `GET`, which would answer it as if it were one.
    let method = req.inner().method();
    if method == "OPTIONS" {
        headers.extend(cors::preflight_headers(origin.as_deref(), &allowed_origins));
        headers.push(("Cache-Control", access::cache_control(None).to_string()));
        log_request(env, &received, &method, None, 204);
        return http::empty_response(204, &headers);
    }
    headers.extend(cors::response_headers(origin.as_deref(), &allowed_origins));

    let path = http::path(&req).unwrap_or_default();
    let mut route = None;
    let outcome = match match_route(SERVED_BY_EVERY_WORKER, &method, &path) {
        RouteMatch::Found { id: Common::Health, pattern, .. } => {
            route = Some(pattern);
            Reply::ok(serde_json::json!({ "ok": true }))
        }
        RouteMatch::Found { id: Common::OpenApi, pattern, .. } => {
            route = Some(pattern);
            serde_json::from_str::<serde_json::Value>(service.openapi)
                .map_err(ApiError::from)
                .and_then(Reply::ok)
        }
        RouteMatch::MethodNotAllowed { allowed } => Err(not_allowed(&method, &path, &allowed)),
        RouteMatch::NotFound => match match_route(service.routes, &method, &path) {
            RouteMatch::Found { id, pattern, params } => {
                route = Some(pattern);
                let params = params.into_iter().map(|(k, v)| (k, v.to_string())).collect();
                handle(id, req, params, received.clone()).await
            }
            RouteMatch::MethodNotAllowed { allowed } => Err(not_allowed(&method, &path, &allowed)),
            RouteMatch::NotFound => {
                Err(ApiError::new(ErrorCode::NotFound, format!("There is no route {path}.")))
            }
        },
    };
    let (status, body, extra) = match outcome {
        Ok(reply) => (reply.status, reply.body, reply.headers),
        Err(e) => (e.status(), e.body(), e.headers),
    };
    headers.extend(extra);
    headers.push(("Cache-Control", access::cache_control(route).to_string()));
    log_request(env, &received, &method, route, status);
    if status == 204 {
        return http::empty_response(status, &headers);
    }
    http::to_response(status, &body, &headers)
}

/// The request's one line in the log (`dream_core::access::AccessLine`), unless
/// `REQUEST_LOGS` is `off`.
fn log_request(env: &Env, received: &Received, method: &str, route: Option<&str>, status: u16) {
    if !config::request_logs(env) {
        return;
    }
    let platform = received.platform.borrow();
    let line = access::AccessLine {
        request_id: &received.request_id,
        method,
        route,
        status,
        duration_ms: clock::now_ms() - received.at_ms,
        platform_id: platform.as_deref(),
    };
    worker::console_log!("{}", line.to_line());
}

fn not_allowed(method: &str, path: &str, allowed: &[&str]) -> ApiError {
    ApiError::new(ErrorCode::MethodNotAllowed, format!("{method} is not allowed on {path}."))
        .with_header("Allow", allowed.join(", "))
}

/// Cloudflare's `CF-Ray` when there is one, so our logs and theirs line up.
fn request_id(req: &Incoming) -> String {
    if let Ok(Some(ray)) = req.headers().get("CF-Ray") {
        return ray;
    }
    match random::random_hex(12) {
        Some(hex) => format!("req_{hex}"),
        None => format!("req_{:x}", clock::now_ms()),
    }
}

//! What dream-api's workers share, so that no worker copies another: the JSON error
//! shape ([`error`]), the HTTP conventions ([`http`]), configuration ([`config`]), the KV
//! copies behind their in-isolate cache ([`store`]), the Durable Objects' one client
//! ([`objects`]), the Clerk session-token check and Backend API ([`clerk`]), Stripe's API
//! ([`stripe`]), end-user billing and the platform's own plan ([`billing`]), what is done
//! with a developer's platform ([`platform`]), and the request entry ([`serve`]): request
//! id, CORS, route matching, and the one error → JSON mapping.
//!
//! The rules themselves live in `dream_core`; this crate is the I/O around them.

pub mod billing;
pub mod clerk;
pub mod config;
pub mod crypto;
pub mod error;
pub mod http;
pub mod objects;
pub mod platform;
pub mod store;
pub mod stripe;

use dream_core::cors;
use dream_core::error::ErrorCode;
use dream_core::routing::{match_route, Route, RouteMatch};
use error::{ApiError, ApiResult};
use http::Reply;
use std::future::Future;
use worker::{Env, Method, Request, Response};

/// Answers one request: `OPTIONS` preflights, then the route table, then `handle` for the
/// matched route (with its path parameters); every answer gets `X-Request-Id` and CORS.
pub async fn serve<R, F, Fut>(
    req: Request,
    env: &Env,
    routes: &[Route<R>],
    handle: F,
) -> worker::Result<Response>
where
    R: Copy,
    F: FnOnce(R, Request, Vec<(&'static str, String)>) -> Fut,
    Fut: Future<Output = ApiResult<Reply>>,
{
    let request_id = request_id(&req);
    let origin = req.headers().get("Origin").ok().flatten();
    let allowed_origins = config::allowed_origins(env);

    let mut headers = vec![("X-Request-Id", request_id)];
    if req.method() == Method::Options {
        headers.extend(cors::preflight_headers(origin.as_deref(), &allowed_origins));
        return http::empty_response(204, &headers);
    }
    headers.extend(cors::response_headers(origin.as_deref(), &allowed_origins));

    let path = http::path(&req).unwrap_or_default();
    let method = req.method().to_string();
    let outcome = match match_route(routes, &method, &path) {
        RouteMatch::Found { id, params } => {
            let params = params.into_iter().map(|(k, v)| (k, v.to_string())).collect();
            handle(id, req, params).await
        }
        RouteMatch::MethodNotAllowed { allowed } => Err(ApiError::new(
            ErrorCode::MethodNotAllowed,
            format!("{method} is not allowed on {path}."),
        )
        .with_header("Allow", allowed.join(", "))),
        RouteMatch::NotFound => {
            Err(ApiError::new(ErrorCode::NotFound, format!("There is no route {path}.")))
        }
    };
    let (status, body, extra) = match outcome {
        Ok(reply) => (reply.status, reply.body, reply.headers),
        Err(e) => (e.status(), e.body(), e.headers),
    };
    headers.extend(extra);
    http::to_response(status, &body, &headers)
}

/// Cloudflare's `CF-Ray` when there is one, so our logs and theirs line up.
fn request_id(req: &Request) -> String {
    if let Ok(Some(ray)) = req.headers().get("CF-Ray") {
        return ray;
    }
    let mut bytes = [0u8; 12];
    match getrandom::getrandom(&mut bytes) {
        Ok(()) => format!("req_{}", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()),
        Err(_) => format!("req_{:x}", worker::Date::now().as_millis()),
    }
}

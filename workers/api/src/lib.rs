//! The multi-tenant dream-api worker: developers' servers call it with a `pk_live_` key
//! to define tiers and meter their end-users. Thin by design: requests are parsed into
//! `dream_core` types, core decides, and the Durable Objects in [`objects`] own every
//! count.

mod auth;
mod clerk_auth;
mod config;
mod error;
mod http;
pub mod objects;
mod routes;
mod store;

use dream_core::cors;
use dream_core::error::ErrorCode;
use dream_core::routing::{match_route, RouteMatch};
use error::ApiError;
use worker::{event, Context, Env, Method, Request, Response};

#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> worker::Result<Response> {
    let request_id = request_id(&req);
    let origin = req.headers().get("Origin").ok().flatten();
    let allowed_origins = config::allowed_origins(&env);

    let mut headers = vec![("X-Request-Id", request_id)];
    if req.method() == Method::Options {
        headers.extend(cors::preflight_headers(origin.as_deref(), &allowed_origins));
        return http::empty_response(204, &headers);
    }
    headers.extend(cors::response_headers(origin.as_deref(), &allowed_origins));

    let (status, body, extra) = match dispatch(req, &env, &ctx).await {
        Ok(reply) => (reply.status, reply.body, reply.headers),
        Err(e) => (e.status(), e.body(), e.headers),
    };
    headers.extend(extra);
    http::to_response(status, &body, &headers)
}

async fn dispatch(req: Request, env: &Env, ctx: &Context) -> error::ApiResult<http::Reply> {
    let path = req.path();
    let method = req.method().to_string();
    match match_route(routes::ROUTES, &method, &path) {
        RouteMatch::Found { id, params } => {
            let params = params.into_iter().map(|(k, v)| (k, v.to_string())).collect();
            let call = routes::Call { req, env, ctx, store: store::Store::new(env), params };
            routes::handle(id, call).await
        }
        RouteMatch::MethodNotAllowed { allowed } => Err(ApiError::new(
            ErrorCode::MethodNotAllowed,
            format!("{method} is not allowed on {path}."),
        )
        .with_header("Allow", allowed.join(", "))),
        RouteMatch::NotFound => {
            Err(ApiError::new(ErrorCode::NotFound, format!("There is no route {path}.")))
        }
    }
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

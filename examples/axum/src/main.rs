//! A small axum server that meters each of its own requests with dream-api before
//! doing the work: `GET /quote` for the end-user named in `X-User-Id`.
//!
//! Configuration (environment): `DREAM_API_KEY` (required), `DREAM_API_URL` (the api
//! worker; the local stack's by default), `BIND` (`127.0.0.1:3000` by default; port 0
//! picks a free one). It prints `listening on http://ADDR` once it accepts connections.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use dream_api_client::{Client, DenyReason, Track, TrackOptions};
use serde_json::json;
use std::io::Write;

const QUOTES: [&str; 3] = [
    "Simplicity is prerequisite for reliability.",
    "Make it work, make it right, make it fast.",
    "The best code is no code at all.",
];

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let key =
        std::env::var("DREAM_API_KEY").map_err(|_| "set DREAM_API_KEY to your pk_live_… key")?;
    let base_url =
        std::env::var("DREAM_API_URL").unwrap_or_else(|_| "http://127.0.0.1:8787".into());
    let bind = std::env::var("BIND").unwrap_or_else(|_| "127.0.0.1:3000".into());
    // Fail open: if dream-api cannot be reached, serve the request uncounted rather
    // than turn every visitor away.
    let dream = Client::builder().api_key(&key).base_url(base_url).fail_open(true).build()?;

    let app = Router::new()
        .route("/health", get(|| async { "ok" }))
        .route("/quote", get(quote))
        .with_state(dream);
    let listener = tokio::net::TcpListener::bind(&bind).await?;
    println!("listening on http://{}", listener.local_addr()?);
    std::io::stdout().flush()?;
    axum::serve(listener, app).await?;
    Ok(())
}

/// One metered action: a quote, counted against the end-user's tier before it is served.
async fn quote(State(dream): State<Client>, headers: HeaderMap) -> Response {
    let Some(user) = headers.get("X-User-Id").and_then(|v| v.to_str().ok()) else {
        return (StatusCode::UNAUTHORIZED, Json(json!({"error": "send X-User-Id"})))
            .into_response();
    };
    match dream.track(user, TrackOptions::default()).await {
        Ok(Track::Allowed { usage, .. }) => {
            let quote = QUOTES[(usage.count % QUOTES.len() as u64) as usize];
            Json(json!({"quote": quote, "remaining": usage.remaining})).into_response()
        }
        Ok(Track::Degraded) => {
            let mut response = Json(json!({"quote": QUOTES[0], "remaining": null})).into_response();
            response.headers_mut().insert("X-Metering", HeaderValue::from_static("degraded"));
            response
        }
        Ok(Track::Denied { reason, retry_after_seconds, .. }) => {
            refused(reason, retry_after_seconds)
        }
        Err(e) => {
            eprintln!("metering failed: {e}");
            (StatusCode::BAD_GATEWAY, Json(json!({"error": "metering failed"}))).into_response()
        }
    }
}

/// What the end-user sees when dream-api refuses: upgrade, wait, or come back later.
fn refused(reason: DenyReason, retry_after_seconds: Option<u64>) -> Response {
    let (status, message) = match reason {
        DenyReason::TierLimitReached => {
            (StatusCode::PAYMENT_REQUIRED, "You have used this month's quotes: upgrade for more.")
        }
        DenyReason::RateLimited => (StatusCode::TOO_MANY_REQUESTS, "Slow down a little."),
        DenyReason::PlatformQuotaReached => {
            (StatusCode::SERVICE_UNAVAILABLE, "Quotes are resting until next month.")
        }
    };
    let body = Json(json!({"error": reason.code(), "message": message}));
    let mut response = (status, body).into_response();
    if let Some(seconds) = retry_after_seconds {
        response.headers_mut().insert("Retry-After", HeaderValue::from(seconds));
    }
    response
}

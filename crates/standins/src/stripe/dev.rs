//! `/dev/*`: what tests read of the Stripe stand-in (events, Connect's records) and the
//! late answers they ask for (`/dev/delays`). Faults are the crate's (`crate::faults`).

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::errors::StripeError;
use super::Stripe;

/// The longest a `/dev/delays` answer is held back, in milliseconds.
const MAX_DELAY_MS: u64 = 60_000;

impl Stripe {
    /// How long to hold back the answer to a request whose `name` parameter is `name`.
    pub(super) fn delay_for(&self, name: &str) -> Option<u64> {
        self.delays.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(name).copied()
    }
}

/// `GET /dev/events`: every event emitted so far.
pub(super) async fn dev_events(State(stripe): State<Stripe>) -> Json<Value> {
    Json(json!({ "data": stripe.account().events }))
}

/// `POST /dev/delays {"name": "…", "ms": N}`: from now on, a request whose `name`
/// parameter is `name` (a product, say) is answered only after N ms, so tests can see
/// what a worker does when Stripe is slow without slowing anything else.
pub(super) async fn dev_delay(State(stripe): State<Stripe>, Json(body): Json<Value>) -> Response {
    let (Some(name), Some(ms)) = (body["name"].as_str(), body["ms"].as_u64()) else {
        return StripeError::invalid("name", "Send {\"name\": \"…\", \"ms\": N}.").into_response();
    };
    let ms = ms.min(MAX_DELAY_MS);
    stripe
        .delays
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .insert(name.to_string(), ms);
    Json(json!({ "name": name, "ms": ms })).into_response()
}

/// `GET /dev/connect`: every account and every token issued, revoked or not, so that
/// tests can tell where tokens went.
pub(super) async fn dev_connect(State(stripe): State<Stripe>) -> Json<Value> {
    let account = stripe.account();
    let accounts: Vec<Value> = account
        .objects
        .values()
        .filter(|o| o["object"] == "account")
        .map(|a| {
            json!({
                "id": a["id"],
                "type": a["type"],
                "email": a["email"],
                "connected": account.connected(a["id"].as_str().unwrap_or_default()),
                "charges_enabled": a["charges_enabled"],
                "details_submitted": a["details_submitted"],
                "payouts_enabled": a["payouts_enabled"],
            })
        })
        .collect();
    let tokens: Vec<Value> = account
        .connect
        .tokens
        .iter()
        .map(|t| {
            json!({
                "stripe_user_id": t.stripe_user_id,
                "access_token": t.access_token,
                "refresh_token": t.refresh_token,
                "revoked": t.revoked,
            })
        })
        .collect();
    Json(json!({ "accounts": accounts, "tokens": tokens }))
}

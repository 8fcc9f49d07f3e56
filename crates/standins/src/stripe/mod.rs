//! The Stripe stand-in: the part of Stripe's API dream-api uses, form-encoded in and
//! JSON out, with Stripe's error shape and `Idempotency-Key` replay, and the part of
//! Stripe Connect it uses (connected accounts, onboarding links, OAuth).
//!
//! - `POST /v1/products`, `POST /v1/prices` (and `GET …/{id}`).
//! - `POST /v1/checkout/sessions` → a hosted page at `/c/pay/{id}` whose "Pay" button
//!   creates a customer and a subscription, signs and delivers `customer.subscription.created`
//!   and `checkout.session.completed`, and redirects to `success_url`.
//! - `POST /v1/billing_portal/sessions` → a page at `/p/session/{id}` with "Cancel" per
//!   subscription (delivers `customer.subscription.deleted`, redirects to `return_url`).
//! - `GET|POST|DELETE /v1/subscriptions/{id}`.
//! - `POST /v1/accounts` (and `GET /v1/accounts/{id}`): a connected account, which cannot
//!   take charges until it has been onboarded.
//! - `POST /v1/account_links` (`type=account_onboarding`, valid 5 minutes, used once) → a
//!   page at `/connect/onboard/{id}` whose "Complete onboarding" button enables charges
//!   and payouts, delivers `account.updated` and redirects to `return_url`; an expired or
//!   used link redirects to `refresh_url` instead.
//! - Connect OAuth, on the same port (what `STRIPE_CONNECT_BASE` points at), with OAuth's
//!   error shape `{"error", "error_description"}`:
//!   - `GET /oauth/authorize?response_type=code&client_id=…&scope=…&state=…&redirect_uri=…`:
//!     a page to approve or deny the application. Approving creates a connected account
//!     (onboarded), delivers `account.application.authorized` and redirects with a
//!     single-use `code` valid 5 minutes; denying redirects with `error=access_denied`.
//!   - `POST /oauth/token` (`grant_type=authorization_code`, the secret key as
//!     `client_secret` or in `Authorization`) → the account's `access_token` (usable as an
//!     API key acting as that account), `refresh_token`, `stripe_publishable_key` and
//!     `stripe_user_id`.
//!   - `POST /oauth/deauthorize` (`client_id`, `stripe_user_id`): disconnects the account,
//!     revokes its tokens and delivers `account.application.deauthorized`.
//! - `GET /dev/events`: every event emitted so far; `GET /dev/connect`: every connected
//!   account and every token issued, revoked or not. For tests.
//!
//! Every object belongs to the platform or to one connected account. A `/v1` call with
//! `Stripe-Account: acct_…` acts as that account, and is refused (`403 account_invalid`)
//! unless the account is connected. An object of another account, or of the platform
//! from a connected account and the reverse, is `404 resource_missing`, as if it did not
//! exist. Idempotency keys are per account. Hosted pages act for the owner of their
//! session, and events about a connected account's objects carry `"account": "acct_…"`.
//!
//! Events are signed with the webhook secret (as Stripe does, see `dream_core::stripe`)
//! and posted to every configured endpoint, retried on failure; deliveries can be
//! doubled or reversed ([`Delivery`]) to exercise receivers' idempotency and ordering.
//!
//! Every `/v1` endpoint refuses a parameter it does not take as Stripe does: `400`
//! `invalid_request_error`, `Received unknown parameter: line_items[0][prise]`, with
//! that name as `param` (free-form `metadata[…]` keys and `expand[]` are always taken).
//! `/dev/delays` (`{name, ms}`) answers requests whose `name` parameter matches late;
//! `/dev/faults` fails requests on demand (see [`crate::faults`]), in Stripe's error
//! shape (`api_error`).
//!
//! The module by concern: `state` (what is held and saved), `form` (a call, its
//! parameters, idempotency), `api` and `connect` (the endpoints), `pages` (what a person
//! sees), `events` (delivery), `errors` (Stripe's and OAuth's error shapes), `dev`.

mod api;
mod connect;
mod dev;
mod errors;
mod events;
mod form;
mod pages;
mod state;

pub use errors::{OAuthError, StripeError};
pub use events::Delivery;

use axum::http::{HeaderMap, Method};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use dream_core::stripe::WebhookSecret;
use rand::RngCore;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::faults::Faults;
use crate::StateFile;
use state::{Account, SavedAccount};

pub const DEV_SECRET_KEY: &str = "sk_test_dream_standin";
pub const DEV_WEBHOOK_SECRET: &str = "whsec_dream_standin";
/// The platform's Connect application, as OAuth's `client_id`.
pub const DEV_CLIENT_ID: &str = "ca_dream_standin";

/// How long an OAuth authorization code can be exchanged, in seconds.
const CODE_LIFETIME: i64 = 300;
/// How long an account link can be opened, in seconds.
const LINK_LIFETIME: i64 = 300;

#[derive(Clone)]
pub struct Stripe {
    secret_key: Arc<str>,
    webhook_secret: WebhookSecret,
    webhooks: Arc<[String]>,
    base: Arc<str>,
    client_id: Arc<str>,
    delivery: Delivery,
    account: Arc<Mutex<Account>>,
    /// Answers to hold back (`/dev/delays`), by the `name` parameter of the request.
    delays: Arc<Mutex<HashMap<String, u64>>>,
    faults: Faults,
    http: reqwest::Client,
    state: StateFile,
}

impl Stripe {
    pub fn new(
        secret_key: String,
        webhook_secret: String,
        webhooks: Vec<String>,
        base: String,
        delivery: Delivery,
    ) -> Self {
        Self {
            secret_key: secret_key.into(),
            webhook_secret: WebhookSecret::new(webhook_secret),
            webhooks: webhooks.into(),
            base: base.into(),
            client_id: DEV_CLIENT_ID.into(),
            delivery,
            account: Arc::default(),
            delays: Arc::default(),
            faults: Faults::new(errors::fault_answer),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap_or_default(),
            state: StateFile::default(),
        }
    }

    /// The platform's Connect application id, the only `client_id` OAuth accepts
    /// ([`DEV_CLIENT_ID`] unless set).
    pub fn with_client_id(mut self, client_id: String) -> Self {
        self.client_id = client_id.into();
        self
    }

    /// The `client_id` OAuth accepts.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// Keeps the account in `state` between runs: loaded from it when it exists, saved
    /// to it after every change.
    pub fn with_state(mut self, state: StateFile) -> Self {
        if let Some(saved) = state.load::<SavedAccount>() {
            self.account = Arc::new(Mutex::new(saved.into()));
        }
        self.state = state;
        self
    }

    /// Writes the account to its state file, if it has one.
    pub fn save(&self) {
        let saved = SavedAccount::from(&*self.account());
        self.state.save(&saved);
    }

    /// Creates a monthly USD price with a chosen id (and its product), as a developer
    /// would in Stripe's dashboard before configuring `STRIPE_PRICE_ID`.
    pub fn seed_price(&self, id: &str, unit_amount: i64) {
        let mut account = self.account();
        let product_id = account.new_id("prod");
        let product = json!({"id": product_id, "object": "product", "active": true, "name": id, "metadata": {}});
        account.put(None, product);
        let price = json!({
            "id": id,
            "object": "price",
            "active": true,
            "product": product_id,
            "unit_amount": unit_amount,
            "currency": "usd",
            "recurring": {"interval": "month"},
            "metadata": {},
        });
        account.put(None, price);
    }

    pub fn router(&self) -> Router {
        let app = Router::new()
            .route("/v1/products", post(api::create_product))
            .route("/v1/products/{id}", get(api::get_product))
            .route("/v1/prices", post(api::create_price))
            .route("/v1/prices/{id}", get(api::get_price))
            .route("/v1/checkout/sessions", post(api::create_checkout_session))
            .route("/v1/checkout/sessions/{id}", get(api::get_checkout_session))
            .route("/v1/billing_portal/sessions", post(api::create_portal_session))
            .route(
                "/v1/subscriptions/{id}",
                get(api::get_subscription)
                    .post(api::update_subscription)
                    .delete(api::cancel_subscription),
            )
            .route("/v1/accounts", post(connect::create_account))
            .route("/v1/accounts/{id}", get(connect::get_account))
            .route("/v1/account_links", post(connect::create_account_link))
            .route("/c/pay/{id}", get(pages::pay_page).post(pages::pay))
            .route("/p/session/{id}", get(pages::portal_page))
            .route("/p/session/{id}/cancel/{subscription}", post(pages::portal_cancel))
            .route("/connect/onboard/{id}", get(pages::onboard_page).post(pages::onboard))
            .route("/oauth/authorize", get(pages::authorize_page).post(pages::authorize))
            .route("/oauth/token", post(connect::oauth_token))
            .route("/oauth/deauthorize", post(connect::oauth_deauthorize))
            .route("/dev/events", get(dev::dev_events))
            .route("/dev/connect", get(dev::dev_connect))
            .route("/dev/delays", post(dev::dev_delay))
            .fallback(api::unrecognized)
            .layer(axum::middleware::from_fn_with_state(self.clone(), save_after_changes))
            .with_state(self.clone());
        self.faults.wrap(app)
    }

    fn account(&self) -> MutexGuard<'_, Account> {
        self.account.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Every request but a read may have changed the account: save it afterwards.
async fn save_after_changes(
    axum::extract::State(stripe): axum::extract::State<Stripe>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let changes = req.method() != Method::GET;
    let resp = next.run(req).await;
    if changes {
        stripe.save();
    }
    resp
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// `len` random letters and digits from the thread's CSPRNG (seeded by the OS).
fn random(len: usize) -> String {
    let mut rng = rand::thread_rng();
    let mut source = |buf: &mut [u8]| rng.fill_bytes(buf);
    dream_core::random::base62_string(&mut source, len)
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
}

/// A parameter's plain value, if given and not empty.
fn field<'a>(params: &'a Value, name: &str) -> Option<&'a str> {
    params.get(name).and_then(Value::as_str).filter(|s| !s.is_empty())
}

//! The Stripe stand-in: the part of Stripe's API dream-api uses, form-encoded in and
//! JSON out, with Stripe's error shape and `Idempotency-Key` replay.
//!
//! - `POST /v1/products`, `POST /v1/prices` (and `GET …/{id}`).
//! - `POST /v1/checkout/sessions` → a hosted page at `/c/pay/{id}` whose "Pay" button
//!   creates a customer and a subscription, signs and delivers `customer.subscription.created`
//!   and `checkout.session.completed`, and redirects to `success_url`.
//! - `POST /v1/billing_portal/sessions` → a page at `/p/session/{id}` with "Cancel" per
//!   subscription (delivers `customer.subscription.deleted`, redirects to `return_url`).
//! - `GET|POST|DELETE /v1/subscriptions/{id}`.
//! - `GET /dev/events`: every event emitted so far, for tests.
//!
//! Events are signed with the webhook secret (as Stripe does, see `dream_core::stripe`)
//! and posted to every configured endpoint, retried on failure; deliveries can be
//! doubled or reversed ([`Delivery`]) to exercise receivers' idempotency and ordering.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use dream_core::stripe::WebhookSecret;
use dream_core::stripe_form;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::StateFile;

pub const DEV_SECRET_KEY: &str = "sk_test_dream_standin";
pub const DEV_WEBHOOK_SECRET: &str = "whsec_dream_standin";

/// How events reach the webhook endpoints.
#[derive(Debug, Clone, Copy, Default)]
pub struct Delivery {
    /// Deliver every event twice (receivers must apply each `event.id` once).
    pub twice: bool,
    /// Deliver the events of one action newest first (receivers must order by `created`).
    pub reversed: bool,
}

/// What `--state` keeps of the account.
#[derive(serde::Serialize, serde::Deserialize)]
struct SavedAccount {
    objects: BTreeMap<String, Value>,
    idempotent: Vec<(String, String, String, u16, Value)>,
    events: Vec<Value>,
    next_id: u64,
}

impl From<&Account> for SavedAccount {
    fn from(a: &Account) -> Self {
        Self {
            objects: a.objects.clone(),
            idempotent: a
                .idempotent
                .iter()
                .map(|((k, m, p), (status, body))| {
                    (k.clone(), m.clone(), p.clone(), status.as_u16(), body.clone())
                })
                .collect(),
            events: a.events.clone(),
            next_id: a.next_id,
        }
    }
}

impl From<SavedAccount> for Account {
    fn from(s: SavedAccount) -> Self {
        Self {
            objects: s.objects,
            idempotent: s
                .idempotent
                .into_iter()
                .map(|(k, m, p, status, body)| {
                    ((k, m, p), (StatusCode::from_u16(status).unwrap_or(StatusCode::OK), body))
                })
                .collect(),
            events: s.events,
            next_id: s.next_id,
        }
    }
}

#[derive(Default)]
struct Account {
    objects: BTreeMap<String, Value>,
    /// `(Idempotency-Key, method, path)` → the first answer.
    idempotent: HashMap<(String, String, String), (StatusCode, Value)>,
    events: Vec<Value>,
    next_id: u64,
}

impl Account {
    fn new_id(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}_{:014}", self.next_id)
    }

    fn get(&self, id: &str, object: &str) -> Result<Value, StripeError> {
        self.objects
            .get(id)
            .filter(|o| o["object"] == object)
            .cloned()
            .ok_or_else(|| StripeError::missing(id))
    }

    fn event(&mut self, kind: &str, object: &Value) -> Value {
        let event = json!({
            "id": self.new_id("evt"),
            "object": "event",
            "api_version": "2024-06-20",
            "created": now(),
            "livemode": false,
            "type": kind,
            "data": { "object": object },
        });
        self.events.push(event.clone());
        event
    }
}

#[derive(Clone)]
pub struct Stripe {
    secret_key: Arc<str>,
    webhook_secret: WebhookSecret,
    webhooks: Arc<[String]>,
    base: Arc<str>,
    delivery: Delivery,
    account: Arc<Mutex<Account>>,
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
            delivery,
            account: Arc::default(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap_or_default(),
            state: StateFile::default(),
        }
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
        account.objects.insert(product_id.clone(), product);
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
        account.objects.insert(id.to_string(), price);
    }

    pub fn router(&self) -> Router {
        Router::new()
            .route("/v1/products", post(api))
            .route("/v1/products/{id}", get(api))
            .route("/v1/prices", post(api))
            .route("/v1/prices/{id}", get(api))
            .route("/v1/checkout/sessions", post(api))
            .route("/v1/checkout/sessions/{id}", get(api))
            .route("/v1/billing_portal/sessions", post(api))
            .route("/v1/subscriptions/{id}", get(api).post(api).delete(api))
            .route("/c/pay/{id}", get(pay_page).post(pay))
            .route("/p/session/{id}", get(portal_page))
            .route("/p/session/{id}/cancel/{subscription}", post(portal_cancel))
            .route("/dev/events", get(dev_events))
            .layer(axum::middleware::from_fn_with_state(self.clone(), save_after_changes))
            .with_state(self.clone())
    }

    fn account(&self) -> MutexGuard<'_, Account> {
        self.account.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Signs and posts `events` to every endpoint, in the background, with retries.
    fn deliver(&self, mut events: Vec<Value>) {
        if self.delivery.reversed {
            events.reverse();
        }
        let copies = if self.delivery.twice { 2 } else { 1 };
        for endpoint in self.webhooks.iter() {
            let (endpoint, events, this) = (endpoint.clone(), events.clone(), self.clone());
            tokio::spawn(async move {
                for event in &events {
                    for _ in 0..copies {
                        this.post_event(&endpoint, event).await;
                    }
                }
            });
        }
    }

    async fn post_event(&self, endpoint: &str, event: &Value) {
        let body = event.to_string();
        for attempt in 0..5u32 {
            let t = now();
            let signature = format!("t={t},v1={}", self.webhook_secret.sign(t, body.as_bytes()));
            let sent = self
                .http
                .post(endpoint)
                .header("Content-Type", "application/json")
                .header("Stripe-Signature", signature)
                .body(body.clone())
                .send()
                .await;
            if sent.is_ok_and(|r| r.status().is_success()) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200 * 2u64.pow(attempt))).await;
        }
        eprintln!("Stripe stand-in: gave up delivering {} to {endpoint}", event["id"]);
    }
}

/// Stripe's error shape: `{"error": {"type", "code", "param", "message"}}`.
#[derive(Debug)]
pub struct StripeError {
    status: StatusCode,
    kind: &'static str,
    code: Option<&'static str>,
    param: Option<String>,
    message: String,
}

impl StripeError {
    fn invalid(param: &str, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            kind: "invalid_request_error",
            code: Some("parameter_invalid"),
            param: Some(param.into()),
            message: message.into(),
        }
    }

    fn required(param: &str) -> Self {
        Self {
            code: Some("parameter_missing"),
            ..Self::invalid(param, format!("Missing required param: {param}."))
        }
    }

    fn missing(id: &str) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            kind: "invalid_request_error",
            code: Some("resource_missing"),
            param: Some("id".into()),
            message: format!("No such object: '{id}'"),
        }
    }
}

impl IntoResponse for StripeError {
    fn into_response(self) -> Response {
        let mut error = json!({"type": self.kind, "message": self.message});
        if let Some(code) = self.code {
            error["code"] = json!(code);
        }
        if let Some(param) = self.param {
            error["param"] = json!(param);
        }
        (self.status, Json(json!({ "error": error }))).into_response()
    }
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

fn field<'a>(params: &'a Value, name: &str) -> Option<&'a str> {
    params.get(name).and_then(Value::as_str).filter(|s| !s.is_empty())
}

fn required<'a>(params: &'a Value, name: &str) -> Result<&'a str, StripeError> {
    field(params, name).ok_or_else(|| StripeError::required(name))
}

/// Every `/v1` call: authentication, form decoding, idempotent replay, then the route.
async fn api(
    State(stripe): State<Stripe>,
    method: Method,
    uri: Uri,
    path: Option<Path<String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let key = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if key != Some(&*stripe.secret_key) {
        return StripeError {
            status: StatusCode::UNAUTHORIZED,
            kind: "invalid_request_error",
            code: None,
            param: None,
            message: "Invalid API Key provided.".into(),
        }
        .into_response();
    }
    let text = String::from_utf8_lossy(&body);
    let Some(params) = stripe_form::decode(&text) else {
        return StripeError::invalid("body", "The request body could not be decoded.")
            .into_response();
    };
    let idempotency = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .filter(|_| method == Method::POST)
        .map(|k| (k.to_string(), method.to_string(), uri.path().to_string()));
    if let Some(key) = &idempotency {
        if let Some((status, body)) = stripe.account().idempotent.get(key).cloned() {
            let mut resp = (status, Json(body)).into_response();
            resp.headers_mut()
                .insert("idempotent-replayed", "true".parse().unwrap_or_else(|_| unreachable!()));
            return resp;
        }
    }
    let id = path.map(|Path(id)| id);
    let (status, body) = match route(&stripe, &method, uri.path(), id.as_deref(), &params) {
        Ok(body) => (StatusCode::OK, body),
        Err(e) => {
            let resp = e.into_response();
            return resp;
        }
    };
    if let Some(key) = idempotency {
        stripe.account().idempotent.insert(key, (status, body.clone()));
    }
    (status, Json(body)).into_response()
}

fn route(
    stripe: &Stripe,
    method: &Method,
    path: &str,
    id: Option<&str>,
    params: &Value,
) -> Result<Value, StripeError> {
    let mut account = stripe.account();
    let segments: Vec<&str> = path.trim_start_matches("/v1/").split('/').collect();
    match (method.as_str(), segments.as_slice()) {
        ("POST", ["products"]) => {
            let product = json!({
                "id": account.new_id("prod"),
                "object": "product",
                "active": true,
                "name": required(params, "name")?,
                "metadata": params.get("metadata").cloned().unwrap_or(json!({})),
            });
            account
                .objects
                .insert(product["id"].as_str().unwrap_or_default().into(), product.clone());
            Ok(product)
        }
        ("POST", ["prices"]) => {
            let product = account.get(required(params, "product")?, "product")?;
            let unit_amount: i64 = required(params, "unit_amount")?
                .parse()
                .map_err(|_| StripeError::invalid("unit_amount", "Invalid integer: unit_amount"))?;
            let price = json!({
                "id": account.new_id("price"),
                "object": "price",
                "active": true,
                "product": product["id"],
                "unit_amount": unit_amount,
                "currency": required(params, "currency")?,
                "recurring": params.get("recurring").cloned().unwrap_or(Value::Null),
                "metadata": params.get("metadata").cloned().unwrap_or(json!({})),
            });
            account.objects.insert(price["id"].as_str().unwrap_or_default().into(), price.clone());
            Ok(price)
        }
        ("POST", ["checkout", "sessions"]) => {
            let mode = required(params, "mode")?;
            if mode != "subscription" {
                return Err(StripeError::invalid(
                    "mode",
                    "Only mode=subscription is supported here.",
                ));
            }
            let success_url = required(params, "success_url")?;
            let price_id = params
                .pointer("/line_items/0/price")
                .and_then(Value::as_str)
                .ok_or_else(|| StripeError::required("line_items[0][price]"))?;
            let price = account.get(price_id, "price")?;
            let id = account.new_id("cs_test");
            let session = json!({
                "id": id,
                "object": "checkout.session",
                "mode": mode,
                "status": "open",
                "payment_status": "unpaid",
                "url": format!("{}/c/pay/{id}", stripe.base),
                "success_url": success_url,
                "cancel_url": field(params, "cancel_url"),
                "client_reference_id": field(params, "client_reference_id"),
                "customer": field(params, "customer"),
                "customer_email": field(params, "customer_email"),
                "subscription": null,
                "metadata": params.get("metadata").cloned().unwrap_or(json!({})),
                "line_items": {"data": [{"price": price}]},
                "subscription_data": params.get("subscription_data").cloned().unwrap_or(json!({})),
            });
            account.objects.insert(id, session.clone());
            Ok(session)
        }
        ("GET", [kind, _] | [_, kind, _]) => {
            let object = match *kind {
                "products" => "product",
                "prices" => "price",
                "sessions" => "checkout.session",
                _ => "subscription",
            };
            account.get(id.unwrap_or_default(), object)
        }
        ("POST", ["billing_portal", "sessions"]) => {
            let customer = account.get(required(params, "customer")?, "customer")?;
            let id = account.new_id("bps");
            let session = json!({
                "id": id,
                "object": "billing_portal.session",
                "customer": customer["id"],
                "return_url": field(params, "return_url"),
                "url": format!("{}/p/session/{id}", stripe.base),
            });
            account.objects.insert(id, session.clone());
            Ok(session)
        }
        ("POST", ["subscriptions", _]) => {
            let id = id.unwrap_or_default();
            let mut subscription = account.get(id, "subscription")?;
            if let Some(flag) = field(params, "cancel_at_period_end") {
                subscription["cancel_at_period_end"] = json!(flag == "true");
            }
            if let Some(Value::Object(metadata)) = params.get("metadata") {
                for (k, v) in metadata {
                    subscription["metadata"][k] = v.clone();
                }
            }
            account.objects.insert(id.into(), subscription.clone());
            let event = account.event("customer.subscription.updated", &subscription);
            drop(account);
            stripe.deliver(vec![event]);
            Ok(subscription)
        }
        ("DELETE", ["subscriptions", _]) => {
            let subscription = cancel(&mut account, id.unwrap_or_default())?;
            let event = account.event("customer.subscription.deleted", &subscription);
            drop(account);
            stripe.deliver(vec![event]);
            Ok(subscription)
        }
        _ => Err(StripeError::invalid(
            "path",
            format!("Unrecognized request URL ({method} {path})."),
        )),
    }
}

fn cancel(account: &mut Account, id: &str) -> Result<Value, StripeError> {
    let mut subscription = account.get(id, "subscription")?;
    subscription["status"] = json!("canceled");
    subscription["canceled_at"] = json!(now());
    account.objects.insert(id.into(), subscription.clone());
    Ok(subscription)
}

async fn pay_page(
    State(stripe): State<Stripe>,
    Path(id): Path<String>,
) -> Result<Html<String>, StripeError> {
    let session = stripe.account().get(&id, "checkout.session")?;
    let price = &session["line_items"]["data"][0]["price"];
    let amount = price["unit_amount"].as_i64().unwrap_or(0);
    Ok(Html(format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Checkout (local Stripe stand-in)</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: system-ui, sans-serif; max-width: 28rem; margin: 4rem auto; padding: 0 1rem">
<h1>Subscribe</h1><p>${}.{:02} {} per month. This is the local Stripe stand-in: no card needed.</p>
<form method="post"><button type="submit" style="padding: .5rem 1rem">Pay</button></form>
</body></html>"#,
        amount / 100,
        amount % 100,
        price["currency"].as_str().unwrap_or("usd").to_uppercase(),
    )))
}

/// "Pay": a customer, an active subscription, two events, and back to `success_url`.
async fn pay(
    State(stripe): State<Stripe>,
    Path(id): Path<String>,
) -> Result<Redirect, StripeError> {
    let mut account = stripe.account();
    let mut session = account.get(&id, "checkout.session")?;
    if session["status"] != "open" {
        return Err(StripeError::invalid("session", "This Checkout Session is no longer active."));
    }
    let customer_id = match session["customer"].as_str() {
        Some(existing) => existing.to_string(),
        None => {
            let customer = json!({"id": account.new_id("cus"), "object": "customer", "email": session["customer_email"]});
            let customer_id = customer["id"].as_str().unwrap_or_default().to_string();
            account.objects.insert(customer_id.clone(), customer);
            customer_id
        }
    };
    let subscription_id = account.new_id("sub");
    let subscription = json!({
        "id": subscription_id,
        "object": "subscription",
        "status": "active",
        "customer": customer_id,
        "cancel_at_period_end": false,
        "current_period_end": now() + 30 * 24 * 3600,
        "items": {"data": [{"price": session["line_items"]["data"][0]["price"]}]},
        "metadata": session["subscription_data"]["metadata"].clone(),
    });
    account.objects.insert(subscription_id.clone(), subscription.clone());
    session["status"] = json!("complete");
    session["payment_status"] = json!("paid");
    session["customer"] = json!(customer_id);
    session["subscription"] = json!(subscription_id);
    account.objects.insert(id.clone(), session.clone());
    let created = account.event("customer.subscription.created", &subscription);
    let completed = account.event("checkout.session.completed", &session);
    drop(account);
    stripe.deliver(vec![created, completed]);
    let success =
        session["success_url"].as_str().unwrap_or("/").replace("{CHECKOUT_SESSION_ID}", &id);
    Ok(Redirect::to(&success))
}

async fn portal_page(
    State(stripe): State<Stripe>,
    Path(id): Path<String>,
) -> Result<Html<String>, StripeError> {
    let account = stripe.account();
    let session = account.get(&id, "billing_portal.session")?;
    let rows: String = account
        .objects
        .values()
        .filter(|o| o["object"] == "subscription" && o["customer"] == session["customer"] && o["status"] == "active")
        .map(|s| {
            let sub = s["id"].as_str().unwrap_or_default();
            format!(
                r#"<li>{sub} <form method="post" action="/p/session/{id}/cancel/{sub}" style="display:inline"><button type="submit">Cancel</button></form></li>"#
            )
        })
        .collect();
    Ok(Html(format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Billing (local Stripe stand-in)</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 28rem; margin: 4rem auto; padding: 0 1rem">
<h1>Your subscriptions</h1><ul>{rows}</ul></body></html>"#
    )))
}

async fn portal_cancel(
    State(stripe): State<Stripe>,
    Path((id, subscription)): Path<(String, String)>,
) -> Result<Redirect, StripeError> {
    let mut account = stripe.account();
    let session = account.get(&id, "billing_portal.session")?;
    let owned = account.get(&subscription, "subscription")?;
    if owned["customer"] != session["customer"] {
        return Err(StripeError::missing(&subscription));
    }
    let cancelled = cancel(&mut account, &subscription)?;
    let event = account.event("customer.subscription.deleted", &cancelled);
    drop(account);
    stripe.deliver(vec![event]);
    Ok(Redirect::to(session["return_url"].as_str().unwrap_or("/")))
}

/// Every request but a read may have changed the account: save it afterwards.
async fn save_after_changes(
    State(stripe): State<Stripe>,
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

async fn dev_events(State(stripe): State<Stripe>) -> Json<Value> {
    Json(json!({ "data": stripe.account().events }))
}

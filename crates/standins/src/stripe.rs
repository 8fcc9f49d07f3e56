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

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use dream_core::stripe::WebhookSecret;
use dream_core::stripe_form;
use rand::RngCore;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::StateFile;

pub const DEV_SECRET_KEY: &str = "sk_test_dream_standin";
pub const DEV_WEBHOOK_SECRET: &str = "whsec_dream_standin";
/// The platform's Connect application, as OAuth's `client_id`.
pub const DEV_CLIENT_ID: &str = "ca_dream_standin";

/// How long an OAuth authorization code can be exchanged, in seconds.
const CODE_LIFETIME: i64 = 300;
/// How long an account link can be opened, in seconds.
const LINK_LIFETIME: i64 = 300;

/// How events reach the webhook endpoints.
#[derive(Debug, Clone, Copy, Default)]
pub struct Delivery {
    /// Deliver every event twice (receivers must apply each `event.id` once).
    pub twice: bool,
    /// Deliver the events of one action newest first (receivers must order by `created`).
    pub reversed: bool,
}

/// An `Idempotency-Key` answer is kept per account, method and path: `(account or
/// None for the platform, key, method, path)`.
type IdempotencyScope = (Option<String>, String, String, String);

/// What `--state` keeps of the account. The fields added with Connect default to empty,
/// so that a state file written before them still loads (everything the platform's).
#[derive(serde::Serialize, serde::Deserialize)]
struct SavedAccount {
    objects: BTreeMap<String, Value>,
    /// The platform's own idempotent answers: `(key, method, path, status, body)`.
    idempotent: Vec<(String, String, String, u16, Value)>,
    events: Vec<Value>,
    next_id: u64,
    /// Object id → the connected account it belongs to (the platform's are not listed).
    #[serde(default)]
    owners: BTreeMap<String, String>,
    /// Connected accounts' idempotent answers: `(account, key, method, path, status, body)`.
    #[serde(default)]
    connected_idempotent: Vec<(String, String, String, String, u16, Value)>,
    #[serde(default)]
    connect: Connect,
}

impl From<&Account> for SavedAccount {
    fn from(a: &Account) -> Self {
        let mut idempotent = Vec::new();
        let mut connected_idempotent = Vec::new();
        for ((owner, k, m, p), (status, body)) in &a.idempotent {
            let (k, m, p, status, body) =
                (k.clone(), m.clone(), p.clone(), status.as_u16(), body.clone());
            match owner {
                None => idempotent.push((k, m, p, status, body)),
                Some(owner) => connected_idempotent.push((owner.clone(), k, m, p, status, body)),
            }
        }
        Self {
            objects: a.objects.clone(),
            idempotent,
            events: a.events.clone(),
            next_id: a.next_id,
            owners: a.owners.clone(),
            connected_idempotent,
            connect: a.connect.clone(),
        }
    }
}

impl From<SavedAccount> for Account {
    fn from(s: SavedAccount) -> Self {
        let status = |code: u16| StatusCode::from_u16(code).unwrap_or(StatusCode::OK);
        let platform = s
            .idempotent
            .into_iter()
            .map(|(k, m, p, code, body)| ((None, k, m, p), (status(code), body)));
        let connected = s
            .connected_idempotent
            .into_iter()
            .map(|(owner, k, m, p, code, body)| ((Some(owner), k, m, p), (status(code), body)));
        Self {
            objects: s.objects,
            owners: s.owners,
            idempotent: platform.chain(connected).collect(),
            events: s.events,
            next_id: s.next_id,
            connect: s.connect,
        }
    }
}

/// Connect's own records: accounts that have disconnected the platform, onboarding
/// links, OAuth authorization codes and the tokens they were exchanged for.
#[derive(Clone, Default, serde::Serialize, serde::Deserialize)]
struct Connect {
    #[serde(default)]
    deauthorized: BTreeSet<String>,
    #[serde(default)]
    links: BTreeMap<String, AccountLink>,
    #[serde(default)]
    codes: BTreeMap<String, AuthorizationCode>,
    #[serde(default)]
    tokens: Vec<AccessToken>,
}

#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct AccountLink {
    account: String,
    refresh_url: String,
    return_url: String,
    expires_at: i64,
    used: bool,
}

#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct AuthorizationCode {
    account: String,
    client_id: String,
    scope: String,
    expires_at: i64,
    used: bool,
}

#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct AccessToken {
    stripe_user_id: String,
    access_token: String,
    refresh_token: String,
    publishable_key: String,
    scope: String,
    revoked: bool,
}

/// Where an account link leads: its onboarding page, or (expired or used) `refresh_url`.
enum LinkTarget {
    Onboarding(AccountLink),
    Refresh(String),
}

#[derive(Default)]
struct Account {
    objects: BTreeMap<String, Value>,
    /// Object id → the connected account it belongs to; the platform's are not listed.
    owners: BTreeMap<String, String>,
    /// The first answer to each idempotent request.
    idempotent: HashMap<IdempotencyScope, (StatusCode, Value)>,
    events: Vec<Value>,
    next_id: u64,
    connect: Connect,
}

impl Account {
    fn new_id(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}_{:014}", self.next_id)
    }

    /// The connected account `id` belongs to, or `None` for the platform's.
    fn owner(&self, id: &str) -> Option<&str> {
        self.owners.get(id).map(String::as_str)
    }

    /// An object as `owner` sees it: another account's does not exist.
    fn get(&self, owner: Option<&str>, id: &str, object: &str) -> Result<Value, StripeError> {
        self.objects
            .get(id)
            .filter(|o| o["object"] == object && self.owner(id) == owner)
            .cloned()
            .ok_or_else(|| StripeError::missing(id))
    }

    /// An object and its owner, for a hosted page: its URL is the credential.
    fn hosted(&self, id: &str, object: &str) -> Result<(Value, Option<String>), StripeError> {
        let owner = self.owner(id).map(str::to_string);
        Ok((self.get(owner.as_deref(), id, object)?, owner))
    }

    /// Stores (or replaces) an object as `owner`'s.
    fn put(&mut self, owner: Option<&str>, object: Value) -> Value {
        let id = object["id"].as_str().unwrap_or_default().to_string();
        match owner {
            Some(owner) => self.owners.insert(id.clone(), owner.to_string()),
            None => self.owners.remove(&id),
        };
        self.objects.insert(id, object.clone());
        object
    }

    /// Whether `id` is an account still connected to the platform.
    fn connected(&self, id: &str) -> bool {
        self.objects.get(id).is_some_and(|o| o["object"] == "account")
            && !self.connect.deauthorized.contains(id)
    }

    /// Records an event; one about a connected account's objects names the account.
    fn event(&mut self, owner: Option<&str>, kind: &str, object: &Value) -> Value {
        let mut event = json!({
            "id": self.new_id("evt"),
            "object": "event",
            "api_version": "2024-06-20",
            "created": now(),
            "livemode": false,
            "type": kind,
            "data": { "object": object },
        });
        if let Some(account) = owner {
            event["account"] = json!(account);
        }
        self.events.push(event.clone());
        event
    }

    /// Where account link `id` leads at time `now`; an unknown link, or one for an
    /// account no longer connected, does not exist.
    fn link(&self, id: &str, now: i64) -> Result<LinkTarget, StripeError> {
        let link = self
            .connect
            .links
            .get(id)
            .filter(|l| self.connected(&l.account))
            .ok_or_else(|| StripeError::missing(id))?;
        Ok(if link.used || now >= link.expires_at {
            LinkTarget::Refresh(link.refresh_url.clone())
        } else {
            LinkTarget::Onboarding(link.clone())
        })
    }

    /// Exchanges an authorization code at time `now`, once: the account it was issued
    /// for and the scope granted.
    fn redeem(
        &mut self,
        code: &str,
        client_id: &str,
        now: i64,
    ) -> Result<(String, String), OAuthError> {
        let grant = |description: String| {
            OAuthError::new(StatusCode::BAD_REQUEST, "invalid_grant", description)
        };
        let Some(issued) = self.connect.codes.get_mut(code) else {
            return Err(grant(format!("Authorization code does not exist: {code}")));
        };
        if issued.used {
            return Err(grant(format!("Authorization code has already been used: {code}")));
        }
        if now >= issued.expires_at {
            return Err(grant(format!("Authorization code expired: {code}")));
        }
        if issued.client_id != client_id {
            return Err(grant(format!("Authorization code was not issued to {client_id}: {code}")));
        }
        issued.used = true;
        let (account, scope) = (issued.account.clone(), issued.scope.clone());
        if !self.connected(&account) {
            return Err(grant(format!(
                "The account for this authorization code has disconnected: {code}"
            )));
        }
        Ok((account, scope))
    }
}

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
        Router::new()
            .route("/v1/products", post(api))
            .route("/v1/products/{id}", get(api))
            .route("/v1/prices", post(api))
            .route("/v1/prices/{id}", get(api))
            .route("/v1/checkout/sessions", post(api))
            .route("/v1/checkout/sessions/{id}", get(api))
            .route("/v1/billing_portal/sessions", post(api))
            .route("/v1/subscriptions/{id}", get(api).post(api).delete(api))
            .route("/v1/accounts", post(api))
            .route("/v1/accounts/{id}", get(api))
            .route("/v1/account_links", post(api))
            .route("/c/pay/{id}", get(pay_page).post(pay))
            .route("/p/session/{id}", get(portal_page))
            .route("/p/session/{id}/cancel/{subscription}", post(portal_cancel))
            .route("/connect/onboard/{id}", get(onboard_page).post(onboard))
            .route("/oauth/authorize", get(authorize_page).post(authorize))
            .route("/oauth/token", post(oauth_token))
            .route("/oauth/deauthorize", post(oauth_deauthorize))
            .route("/dev/events", get(dev_events))
            .route("/dev/connect", get(dev_connect))
            .route("/dev/delays", post(dev_delay))
            .layer(axum::middleware::from_fn_with_state(self.clone(), save_after_changes))
            .with_state(self.clone())
    }

    fn account(&self) -> MutexGuard<'_, Account> {
        self.account.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Whose objects a `/v1` call acts on: the secret key acts as the platform (`None`),
    /// or as the connected account named by `Stripe-Account`; an OAuth access token acts
    /// as its own account.
    fn caller(&self, headers: &HeaderMap) -> Result<Option<String>, StripeError> {
        let key = bearer(headers);
        let header = headers
            .get("stripe-account")
            .map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_string());
        let account = self.account();
        let acting = if key == Some(&*self.secret_key) {
            header
        } else {
            let token =
                key.and_then(|k| account.connect.tokens.iter().find(|t| t.access_token == k));
            match token {
                Some(token) if !token.revoked => {
                    if let Some(other) = header.filter(|h| *h != token.stripe_user_id) {
                        return Err(StripeError::no_access(&other));
                    }
                    Some(token.stripe_user_id.clone())
                }
                Some(token) => return Err(StripeError::revoked(&token.access_token)),
                None => return Err(StripeError::unauthenticated()),
            }
        };
        match acting {
            Some(id) if !account.connected(&id) => Err(StripeError::no_access(&id)),
            acting => Ok(acting),
        }
    }

    /// Whether an OAuth call carries the platform's secret key, as `client_secret` or in
    /// `Authorization` (Bearer, or Basic with the key as the user name).
    fn oauth_client(&self, headers: &HeaderMap, params: &Value) -> Result<(), OAuthError> {
        let basic = || {
            let encoded = headers.get("authorization")?.to_str().ok()?.strip_prefix("Basic ")?;
            let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
            Some(decoded.split_once(':').map_or(decoded.clone(), |(user, _)| user.to_string()))
        };
        let given = field(params, "client_secret")
            .map(str::to_string)
            .or_else(|| bearer(headers).map(str::to_string))
            .or_else(basic);
        match given {
            Some(key) if key == *self.secret_key => Ok(()),
            Some(key) => Err(OAuthError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                format!("Invalid API Key provided: {}", masked(&key)),
            )),
            None => Err(OAuthError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "No API key provided: send your secret key as client_secret or in the Authorization header.",
            )),
        }
    }

    /// The parameters of an authorization request, checked.
    fn authorize_request(&self, params: &Value) -> Result<AuthorizeRequest, OAuthError> {
        let client_id = field(params, "client_id")
            .ok_or_else(|| OAuthError::invalid_request("Missing required param: client_id."))?;
        if client_id != &*self.client_id {
            return Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "invalid_client",
                format!("No such application: '{client_id}'"),
            ));
        }
        match field(params, "response_type") {
            Some("code") => {}
            Some(other) => {
                return Err(OAuthError::new(
                    StatusCode::BAD_REQUEST,
                    "unsupported_response_type",
                    format!("Unsupported response_type: {other}. Use response_type=code."),
                ))
            }
            None => {
                return Err(OAuthError::invalid_request("Missing required param: response_type."))
            }
        }
        let redirect_uri = field(params, "redirect_uri")
            .ok_or_else(|| OAuthError::invalid_request("Missing required param: redirect_uri."))?;
        let redirect = reqwest::Url::parse(redirect_uri)
            .ok()
            .filter(|url| matches!(url.scheme(), "http" | "https"))
            .ok_or_else(|| {
                OAuthError::invalid_request(format!("Invalid redirect_uri: {redirect_uri}"))
            })?;
        let scope = field(params, "scope").unwrap_or("read_write");
        if !matches!(scope, "read_write" | "read_only") {
            return Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "invalid_scope",
                format!("Invalid scope: {scope}. Use read_write or read_only."),
            ));
        }
        Ok(AuthorizeRequest {
            client_id: client_id.to_string(),
            scope: scope.to_string(),
            state: field(params, "state").map(str::to_string),
            redirect_uri: redirect_uri.to_string(),
            redirect,
            email: params.pointer("/stripe_user/email").and_then(Value::as_str).map(str::to_string),
        })
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

    fn unauthenticated() -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            kind: "invalid_request_error",
            code: None,
            param: None,
            message: "Invalid API Key provided.".into(),
        }
    }

    fn revoked(key: &str) -> Self {
        Self {
            message: format!(
                "Expired API Key provided: {}. Application access may have been revoked.",
                masked(key)
            ),
            ..Self::unauthenticated()
        }
    }

    /// `Stripe-Account` names an account that is not connected to the platform.
    fn no_access(account: &str) -> Self {
        Self {
            status: StatusCode::FORBIDDEN,
            kind: "invalid_request_error",
            code: Some("account_invalid"),
            param: None,
            message: format!(
                "The provided key does not have access to account '{account}' (or that account does not exist). Application access may have been revoked."
            ),
        }
    }

    /// A request only the platform itself may make.
    fn platform_only() -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            kind: "invalid_request_error",
            code: None,
            param: None,
            message:
                "This request can only be made by the platform, without a Stripe-Account header."
                    .into(),
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

/// OAuth's error shape, used by `connect.stripe.com`: `{"error", "error_description"}`.
#[derive(Debug)]
pub struct OAuthError {
    status: StatusCode,
    error: &'static str,
    description: String,
}

impl OAuthError {
    fn new(status: StatusCode, error: &'static str, description: impl Into<String>) -> Self {
        Self { status, error, description: description.into() }
    }

    fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", description)
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = json!({"error": self.error, "error_description": self.description});
        (self.status, Json(body)).into_response()
    }
}

/// An authorization request whose parameters have been checked.
struct AuthorizeRequest {
    client_id: String,
    scope: String,
    state: Option<String>,
    /// As given, to carry through the approval form.
    redirect_uri: String,
    redirect: reqwest::Url,
    /// `stripe_user[email]`, which prefills the account's email.
    email: Option<String>,
}

impl AuthorizeRequest {
    /// `redirect_uri` with `pairs` and then `state` added to its query.
    fn redirect_with(&self, pairs: &[(&str, &str)]) -> Response {
        let mut url = self.redirect.clone();
        {
            let mut query = url.query_pairs_mut();
            for (name, value) in pairs {
                query.append_pair(name, value);
            }
            if let Some(state) = &self.state {
                query.append_pair("state", state);
            }
        }
        (StatusCode::FOUND, [(header::LOCATION, url.to_string())]).into_response()
    }
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

/// A key as Stripe echoes it in errors: its start and end only.
fn masked(key: &str) -> String {
    let start: String = key.chars().take(8).collect();
    let end: String = key.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
    format!("{start}****{end}")
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn field<'a>(params: &'a Value, name: &str) -> Option<&'a str> {
    params.get(name).and_then(Value::as_str).filter(|s| !s.is_empty())
}

fn required<'a>(params: &'a Value, name: &str) -> Result<&'a str, StripeError> {
    field(params, name).ok_or_else(|| StripeError::required(name))
}

/// Every `/v1` call: authentication, the acting account, form decoding, idempotent
/// replay, then the route.
async fn api(
    State(stripe): State<Stripe>,
    method: Method,
    uri: Uri,
    path: Option<Path<String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let owner = match stripe.caller(&headers) {
        Ok(owner) => owner,
        Err(e) => return e.into_response(),
    };
    let text = String::from_utf8_lossy(&body);
    let Some(params) = stripe_form::decode(&text) else {
        return StripeError::invalid("body", "The request body could not be decoded.")
            .into_response();
    };
    let delay = params["name"].as_str().and_then(|name| stripe.delay_for(name));
    if let Some(ms) = delay {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    let idempotency = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .filter(|_| method == Method::POST)
        .map(|k| (owner.clone(), k.to_string(), method.to_string(), uri.path().to_string()));
    if let Some(key) = &idempotency {
        if let Some((status, body)) = stripe.account().idempotent.get(key).cloned() {
            let mut resp = (status, Json(body)).into_response();
            resp.headers_mut()
                .insert("idempotent-replayed", "true".parse().unwrap_or_else(|_| unreachable!()));
            return resp;
        }
    }
    let id = path.map(|Path(id)| id);
    let (status, body) =
        match route(&stripe, owner.as_deref(), &method, uri.path(), id.as_deref(), &params) {
            Ok(body) => (StatusCode::OK, body),
            Err(e) => return e.into_response(),
        };
    if let Some(key) = idempotency {
        stripe.account().idempotent.insert(key, (status, body.clone()));
    }
    (status, Json(body)).into_response()
}

/// One `/v1` call, acting as `owner` (`None`: the platform).
fn route(
    stripe: &Stripe,
    owner: Option<&str>,
    method: &Method,
    path: &str,
    id: Option<&str>,
    params: &Value,
) -> Result<Value, StripeError> {
    let mut account = stripe.account();
    let segments: Vec<&str> = path.trim_start_matches("/v1/").split('/').collect();
    let id = id.unwrap_or_default();
    match (method.as_str(), segments.as_slice()) {
        ("POST", ["products"]) => {
            let product = json!({
                "id": account.new_id("prod"),
                "object": "product",
                "active": true,
                "name": required(params, "name")?,
                "metadata": params.get("metadata").cloned().unwrap_or(json!({})),
            });
            Ok(account.put(owner, product))
        }
        ("POST", ["prices"]) => {
            let product = account.get(owner, required(params, "product")?, "product")?;
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
            Ok(account.put(owner, price))
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
            let price = account.get(owner, price_id, "price")?;
            if let Some(customer) = field(params, "customer") {
                account.get(owner, customer, "customer")?;
            }
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
            Ok(account.put(owner, session))
        }
        ("GET", ["products", _]) => account.get(owner, id, "product"),
        ("GET", ["prices", _]) => account.get(owner, id, "price"),
        ("GET", ["checkout", "sessions", _]) => account.get(owner, id, "checkout.session"),
        ("GET", ["subscriptions", _]) => account.get(owner, id, "subscription"),
        ("POST", ["billing_portal", "sessions"]) => {
            let customer = account.get(owner, required(params, "customer")?, "customer")?;
            let id = account.new_id("bps");
            let session = json!({
                "id": id,
                "object": "billing_portal.session",
                "customer": customer["id"],
                "return_url": field(params, "return_url"),
                "url": format!("{}/p/session/{id}", stripe.base),
            });
            Ok(account.put(owner, session))
        }
        ("POST", ["subscriptions", _]) => {
            let mut subscription = account.get(owner, id, "subscription")?;
            if let Some(flag) = field(params, "cancel_at_period_end") {
                subscription["cancel_at_period_end"] = json!(flag == "true");
            }
            if let Some(Value::Object(metadata)) = params.get("metadata") {
                for (k, v) in metadata {
                    subscription["metadata"][k] = v.clone();
                }
            }
            account.put(owner, subscription.clone());
            let event = account.event(owner, "customer.subscription.updated", &subscription);
            drop(account);
            stripe.deliver(vec![event]);
            Ok(subscription)
        }
        ("DELETE", ["subscriptions", _]) => {
            let subscription = cancel(&mut account, owner, id)?;
            let event = account.event(owner, "customer.subscription.deleted", &subscription);
            drop(account);
            stripe.deliver(vec![event]);
            Ok(subscription)
        }
        ("POST", ["accounts"]) => {
            if owner.is_some() {
                return Err(StripeError::platform_only());
            }
            let kind = field(params, "type").unwrap_or("standard");
            if !matches!(kind, "standard" | "express" | "custom") {
                return Err(StripeError::invalid(
                    "type",
                    format!("Invalid type: {kind}. Must be one of standard, express or custom."),
                ));
            }
            let created = json!({
                "id": account.new_id("acct"),
                "object": "account",
                "type": kind,
                "email": field(params, "email"),
                "country": field(params, "country").unwrap_or("US"),
                "created": now(),
                "charges_enabled": false,
                "details_submitted": false,
                "payouts_enabled": false,
                "metadata": params.get("metadata").cloned().unwrap_or(json!({})),
            });
            Ok(account.put(None, created))
        }
        ("GET", ["accounts", _]) => {
            // The platform sees its connected accounts; a connected account sees itself.
            if owner.is_some_and(|owner| owner != id) || !account.connected(id) {
                return Err(StripeError::missing(id));
            }
            account.get(None, id, "account")
        }
        ("POST", ["account_links"]) => {
            if owner.is_some() {
                return Err(StripeError::platform_only());
            }
            let connected = required(params, "account")?;
            let refresh_url = required(params, "refresh_url")?;
            let return_url = required(params, "return_url")?;
            let kind = required(params, "type")?;
            if kind != "account_onboarding" {
                return Err(StripeError::invalid(
                    "type",
                    format!("Invalid type: {kind}. Must be account_onboarding."),
                ));
            }
            if !account.connected(connected) {
                return Err(StripeError {
                    param: Some("account".into()),
                    ..StripeError::missing(connected)
                });
            }
            let link_id = random(24);
            let created = now();
            let link = AccountLink {
                account: connected.to_string(),
                refresh_url: refresh_url.to_string(),
                return_url: return_url.to_string(),
                expires_at: created + LINK_LIFETIME,
                used: false,
            };
            account.connect.links.insert(link_id.clone(), link);
            Ok(json!({
                "object": "account_link",
                "created": created,
                "expires_at": created + LINK_LIFETIME,
                "url": format!("{}/connect/onboard/{link_id}", stripe.base),
            }))
        }
        _ => Err(StripeError::invalid(
            "path",
            format!("Unrecognized request URL ({method} {path})."),
        )),
    }
}

fn cancel(account: &mut Account, owner: Option<&str>, id: &str) -> Result<Value, StripeError> {
    let mut subscription = account.get(owner, id, "subscription")?;
    subscription["status"] = json!("canceled");
    subscription["canceled_at"] = json!(now());
    Ok(account.put(owner, subscription))
}

async fn pay_page(
    State(stripe): State<Stripe>,
    Path(id): Path<String>,
) -> Result<Html<String>, StripeError> {
    let (session, _) = stripe.account().hosted(&id, "checkout.session")?;
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
        html_escape(&price["currency"].as_str().unwrap_or("usd").to_uppercase()),
    )))
}

/// "Pay": a customer, an active subscription, two events, and back to `success_url`,
/// all in the account the session belongs to.
async fn pay(
    State(stripe): State<Stripe>,
    Path(id): Path<String>,
) -> Result<Redirect, StripeError> {
    let mut account = stripe.account();
    let (mut session, owner) = account.hosted(&id, "checkout.session")?;
    let owner = owner.as_deref();
    if session["status"] != "open" {
        return Err(StripeError::invalid("session", "This Checkout Session is no longer active."));
    }
    let customer_id = match session["customer"].as_str() {
        Some(existing) => existing.to_string(),
        None => {
            let customer = json!({"id": account.new_id("cus"), "object": "customer", "email": session["customer_email"]});
            let customer = account.put(owner, customer);
            customer["id"].as_str().unwrap_or_default().to_string()
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
    account.put(owner, subscription.clone());
    session["status"] = json!("complete");
    session["payment_status"] = json!("paid");
    session["customer"] = json!(customer_id);
    session["subscription"] = json!(subscription_id);
    account.put(owner, session.clone());
    let created = account.event(owner, "customer.subscription.created", &subscription);
    let completed = account.event(owner, "checkout.session.completed", &session);
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
    let (session, owner) = account.hosted(&id, "billing_portal.session")?;
    let rows: String = account
        .objects
        .values()
        .filter(|o| o["object"] == "subscription" && o["customer"] == session["customer"] && o["status"] == "active")
        .filter(|o| account.owner(o["id"].as_str().unwrap_or_default()) == owner.as_deref())
        .map(|s| {
            let sub = html_escape(s["id"].as_str().unwrap_or_default());
            format!(
                r#"<li>{sub} <form method="post" action="/p/session/{id}/cancel/{sub}" style="display:inline"><button type="submit">Cancel</button></form></li>"#,
                id = html_escape(&id),
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
    let (session, owner) = account.hosted(&id, "billing_portal.session")?;
    let owner = owner.as_deref();
    let owned = account.get(owner, &subscription, "subscription")?;
    if owned["customer"] != session["customer"] {
        return Err(StripeError::missing(&subscription));
    }
    let cancelled = cancel(&mut account, owner, &subscription)?;
    let event = account.event(owner, "customer.subscription.deleted", &cancelled);
    drop(account);
    stripe.deliver(vec![event]);
    Ok(Redirect::to(session["return_url"].as_str().unwrap_or("/")))
}

/// An account link's onboarding page: one button, which completes onboarding.
async fn onboard_page(State(stripe): State<Stripe>, Path(id): Path<String>) -> Response {
    let account = stripe.account();
    let link = match account.link(&id, now()) {
        Ok(LinkTarget::Onboarding(link)) => link,
        Ok(LinkTarget::Refresh(refresh_url)) => return Redirect::to(&refresh_url).into_response(),
        Err(e) => return e.into_response(),
    };
    let connected = account.objects.get(&link.account).cloned().unwrap_or_default();
    let email = connected["email"].as_str().unwrap_or("no email yet");
    Html(format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Onboarding (local Stripe stand-in)</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: system-ui, sans-serif; max-width: 28rem; margin: 4rem auto; padding: 0 1rem">
<h1>Set up your Stripe account</h1><p>Account {account} ({email}). This is the local Stripe stand-in: no business details needed.</p>
<form method="post"><button type="submit" style="padding: .5rem 1rem">Complete onboarding</button></form>
</body></html>"#,
        account = html_escape(&link.account),
        email = html_escape(email),
    ))
    .into_response()
}

/// "Complete onboarding": the account can take charges and payouts; `account.updated`,
/// and back to `return_url`.
async fn onboard(State(stripe): State<Stripe>, Path(id): Path<String>) -> Response {
    let mut account = stripe.account();
    let link = match account.link(&id, now()) {
        Ok(LinkTarget::Onboarding(link)) => link,
        Ok(LinkTarget::Refresh(refresh_url)) => return Redirect::to(&refresh_url).into_response(),
        Err(e) => return e.into_response(),
    };
    let mut onboarded = match account.get(None, &link.account, "account") {
        Ok(onboarded) => onboarded,
        Err(e) => return e.into_response(),
    };
    for flag in ["details_submitted", "charges_enabled", "payouts_enabled"] {
        onboarded[flag] = json!(true);
    }
    account.put(None, onboarded.clone());
    if let Some(used) = account.connect.links.get_mut(&id) {
        used.used = true;
    }
    let event = account.event(Some(&link.account), "account.updated", &onboarded);
    drop(account);
    stripe.deliver(vec![event]);
    Redirect::to(&link.return_url).into_response()
}

/// The Connect application as events describe it.
fn application(client_id: &str) -> Value {
    json!({"id": client_id, "object": "application", "name": "dream-api (local)"})
}

/// The page where a Stripe user approves or denies connecting to the application.
async fn authorize_page(
    State(stripe): State<Stripe>,
    uri: Uri,
) -> Result<Html<String>, OAuthError> {
    let params = stripe_form::decode(uri.query().unwrap_or_default())
        .ok_or_else(|| OAuthError::invalid_request("The query string could not be decoded."))?;
    let request = stripe.authorize_request(&params)?;
    let mut hidden = vec![
        ("response_type", "code".to_string()),
        ("client_id", request.client_id.clone()),
        ("scope", request.scope.clone()),
        ("redirect_uri", request.redirect_uri.clone()),
    ];
    if let Some(state) = &request.state {
        hidden.push(("state", state.clone()));
    }
    if let Some(email) = &request.email {
        hidden.push(("stripe_user[email]", email.clone()));
    }
    let hidden: String = hidden
        .iter()
        .map(|(name, value)| {
            format!(r#"<input type="hidden" name="{name}" value="{}">"#, html_escape(value))
        })
        .collect();
    Ok(Html(format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Connect (local Stripe stand-in)</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: system-ui, sans-serif; max-width: 28rem; margin: 4rem auto; padding: 0 1rem">
<h1>Connect to {client}</h1><p>{client} asks for {scope} access to a Stripe account. This is the local Stripe stand-in: approving creates a new, ready account.</p>
<form method="post" action="/oauth/authorize">{hidden}
<button type="submit" name="decision" value="approve" style="padding: .5rem 1rem">Connect my Stripe account</button>
<button type="submit" name="decision" value="deny" style="padding: .5rem 1rem">Deny</button>
</form></body></html>"#,
        client = html_escape(&request.client_id),
        scope = html_escape(&request.scope),
    )))
}

/// The approval form: approving connects a new account and redirects with a code;
/// denying redirects with `error=access_denied`.
async fn authorize(State(stripe): State<Stripe>, body: Bytes) -> Result<Response, OAuthError> {
    let params = stripe_form::decode(&String::from_utf8_lossy(&body))
        .ok_or_else(|| OAuthError::invalid_request("The request body could not be decoded."))?;
    let request = stripe.authorize_request(&params)?;
    match field(&params, "decision") {
        Some("approve") => {}
        Some("deny") => {
            return Ok(request.redirect_with(&[
                ("error", "access_denied"),
                ("error_description", "The user denied your request"),
            ]))
        }
        _ => return Err(OAuthError::invalid_request("decision must be approve or deny.")),
    }
    let mut account = stripe.account();
    let connected = json!({
        "id": account.new_id("acct"),
        "object": "account",
        "type": "standard",
        "email": request.email,
        "country": "US",
        "created": now(),
        "charges_enabled": true,
        "details_submitted": true,
        "payouts_enabled": true,
        "metadata": {},
    });
    let connected = account.put(None, connected);
    let account_id = connected["id"].as_str().unwrap_or_default().to_string();
    let code = format!("ac_{}", random(24));
    account.connect.codes.insert(
        code.clone(),
        AuthorizationCode {
            account: account_id.clone(),
            client_id: request.client_id.clone(),
            scope: request.scope.clone(),
            expires_at: now() + CODE_LIFETIME,
            used: false,
        },
    );
    let event = account.event(
        Some(&account_id),
        "account.application.authorized",
        &application(&request.client_id),
    );
    drop(account);
    stripe.deliver(vec![event]);
    Ok(request.redirect_with(&[("code", &code), ("scope", &request.scope)]))
}

/// `POST /oauth/token`: an authorization code, once, for the account's keys.
async fn oauth_token(
    State(stripe): State<Stripe>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, OAuthError> {
    let params = stripe_form::decode(&String::from_utf8_lossy(&body))
        .ok_or_else(|| OAuthError::invalid_request("The request body could not be decoded."))?;
    stripe.oauth_client(&headers, &params)?;
    match field(&params, "grant_type") {
        Some("authorization_code") => {}
        Some(other) => {
            return Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                format!("Unsupported grant type: {other}"),
            ))
        }
        None => return Err(OAuthError::invalid_request("Missing required param: grant_type.")),
    }
    let code = field(&params, "code")
        .ok_or_else(|| OAuthError::invalid_request("Missing required param: code."))?;
    let mut account = stripe.account();
    let (stripe_user_id, scope) = account.redeem(code, &stripe.client_id, now())?;
    let token = AccessToken {
        stripe_user_id,
        access_token: format!("sk_test_{}", random(32)),
        refresh_token: format!("rt_{}", random(32)),
        publishable_key: format!("pk_test_{}", random(32)),
        scope,
        revoked: false,
    };
    account.connect.tokens.push(token.clone());
    Ok(Json(json!({
        "access_token": token.access_token,
        "refresh_token": token.refresh_token,
        "token_type": "bearer",
        "stripe_publishable_key": token.publishable_key,
        "stripe_user_id": token.stripe_user_id,
        "scope": token.scope,
        "livemode": false,
    })))
}

/// `POST /oauth/deauthorize`: the account is disconnected and its tokens revoked.
async fn oauth_deauthorize(
    State(stripe): State<Stripe>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, OAuthError> {
    let params = stripe_form::decode(&String::from_utf8_lossy(&body))
        .ok_or_else(|| OAuthError::invalid_request("The request body could not be decoded."))?;
    stripe.oauth_client(&headers, &params)?;
    let client_id = field(&params, "client_id")
        .ok_or_else(|| OAuthError::invalid_request("Missing required param: client_id."))?;
    if client_id != &*stripe.client_id {
        return Err(OAuthError::new(
            StatusCode::BAD_REQUEST,
            "invalid_client",
            format!("No such application: '{client_id}'"),
        ));
    }
    let user = field(&params, "stripe_user_id")
        .ok_or_else(|| OAuthError::invalid_request("Missing required param: stripe_user_id."))?;
    let mut account = stripe.account();
    if !account.connected(user) {
        return Err(OAuthError::new(
            StatusCode::BAD_REQUEST,
            "invalid_client",
            format!("No such user: {user}"),
        ));
    }
    account.connect.deauthorized.insert(user.to_string());
    for token in account.connect.tokens.iter_mut().filter(|t| t.stripe_user_id == user) {
        token.revoked = true;
    }
    let event =
        account.event(Some(user), "account.application.deauthorized", &application(client_id));
    drop(account);
    stripe.deliver(vec![event]);
    Ok(Json(json!({ "stripe_user_id": user })))
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

/// Every account and every token issued, so that tests can tell where tokens went.
impl Stripe {
    fn delay_for(&self, name: &str) -> Option<u64> {
        self.delays.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(name).copied()
    }
}

/// `POST /dev/delays {"name": "…", "ms": N}`: from now on, a request whose `name`
/// parameter is `name` (a product, say) is answered only after N ms, so tests can see
/// what a worker does when Stripe is slow without slowing anything else.
async fn dev_delay(State(stripe): State<Stripe>, Json(body): Json<Value>) -> Response {
    let (Some(name), Some(ms)) = (body["name"].as_str(), body["ms"].as_u64()) else {
        return StripeError::invalid("name", "Send {\"name\": \"…\", \"ms\": N}.").into_response();
    };
    stripe
        .delays
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .insert(name.to_string(), ms.min(60_000));
    Json(json!({ "name": name, "ms": ms.min(60_000) })).into_response()
}

async fn dev_connect(State(stripe): State<Stripe>) -> Json<Value> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn with_code(expires_at: i64) -> Account {
        let mut account = Account::default();
        account.put(None, json!({"id": "acct_1", "object": "account"}));
        account.connect.codes.insert(
            "ac_1".into(),
            AuthorizationCode {
                account: "acct_1".into(),
                client_id: DEV_CLIENT_ID.into(),
                scope: "read_write".into(),
                expires_at,
                used: false,
            },
        );
        account
    }

    #[test]
    fn an_authorization_code_is_exchanged_once_and_only_before_it_expires() {
        let mut account = with_code(1_000);
        let expired = account.redeem("ac_1", DEV_CLIENT_ID, 1_000).expect_err("expired");
        assert_eq!(expired.error, "invalid_grant");
        assert!(expired.description.contains("expired"), "{expired:?}");

        let mut account = with_code(1_000);
        assert_eq!(
            account.redeem("ac_1", DEV_CLIENT_ID, 999).expect("valid"),
            ("acct_1".to_string(), "read_write".to_string())
        );
        let again = account.redeem("ac_1", DEV_CLIENT_ID, 999).expect_err("used");
        assert!(again.description.contains("already been used"), "{again:?}");
    }

    #[test]
    fn a_code_for_another_application_or_a_disconnected_account_is_refused() {
        let mut account = with_code(1_000);
        assert_eq!(
            account.redeem("ac_1", "ca_other", 0).expect_err("other").error,
            "invalid_grant"
        );
        let mut account = with_code(1_000);
        account.connect.deauthorized.insert("acct_1".into());
        assert_eq!(
            account.redeem("ac_1", DEV_CLIENT_ID, 0).expect_err("gone").error,
            "invalid_grant"
        );
    }

    #[test]
    fn an_expired_or_used_account_link_leads_to_refresh_url() {
        let mut account = Account::default();
        account.put(None, json!({"id": "acct_1", "object": "account"}));
        let link = |used| AccountLink {
            account: "acct_1".into(),
            refresh_url: "http://127.0.0.1/refresh".into(),
            return_url: "http://127.0.0.1/return".into(),
            expires_at: 1_000,
            used,
        };
        account.connect.links.insert("fresh".into(), link(false));
        account.connect.links.insert("used".into(), link(true));
        assert!(matches!(account.link("fresh", 999), Ok(LinkTarget::Onboarding(_))));
        assert!(
            matches!(account.link("fresh", 1_000), Ok(LinkTarget::Refresh(url)) if url.ends_with("/refresh"))
        );
        assert!(matches!(account.link("used", 0), Ok(LinkTarget::Refresh(_))));
        assert!(account.link("unknown", 0).is_err());
    }

    #[test]
    fn a_state_file_from_before_connect_still_loads_with_everything_the_platforms() {
        let old = r#"{"objects": {"prod_1": {"id": "prod_1", "object": "product"}},
            "idempotent": [["k", "POST", "/v1/products", 200, {"id": "prod_1"}]],
            "events": [], "next_id": 1}"#;
        let saved: SavedAccount = serde_json::from_str(old).expect("loads");
        let account = Account::from(saved);
        assert!(account.get(None, "prod_1", "product").is_ok());
        assert!(account.get(Some("acct_1"), "prod_1", "product").is_err());
        let key = (None, "k".to_string(), "POST".to_string(), "/v1/products".to_string());
        assert!(account.idempotent.contains_key(&key));
    }

    #[test]
    fn keys_in_errors_are_masked() {
        assert_eq!(masked("sk_test_abcdefghijklmnop"), "sk_test_****mnop");
    }
}

//! The end-to-end harness: the real api worker under `wrangler dev`, driven over HTTP.
//!
//! `scripts/test.sh` starts two workers and stops them by PID afterwards:
//! `DREAM_API_URL` runs with the default platform quotas (free 5 / paid 500);
//! `DREAM_API_RAISED_URL` with quotas raised out of the way, for tests about
//! end-user limits. Every test registers its own platform, so tests share no state.

use reqwest::{Client, Method, Response, StatusCode};
use serde_json::{json, Value};
use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

pub mod openapi;

/// Which worker a test talks to.
#[derive(Debug, Clone, Copy)]
pub enum Quotas {
    /// `PLATFORM_TIERS` as shipped: free 5, paid 500.
    Default,
    /// `PLATFORM_TIERS` raised so that only end-user limits apply.
    Raised,
}

pub fn base_url(quotas: Quotas) -> String {
    let var = match quotas {
        Quotas::Default => "DREAM_API_URL",
        Quotas::Raised => "DREAM_API_RAISED_URL",
    };
    std::env::var(var).unwrap_or_else(|_| {
        panic!("{var} is not set: run the end-to-end tests with scripts/test.sh")
    })
}

/// One client for every test. Each `#[tokio::test]` has its own runtime, and a pooled
/// connection dies with the runtime that opened it, so no connection is kept idle for
/// reuse: every request opens its own (cheap on loopback).
fn client() -> &'static Client {
    static CLIENT: OnceLock<Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        Client::builder()
            .pool_max_idle_per_host(0)
            .timeout(std::time::Duration::from_secs(60))
            .build()
            .expect("an HTTP client")
    })
}

/// A client address no other test uses, so the 5-per-hour registration limit per IP
/// never couples tests (or test runs: the process id is part of it).
pub fn unique_ip() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(1);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let pid = std::process::id();
    format!("10.{}.{}.{}", (pid >> 8) & 0xff, pid & 0xff, n % 250 + 1)
}

/// An answer: status, headers and JSON body (`Value::Null` when there is none).
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Answer {
    pub async fn read(resp: Response) -> Self {
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await.expect("a body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"))
        };
        Self { status, headers, body }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn error_code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }

    /// Asserts the contract's error shape, status and code.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        assert_eq!(self.error_code(), code, "body: {}", self.body);
        let message = self.body["error"]["message"].as_str().unwrap_or("");
        assert!(!message.is_empty(), "an error has a message: {}", self.body);
        assert!(self.header("X-Request-Id").is_some(), "every answer has X-Request-Id");
    }
}

/// A request to one of the workers.
pub struct Call {
    builder: reqwest::RequestBuilder,
}

impl Call {
    pub fn new(quotas: Quotas, method: Method, path: &str) -> Self {
        Self::to(&base_url(quotas), method, path)
    }

    /// A request to the worker at `base`, without credentials.
    pub fn to(base: &str, method: Method, path: &str) -> Self {
        Self { builder: client().request(method, format!("{base}{path}")) }
    }

    pub fn key(self, key: &str) -> Self {
        Self { builder: self.builder.bearer_auth(key) }
    }

    pub fn header(self, name: &str, value: &str) -> Self {
        Self { builder: self.builder.header(name, value) }
    }

    pub fn json(self, body: &Value) -> Self {
        Self { builder: self.builder.json(body) }
    }

    /// A body sent as-is with the given content type.
    pub fn raw(self, content_type: &str, body: impl Into<reqwest::Body>) -> Self {
        Self { builder: self.builder.header("Content-Type", content_type).body(body) }
    }

    pub async fn send(self) -> Answer {
        let resp = self
            .builder
            .send()
            .await
            .unwrap_or_else(|e| panic!("the worker did not answer: {e:?}"));
        Answer::read(resp).await
    }
}

/// A registered platform and its key.
#[derive(Debug, Clone)]
pub struct Platform {
    pub quotas: Quotas,
    pub id: String,
    pub key: String,
}

impl Platform {
    pub async fn register(quotas: Quotas) -> Self {
        let answer = Call::new(quotas, Method::POST, "/v1/developers")
            .header("CF-Connecting-IP", &unique_ip())
            .json(&json!({ "email": "dev@example.com", "name": "Test app" }))
            .send()
            .await;
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
        Self {
            quotas,
            id: answer.body["platformId"].as_str().expect("platformId").to_string(),
            key: answer.body["apiKey"].as_str().expect("apiKey").to_string(),
        }
    }

    pub fn call(&self, method: Method, path: &str) -> Call {
        Call::new(self.quotas, method, path).key(&self.key)
    }

    pub async fn put_tiers(&self, tiers: Value) -> Answer {
        self.call(Method::PUT, "/v1/tiers").json(&json!({ "tiers": tiers })).send().await
    }

    /// One free tier with `limit` calls.
    pub async fn with_free_limit(quotas: Quotas, limit: u64) -> Self {
        let platform = Self::register(quotas).await;
        let answer = platform
            .put_tiers(json!([{ "id": "free", "name": "Free", "priceCents": 0, "limit": limit }]))
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        platform
    }

    pub async fn track(&self, user_id: &str) -> Answer {
        self.track_body(json!({ "userId": user_id })).await
    }

    pub async fn track_body(&self, body: Value) -> Answer {
        self.call(Method::POST, "/v1/usage/track").json(&body).send().await
    }

    pub async fn usage(&self, user_id: &str) -> Answer {
        self.call(Method::GET, &format!("/v1/usage/{user_id}")).send().await
    }

    /// The end-user's count this period, read from their meter.
    pub async fn count(&self, user_id: &str) -> u64 {
        let answer = self.usage(user_id).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        answer.body["usage"]["count"].as_u64().expect("count")
    }

    /// Tracks one call for each of the 100 end-users a preview serves, `{prefix}0` to
    /// `{prefix}99`, ten at a time, and asserts that each was allowed.
    pub async fn fill_preview(&self, prefix: &str) {
        self.serve_end_users(prefix, 100).await;
    }

    /// Tracks one call for each of `n` new end-users (`{prefix}0`, `{prefix}1`, …), ten
    /// at a time, each of which must be allowed.
    pub async fn serve_end_users(&self, prefix: &str, n: usize) {
        for batch in (0..n).collect::<Vec<_>>().chunks(10) {
            let answers = futures::future::join_all(
                batch.iter().map(|i| self.track_body(json!({"userId": format!("{prefix}{i}")}))),
            )
            .await;
            let refused = answers.iter().find(|a| a.status != StatusCode::OK);
            assert!(refused.is_none(), "{refused:?}");
        }
    }

    /// The platform's quota usage this period.
    pub async fn platform_count(&self) -> u64 {
        let answer = self.call(Method::GET, "/v1/platform").send().await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        answer.body["usage"]["count"].as_u64().expect("count")
    }
}

/// Runs `n` copies of a future at once and returns every answer.
pub async fn all_at_once<F, Fut>(n: usize, make: F) -> Vec<Answer>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = Answer>,
{
    futures::future::join_all((0..n).map(make)).await
}

/// How many answers had each status.
pub fn count_status(answers: &[Answer], status: u16) -> usize {
    answers.iter().filter(|a| a.status.as_u16() == status).count()
}

/// The Clerk stand-in the workers check session tokens against (`DREAM_CLERK_URL`).
pub struct ClerkStandIn {
    base: String,
    secret: String,
}

/// An end-user signed in with Clerk: their Clerk id and a fresh session token.
pub struct EndUser {
    pub user_id: String,
    pub token: String,
}

impl ClerkStandIn {
    pub fn from_env() -> Self {
        let get = |var: &str| {
            std::env::var(var).unwrap_or_else(|_| {
                panic!("{var} is not set: run the end-to-end tests with scripts/test.sh")
            })
        };
        Self { base: get("DREAM_CLERK_URL"), secret: get("DREAM_CLERK_SECRET_KEY") }
    }

    async fn backend(&self, method: Method, path: &str, body: Value) -> Value {
        let resp = client()
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.secret)
            .json(&body)
            .send()
            .await
            .expect("the Clerk stand-in answers");
        assert!(resp.status().is_success(), "Clerk stand-in {path}: {}", resp.status());
        resp.json().await.expect("JSON")
    }

    /// A new Clerk user whose public metadata is `metadata`.
    pub async fn user(&self, metadata: Value) -> String {
        let email = format!("end-user-{}@example.com", unique_ip().replace('.', "-"));
        let user =
            self.backend(Method::POST, "/v1/users", json!({ "email_address": [email] })).await;
        let id = user["id"].as_str().expect("id").to_string();
        self.backend(
            Method::PATCH,
            &format!("/v1/users/{id}/metadata"),
            json!({ "public_metadata": metadata }),
        )
        .await;
        id
    }

    /// Deletes a user, as a developer closing their Clerk account would.
    pub async fn delete_user(&self, user_id: &str) {
        self.backend(Method::DELETE, &format!("/v1/users/{user_id}"), Value::Null).await;
    }

    /// A user's public metadata, as Clerk holds it.
    pub async fn public_metadata(&self, user_id: &str) -> Value {
        self.backend(Method::GET, &format!("/v1/users/{user_id}"), Value::Null).await
            ["public_metadata"]
            .clone()
    }

    /// A session token for `user_id` (issued for the dashboard's origin unless `azp` says).
    pub async fn token(&self, user_id: &str, azp: &str, expires_in_seconds: i64) -> String {
        let body =
            json!({ "user_id": user_id, "azp": azp, "expires_in_seconds": expires_in_seconds });
        let resp = client()
            .post(format!("{}/dev/sessions", self.base))
            .json(&body)
            .send()
            .await
            .expect("answer");
        resp.json::<Value>().await.expect("JSON")["jwt"].as_str().expect("jwt").to_string()
    }

    /// An end-user of `platform_id`, signed in.
    pub async fn end_user_of(&self, platform_id: &str) -> EndUser {
        let user_id = self.user(json!({ "platformId": platform_id })).await;
        let token = self.token(&user_id, "http://127.0.0.1:8790", 60).await;
        EndUser { user_id, token }
    }
}

/// A developer signed in to the dashboard: calls to the platform-auth worker
/// (`DREAM_PLATFORM_AUTH_URL`) with their Clerk session token.
pub struct Developer {
    pub user_id: String,
    pub token: String,
}

impl Developer {
    /// A new Clerk user with public metadata `metadata`, signed in.
    pub async fn sign_in(metadata: Value) -> Self {
        let clerk = ClerkStandIn::from_env();
        let user_id = clerk.user(metadata).await;
        let token = clerk.token(&user_id, "http://127.0.0.1:8790", 60).await;
        Self { user_id, token }
    }

    pub fn call(&self, method: Method, path: &str) -> Call {
        Call::to(&platform_auth_url(), method, path).key(&self.token)
    }

    /// Creates the developer's platform and returns it with its key (on the default
    /// api worker, which shares the dashboard backend's state).
    pub async fn credentials(&self) -> Platform {
        let answer = self.call(Method::POST, "/v1/credentials").send().await;
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
        Platform {
            quotas: Quotas::Default,
            id: answer.body["platformId"].as_str().expect("platformId").to_string(),
            key: answer.body["apiKey"].as_str().expect("apiKey").to_string(),
        }
    }
}

impl Developer {
    /// A call to the stripe-oauth worker (`DREAM_STRIPE_OAUTH_URL`) as this developer.
    pub fn connect_call(&self, method: Method, path: &str) -> Call {
        Call::to(&stripe_oauth_url(), method, path).key(&self.token)
    }

    /// Moves the developer to the paid plan (quota 500) with a signed
    /// `checkout.session.completed`, as Stripe would send, and waits until the api
    /// worker enforces it for `platform`.
    pub async fn upgrade(&self, platform: &Platform) {
        let tag = &self.user_id;
        let body = json!({"id": format!("evt_upgrade_{tag}"), "object": "event", "type": "checkout.session.completed",
            "created": now_seconds(), "data": {"object": {"client_reference_id": platform.id,
            "metadata": {"dreamApiPlatform": platform.id},
            "subscription": format!("sub_dev_{tag}"), "customer": format!("cus_dev_{tag}")}}}).to_string();
        let answer = self
            .call(Method::POST, "/webhooks/stripe")
            .header("Stripe-Signature", &signature(&body))
            .raw("application/json", body)
            .send()
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        eventually(
            "the paid quota",
            || platform.call(Method::GET, "/v1/platform").send(),
            |a| a.body["usage"]["limit"] == 500,
        )
        .await;
    }
}

/// The dashboard's backend (platform-auth worker).
pub fn platform_auth_url() -> String {
    env("DREAM_PLATFORM_AUTH_URL")
}

/// The Stripe Connect worker (stripe-oauth).
pub fn stripe_oauth_url() -> String {
    env("DREAM_STRIPE_OAUTH_URL")
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the end-to-end tests with scripts/test.sh")
    })
}

pub fn now_seconds() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("time").as_secs()
        as i64
}

/// The stand-ins' webhook signing secret (`whsec_…`).
pub fn webhook_secret() -> String {
    env("DREAM_STRIPE_WEBHOOK_SECRET")
}

/// A `Stripe-Signature` for `body` with the stand-ins' webhook secret, made now.
pub fn signature(body: &str) -> String {
    signature_at(&webhook_secret(), now_seconds(), body)
}

/// A `Stripe-Signature` as Stripe documents it, computed here rather than by the
/// verifier's code: `t={t},v1=` hex HMAC-SHA256 of `"{t}.{body}"` keyed by the whole
/// `whsec_…` secret.
pub fn signature_at(secret: &str, t: i64, body: &str) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(secret.as_bytes()).expect("any key");
    mac.update(format!("{t}.{body}").as_bytes());
    let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    format!("t={t},v1={hex}")
}

/// Polls `probe` (an answer of a worker, a stand-in's record, …) until `done` holds, up
/// to 30 s: a copy written after a change (Clerk's copy of the plan, a delivery) lands a
/// moment after the change itself.
pub async fn eventually<T, F, Fut>(what: &str, probe: F, done: impl Fn(&T) -> bool) -> T
where
    T: std::fmt::Debug,
    F: Fn() -> Fut,
    Fut: Future<Output = T>,
{
    let mut last = None;
    for _ in 0..150 {
        let answer = probe().await;
        if done(&answer) {
            return answer;
        }
        last = Some(answer);
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    panic!("{what} did not happen within 30 s; last answer: {last:?}");
}

/// A client that shows redirects instead of following them, like a browser whose
/// destination page is not running here.
pub fn browser() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(0)
        .build()
        .expect("client")
}

/// The Stripe stand-in (`DREAM_STRIPE_URL`), driven like a person and inspected like a
/// test.
pub struct StripeStandIn {
    pub base: String,
}

impl StripeStandIn {
    pub fn from_env() -> Self {
        Self { base: env("DREAM_STRIPE_URL") }
    }

    /// Makes the stand-in hold back its answer to any request whose `name` is `name`.
    pub async fn delay(&self, name: &str, ms: u64) {
        let answer = client()
            .post(format!("{}/dev/delays", self.base))
            .json(&json!({ "name": name, "ms": ms }))
            .send()
            .await
            .expect("the Stripe stand-in answers");
        assert!(answer.status().is_success(), "/dev/delays answered {}", answer.status());
    }

    /// Presses "Pay" on a hosted checkout page.
    pub async fn pay(&self, checkout_url: &str) {
        let paid = browser().post(checkout_url).send().await.expect("pay");
        assert_eq!(paid.status(), 303, "Pay answered {}", paid.status());
    }

    /// Presses "Cancel" on the first subscription of a billing portal page.
    pub async fn cancel_in_portal(&self, portal_url: &str) {
        let page =
            browser().get(portal_url).send().await.expect("page").text().await.expect("html");
        let action = page
            .split("action=\"")
            .nth(1)
            .and_then(|a| a.split('"').next())
            .expect("a cancel form");
        let cancel = browser().post(format!("{}{action}", self.base)).send().await.expect("cancel");
        assert_eq!(cancel.status(), 303);
    }

    /// Approves a Connect OAuth request (the authorize URL our worker handed out) and
    /// returns where Stripe sends the developer back (the callback with code and state).
    pub async fn approve(&self, authorize_url: &str) -> String {
        let url = reqwest::Url::parse(authorize_url).expect("a URL");
        let mut form: Vec<(String, String)> =
            url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
        form.push(("decision".into(), "approve".into()));
        let answer = browser()
            .post(format!("{}/oauth/authorize", self.base))
            .form(&form)
            .send()
            .await
            .expect("approve");
        assert!(answer.status().is_redirection(), "approve answered {}", answer.status());
        answer.headers()["location"].to_str().expect("ascii").to_string()
    }

    /// `GET {path}` with the secret key, on our account or a connected one.
    pub async fn get(&self, path: &str, account: Option<&str>) -> Answer {
        self.send(Method::GET, path, account).await
    }

    /// `DELETE {path}` (cancelling a subscription, as Stripe's dashboard or a failed
    /// payment would) with the secret key, on our account or a connected one.
    pub async fn delete(&self, path: &str, account: Option<&str>) -> Answer {
        self.send(Method::DELETE, path, account).await
    }

    async fn send(&self, method: Method, path: &str, account: Option<&str>) -> Answer {
        let mut req = client()
            .request(method, format!("{}{path}", self.base))
            .bearer_auth("sk_test_dream_standin");
        if let Some(account) = account {
            req = req.header("Stripe-Account", account);
        }
        Answer::read(req.send().await.expect("the Stripe stand-in answers")).await
    }

    /// The developer revokes our access from Stripe's own dashboard (Connect OAuth's
    /// deauthorize, which also sends `account.application.deauthorized`).
    pub async fn revoke(&self, account: &str) -> Answer {
        let form = [("client_id", "ca_dream_standin"), ("stripe_user_id", account)];
        let req = client()
            .post(format!("{}/oauth/deauthorize", self.base))
            .bearer_auth("sk_test_dream_standin")
            .form(&form);
        Answer::read(req.send().await.expect("the Stripe stand-in answers")).await
    }

    /// Every connected account and token the stand-in issued (`/dev/connect`).
    pub async fn connect_records(&self) -> Value {
        self.get("/dev/connect", None).await.body
    }
}

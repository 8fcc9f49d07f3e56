//! The end-to-end harness: the real api worker under `wrangler dev`, driven over HTTP.
//!
//! `scripts/test.sh` starts two workers and stops them by PID afterwards:
//! `DREAM_API_URL` runs with the default platform quotas (free 5 / paid 500);
//! `DREAM_API_RAISED_URL` with quotas raised out of the way, for tests about
//! end-user limits. Every test registers its own platform, so tests share no state.

use reqwest::{Client, Method, Response, StatusCode};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

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
    async fn read(resp: Response) -> Self {
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
        Self { builder: client().request(method, format!("{}{path}", base_url(quotas))) }
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
        let base = std::env::var("DREAM_PLATFORM_AUTH_URL").unwrap_or_else(|_| {
            panic!(
                "DREAM_PLATFORM_AUTH_URL is not set: run the end-to-end tests with scripts/test.sh"
            )
        });
        Call { builder: client().request(method, format!("{base}{path}")).bearer_auth(&self.token) }
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

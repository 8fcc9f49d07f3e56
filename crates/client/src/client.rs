//! [`Client`]: the contract's operations as methods, and how a client is configured.

use crate::error::Error;
use crate::retry::{Policy, Repeat};
use crate::runtime::{BoxFuture, MaybeSend, MaybeSendSync, Shared};
use crate::track::{new_idempotency_key, track_from, Track, TrackBody, TrackOptions};
use crate::transport::{Answer, Request, Transport};
use crate::types::LogQuery;
use crate::types::{
    CheckoutRequest, CheckoutSession, PlanChange, PlatformInfo, PortalRequest, PortalSession,
    RotateRequest, Rotation, TierList, UserUsage, UsersPage,
};
use dream_core::api_key::ApiKey;
use dream_core::protocol::activity::LogPage;
use dream_core::revenue::Revenue;
use dream_core::stats::Stats;
use dream_core::tier::Tier;
use futures_util::Stream;
use reqwest::{Method, Url};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::fmt;
use std::future::Future;
use std::sync::{PoisonError, RwLock};
use std::time::Duration;

/// How long one attempt waits for its whole answer.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Retries after the first attempt.
pub const DEFAULT_MAX_RETRIES: u32 = 2;
/// The largest page `GET /v1/users` serves.
pub const MAX_USERS_PAGE: u32 = 100;

/// Gives the signed-in end-user's Clerk session token, asked before every attempt (so a
/// retry a minute later carries a fresh one). Any `Fn() -> impl Future<Output =
/// Result<String, Error>>` is one.
pub trait TokenProvider: MaybeSendSync {
    fn token(&self) -> BoxFuture<'_, Result<String, Error>>;
}

impl<F, Fut> TokenProvider for F
where
    F: Fn() -> Fut + MaybeSendSync,
    Fut: Future<Output = Result<String, Error>> + MaybeSend + 'static,
{
    fn token(&self) -> BoxFuture<'_, Result<String, Error>> {
        Box::pin(self())
    }
}

/// Who the client speaks as.
enum Credential {
    /// The developer's server, with the platform's key (replaced by `rotate_key`).
    Key(RwLock<ApiKey>),
    /// A signed-in end-user: metering and reading their own usage, checkout and portal.
    Token(Box<dyn TokenProvider>),
}

impl Credential {
    async fn bearer(&self) -> Result<String, Error> {
        match self {
            Credential::Key(key) => {
                Ok(key.read().unwrap_or_else(PoisonError::into_inner).expose().to_string())
            }
            Credential::Token(provider) => provider.token().await,
        }
    }
}

/// Configures a [`Client`]: a credential (an API key or a token provider) and
/// `base_url`, both required, and optionally `timeout`, `max_retries` and `fail_open`.
///
/// There is no default address: a default would send a deployed app's calls somewhere
/// it did not choose, and under fail-open let every action through uncounted.
pub struct ClientBuilder {
    credential: Option<Result<Credential, Error>>,
    base_url: Option<String>,
    timeout: Duration,
    max_retries: u32,
    fail_open: bool,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            credential: None,
            base_url: None,
            timeout: DEFAULT_TIMEOUT,
            max_retries: DEFAULT_MAX_RETRIES,
            fail_open: false,
        }
    }
}

impl ClientBuilder {
    /// The platform's API key (`pk_live_…`); a mistyped or truncated key fails `build`
    /// with `invalid_api_key`, before any call.
    pub fn api_key(mut self, api_key: &str) -> Self {
        let key = ApiKey::parse(api_key.trim()).map(|key| Credential::Key(RwLock::new(key)));
        self.credential = Some(key.map_err(|_| {
            Error::local(
                "invalid_api_key",
                "This is not a dream-api key (pk_live_…, 46 characters).",
            )
        }));
        self
    }

    /// End-user token mode: `provider` gives the Clerk session token for each call.
    pub fn token(mut self, provider: impl TokenProvider + 'static) -> Self {
        self.credential = Some(Ok(Credential::Token(Box::new(provider))));
        self
    }

    /// The api worker's address, `http` or `https` (a path prefix is kept).
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = Some(base_url.into());
        self
    }

    /// How long each attempt waits for its whole answer (10 s by default).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Retries after a connection failure, a timeout, a `5xx` or a `429` (2 by default).
    pub fn max_retries(mut self, max_retries: u32) -> Self {
        self.max_retries = max_retries;
        self
    }

    /// When `true`, a `track` that still fails after its retries because the service
    /// could not answer is [`Track::Degraded`] instead of an error (`false` by default).
    pub fn fail_open(mut self, fail_open: bool) -> Self {
        self.fail_open = fail_open;
        self
    }

    pub fn build(self) -> Result<Client, Error> {
        let invalid = |message: String| Error::local("invalid_request", message);
        let credential = self
            .credential
            .ok_or_else(|| invalid("Give the client an API key or a token provider.".into()))??;
        let base_url =
            self.base_url.ok_or_else(|| invalid("Give the client a base_url.".into()))?;
        let base = Url::parse(&base_url)
            .ok()
            .filter(|url| matches!(url.scheme(), "http" | "https") && url.has_host())
            .ok_or_else(|| invalid(format!("base_url {base_url:?} is not an http(s) URL.")))?;
        let http = http_client().map_err(|e| invalid(format!("No HTTP client: {e}.")))?;
        let transport =
            Transport { http, base, timeout: self.timeout, policy: Policy::new(self.max_retries) };
        let inner = Inner { transport, credential, fail_open: self.fail_open };
        Ok(Client { inner: Shared::new(inner) })
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn http_client() -> reqwest::Result<reqwest::Client> {
    let agent = concat!("dream-api-client/", env!("CARGO_PKG_VERSION"));
    reqwest::Client::builder().user_agent(agent).build()
}

/// `fetch` sets the user agent itself.
#[cfg(target_arch = "wasm32")]
fn http_client() -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder().build()
}

/// A dream-api client. Cheap to clone (clones share their connections and credential).
#[derive(Clone)]
pub struct Client {
    inner: Shared<Inner>,
}

struct Inner {
    transport: Transport,
    credential: Credential,
    fail_open: bool,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = &self.inner.transport;
        let mode = match self.inner.credential {
            Credential::Key(_) => "api key",
            Credential::Token(_) => "end-user token",
        };
        f.debug_struct("Client")
            .field("base_url", &t.base.as_str())
            .field("credential", &mode)
            .field("timeout", &t.timeout)
            .field("max_retries", &t.policy.max_retries)
            .field("fail_open", &self.inner.fail_open)
            .finish()
    }
}

fn json(body: &impl Serialize) -> Result<Option<Vec<u8>>, Error> {
    serde_json::to_vec(body)
        .map(Some)
        .map_err(|e| Error::local("invalid_request", format!("The body did not encode: {e}.")))
}

impl Client {
    /// A client for the developer's server at `base_url` (the api worker), with the
    /// defaults of [`ClientBuilder`].
    pub fn new(api_key: &str, base_url: &str) -> Result<Self, Error> {
        Self::builder().api_key(api_key).base_url(base_url).build()
    }

    /// A client speaking as a signed-in end-user, with the defaults of [`ClientBuilder`].
    pub fn with_token(
        provider: impl TokenProvider + 'static,
        base_url: &str,
    ) -> Result<Self, Error> {
        Self::builder().token(provider).base_url(base_url).build()
    }

    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    async fn answer(
        &self,
        method: Method,
        path: &[&str],
        query: &[(&str, String)],
        body: Option<Vec<u8>>,
        repeat: Repeat,
    ) -> Result<Answer, Error> {
        let transport = &self.inner.transport;
        let request = Request { method, url: transport.url(path, query), body, repeat };
        transport.send(&request, || self.inner.credential.bearer()).await
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &[&str],
        body: Option<Vec<u8>>,
        repeat: Repeat,
    ) -> Result<T, Error> {
        self.answer(method, path, &[], body, repeat).await?.decode()
    }

    /// Meters one action of `user_id` (`POST /v1/usage/track`). A denial is an answer,
    /// not an error; retries reuse one idempotency key, so they never count twice.
    pub async fn track(&self, user_id: &str, options: TrackOptions) -> Result<Track, Error> {
        let key = match options.idempotency_key {
            Some(key) => key,
            None => new_idempotency_key()?,
        };
        let body = TrackBody { user_id, amount: options.amount, idempotency_key: &key };
        let path = ["v1", "usage", "track"];
        let answer = self.answer(Method::POST, &path, &[], json(&body)?, Repeat::Track).await;
        match answer.and_then(track_from) {
            Err(e) if self.inner.fail_open && e.is_service_failure() => Ok(Track::Degraded),
            result => result,
        }
    }

    /// An end-user's tier and usage this month (`GET /v1/usage/{userId}`); never counts.
    pub async fn usage(&self, user_id: &str) -> Result<UserUsage, Error> {
        self.call(Method::GET, &["v1", "usage", user_id], None, Repeat::Safe).await
    }

    /// Moves an end-user to the tier `plan` (`PUT /v1/users/{userId}/plan`).
    pub async fn set_plan(&self, user_id: &str, plan: &str) -> Result<UserUsage, Error> {
        let body = json(&PlanChange { plan })?;
        self.call(Method::PUT, &["v1", "users", user_id, "plan"], body, Repeat::Safe).await
    }

    /// Every end-user, as a `Stream` of pages of up to 100 (`GET /v1/users`, following
    /// `nextCursor`); it ends after the last page or the first error.
    pub fn users(&self) -> impl Stream<Item = Result<Vec<UserUsage>, Error>> + '_ {
        self.users_in_pages_of(MAX_USERS_PAGE)
    }

    /// [`Client::users`] with pages of `page_size` (1 to 100).
    pub fn users_in_pages_of(
        &self,
        page_size: u32,
    ) -> impl Stream<Item = Result<Vec<UserUsage>, Error>> + '_ {
        // `Some(cursor)` while pages remain (`Some(None)`: the first).
        futures_util::stream::unfold(Some(None::<String>), move |cursor| async move {
            let mut query = vec![("limit", page_size.to_string())];
            query.extend(cursor?.map(|c| ("cursor", c)));
            let answer = self.answer(Method::GET, &["v1", "users"], &query, None, Repeat::Safe);
            match answer.await.and_then(Answer::decode::<UsersPage>) {
                Ok(page) if page.users.is_empty() => None,
                Ok(page) => Some((Ok(page.users), page.next_cursor.map(Some))),
                Err(e) => Some((Err(e), None)),
            }
        })
    }

    /// The platform's tiers, in order (`GET /v1/tiers`).
    pub async fn tiers(&self) -> Result<Vec<Tier>, Error> {
        let list: TierList = self.call(Method::GET, &["v1", "tiers"], None, Repeat::Safe).await?;
        Ok(list.tiers)
    }

    /// Replaces the platform's tiers (`PUT /v1/tiers`); paid tiers get their Stripe
    /// price. Answers the tiers as stored (with `stripe_price_id`).
    pub async fn set_tiers(&self, tiers: &[Tier]) -> Result<Vec<Tier>, Error> {
        let body = json(&TierList { tiers: tiers.to_vec() })?;
        let list: TierList = self.call(Method::PUT, &["v1", "tiers"], body, Repeat::Safe).await?;
        Ok(list.tiers)
    }

    /// The platform, its plan with dream-api and that plan's quota (`GET /v1/platform`).
    pub async fn platform(&self) -> Result<PlatformInfo, Error> {
        self.call(Method::GET, &["v1", "platform"], None, Repeat::Safe).await
    }

    /// Calls, denials and unique end-users over the last `days` days, oldest first
    /// (`GET /v1/stats?days=`).
    pub async fn stats(&self, days: u32) -> Result<Stats, Error> {
        let query = [("days", days.to_string())];
        self.answer(Method::GET, &["v1", "stats"], &query, None, Repeat::Safe).await?.decode()
    }

    /// One page of the request log, newest first (`GET /v1/logs`): every metered call
    /// and denial with the request id its caller got. Pass the page's `next_before` as
    /// [`LogQuery::before`] for the next one.
    pub async fn logs(&self, query: &LogQuery) -> Result<LogPage, Error> {
        let mut params = vec![];
        if let Some(user) = &query.user_id {
            params.push(("userId", user.as_str().to_string()));
        }
        if let Some(status) = query.status {
            params.push(("status", status.to_string()));
        }
        if let Some(before) = &query.before {
            params.push(("before", before.clone()));
        }
        if let Some(limit) = query.limit {
            params.push(("limit", limit.to_string()));
        }
        self.answer(Method::GET, &["v1", "logs"], &params, None, Repeat::Safe).await?.decode()
    }

    /// What the platform's paid tiers earn (`GET /v1/revenue`).
    pub async fn revenue(&self) -> Result<Revenue, Error> {
        self.answer(Method::GET, &["v1", "revenue"], &[], None, Repeat::Safe).await?.decode()
    }

    /// A Stripe Checkout session for an end-user's paid tier (`POST /v1/checkout`).
    pub async fn checkout(&self, request: &CheckoutRequest) -> Result<CheckoutSession, Error> {
        self.call(Method::POST, &["v1", "checkout"], json(request)?, Repeat::Safe).await
    }

    /// A Stripe customer portal session for an end-user who paid (`POST /v1/portal`).
    pub async fn portal(&self, request: &PortalRequest) -> Result<PortalSession, Error> {
        self.call(Method::POST, &["v1", "portal"], json(request)?, Repeat::Safe).await
    }

    /// Rotates the platform's key (`POST /v1/keys/rotate`); the previous one keeps
    /// working for `grace_seconds` (0 to 86 400). This client (and its clones) use the
    /// new key from then on. Retried only if the request never left: a lost answer
    /// would lose the new key.
    pub async fn rotate_key(&self, grace_seconds: u32) -> Result<Rotation, Error> {
        let body = json(&RotateRequest { grace_seconds })?;
        let path = ["v1", "keys", "rotate"];
        let rotation: Rotation = self.call(Method::POST, &path, body, Repeat::OnlyUnsent).await?;
        if let Credential::Key(key) = &self.inner.credential {
            *key.write().unwrap_or_else(PoisonError::into_inner) = rotation.api_key.clone();
        }
        Ok(rotation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> String {
        ApiKey::generate(&mut |buf: &mut [u8]| buf.fill(3)).expose().to_string()
    }

    #[test]
    fn a_mistyped_key_is_refused_before_any_call() {
        let mut typo = key();
        typo.pop();
        let error = Client::new(&typo, "http://127.0.0.1:1").expect_err("not a key");
        assert_eq!((error.status, error.code.as_str()), (0, "invalid_api_key"));
    }

    #[test]
    fn a_client_needs_an_http_base_url_and_has_no_default_one() {
        let missing = Client::builder().api_key(&key()).build().expect_err("no base_url");
        assert_eq!(missing.code, "invalid_request");
        assert!(Client::new(&key(), "ftp://example.com").is_err());
        assert!(Client::new(&key(), "https://api.example.com").is_ok());
    }

    #[test]
    fn paths_keep_the_base_urls_prefix_and_encode_each_segment() {
        let client = Client::new(&key(), "https://example.com/dream/").expect("a client");
        let query = [("cursor", "a&b".to_string())];
        let url = client.inner.transport.url(&["v1", "usage", "a/b?c"], &query);
        assert_eq!(url.as_str(), "https://example.com/dream/v1/usage/a%2Fb%3Fc?cursor=a%26b");
    }

    #[test]
    fn debug_output_names_the_mode_but_never_the_key() {
        let key = key();
        let client = Client::new(&key, "https://api.example.com").expect("a client");
        let shown = format!("{client:?}");
        assert!(shown.contains("api key") && !shown.contains(&key), "{shown}");
    }
}

//! One call to the API: attempts, each within the timeout, repeated as [`Policy`] says.

use crate::error::Error;
use crate::retry::{parse_retry_after, Outcome, Policy, Repeat, Step};
use crate::runtime::{sleep, unit_random, within};
use reqwest::header::{HeaderMap, AUTHORIZATION, CONTENT_TYPE};
use reqwest::{Method, Url};
use serde::de::DeserializeOwned;
use std::future::Future;
use std::time::Duration;

/// A call, ready to be sent as many times as it takes: the body is encoded once, so
/// every attempt carries the same bytes (and the same idempotency key).
pub(crate) struct Request {
    pub method: Method,
    pub url: Url,
    pub body: Option<Vec<u8>>,
    pub repeat: Repeat,
}

/// What the API answered, any status.
#[derive(Debug)]
pub(crate) struct Answer {
    pub status: u16,
    pub retry_after: Option<Duration>,
    pub body: Vec<u8>,
    request_id: Option<String>,
    /// The contract's error, for any status other than 2xx.
    error: Option<Error>,
}

impl Answer {
    pub fn new(status: u16, headers: &HeaderMap, body: Vec<u8>) -> Self {
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let request_id = header("X-Request-Id").map(str::to_string);
        let retry_after = header("Retry-After").and_then(parse_retry_after);
        let error = (!(200..300).contains(&status))
            .then(|| Error::from_answer(status, &body, request_id.clone()));
        Self { status, retry_after, body, request_id, error }
    }

    pub fn code(&self) -> Option<&str> {
        self.error.as_ref().map(|e| e.code.as_str())
    }

    /// The body as `T` after a 2xx, the answer's error otherwise.
    pub fn decode<T: DeserializeOwned>(self) -> Result<T, Error> {
        if let Some(error) = self.error {
            return Err(error);
        }
        serde_json::from_slice(&self.body).map_err(|e| Error {
            status: self.status,
            code: Error::INVALID_RESPONSE.to_string(),
            message: format!("The API's answer did not have the documented fields: {e}."),
            request_id: self.request_id,
        })
    }
}

/// An attempt that got no answer.
enum Failure {
    /// Only known natively: `fetch` does not tell.
    #[cfg_attr(target_arch = "wasm32", allow(dead_code))]
    Unsent(Error),
    Lost(Error),
}

impl Failure {
    fn outcome(&self) -> Outcome<'static> {
        match self {
            Failure::Unsent(_) => Outcome::Unsent,
            Failure::Lost(_) => Outcome::Lost,
        }
    }

    fn into_error(self) -> Error {
        match self {
            Failure::Unsent(e) | Failure::Lost(e) => e,
        }
    }
}

/// The HTTP side of a client: where, how long to wait, and how often to try.
#[derive(Debug)]
pub(crate) struct Transport {
    pub http: reqwest::Client,
    pub base: Url,
    pub timeout: Duration,
    pub policy: Policy,
}

impl Transport {
    /// `base` followed by `segments` (each percent-encoded as one path segment) and
    /// `query`.
    pub fn url(&self, segments: &[&str], query: &[(&str, String)]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        url
    }

    /// Sends `request` until it gets an answer worth handing back (any status), or its
    /// retries are spent. `bearer` is asked again before each attempt.
    pub async fn send<F, Fut>(&self, request: &Request, bearer: F) -> Result<Answer, Error>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<String, Error>>,
    {
        let attempt = || async { Ok(self.attempt(request, &bearer().await?).await) };
        retrying(&self.policy, request.repeat, attempt).await
    }

    async fn attempt(&self, request: &Request, bearer: &str) -> Result<Answer, Failure> {
        let mut builder = self
            .http
            .request(request.method.clone(), request.url.clone())
            .header(AUTHORIZATION, format!("Bearer {bearer}"));
        if let Some(body) = &request.body {
            builder = builder.header(CONTENT_TYPE, "application/json").body(body.clone());
        }
        let exchange = async {
            let response = builder.send().await.map_err(failure)?;
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let body = response.bytes().await.map_err(|e| Failure::Lost(network_error(&e)))?;
            Ok(Answer::new(status, &headers, body.to_vec()))
        };
        within(self.timeout, exchange).await.unwrap_or_else(|| {
            let ms = self.timeout.as_millis();
            Err(Failure::Lost(Error::local(Error::TIMEOUT, format!("No answer within {ms} ms."))))
        })
    }
}

/// Runs `attempt` until [`Policy::next`] says stop, sleeping between attempts. An
/// attempt's outer `Err` (no credential to send) ends at once.
async fn retrying<A, Fut>(policy: &Policy, repeat: Repeat, attempt: A) -> Result<Answer, Error>
where
    A: Fn() -> Fut,
    Fut: Future<Output = Result<Result<Answer, Failure>, Error>>,
{
    let mut retries = 0;
    loop {
        let result = attempt().await?;
        let (outcome, retry_after) = match &result {
            Ok(answer) => {
                let outcome = Outcome::Answered { status: answer.status, code: answer.code() };
                (outcome, answer.retry_after)
            }
            Err(failure) => (failure.outcome(), None),
        };
        match policy.next(repeat, outcome, retries, unit_random(), retry_after) {
            Step::Stop => return result.map_err(Failure::into_error),
            Step::RetryAfter(wait) => sleep(wait).await,
        }
        retries += 1;
    }
}

/// A connection that was never made did not reach the API; anything else may have.
#[cfg(not(target_arch = "wasm32"))]
fn failure(e: reqwest::Error) -> Failure {
    if e.is_connect() {
        Failure::Unsent(network_error(&e))
    } else {
        Failure::Lost(network_error(&e))
    }
}

/// `fetch` does not say whether its request left, so any failure may have reached the API.
#[cfg(target_arch = "wasm32")]
fn failure(e: reqwest::Error) -> Failure {
    Failure::Lost(network_error(&e))
}

fn network_error(e: &reqwest::Error) -> Error {
    use std::error::Error as _;
    let mut message = format!("The API could not be reached: {e}");
    let mut source = e.source();
    while let Some(cause) = source {
        message.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    Error::local(Error::NETWORK_ERROR, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::time::Instant;

    /// Attempts that come to `script` in turn; what each was.
    struct Script {
        outcomes: RefCell<Vec<Result<Answer, Failure>>>,
        attempts: RefCell<u32>,
    }

    impl Script {
        fn new(mut outcomes: Vec<Result<Answer, Failure>>) -> Self {
            outcomes.reverse();
            Self { outcomes: RefCell::new(outcomes), attempts: RefCell::new(0) }
        }

        async fn run(&self, max_retries: u32, repeat: Repeat) -> Result<Answer, Error> {
            let attempt = || async {
                *self.attempts.borrow_mut() += 1;
                Ok(self.outcomes.borrow_mut().pop().expect("no more attempts were scripted"))
            };
            retrying(&Policy::new(max_retries), repeat, attempt).await
        }
    }

    fn answer(status: u16, code: &str, retry_after: Option<&str>) -> Result<Answer, Failure> {
        let mut headers = HeaderMap::new();
        if let Some(secs) = retry_after {
            headers.insert("retry-after", secs.parse().expect("a header value"));
        }
        let body = format!(r#"{{"error": {{"code": "{code}", "message": "m"}}}}"#);
        Ok(Answer::new(status, &headers, body.into_bytes()))
    }

    fn lost() -> Result<Answer, Failure> {
        Err(Failure::Lost(Error::local(Error::NETWORK_ERROR, "dropped")))
    }

    fn ok() -> Result<Answer, Failure> {
        Ok(Answer::new(200, &HeaderMap::new(), b"{}".to_vec()))
    }

    #[tokio::test]
    async fn two_lost_attempts_and_a_503_are_followed_by_the_answer_within_three_retries() {
        let script = Script::new(vec![lost(), lost(), answer(503, "internal", None), ok()]);
        let answer = script.run(3, Repeat::Track).await.expect("an answer");
        assert_eq!((answer.status, *script.attempts.borrow()), (200, 4));
    }

    #[tokio::test]
    async fn when_retries_run_out_the_last_failure_is_the_error() {
        let script = Script::new(vec![lost(), answer(502, "upstream_error", None), lost()]);
        let error = script.run(2, Repeat::Safe).await.expect_err("out of retries");
        assert_eq!((error.status, error.code.as_str()), (0, Error::NETWORK_ERROR));
        assert_eq!(*script.attempts.borrow(), 3);
    }

    #[tokio::test]
    async fn a_denial_is_handed_back_after_one_attempt() {
        let script = Script::new(vec![answer(429, "rate_limited", Some("30"))]);
        let answer = script.run(2, Repeat::Track).await.expect("an answer");
        assert_eq!((answer.status, answer.code()), (429, Some("rate_limited")));
        assert_eq!(*script.attempts.borrow(), 1);
    }

    #[tokio::test]
    async fn a_retry_after_is_waited_for_before_the_next_attempt() {
        let script = Script::new(vec![answer(503, "internal", Some("1")), ok()]);
        let started = Instant::now();
        script.run(1, Repeat::Safe).await.expect("an answer");
        assert!(started.elapsed() >= Duration::from_secs(1), "{:?}", started.elapsed());
    }

    #[tokio::test]
    async fn a_credential_that_cannot_be_had_ends_the_call_without_an_attempt() {
        let attempt = || async { Err(Error::local("unauthenticated", "signed out")) };
        let error = retrying(&Policy::new(2), Repeat::Track, attempt).await.expect_err("no token");
        assert_eq!(error.code, "unauthenticated");
    }
}

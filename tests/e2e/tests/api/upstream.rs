//! When Clerk or Stripe fails (API.md: an upstream failure is `502 upstream_error`, and
//! nothing is half-stored): faults injected into the stand-ins (`/dev/faults`), each
//! scoped to what only its test sends (a user's path, a platform's id), cleared even when
//! the test fails, and these tests run one at a time, as the JWKS is everyone's.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use dream_e2e::{
    eventually, now_seconds, Answer, Call, ClerkStandIn, Developer, Platform, Quotas, StripeStandIn,
};
use futures::FutureExt;
use reqwest::Method;
use serde_json::{json, Value};
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::OnceLock;
use std::time::Duration;

/// One upstream test at a time.
fn serial() -> &'static futures::lock::Mutex<()> {
    static SERIAL: OnceLock<futures::lock::Mutex<()>> = OnceLock::new();
    SERIAL.get_or_init(|| futures::lock::Mutex::new(()))
}

/// A stand-in's `/dev/faults`.
struct Faults {
    base: String,
}

impl Faults {
    fn clerk() -> Self {
        Self { base: std::env::var("DREAM_CLERK_URL").expect("set by the test stack") }
    }

    fn stripe() -> Self {
        Self { base: StripeStandIn::from_env().base }
    }

    async fn send(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let mut req = reqwest::Client::new().request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.expect("the stand-in answers");
        assert!(resp.status().is_success(), "{path} answered {}", resp.status());
        resp.json().await.expect("JSON")
    }

    /// The fault's `hits` so far.
    async fn hits(&self, id: &str) -> u64 {
        let all = self.send(Method::GET, "/dev/faults", None).await;
        let fault = all["data"].as_array().and_then(|a| a.iter().find(|f| f["id"] == id)).cloned();
        fault.and_then(|f| f["hits"].as_u64()).unwrap_or(0)
    }

    /// Runs `test` with the fault `spec` in place, and clears the fault afterwards, even
    /// when `test` fails. `test` gets the fault's id.
    async fn during<F: Future<Output = ()>>(&self, spec: Value, test: impl FnOnce(String) -> F) {
        // The fault ends by itself after two minutes, should this process die first.
        let mut spec = spec;
        if spec.get("seconds").is_none() {
            spec["seconds"] = json!(120);
        }
        let fault = self.send(Method::POST, "/dev/faults", Some(spec)).await;
        let id = fault["id"].as_str().expect("a fault id").to_string();
        let outcome = AssertUnwindSafe(test(id.clone())).catch_unwind().await;
        self.send(Method::DELETE, &format!("/dev/faults/{id}"), None).await;
        if let Err(panic) = outcome {
            std::panic::resume_unwind(panic);
        }
    }
}

#[tokio::test]
async fn clerk_failing_while_a_developer_creates_credentials_is_a_502_and_a_retry_creates_one_platform(
) {
    let _serial = serial().lock().await;
    let dev = Developer::sign_in(json!({})).await;
    let clerk = Faults::clerk();
    let user_path = format!("/v1/users/{}", dev.user_id);
    let spec = json!({ "method": "GET", "path": user_path, "status": 503, "count": 50 });
    clerk
        .during(spec, |id| {
            let (clerk, dev) = (&clerk, &dev);
            async move {
                let answer = dev.call(Method::POST, "/v1/credentials").send().await;
                answer.assert_error(502, "upstream_error");
                assert!(clerk.hits(&id).await >= 1, "the worker asked Clerk and Clerk failed");
            }
        })
        .await;
    let created = dev.call(Method::POST, "/v1/credentials").send().await;
    assert_eq!(created.status, 201, "{}", created.body);
    dev.call(Method::POST, "/v1/credentials").send().await.assert_error(409, "conflict");
    let me = dev.call(Method::GET, "/v1/me").send().await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.body["platform"]["platformId"], created.body["platformId"]);
}

fn checkout(user: &str) -> Value {
    json!({"userId": user, "tier": "pro", "successUrl": "https://app.example/ok",
           "cancelUrl": "https://app.example/no", "email": "end@user.example"})
}

#[tokio::test]
async fn stripe_failing_to_create_a_checkout_session_is_a_502_that_stores_nothing_and_a_retry_pays()
{
    let _serial = serial().lock().await;
    let platform = Platform::register(Quotas::Raised).await;
    crate::end_user_billing::priced(&platform).await;
    let user = "upstream-buyer";
    let stripe = Faults::stripe();
    // Only this platform's sessions carry its id (in their metadata).
    let spec = json!({ "method": "POST", "path": "/v1/checkout/sessions", "status": 500,
        "contains": platform.id, "count": 50 });
    stripe
        .during(spec, |id| {
            let (platform, stripe) = (&platform, &stripe);
            async move {
                let answer =
                    platform.call(Method::POST, "/v1/checkout").json(&checkout(user)).send().await;
                answer.assert_error(502, "upstream_error");
                assert_eq!(answer.body["preview"], true, "{}", answer.body);
                assert_eq!(stripe.hits(&id).await, 1, "one call to Stripe, not retried on its own");
            }
        })
        .await;
    let usage = platform.usage(user).await;
    assert_eq!(
        (usage.status.as_u16(), &usage.body["plan"]),
        (200, &json!("free")),
        "{}",
        usage.body
    );

    let retried = platform.call(Method::POST, "/v1/checkout").json(&checkout(user)).send().await;
    assert_eq!(retried.status, 200, "{}", retried.body);
    let session = retried.body["sessionId"].as_str().expect("sessionId");
    let stand_in = StripeStandIn::from_env();
    let stored = stand_in.get(&format!("/v1/checkout/sessions/{session}"), None).await;
    assert_eq!(stored.body["metadata"]["platformId"], platform.id);
    stand_in.pay(retried.body["url"].as_str().expect("url")).await;
    eventually("the upgrade to Pro", || platform.usage(user), |a| a.body["plan"] == "pro").await;
}

#[tokio::test]
async fn a_checkout_stripe_failed_takes_no_seat_of_the_preview() {
    let _serial = serial().lock().await;
    let platform = Platform::register(Quotas::Raised).await;
    crate::end_user_billing::priced(&platform).await;
    platform.serve_end_users("seated", 99).await;
    let spec = json!({ "method": "POST", "path": "/v1/checkout/sessions", "status": 500,
        "contains": platform.id, "count": 5 });
    Faults::stripe()
        .during(spec, |_| async {
            let answer = platform
                .call(Method::POST, "/v1/checkout")
                .json(&checkout("newcomer"))
                .send()
                .await;
            answer.assert_error(502, "upstream_error");
        })
        .await;
    let last = platform.track("last-seat").await;
    assert_eq!(last.status, 200, "the failed checkout took no seat: {}", last.body);
    platform.track("one-too-many").await.assert_error(403, "forbidden");
}

/// A session token whose header names a key Clerk never published.
fn unknown_kid_token() -> String {
    let encode = |v: Value| URL_SAFE_NO_PAD.encode(v.to_string());
    let header = encode(json!({ "alg": "RS256", "kid": "ins_never_published", "typ": "JWT" }));
    let claims = encode(
        json!({ "sub": "user_unknown_kid", "iat": now_seconds(), "exp": now_seconds() + 60 }),
    );
    format!("{header}.{claims}.{}", URL_SAFE_NO_PAD.encode([1u8; 256]))
}

fn stripe_oauth_status(token: &str) -> Call {
    Call::to(&dream_e2e::stripe_oauth_url(), Method::GET, "/v1/connect/status").key(token)
}

/// Every worker verifies a token once, so that each holds the JWKS before it goes down.
async fn every_worker_holds_the_jwks(dev: &Developer) {
    let clerk = ClerkStandIn::from_env();
    for quotas in [Quotas::Default, Quotas::Raised] {
        let platform = Platform::register(quotas).await;
        let end_user = clerk.end_user_of(&platform.id).await;
        let usage = Call::new(quotas, Method::GET, &format!("/v1/usage/{}", end_user.user_id))
            .key(&end_user.token)
            .send()
            .await;
        assert_eq!(usage.status, 200, "{}", usage.body);
    }
    let me = dev.call(Method::GET, "/v1/me").send().await;
    assert_eq!(me.status, 200, "{}", me.body);
    let status = stripe_oauth_status(&dev.token).send().await;
    assert_eq!(status.status, 200, "{}", status.body);
}

/// Sends tokens with an unknown key id until the worker has tried the JWKS once more
/// (it asks for unknown kids at most once a minute, and backs off after failures):
/// every one is refused with `401`.
async fn refused_until_the_jwks_is_asked(faults: &Faults, id: &str) -> Answer {
    for _ in 0..45 {
        let answer = stripe_oauth_status(&unknown_kid_token()).send().await;
        answer.assert_error(401, "unauthenticated");
        if faults.hits(id).await >= 1 {
            return answer;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    panic!("the worker did not ask for the JWKS within 90 s");
}

#[tokio::test]
async fn the_jwks_failing_refuses_an_unknown_key_id_with_401_and_the_worker_fetches_again_after() {
    let _serial = serial().lock().await;
    let signed_in = Developer::sign_in(json!({})).await;
    signed_in.credentials().await;
    // This test waits out the worker's minute between fetches for unknown key ids: its
    // token must outlive that.
    let token =
        ClerkStandIn::from_env().token(&signed_in.user_id, "http://127.0.0.1:8790", 600).await;
    let dev = Developer { user_id: signed_in.user_id, token };
    every_worker_holds_the_jwks(&dev).await;
    let clerk = Faults::clerk();
    let down = json!({ "method": "GET", "path": "/v1/jwks", "status": 503, "count": 1000 });
    clerk
        .during(down, |id| {
            let (clerk, dev) = (&clerk, &dev);
            async move {
                refused_until_the_jwks_is_asked(clerk, &id).await;
                let known = stripe_oauth_status(&dev.token).send().await;
                assert_eq!(known.status, 200, "the keys held still verify: {}", known.body);
            }
        })
        .await;
    // A fault that only watches: the JWKS answers as usual, and the fault counts.
    let watch = json!({ "method": "GET", "path": "/v1/jwks", "ms": 1, "count": 1000 });
    clerk
        .during(watch, |id| {
            let clerk = &clerk;
            async move {
                refused_until_the_jwks_is_asked(clerk, &id).await;
            }
        })
        .await;
    let known = stripe_oauth_status(&dev.token).send().await;
    assert_eq!(known.status, 200, "{}", known.body);
}

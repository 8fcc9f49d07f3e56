//! Limits that protect the workers themselves, measured from outside. A test binary of
//! its own: the JWKS count is read from the Clerk stand-in, which every worker asks, so
//! nothing else may run beside it.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use dream_e2e::{all_at_once, count_status, Answer, Call, Platform, Quotas};
use reqwest::Method;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// A session token whose header names a key Clerk never published.
fn forged_token(kid: &str) -> String {
    let header =
        URL_SAFE_NO_PAD.encode(json!({ "alg": "RS256", "kid": kid, "typ": "JWT" }).to_string());
    let claims = URL_SAFE_NO_PAD.encode(
        json!({ "sub": "user_forged", "exp": dream_e2e::now_seconds() + 60, "iat": dream_e2e::now_seconds() })
            .to_string(),
    );
    format!("{header}.{claims}.{}", URL_SAFE_NO_PAD.encode([7u8; 256]))
}

async fn jwks_requests() -> u64 {
    let base = std::env::var("DREAM_CLERK_URL").expect("set by scripts/test.sh");
    let answer: Value = reqwest::get(format!("{base}/dev/jwks-requests"))
        .await
        .expect("the Clerk stand-in answers")
        .json()
        .await
        .expect("JSON");
    answer["count"].as_u64().expect("count")
}

#[tokio::test]
async fn fifty_requests_with_forged_key_ids_fetch_the_jwks_at_most_once() {
    // One token with a real key first, so the worker holds the JWKS (that fetch is not
    // what is measured).
    let platform = Platform::register(Quotas::Raised).await;
    let clerk = dream_e2e::ClerkStandIn::from_env();
    let me = clerk.end_user_of(&platform.id).await;
    let usage = Call::new(Quotas::Raised, Method::GET, &format!("/v1/usage/{}", me.user_id))
        .key(&me.token)
        .send()
        .await;
    assert_eq!(usage.status, 200, "{}", usage.body);

    let before = jwks_requests().await;
    let answers = all_at_once(50, |i| {
        Call::new(Quotas::Raised, Method::GET, "/v1/usage/user_forged")
            .key(&forged_token(&format!("forged-{i}")))
            .send()
    })
    .await;
    assert_eq!(
        count_status(&answers, 401),
        50,
        "{:?}",
        answers.iter().map(|a| &a.body).collect::<Vec<_>>()
    );
    let fetched = jwks_requests().await - before;
    assert!(fetched <= 1, "{fetched} JWKS requests for 50 unknown key ids");
}

/// Sends `total` bytes in 16 KiB chunks without a `Content-Length`, counting what the
/// worker actually took before it answered.
async fn chunked(path: &str, total: usize) -> (Answer, usize) {
    let sent = Arc::new(AtomicUsize::new(0));
    let counter = sent.clone();
    const CHUNK: usize = 16 * 1024;
    let chunks = futures::stream::iter((0..total / CHUNK).map(move |_| {
        counter.fetch_add(CHUNK, Ordering::SeqCst);
        Ok::<_, std::io::Error>(vec![b' '; CHUNK])
    }));
    let platform = Platform::register(Quotas::Raised).await;
    let answer = Call::new(Quotas::Raised, Method::POST, path)
        .key(&platform.key)
        .raw("application/json", reqwest::Body::wrap_stream(chunks))
        .send()
        .await;
    (answer, sent.load(Ordering::SeqCst))
}

#[tokio::test]
async fn a_chunked_32_mib_track_is_refused_before_one_mib_has_been_sent() {
    let (answer, sent) = chunked("/v1/usage/track", 32 << 20).await;
    answer.assert_error(413, "payload_too_large");
    assert!(sent < 1 << 20, "{sent} bytes were read before the refusal");
}

#[tokio::test]
async fn a_chunked_32_mib_stripe_event_is_refused_before_one_mib_has_been_sent() {
    let (answer, sent) = chunked("/webhooks/stripe", 32 << 20).await;
    assert_eq!(answer.status, 413, "{}", answer.body);
    assert!(sent < 1 << 20, "{sent} bytes were read before the refusal");
}

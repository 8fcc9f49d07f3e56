//! What every answer of every worker carries besides its body (`dream_core::access`):
//! the security headers, `Cache-Control`, the rate-limit fields of the current IETF
//! draft beside the older ones; and the one JSON line each request leaves in the
//! worker's log, which never holds a key or a token.

use dream_e2e::{platform_auth_url, stripe_oauth_url, Answer, Call, Developer, Platform, Quotas};
use reqwest::Method;
use serde_json::{json, Value};

fn assert_secure(answer: &Answer, what: &str, cache: &str) {
    for (name, value) in [
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "no-referrer"),
        ("Strict-Transport-Security", "max-age=31536000; includeSubDomains"),
        ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
        ("Cache-Control", cache),
    ] {
        assert_eq!(answer.header(name), Some(value), "{what}: {name}");
    }
}

#[tokio::test]
async fn every_worker_answer_and_error_carries_the_security_headers_and_only_the_document_is_cacheable(
) {
    let p = Platform::register(Quotas::Default).await;
    let tracked = p.track("hana").await;
    assert_secure(&tracked, "a track", "no-store");
    let bad_key =
        Call::new(Quotas::Default, Method::GET, "/v1/platform").key("pk_live_nope").send().await;
    assert_eq!(bad_key.status, 401);
    assert_secure(&bad_key, "a 401", "no-store");
    let missing = Call::new(Quotas::Default, Method::GET, "/v1/nothing-here").send().await;
    assert_secure(&missing, "a 404", "no-store");
    let preflight = Call::new(Quotas::Default, Method::OPTIONS, "/v1/usage/track")
        .header("Origin", "http://127.0.0.1:8790")
        .header("Access-Control-Request-Method", "POST")
        .send()
        .await;
    assert_eq!(preflight.status, 204);
    assert_secure(&preflight, "a preflight", "no-store");
    let document = Call::new(Quotas::Default, Method::GET, "/openapi.json").send().await;
    assert_secure(&document, "the api document", "public, max-age=300");
    for base in [platform_auth_url(), stripe_oauth_url()] {
        let health = Call::to(&base, Method::GET, "/health").send().await;
        assert_secure(&health, &format!("{base}/health"), "no-store");
        let unauthenticated = Call::to(&base, Method::GET, "/v1/me").send().await;
        assert!(unauthenticated.status.is_client_error(), "{base}: {}", unauthenticated.body);
        assert_secure(&unauthenticated, &format!("{base} error"), "no-store");
        let document = Call::to(&base, Method::GET, "/openapi.json").send().await;
        assert_secure(&document, &format!("{base}/openapi.json"), "public, max-age=300");
    }
    let dev = Developer::sign_in(json!({})).await;
    let credentials = dev.call(Method::POST, "/v1/credentials").send().await;
    assert_eq!(credentials.status, 201, "{}", credentials.body);
    assert_secure(&credentials, "the answer with a new key", "no-store");
}

#[tokio::test]
async fn a_metered_answer_carries_the_drafts_ratelimit_policy_and_ratelimit_fields() {
    let p = Platform::with_free_limit(Quotas::Raised, 1000).await;
    let first = p.track("ines").await;
    assert_eq!(first.header("RateLimit-Policy"), Some("\"default\";q=100;w=60"));
    let reset = first.header("RateLimit-Reset").expect("reset");
    assert_eq!(
        first.header("RateLimit").map(str::to_owned),
        Some(format!("\"default\";r=99;t={reset}"))
    );
    for _ in 0..99 {
        p.track("ines").await;
    }
    let limited = p.track("ines").await;
    limited.assert_error(429, "rate_limited");
    let reset = limited.header("RateLimit-Reset").expect("reset");
    assert_eq!(
        limited.header("RateLimit").map(str::to_owned),
        Some(format!("\"default\";r=0;t={reset}"))
    );
}

/// The JSON lines of a worker's log (`$DREAM_LOGS/NAME.log`, written by the test stack).
fn log_lines(name: &str) -> Vec<Value> {
    let dir = std::env::var("DREAM_LOGS").expect("set by scripts/test.sh");
    let text = std::fs::read_to_string(format!("{dir}/{name}.log")).expect("the worker's log");
    text.lines()
        .filter_map(|l| l.find("{\"requestId\"").map(|at| &l[at..]))
        .filter_map(|l| serde_json::from_str(l.trim()).ok())
        .collect()
}

/// The one line `name`'s log holds for the request that was answered `answer`.
async fn line_of(name: &str, answer: &Answer) -> Value {
    let id = answer.header("X-Request-Id").expect("an id").to_string();
    let mut mine = vec![];
    for _ in 0..50 {
        mine = log_lines(name).into_iter().filter(|l| l["requestId"] == id.as_str()).collect();
        if !mine.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(mine.len(), 1, "one line in {name}'s log for the request");
    mine.remove(0)
}

#[tokio::test]
async fn each_request_leaves_one_json_log_line_with_its_route_and_platform_and_never_the_key() {
    let p = Platform::register(Quotas::Default).await;
    let line = line_of("api-default", &p.track("ivy").await).await;
    assert_eq!(
        (&line["method"], &line["route"], &line["status"], &line["platformId"]),
        (&json!("POST"), &json!("/v1/usage/track"), &json!(200), &json!(p.id))
    );
    assert!(line["durationMs"].as_i64().is_some_and(|ms| (0..60_000).contains(&ms)), "{line}");
    let dir = std::env::var("DREAM_LOGS").expect("set by scripts/test.sh");
    for entry in std::fs::read_dir(&dir).expect("the logs") {
        let path = entry.expect("a log").path();
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(!text.contains(&p.key), "the API key is in {}", path.display());
    }
}

#[tokio::test]
async fn the_dashboards_backend_and_the_connect_worker_log_the_platform_a_developers_call_is_about()
{
    let dev = Developer::sign_in(json!({})).await;
    let p = dev.credentials().await;
    let tiers = dev.call(Method::GET, "/v1/tiers").send().await;
    assert_eq!(tiers.status, 200, "{}", tiers.body);
    let line = line_of("platform-auth", &tiers).await;
    assert_eq!(
        (&line["method"], &line["route"], &line["status"], &line["platformId"]),
        (&json!("GET"), &json!("/v1/tiers"), &json!(200), &json!(p.id))
    );
    let status = dev.connect_call(Method::GET, "/v1/connect/status").send().await;
    assert_eq!(status.status, 200, "{}", status.body);
    let line = line_of("stripe-oauth", &status).await;
    assert_eq!(
        (&line["route"], &line["status"], &line["platformId"]),
        (&json!("/v1/connect/status"), &json!(200), &json!(p.id))
    );
    let token = dev.token.as_str();
    for name in ["platform-auth", "stripe-oauth"] {
        let dir = std::env::var("DREAM_LOGS").expect("set by scripts/test.sh");
        let text = std::fs::read_to_string(format!("{dir}/{name}.log")).expect("the log");
        assert!(!text.contains(token), "the session token is in {name}'s log");
    }
}

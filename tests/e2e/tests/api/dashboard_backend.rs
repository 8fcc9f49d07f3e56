//! The platform-auth worker (the dashboard's backend), beside the default api worker
//! with which it shares its state.

use dream_e2e::{platform_auth_url, Call, Developer, Quotas};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn a_new_developer_is_free_with_no_platform_and_zero_of_five_calls() {
    let dev = Developer::sign_in(json!({})).await;
    let me = dev.call(Method::GET, "/v1/me").send().await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.body["userId"], dev.user_id.as_str());
    assert!(me.body["email"].as_str().is_some_and(|e| e.ends_with("@example.com")));
    assert_eq!(me.body["plan"], "free");
    assert_eq!(me.body["subscribed"], false);
    assert_eq!(me.body["platform"], serde_json::Value::Null);
    assert_eq!(
        (me.body["usage"]["count"].as_u64(), me.body["usage"]["limit"].as_u64()),
        (Some(0), Some(5))
    );
}

#[tokio::test]
async fn credentials_are_created_once_and_the_key_meters_on_the_api_worker() {
    let dev = Developer::sign_in(json!({})).await;
    let platform = dev.credentials().await;
    dev.call(Method::POST, "/v1/credentials").send().await.assert_error(409, "conflict");

    for i in 0..5 {
        assert_eq!(platform.track(&format!("u{i}")).await.status, 200);
    }
    platform.track("u5").await.assert_error(403, "platform_quota_reached");

    let me = dev.call(Method::GET, "/v1/me").send().await;
    assert_eq!(me.body["platform"]["platformId"], platform.id.as_str());
    assert_eq!(me.body["platform"]["mode"], "preview");
    assert!(me.body["platform"]["previewUrl"]
        .as_str()
        .is_some_and(|u| u.ends_with(&format!("/preview/{}", platform.id))));
    assert_eq!(me.body["usage"]["count"], 5);
    assert_eq!(me.body["usage"]["remaining"], 0);
    let stats = dev.call(Method::GET, "/v1/stats?days=1").send().await;
    assert_eq!(stats.body["totalCalls"], 5, "{}", stats.body);
    assert_eq!(stats.body["uniqueUsers"], 6);
}

#[tokio::test]
async fn tiers_set_in_the_dashboard_are_the_api_workers_tiers() {
    let dev = Developer::sign_in(json!({})).await;
    let platform = dev.credentials().await;
    let tiers = json!([
        {"id": "free", "name": "Free", "priceCents": 0, "limit": 2},
        {"id": "pro", "name": "Pro", "priceCents": 900, "limit": 50},
    ]);
    let put = dev.call(Method::PUT, "/v1/tiers").json(&json!({"tiers": tiers})).send().await;
    assert_eq!(put.status, 200, "{}", put.body);
    let via_key = platform.call(Method::GET, "/v1/tiers").send().await;
    assert_eq!(via_key.body["tiers"][1]["id"], "pro");
    assert_eq!(
        dev.call(Method::GET, "/v1/tiers").send().await.body["tiers"],
        via_key.body["tiers"]
    );
    assert_eq!(via_key.body["preview"], true, "the api worker says the platform is in preview");
    dev.call(Method::PUT, "/v1/tiers")
        .json(&json!({"tiers": []}))
        .send()
        .await
        .assert_error(400, "invalid_request");
}

#[tokio::test]
async fn rotating_credentials_in_the_dashboard_replaces_the_key() {
    let dev = Developer::sign_in(json!({})).await;
    let platform = dev.credentials().await;
    let rotated = dev
        .call(Method::POST, "/v1/credentials/rotate")
        .json(&json!({"graceSeconds": 0}))
        .send()
        .await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    platform.call(Method::GET, "/v1/tiers").send().await.assert_error(401, "invalid_api_key");
    let key = rotated.body["apiKey"].as_str().expect("apiKey");
    let renewed = Call::new(Quotas::Default, Method::GET, "/v1/tiers").key(key).send().await;
    assert_eq!(renewed.status, 200);
}

#[tokio::test]
async fn routes_about_the_platform_need_credentials_first() {
    let dev = Developer::sign_in(json!({})).await;
    for (method, path) in [
        (Method::GET, "/v1/tiers"),
        (Method::GET, "/v1/stats"),
        (Method::GET, "/v1/users"),
        (Method::POST, "/v1/credentials/rotate"),
    ] {
        dev.call(method, path).json(&json!({})).send().await.assert_error(404, "not_found");
    }
}

#[tokio::test]
async fn the_dashboard_backend_wants_a_clerk_session_not_a_key_or_nothing() {
    let dev = Developer::sign_in(json!({})).await;
    let platform = dev.credentials().await;
    let base = platform_auth_url();
    let none = Call::to(&base, Method::GET, "/v1/me").send().await;
    none.assert_error(401, "unauthenticated");
    let message = none.body["error"]["message"].as_str().unwrap_or("");
    assert!(message.contains("Clerk session token"), "{}", none.body);
    let key = Call::to(&base, Method::GET, "/v1/me").key(&platform.key).send().await;
    key.assert_error(401, "unauthenticated");
    let message = key.body["error"]["message"].as_str().unwrap_or("");
    assert!(message.contains("not an API key"), "{}", key.body);
    let health = Call::to(&base, Method::GET, "/health").send().await;
    assert_eq!((health.status.as_u16(), health.body.clone()), (200, json!({"ok": true})));
    let me = dev.call(Method::GET, "/v1/me").send().await;
    assert_eq!(
        me.body["platform"]["platformId"],
        platform.id.as_str(),
        "the session is the way in"
    );
}

#[tokio::test]
async fn a_developer_may_make_a_hundred_calls_a_minute() {
    let dev = Developer::sign_in(json!({})).await;
    let answers = dream_e2e::all_at_once(101, |_| dev.call(Method::GET, "/v1/me").send()).await;
    assert_eq!(dream_e2e::count_status(&answers, 200), 100);
    let limited = answers.iter().find(|a| a.status == 429).expect("the 101st is refused");
    limited.assert_error(429, "rate_limited");
    assert!(limited.header("Retry-After").is_some());
}

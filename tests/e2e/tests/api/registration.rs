use dream_e2e::{unique_ip, Call, Quotas};
use reqwest::Method;
use serde_json::json;

fn register(ip: &str, body: serde_json::Value) -> Call {
    Call::new(Quotas::Default, Method::POST, "/v1/developers")
        .header("CF-Connecting-IP", ip)
        .json(&body)
}

#[tokio::test]
async fn registration_returns_a_platform_and_a_key_shown_once() {
    let answer = register(&unique_ip(), json!({"email": "new@example.com"})).send().await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    let id = answer.body["platformId"].as_str().expect("platformId");
    let key = answer.body["apiKey"].as_str().expect("apiKey");
    assert!(dream_core::ids::PlatformId::parse(id).is_ok(), "{id}");
    assert!(dream_core::api_key::ApiKey::parse(key).is_ok(), "{key}");
    let platform = Call::new(Quotas::Default, Method::GET, "/v1/platform").key(key).send().await;
    assert_eq!(platform.status, 200, "{}", platform.body);
    assert_eq!(platform.body["name"], serde_json::Value::Null);
    assert_eq!(platform.body["platformId"], id);
    assert_eq!(platform.body["email"], "new@example.com");
    assert_eq!(
        (platform.body["mode"].as_str(), platform.body["plan"].as_str()),
        (Some("preview"), Some("free"))
    );
    let usage = &platform.body["usage"];
    assert_eq!((usage["count"].as_u64(), usage["limit"].as_u64()), (Some(0), Some(5)), "{usage}");
    assert!(!platform.body.to_string().contains(key), "the key is never shown again");
    let tiers = Call::new(Quotas::Default, Method::GET, "/v1/tiers").key(key).send().await;
    assert_eq!(
        tiers.body["tiers"],
        json!([{"id": "free", "name": "Free", "priceCents": 0, "limit": 100, "features": [], "popular": false, "stripePriceId": null}])
    );
}

#[tokio::test]
async fn a_client_address_may_register_five_times_an_hour() {
    let ip = unique_ip();
    for i in 0..5 {
        let answer = register(&ip, json!({"email": format!("dev{i}@example.com")})).send().await;
        assert_eq!(answer.status, 201, "{}", answer.body);
        assert_eq!(answer.header("RateLimit-Remaining"), Some((4 - i).to_string().as_str()));
    }
    let sixth = register(&ip, json!({"email": "dev5@example.com"})).send().await;
    sixth.assert_error(429, "rate_limited");
    let retry: u64 = sixth.header("Retry-After").expect("Retry-After").parse().expect("seconds");
    assert!((1..=3600).contains(&retry));
    // Another address is not affected.
    let other = register(&unique_ip(), json!({"email": "other@example.com"})).send().await;
    assert_eq!(other.status, 201, "{}", other.body);
    assert_eq!(other.header("RateLimit-Remaining"), Some("4"));
    let key = other.body["apiKey"].as_str().expect("apiKey");
    let platform = Call::new(Quotas::Default, Method::GET, "/v1/platform").key(key).send().await;
    assert_eq!(platform.body["email"], "other@example.com");
}

#[tokio::test]
async fn an_invalid_email_is_refused_without_using_the_hourly_allowance() {
    let ip = unique_ip();
    for (bad, field) in [
        (json!({"email": "not-an-email"}), "email"),
        (json!({}), "email"),
        (json!({"email": 42}), "email"),
        (json!({"email": "a@b.co", "name": 7}), "name"),
    ] {
        let refused = register(&ip, bad).send().await;
        refused.assert_error(400, "invalid_request");
        let message = refused.body["error"]["message"].as_str().unwrap_or("");
        assert!(message.starts_with(field), "the message names {field}: {}", refused.body);
    }
    let ok = register(&ip, json!({"email": "fine@example.com"})).send().await;
    assert_eq!(ok.status, 201, "{}", ok.body);
    assert!(ok.body["apiKey"]
        .as_str()
        .is_some_and(|k| dream_core::api_key::ApiKey::parse(k).is_ok()));
    assert_eq!(ok.header("RateLimit-Remaining"), Some("4"));
}

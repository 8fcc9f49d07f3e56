//! Bad input gets the contract's JSON error and changes nothing.

use dream_e2e::{Call, Platform, Quotas};
use reqwest::Method;
use serde_json::json;

/// A platform with one end-user who has made one call: every bad request below must
/// leave exactly that.
async fn platform_with_one_call() -> Platform {
    let p = Platform::with_free_limit(Quotas::Raised, 10).await;
    assert_eq!(p.track("victim").await.status, 200);
    p
}

async fn assert_unchanged(p: &Platform) {
    assert_eq!(p.count("victim").await, 1);
    assert_eq!(p.platform_count().await, 1);
    let tiers = p.call(Method::GET, "/v1/tiers").send().await;
    assert_eq!(tiers.body["tiers"][0]["limit"], 10);
}

#[tokio::test]
async fn malformed_json_wrong_types_and_missing_fields_are_400_and_change_nothing() {
    let p = platform_with_one_call().await;
    let track =
        |body: &'static str| p.call(Method::POST, "/v1/usage/track").raw("application/json", body);
    for body in [
        "{",
        "[]",
        "\"victim\"",
        "{}",
        r#"{"userId": 5}"#,
        r#"{"userId": null}"#,
        r#"{"userId": "victim", "amount": "1"}"#,
        r#"{"userId": "victim", "amount": 0}"#,
        r#"{"userId": "victim", "amount": 1.5}"#,
        r#"{"userId": "victim", "amount": 1000001}"#,
        r#"{"userId": "victim", "idempotencyKey": ""}"#,
        r#"{"userId": "victim", "idempotencyKey": 7}"#,
        r#"{"userId": "vic tim"}"#,
        r#"{"userId": "victim/../other"}"#,
        r#"{"userId": "ünïcode"}"#,
    ] {
        track(body).send().await.assert_error(400, "invalid_request");
    }
    let long = format!(r#"{{"userId": "{}"}}"#, "a".repeat(129));
    p.call(Method::POST, "/v1/usage/track")
        .raw("application/json", long)
        .send()
        .await
        .assert_error(400, "invalid_request");
    p.call(Method::POST, "/v1/usage/track")
        .raw("text/plain", r#"{"userId": "victim"}"#)
        .send()
        .await
        .assert_error(400, "invalid_request");
    for tiers in [
        json!("free"),
        json!([]),
        json!([{"id": "Free", "name": "F", "priceCents": 0, "limit": 1}]),
        json!([{"id": "pro", "name": "P", "priceCents": 100, "limit": 1}]),
    ] {
        p.put_tiers(tiers).await.assert_error(400, "invalid_request");
    }
    p.call(Method::PUT, "/v1/users/victim/plan")
        .json(&json!({}))
        .send()
        .await
        .assert_error(400, "invalid_request");
    p.call(Method::GET, "/v1/usage/bad%20id").send().await.assert_error(400, "invalid_request");
    p.call(Method::GET, "/v1/stats?days=0").send().await.assert_error(400, "invalid_request");
    p.call(Method::GET, "/v1/users?limit=101").send().await.assert_error(400, "invalid_request");
    assert_unchanged(&p).await;
}

#[tokio::test]
async fn a_one_mebibyte_body_is_413_and_changes_nothing() {
    let p = platform_with_one_call().await;
    let huge = format!(r#"{{"userId": "victim", "pad": "{}"}}"#, "x".repeat(1024 * 1024));
    p.call(Method::POST, "/v1/usage/track")
        .raw("application/json", huge.clone())
        .send()
        .await
        .assert_error(413, "payload_too_large");
    p.call(Method::PUT, "/v1/tiers")
        .raw("application/json", huge)
        .send()
        .await
        .assert_error(413, "payload_too_large");
    assert_unchanged(&p).await;
}

#[tokio::test]
async fn unknown_routes_are_404_and_wrong_methods_are_405_with_allow() {
    let p = platform_with_one_call().await;
    for path in ["/", "/v1", "/v1/nope", "/v1/usage/track/extra", "/v2/usage/track"] {
        p.call(Method::GET, path).send().await.assert_error(404, "not_found");
    }
    let wrong = p.call(Method::DELETE, "/v1/tiers").send().await;
    wrong.assert_error(405, "method_not_allowed");
    let allow = wrong.header("Allow").expect("Allow");
    assert!(allow.contains("GET") && allow.contains("PUT"), "{allow}");
    // A method the runtime has no name for is not taken for a GET.
    let query = Method::from_bytes(b"QUERY").expect("a method");
    for path in ["/v1/tiers", "/v1/platform", "/health", "/openapi.json"] {
        let unknown = p.call(query.clone(), path).send().await;
        unknown.assert_error(405, "method_not_allowed");
        assert!(unknown.header("Allow").is_some_and(|a| a.contains("GET")), "{path}");
    }
    // An end-user named "track" may be read: the route is the usage of that end-user.
    let track = p.call(Method::GET, "/v1/usage/track").send().await;
    assert_eq!(track.status, 200, "{}", track.body);
    assert_eq!(
        (track.body["userId"].as_str(), track.body["plan"].as_str()),
        (Some("track"), Some("free"))
    );
    assert_eq!(
        (track.body["usage"]["count"].as_u64(), track.body["usage"]["limit"].as_u64()),
        (Some(0), Some(10))
    );
    p.call(Method::PUT, "/v1/usage/track")
        .json(&json!({"userId": "victim"}))
        .send()
        .await
        .assert_error(405, "method_not_allowed");
    assert_unchanged(&p).await;
}

#[tokio::test]
async fn missing_malformed_mistyped_and_revoked_keys_are_401() {
    let p = platform_with_one_call().await;
    let track = |key: Option<&str>| {
        let call = Call::new(Quotas::Raised, Method::POST, "/v1/usage/track");
        let call = match key {
            Some(k) => call.key(k),
            None => call,
        };
        call.json(&json!({"userId": "victim"}))
    };
    track(None).send().await.assert_error(401, "unauthenticated");
    Call::new(Quotas::Raised, Method::GET, "/v1/tiers")
        .header("Authorization", &format!("Basic {}", p.key))
        .send()
        .await
        .assert_error(401, "unauthenticated");
    track(Some("sk_live_nope")).send().await.assert_error(401, "invalid_api_key");
    track(Some(&p.key[..p.key.len() - 1])).send().await.assert_error(401, "invalid_api_key");

    // One character changed: the checksum catches it (no storage read can tell the difference
    // here, but the message does).
    let mut typo: Vec<char> = p.key.chars().collect();
    typo[10] = if typo[10] == 'a' { 'b' } else { 'a' };
    let typo: String = typo.into_iter().collect();
    let answer = track(Some(&typo)).send().await;
    answer.assert_error(401, "invalid_api_key");
    assert!(answer.body["error"]["message"].as_str().unwrap_or("").contains("check characters"));

    // A well-formed key that was never issued.
    let mut rng =
        |buf: &mut [u8]| buf.iter_mut().enumerate().for_each(|(i, b)| *b = i as u8 ^ 0x5a);
    let stranger = dream_core::api_key::ApiKey::generate(&mut rng);
    track(Some(stranger.expose())).send().await.assert_error(401, "invalid_api_key");

    let rotated = p.call(Method::POST, "/v1/keys/rotate").send().await;
    assert_eq!(rotated.status, 200);
    track(Some(&p.key)).send().await.assert_error(401, "invalid_api_key");

    let with_new = Platform { key: rotated.body["apiKey"].as_str().expect("key").to_string(), ..p };
    assert_eq!(with_new.count("victim").await, 1);
    assert_eq!(with_new.platform_count().await, 1);
}

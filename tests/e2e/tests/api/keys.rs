use dream_core::time::Instant;
use dream_e2e::{Platform, Quotas};
use reqwest::Method;
use serde_json::json;
use std::time::Duration;

async fn rotate(p: &Platform, grace: u64) -> (String, String) {
    let answer =
        p.call(Method::POST, "/v1/keys/rotate").json(&json!({"graceSeconds": grace})).send().await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    (
        answer.body["apiKey"].as_str().expect("apiKey").to_string(),
        answer.body["previousKeyExpiresAt"].as_str().expect("previousKeyExpiresAt").to_string(),
    )
}

#[tokio::test]
async fn after_rotation_the_new_key_works_and_the_old_one_until_its_grace_period_ends() {
    let p = Platform::with_free_limit(Quotas::Raised, 100).await;
    let (new_key, expires_at) = rotate(&p, 3).await;
    assert_ne!(new_key, p.key);
    let expires: Instant = expires_at.parse().expect("RFC 3339");

    let with_new = Platform { key: new_key.clone(), ..p.clone() };
    assert_eq!(with_new.track("u").await.status, 200);
    assert_eq!(p.track("u").await.status, 200, "the old key works during the grace period");

    // Wait out the grace period (to the second the answer named), then the old key is refused.
    while now() <= expires {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    p.track("u").await.assert_error(401, "invalid_api_key");
    assert_eq!(with_new.track("u").await.status, 200);
    assert_eq!(with_new.count("u").await, 3);
}

#[tokio::test]
async fn a_rotation_without_grace_revokes_the_old_key_at_once() {
    let p = Platform::with_free_limit(Quotas::Raised, 100).await;
    let (new_key, _) = rotate(&p, 0).await;
    let revoked = p.call(Method::GET, "/v1/tiers").send().await;
    revoked.assert_error(401, "invalid_api_key");
    let with_new = Platform { key: new_key, ..p };
    assert_eq!(with_new.call(Method::GET, "/v1/tiers").send().await.status, 200);
}

#[tokio::test]
async fn a_rotation_refuses_a_grace_over_a_day_and_without_a_body_ends_the_old_key_at_once() {
    let p = Platform::register(Quotas::Raised).await;
    let over =
        p.call(Method::POST, "/v1/keys/rotate").json(&json!({"graceSeconds": 86_401})).send().await;
    over.assert_error(400, "invalid_request");
    let message = over.body["error"]["message"].as_str().unwrap_or("");
    assert!(message.contains("graceSeconds must be an integer from 0 to 86400"), "{}", over.body);
    assert_eq!(
        p.call(Method::GET, "/v1/tiers").send().await.status,
        200,
        "a refused rotation changes nothing"
    );
    // No body: the default grace, none. The answer says the old key ends now, and it does.
    let before = now().timestamp_millis();
    let empty = p.call(Method::POST, "/v1/keys/rotate").send().await;
    assert_eq!(empty.status, 200, "{}", empty.body);
    let after = now().timestamp_millis();
    let stated = empty.body["previousKeyExpiresAt"].as_str().expect("previousKeyExpiresAt");
    let expires = stated.parse::<Instant>().expect("RFC 3339").timestamp_millis();
    // The rotation's own instant, written in whole seconds.
    assert!(
        before - 1000 < expires && expires <= after,
        "no grace: the old key ends at the rotation ({stated}, made between {before} and {after} ms)"
    );
    p.call(Method::GET, "/v1/tiers").send().await.assert_error(401, "invalid_api_key");
    let with_new =
        Platform { key: empty.body["apiKey"].as_str().expect("apiKey").to_string(), ..p };
    assert_eq!(with_new.call(Method::GET, "/v1/tiers").send().await.status, 200);
}

fn now() -> Instant {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_millis();
    dream_core::time::from_millis(i64::try_from(ms).expect("fits"))
}

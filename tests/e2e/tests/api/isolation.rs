//! A platform's key reaches only its own end-users, on every route.

use dream_e2e::{Platform, Quotas};
use reqwest::Method;
use serde_json::{json, Value};

fn tier_ids(body: &Value) -> Vec<&str> {
    body["tiers"].as_array().expect("tiers").iter().filter_map(|t| t["id"].as_str()).collect()
}

#[tokio::test]
async fn platform_a_can_never_read_or_change_platform_b_end_users() {
    let a = Platform::with_free_limit(Quotas::Raised, 100).await;
    let b = Platform::register(Quotas::Raised).await;
    let b_set = b
        .put_tiers(json!([
            {"id": "free", "name": "Free", "priceCents": 0, "limit": 10},
            {"id": "vip", "name": "VIP", "priceCents": 500, "limit": 1000},
        ]))
        .await;
    assert_eq!(b_set.status, 200, "{}", b_set.body);
    assert_eq!(tier_ids(&b_set.body), ["free", "vip"]);
    for _ in 0..3 {
        assert_eq!(b.track("shared-name").await.status, 200);
    }

    // Reads through A see A's own (empty) end-user of the same name.
    let read = a.usage("shared-name").await;
    assert_eq!(read.body["usage"]["count"], 0, "{}", read.body);
    assert_eq!(read.body["usage"]["limit"], 100);

    // Writes through A touch only A's end-user.
    assert_eq!(a.track("shared-name").await.body["usage"]["count"], 1);
    let vip = a
        .call(Method::PUT, "/v1/users/shared-name/plan")
        .json(&json!({"plan": "vip"}))
        .send()
        .await;
    vip.assert_error(400, "invalid_request");
    assert!(
        vip.body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.ends_with("this platform's tiers: free")),
        "{}",
        vip.body
    );
    let free = a
        .call(Method::PUT, "/v1/users/shared-name/plan")
        .json(&json!({"plan": "free"}))
        .send()
        .await;
    assert_eq!(free.status, 200, "{}", free.body);
    assert_eq!(
        (free.body["userId"].as_str(), free.body["plan"].as_str()),
        (Some("shared-name"), Some("free"))
    );
    assert_eq!(free.body["usage"]["count"], 1, "A's own end-user, with A's one call");
    let a_set =
        a.put_tiers(json!([{"id": "free", "name": "Mine", "priceCents": 0, "limit": 1}])).await;
    assert_eq!(a_set.status, 200, "{}", a_set.body);
    assert_eq!(a_set.body["tiers"][0]["name"], "Mine");
    let a_rotated =
        a.call(Method::POST, "/v1/keys/rotate").json(&json!({"graceSeconds": 0})).send().await;
    assert_eq!(a_rotated.status, 200, "{}", a_rotated.body);
    a.call(Method::GET, "/v1/tiers").send().await.assert_error(401, "invalid_api_key");
    let a = Platform { key: a_rotated.body["apiKey"].as_str().expect("apiKey").to_string(), ..a };
    let a_tiers = a.call(Method::GET, "/v1/tiers").send().await;
    assert_eq!(
        (a_tiers.body["tiers"][0]["name"].as_str(), tier_ids(&a_tiers.body)),
        (Some("Mine"), vec!["free"])
    );

    // B is exactly as it was.
    let b_user = b.usage("shared-name").await;
    assert_eq!(b_user.body["usage"]["count"], 3);
    assert_eq!(b_user.body["usage"]["limit"], 10);
    let b_tiers = b.call(Method::GET, "/v1/tiers").send().await;
    assert_eq!(tier_ids(&b_tiers.body), ["free", "vip"]);
    assert_eq!(b_tiers.body["tiers"][0]["name"], "Free");
    assert_eq!(b.platform_count().await, 3);
    assert_eq!(b.track("shared-name").await.status, 200, "B's key survives A's rotation");

    let b_platform = b.call(Method::GET, "/v1/platform").send().await;
    assert_eq!(b_platform.body["platformId"], b.id.as_str());
    let b_stats = b.call(Method::GET, "/v1/stats").send().await;
    assert_eq!(b_stats.body["totalCalls"], 4);
    assert_eq!(b_stats.body["uniqueUsers"], 1);
}

#[tokio::test]
async fn no_header_or_body_field_can_choose_another_platform() {
    let a = Platform::with_free_limit(Quotas::Raised, 100).await;
    let b = Platform::register(Quotas::Raised).await;
    let answer = a
        .call(Method::POST, "/v1/usage/track")
        .header("X-Platform-Id", &b.id)
        .json(&json!({"userId": "u", "platformId": b.id}))
        .send()
        .await;
    assert_eq!(answer.status, 200);
    assert_eq!(a.count("u").await, 1);
    assert_eq!(b.count("u").await, 0);
    assert_eq!(b.platform_count().await, 0);
    let platform = a.call(Method::GET, &format!("/v1/platform?platformId={}", b.id)).send().await;
    assert_eq!(platform.body["platformId"], a.id.as_str());
}

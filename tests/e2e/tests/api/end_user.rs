//! End-user token mode: a Clerk session token whose `metadata.platformId` names the
//! platform; the end-user may meter and read their own usage, and nothing else.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use dream_e2e::{Call, ClerkStandIn, Platform, Quotas};
use reqwest::Method;
use serde_json::json;

fn as_end_user(method: Method, path: &str, token: &str) -> Call {
    Call::new(Quotas::Raised, method, path).key(token)
}

#[tokio::test]
async fn an_end_user_token_meters_its_own_user_without_naming_it() {
    let p = Platform::with_free_limit(Quotas::Raised, 10).await;
    let me = ClerkStandIn::from_env().end_user_of(&p.id).await;
    let answer =
        as_end_user(Method::POST, "/v1/usage/track", &me.token).json(&json!({})).send().await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["userId"], me.user_id.as_str());
    let named = as_end_user(Method::POST, "/v1/usage/track", &me.token)
        .json(&json!({"userId": me.user_id}))
        .send()
        .await;
    assert_eq!(named.status, 200);
    assert_eq!(p.count(&me.user_id).await, 2, "the developer sees the end-user's calls");
    let mine =
        as_end_user(Method::GET, &format!("/v1/usage/{}", me.user_id), &me.token).send().await;
    assert_eq!(mine.body["usage"]["count"], 2);
}

#[tokio::test]
async fn an_end_user_token_cannot_touch_other_end_users_or_developer_routes() {
    let p = Platform::with_free_limit(Quotas::Raised, 10).await;
    p.track("someone-else").await;
    let me = ClerkStandIn::from_env().end_user_of(&p.id).await;
    as_end_user(Method::POST, "/v1/usage/track", &me.token)
        .json(&json!({"userId": "someone-else"}))
        .send()
        .await
        .assert_error(403, "forbidden");
    as_end_user(Method::GET, "/v1/usage/someone-else", &me.token)
        .send()
        .await
        .assert_error(403, "forbidden");
    for (method, path) in [
        (Method::GET, "/v1/platform"),
        (Method::GET, "/v1/tiers"),
        (Method::GET, "/v1/users"),
        (Method::GET, "/v1/stats"),
        (Method::POST, "/v1/keys/rotate"),
    ] {
        as_end_user(method, path, &me.token)
            .json(&json!({}))
            .send()
            .await
            .assert_error(403, "forbidden");
    }
    as_end_user(Method::PUT, &format!("/v1/users/{}/plan", me.user_id), &me.token)
        .json(&json!({"plan": "free"}))
        .send()
        .await
        .assert_error(403, "forbidden");
    assert_eq!(p.count("someone-else").await, 1);
    assert_eq!(p.count(&me.user_id).await, 0);
}

#[tokio::test]
async fn an_end_user_token_for_platform_a_meters_only_in_platform_a() {
    let a = Platform::with_free_limit(Quotas::Raised, 10).await;
    let b = Platform::with_free_limit(Quotas::Raised, 10).await;
    let me = ClerkStandIn::from_env().end_user_of(&a.id).await;
    let answer = as_end_user(Method::POST, "/v1/usage/track", &me.token)
        .header("X-Platform-Id", &b.id)
        .json(&json!({"platformId": b.id}))
        .send()
        .await;
    assert_eq!(answer.status, 200);
    assert_eq!(a.count(&me.user_id).await, 1);
    assert_eq!(b.count(&me.user_id).await, 0);
    assert_eq!(b.platform_count().await, 0);
}

#[tokio::test]
async fn expired_tampered_foreign_and_platformless_tokens_are_refused() {
    let p = Platform::with_free_limit(Quotas::Raised, 10).await;
    let clerk = ClerkStandIn::from_env();
    let user = clerk.user(json!({"platformId": p.id})).await;
    let track = |token: String| async move {
        as_end_user(Method::POST, "/v1/usage/track", &token).json(&json!({})).send().await
    };

    track(clerk.token(&user, "http://127.0.0.1:8790", -30).await)
        .await
        .assert_error(401, "unauthenticated");
    track(clerk.token(&user, "https://elsewhere.example", 60).await)
        .await
        .assert_error(401, "unauthenticated");

    // A valid token whose payload is rewritten to another user: the signature no longer fits.
    let good = clerk.token(&user, "http://127.0.0.1:8790", 60).await;
    let parts: Vec<&str> = good.split('.').collect();
    let mut claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).expect("base64url"))
            .expect("JSON");
    claims["sub"] = json!("user_someone_else");
    let forged = URL_SAFE_NO_PAD.encode(claims.to_string());
    track(format!("{}.{forged}.{}", parts[0], parts[2])).await.assert_error(401, "unauthenticated");

    let platformless = clerk.user(json!({"plan": "free"})).await;
    track(clerk.token(&platformless, "http://127.0.0.1:8790", 60).await)
        .await
        .assert_error(401, "unauthenticated");
    let nowhere = clerk.user(json!({"platformId": "plt_000000000000"})).await;
    track(clerk.token(&nowhere, "http://127.0.0.1:8790", 60).await)
        .await
        .assert_error(401, "unauthenticated");

    assert_eq!(p.count(&user).await, 0, "no refused token counted anything");
    assert_eq!(p.platform_count().await, 0);
}

#[tokio::test]
async fn an_end_user_token_checks_out_only_for_itself_on_its_own_platform() {
    let a = Platform::register(Quotas::Raised).await;
    let b = Platform::register(Quotas::Raised).await;
    let tiers = json!([
        {"id": "free", "name": "Free", "priceCents": 0, "limit": 5},
        {"id": "pro", "name": "Pro", "priceCents": 900, "limit": 50},
    ]);
    for p in [&a, &b] {
        assert_eq!(p.put_tiers(tiers.clone()).await.status, 200);
    }
    let me = ClerkStandIn::from_env().end_user_of(&a.id).await;
    let body = |extra: serde_json::Value| {
        let mut body = json!({"tier": "pro", "successUrl": "https://a.example/ok", "cancelUrl": "https://a.example/"});
        body.as_object_mut().expect("object").extend(extra.as_object().expect("object").clone());
        body
    };
    let checkout = as_end_user(Method::POST, "/v1/checkout", &me.token)
        .json(&body(json!({"platformId": b.id})))
        .send()
        .await;
    assert_eq!(checkout.status, 200, "{}", checkout.body);
    let session = checkout.body["sessionId"].as_str().expect("sessionId");
    let stored = dream_e2e::StripeStandIn::from_env()
        .get(&format!("/v1/checkout/sessions/{session}"), None)
        .await;
    assert_eq!(
        stored.body["metadata"]["platformId"],
        a.id.as_str(),
        "never the platform the body names"
    );
    assert_eq!(stored.body["metadata"]["userId"], me.user_id.as_str());
    as_end_user(Method::POST, "/v1/checkout", &me.token)
        .json(&body(json!({"userId": "someone-else"})))
        .send()
        .await
        .assert_error(403, "forbidden");
}

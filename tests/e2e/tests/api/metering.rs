use dream_e2e::{Platform, Quotas};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn a_developer_registers_defines_tiers_and_meters_until_the_limit_then_an_override_lifts_it()
{
    let p = Platform::register(Quotas::Raised).await;
    let tiers = p
        .put_tiers(json!([
            {"id": "free", "name": "Free", "priceCents": 0, "limit": 3},
            {"id": "pro", "name": "Pro", "priceCents": 900, "limit": 10, "features": ["More calls"], "popular": true},
        ]))
        .await;
    assert_eq!(tiers.status, 200, "{}", tiers.body);
    assert_eq!(tiers.body["tiers"][0]["stripePriceId"], serde_json::Value::Null);
    assert!(tiers.body["tiers"][1]["stripePriceId"]
        .as_str()
        .is_some_and(|p| p.starts_with("price_")));

    for expected in 1..=3 {
        let a = p.track("alice").await;
        assert_eq!(a.status, 200, "{}", a.body);
        assert_eq!(a.body["allowed"], true);
        assert_eq!(a.body["plan"], "free");
        assert_eq!(a.body["usage"]["count"], expected);
        assert_eq!(a.body["usage"]["remaining"], 3 - expected);
    }
    let denied = p.track("alice").await;
    denied.assert_error(403, "tier_limit_reached");
    assert_eq!(denied.body["usage"]["count"], 3);
    assert_eq!(denied.body["usage"]["limit"], 3);
    assert_eq!(denied.body["usage"]["remaining"], 0);
    assert!(denied.body["usage"]["resetsAt"]
        .as_str()
        .is_some_and(|s| s.ends_with("-01T00:00:00Z")));

    let upgraded =
        p.call(Method::PUT, "/v1/users/alice/plan").json(&json!({"plan": "pro"})).send().await;
    assert_eq!(upgraded.status, 200, "{}", upgraded.body);
    assert_eq!(upgraded.body["plan"], "pro");
    assert_eq!(upgraded.body["usage"]["limit"], 10);
    assert_eq!(upgraded.body["usage"]["count"], 3, "the count carries over to the new tier");

    let after = p.track("alice").await;
    assert_eq!(after.status, 200, "{}", after.body);
    assert_eq!(after.body["plan"], "pro");
    assert_eq!(after.body["usage"]["count"], 4);
}

#[tokio::test]
async fn an_amount_that_does_not_fit_is_denied_whole_and_counts_nothing() {
    let p = Platform::with_free_limit(Quotas::Raised, 10).await;
    assert_eq!(p.track_body(json!({"userId": "bob", "amount": 7})).await.status, 200);
    p.track_body(json!({"userId": "bob", "amount": 4}))
        .await
        .assert_error(403, "tier_limit_reached");
    assert_eq!(p.count("bob").await, 7);
    assert_eq!(p.track_body(json!({"userId": "bob", "amount": 3})).await.status, 200);
    assert_eq!(p.count("bob").await, 10);
}

#[tokio::test]
async fn a_repeated_idempotency_key_returns_the_first_answer_and_counts_once() {
    let p = Platform::with_free_limit(Quotas::Raised, 10).await;
    let body = json!({"userId": "carol", "idempotencyKey": "order-42"});
    let first = p.track_body(body.clone()).await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(first.header("Idempotent-Replayed"), None);
    let again = p.track_body(body).await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.body, first.body);
    assert_eq!(again.header("Idempotent-Replayed"), Some("true"));
    assert_eq!(p.count("carol").await, 1);
    let other = p.track_body(json!({"userId": "carol", "idempotencyKey": "order-43"})).await;
    assert_eq!(other.body["usage"]["count"], 2);
    // The key belongs to the end-user: another end-user's same key is a new call.
    let dave = p.track_body(json!({"userId": "dave", "idempotencyKey": "order-42"})).await;
    assert_eq!(dave.body["usage"]["count"], 1);
}

#[tokio::test]
async fn reading_usage_never_counts() {
    let p = Platform::with_free_limit(Quotas::Raised, 10).await;
    p.track("erin").await;
    for _ in 0..3 {
        assert_eq!(p.count("erin").await, 1);
    }
    let fresh = p.usage("never-seen").await;
    assert_eq!(fresh.status, 200);
    assert_eq!(fresh.body["usage"]["count"], 0);
    assert_eq!(fresh.body["plan"], "free");
}

#[tokio::test]
async fn a_plan_override_must_name_one_of_the_platforms_tiers() {
    let p = Platform::with_free_limit(Quotas::Raised, 10).await;
    let bad =
        p.call(Method::PUT, "/v1/users/frank/plan").json(&json!({"plan": "gold"})).send().await;
    bad.assert_error(400, "invalid_request");
    assert_eq!(p.usage("frank").await.body["plan"], "free");
}

#[tokio::test]
async fn rate_limit_headers_count_down_and_a_429_says_when_to_retry() {
    let p = Platform::with_free_limit(Quotas::Raised, 1000).await;
    let first = p.track("gina").await;
    assert_eq!(first.header("RateLimit-Limit"), Some("100"));
    assert_eq!(first.header("RateLimit-Remaining"), Some("99"));
    let reset: u64 = first.header("RateLimit-Reset").expect("reset").parse().expect("seconds");
    assert!((1..=60).contains(&reset), "{reset}");
    for _ in 0..99 {
        assert_eq!(p.track("gina").await.status, 200);
    }
    let limited = p.track("gina").await;
    limited.assert_error(429, "rate_limited");
    let retry: u64 = limited.header("Retry-After").expect("Retry-After").parse().expect("seconds");
    assert!((1..=60).contains(&retry), "{retry}");
    assert_eq!(limited.header("RateLimit-Remaining"), Some("0"));
    assert_eq!(limited.body["usage"]["count"], 100, "a rate-limited call counts nothing");
    assert_eq!(p.count("gina").await, 100);
}

#[tokio::test]
async fn the_platform_reports_its_plan_and_quota_and_stats_count_allowed_and_denied_calls() {
    let p = Platform::with_free_limit(Quotas::Raised, 2).await;
    for user in ["u1", "u1", "u1", "u2"] {
        p.track(user).await;
    }
    let platform = p.call(Method::GET, "/v1/platform").send().await;
    assert_eq!(platform.status, 200, "{}", platform.body);
    assert_eq!(platform.body["platformId"], p.id.as_str());
    assert_eq!(platform.body["plan"], "free");
    assert_eq!(platform.body["mode"], "preview");
    assert_eq!(platform.body["email"], "dev@example.com");
    assert_eq!(platform.body["usage"]["count"], 3);

    // Denials are recorded after the answer is sent: give them a moment.
    let mut stats = serde_json::Value::Null;
    for _ in 0..50 {
        stats = p.call(Method::GET, "/v1/stats?days=7").send().await.body;
        if stats["deniedCalls"] == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(stats["totalCalls"], 3, "{stats}");
    assert_eq!(stats["deniedCalls"], 1, "{stats}");
    assert_eq!(stats["uniqueUsers"], 2, "{stats}");
    let daily = stats["daily"].as_array().expect("daily");
    assert_eq!(daily.len(), 7);
    assert_eq!(daily[6]["calls"], 3);
}

#[tokio::test]
async fn the_users_list_shows_each_end_user_with_plan_and_usage_page_by_page() {
    let p = Platform::with_free_limit(Quotas::Raised, 10).await;
    for user in ["ann", "ben", "cat"] {
        p.track(user).await;
    }
    // Read from the platform's object: right after the calls, with no waiting.
    let mut seen = vec![];
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/users?limit=2&cursor={c}"),
            None => "/v1/users?limit=2".to_string(),
        };
        let page = p.call(Method::GET, &path).send().await;
        assert_eq!(page.status, 200, "{}", page.body);
        let users = page.body["users"].as_array().expect("users").clone();
        assert!(users.len() <= 2);
        for u in users {
            assert_eq!(u["usage"]["count"], 1);
            assert_eq!(u["plan"], "free");
            seen.push(u["userId"].as_str().expect("userId").to_string());
        }
        match page.body["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(seen, ["ann", "ben", "cat"], "every end-user once, in userId order");
}

#[tokio::test]
async fn public_tiers_show_the_pricing_table_without_a_key() {
    let p = Platform::register(Quotas::Raised).await;
    p.put_tiers(json!([
        {"id": "free", "name": "Free", "priceCents": 0, "limit": 5},
        {"id": "pro", "name": "Pro", "priceCents": 900, "limit": 50},
    ]))
    .await;
    let public =
        dream_e2e::Call::new(Quotas::Raised, Method::GET, &format!("/v1/public/{}/tiers", p.id))
            .send()
            .await;
    assert_eq!(public.status, 200, "{}", public.body);
    assert_eq!(public.body["platformId"], p.id.as_str());
    assert_eq!(public.body["tiers"][1]["priceCents"], 900);
    for unknown in ["plt_000000000000", "nope"] {
        dream_e2e::Call::new(Quotas::Raised, Method::GET, &format!("/v1/public/{unknown}/tiers"))
            .send()
            .await
            .assert_error(404, "not_found");
    }
}

#[tokio::test]
async fn simultaneous_calls_with_one_idempotency_key_count_once() {
    let p = Platform::with_free_limit(Quotas::Raised, 100).await;
    let body = json!({"userId": "hana", "idempotencyKey": "pay-7"});
    let answers = dream_e2e::all_at_once(20, |_| p.track_body(body.clone())).await;
    assert_eq!(p.count("hana").await, 1);
    let first =
        answers.iter().find(|a| a.status == 200 && a.header("Idempotent-Replayed").is_none());
    assert!(first.is_some(), "one call was answered first");
    for a in &answers {
        match a.status.as_u16() {
            200 => assert_eq!(a.body["usage"]["count"], 1, "every 200 is the first answer"),
            409 => a.assert_error(409, "conflict"),
            other => panic!("unexpected {other}: {}", a.body),
        }
    }
    let later = p.track_body(body).await;
    assert_eq!(later.status, 200);
    assert_eq!(later.header("Idempotent-Replayed"), Some("true"));
}

#[tokio::test]
async fn a_replay_returns_its_first_answer_even_after_the_platform_quota_is_used_up() {
    let p = Platform::register(Quotas::Default).await;
    let first = p.track_body(json!({"userId": "ivy", "idempotencyKey": "k1"})).await;
    assert_eq!(first.status, 200, "{}", first.body);
    for i in 0..4 {
        assert_eq!(p.track(&format!("other-{i}")).await.status, 200);
    }
    p.track("one-too-many").await.assert_error(403, "platform_quota_reached");
    let replay = p.track_body(json!({"userId": "ivy", "idempotencyKey": "k1"})).await;
    assert_eq!(replay.status, 200, "{}", replay.body);
    assert_eq!(replay.body, first.body);
    assert_eq!(p.platform_count().await, 5, "the replay took nothing");
}

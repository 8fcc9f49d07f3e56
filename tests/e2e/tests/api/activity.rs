//! The request log and revenue (API.md "Request log and revenue"): every outcome of a
//! metered call appears once, with the request id its caller got; filters and pages;
//! the ring keeps exactly the last 10 000; no key or token is ever in it; revenue from
//! purchases and cancellations through the Stripe stand-in, in preview and on a
//! connected account; the same through the dashboard's backend.

use crate::connect::{connect, contains, state_files};
use crate::end_user_billing::{checkout_body, plan};
use dream_e2e::{eventually, Answer, ClerkStandIn, Developer, Platform, Quotas, StripeStandIn};
use futures::StreamExt;
use reqwest::Method;
use serde_json::{json, Value};

/// Every entry of the log matching `query` (`&`-joined, may be empty), page by page.
async fn whole_log(p: &Platform, query: &str, limit: u32) -> Vec<Value> {
    let mut entries = vec![];
    let mut before: Option<String> = None;
    for _ in 0..200 {
        let cursor = before.as_ref().map(|b| format!("&before={b}")).unwrap_or_default();
        let page =
            p.call(Method::GET, &format!("/v1/logs?limit={limit}{cursor}&{query}")).send().await;
        assert_eq!(page.status, 200, "{}", page.body);
        let got = page.body["entries"].as_array().expect("entries").clone();
        assert!(got.len() <= limit as usize, "a page holds at most limit entries");
        entries.extend(got);
        match page.body["nextBefore"].as_str() {
            Some(next) => before = Some(next.to_string()),
            None => return entries,
        }
    }
    panic!("more than 200 pages");
}

/// (requestId, status, code, userId) of a call as its caller saw it.
fn seen(answer: &Answer, user: &str) -> (String, u64, Value, String) {
    let code = match (answer.status.as_u16(), answer.header("Idempotent-Replayed")) {
        (200, Some("true")) => json!("idempotent_replay"),
        (200, _) => Value::Null,
        _ => json!(answer.error_code()),
    };
    let id = answer.header("X-Request-Id").expect("X-Request-Id").to_string();
    (id, u64::from(answer.status.as_u16()), code, user.to_string())
}

fn logged(entry: &Value) -> (String, u64, Value, String) {
    (
        entry["requestId"].as_str().expect("requestId").to_string(),
        entry["status"].as_u64().expect("status"),
        entry["code"].clone(),
        entry["userId"].as_str().expect("userId").to_string(),
    )
}

#[tokio::test]
async fn every_outcome_of_a_metered_call_is_logged_once_with_the_request_id_its_caller_got() {
    // The free plan's quota is 5: two calls for alice on a tier of 2, a third refused; bob's
    // call and its replay; carol and dave use the rest; erin finds the quota spent.
    let p = Platform::with_free_limit(Quotas::Default, 2).await;
    let mut calls = vec![];
    for (user, body) in [
        ("alice", json!({"userId": "alice"})),
        ("alice", json!({"userId": "alice"})),
        ("alice", json!({"userId": "alice"})),
        ("bob", json!({"userId": "bob", "idempotencyKey": "order-1"})),
        ("bob", json!({"userId": "bob", "idempotencyKey": "order-1"})),
        ("carol", json!({"userId": "carol", "amount": 1})),
        ("dave", json!({"userId": "dave"})),
        ("erin", json!({"userId": "erin"})),
    ] {
        calls.push(seen(&p.track_body(body).await, user));
    }
    let outcomes: Vec<(u64, Value)> = calls.iter().map(|c| (c.1, c.2.clone())).collect();
    assert_eq!(
        outcomes,
        [
            (200, Value::Null),
            (200, Value::Null),
            (403, json!("tier_limit_reached")),
            (200, Value::Null),
            (200, json!("idempotent_replay")),
            (200, Value::Null),
            (200, Value::Null),
            (403, json!("platform_quota_reached")),
        ]
    );
    // Not the platform's calls: a malformed body and a wrong key are not logged.
    p.track_body(json!({"userId": "alice", "amount": -1}))
        .await
        .assert_error(400, "invalid_request");
    // The last character changed, whatever it was.
    let last = if p.key.ends_with('x') { 'y' } else { 'x' };
    let mistyped = format!("{}{last}", &p.key[..p.key.len() - 1]);
    dream_e2e::Call::new(Quotas::Default, Method::POST, "/v1/usage/track")
        .key(&mistyped)
        .json(&json!({"userId": "alice"}))
        .send()
        .await
        .assert_error(401, "invalid_api_key");
    let first = p.call(Method::GET, "/v1/logs").send().await;
    assert_eq!(first.status, 200, "{}", first.body);
    let entries = first.body["entries"].as_array().expect("entries");
    let mut expected = calls.clone();
    expected.reverse();
    assert_eq!(entries.iter().map(logged).collect::<Vec<_>>(), expected, "newest first, each once");
    assert_eq!(first.body["nextBefore"], Value::Null);
    let e = &entries[0];
    assert_eq!((e["method"].as_str(), e["path"].as_str()), (Some("POST"), Some("/v1/usage/track")));
    assert_eq!(e["amount"], 1);
    assert!(e["durationMs"].as_u64().is_some_and(|ms| ms < 60_000), "{e}");
    let at = e["at"].as_str().expect("at");
    assert!(at.ends_with('Z') && at.len() == "2026-12-03T10:00:00.000Z".len(), "{at}");

    let alice = whole_log(&p, "userId=alice", 100).await;
    assert_eq!(alice.iter().map(logged).collect::<Vec<_>>(), [2, 1, 0].map(|i| calls[i].clone()));
    let refused = whole_log(&p, "status=403", 100).await;
    assert_eq!(refused.iter().map(logged).collect::<Vec<_>>(), [7, 2].map(|i| calls[i].clone()));
    let paged = whole_log(&p, "", 3).await;
    assert_eq!(
        paged.iter().map(logged).collect::<Vec<_>>(),
        expected,
        "pages of 3, no gap, no repeat"
    );

    let other = Platform::register(Quotas::Default).await;
    other.track("alice").await;
    let theirs = other.call(Method::GET, "/v1/logs").send().await;
    assert_eq!(theirs.body["entries"].as_array().map(Vec::len), Some(1), "{}", theirs.body);
    assert!(!theirs.body.to_string().contains(&calls[0].0), "another platform sees none of them");
    assert!(!first.body.to_string().contains(&p.key), "no key in the log");
}

#[tokio::test]
async fn a_rate_limited_call_is_logged_with_the_request_id_its_caller_got() {
    let p = Platform::with_free_limit(Quotas::Raised, 1000).await;
    for _ in 0..100 {
        assert_eq!(p.track("gina").await.status, 200);
    }
    let limited = p.track("gina").await;
    limited.assert_error(429, "rate_limited");
    let newest = p.call(Method::GET, "/v1/logs?limit=1").send().await;
    assert_eq!(
        newest.body["entries"].as_array().map(|e| e.iter().map(logged).collect::<Vec<_>>()),
        Some(vec![seen(&limited, "gina")])
    );
    assert!(newest.body["nextBefore"].is_string(), "100 more behind it");
    assert_eq!(whole_log(&p, "userId=gina&status=200", 100).await.len(), 100);
    assert_eq!(whole_log(&p, "status=429", 100).await.len(), 1);
}

#[tokio::test]
async fn bad_filters_and_cursors_are_refused_and_end_user_tokens_cannot_read_the_log() {
    let p = Platform::register(Quotas::Default).await;
    for query in [
        "limit=0",
        "limit=101",
        "status=201",
        "status=abc",
        "before=x",
        "before=0",
        "before=-3",
        "userId=a%20b",
    ] {
        p.call(Method::GET, &format!("/v1/logs?{query}"))
            .send()
            .await
            .assert_error(400, "invalid_request");
    }
    let end_user = ClerkStandIn::from_env().end_user_of(&p.id).await;
    let answer = dream_e2e::Call::new(Quotas::Default, Method::GET, "/v1/logs")
        .key(&end_user.token)
        .send()
        .await;
    answer.assert_error(403, "forbidden");
    let answer = dream_e2e::Call::new(Quotas::Default, Method::GET, "/v1/revenue")
        .key(&end_user.token)
        .send()
        .await;
    answer.assert_error(403, "forbidden");
}

#[tokio::test]
async fn ten_thousand_and_fifty_calls_leave_exactly_the_last_ten_thousand_and_no_secret_is_stored()
{
    let p = Platform::register(Quotas::Default).await;
    // An end-user's own call with their session token: its token must not be kept either.
    let end_user = ClerkStandIn::from_env().end_user_of(&p.id).await;
    let own = dream_e2e::Call::new(Quotas::Default, Method::POST, "/v1/usage/track")
        .key(&end_user.token)
        .json(&json!({}))
        .send()
        .await;
    assert_eq!(own.status, 200, "{}", own.body);
    // 10 049 more over 100 end-users (the preview's) at 48 at a time: 5 counted by the
    // free plan's quota, the rest refused by it; every one is the platform's and logged.
    let answers: Vec<Answer> = futures::stream::iter(1..10_050)
        .map(|i| p.track_body(json!({"userId": format!("u{}", i % 100)})))
        .buffer_unordered(48)
        .collect()
        .await;
    assert!(answers.iter().all(|a| [200, 403, 429].contains(&a.status.as_u16())));
    let newest: Vec<String> =
        answers.iter().map(|a| a.header("X-Request-Id").expect("id").to_string()).collect();
    let log = whole_log(&p, "", 100).await;
    assert_eq!(log.len(), 10_000, "exactly the last 10 000 of 10 050");
    let ids: std::collections::HashSet<&str> =
        log.iter().map(|e| e["requestId"].as_str().expect("id")).collect();
    assert_eq!(ids.len(), 10_000, "each once");
    assert!(ids.iter().all(|id| newest.contains(&id.to_string())), "only calls of this test");
    assert!(!ids.contains(own.header("X-Request-Id").expect("id")), "the oldest is gone");

    let text = serde_json::to_string(&log).expect("JSON");
    for secret in [p.key.as_str(), end_user.token.as_str()] {
        assert!(!text.contains(secret), "a secret in the log's answers");
        let stored = state_files().into_iter().find(|(_, b)| contains(b, secret.as_bytes()));
        assert!(stored.is_none(), "a secret is stored in clear in {:?}", stored.map(|s| s.0));
    }
}

/// Buys `tier` for `user` through checkout and the Stripe stand-in's page.
async fn buy(p: &Platform, user: &str, tier: &str) {
    let checkout =
        p.call(Method::POST, "/v1/checkout").json(&checkout_body(user, tier)).send().await;
    assert_eq!(checkout.status, 200, "{}", checkout.body);
    StripeStandIn::from_env().pay(checkout.body["url"].as_str().expect("url")).await;
    eventually("the purchase applied", || plan(p, user), |a| a.body["plan"] == tier).await;
}

async fn cancel(p: &Platform, user: &str) {
    let portal = p
        .call(Method::POST, "/v1/portal")
        .json(&json!({"userId": user, "returnUrl": "https://app.example/account"}))
        .send()
        .await;
    assert_eq!(portal.status, 200, "{}", portal.body);
    StripeStandIn::from_env().cancel_in_portal(portal.body["url"].as_str().expect("url")).await;
    eventually("the cancellation applied", || plan(p, user), |a| a.body["plan"] == "free").await;
}

fn three_tiers() -> Value {
    json!([
        {"id": "free", "name": "Free", "priceCents": 0, "limit": 5},
        {"id": "pro", "name": "Pro", "priceCents": 900, "limit": 50},
        {"id": "max", "name": "Max", "priceCents": 2900, "limit": 500},
    ])
}

async fn revenue(dev: &Developer, p: &Platform) -> Value {
    let by_key = p.call(Method::GET, "/v1/revenue").send().await;
    assert_eq!(by_key.status, 200, "{}", by_key.body);
    let by_session = dev.call(Method::GET, "/v1/revenue").send().await;
    assert_eq!(by_session.status, 200, "{}", by_session.body);
    let without_preview = |mut body: Value| {
        if let Some(map) = body.as_object_mut() {
            map.remove("preview");
        }
        body
    };
    assert_eq!(
        without_preview(by_key.body.clone()),
        without_preview(by_session.body),
        "the dashboard's backend reads the same"
    );
    by_key.body
}

/// Rita buys Pro, Sam buys Max, Rita cancels: MRR, counts, by tier and today's row,
/// the same from the api worker and the dashboard's backend.
async fn two_purchases_and_a_cancellation(dev: &Developer, p: &Platform) -> Value {
    assert_eq!(p.put_tiers(three_tiers()).await.status, 200);
    let before = revenue(dev, p).await;
    assert_eq!(
        (before["mrrCents"].as_u64(), before["activeSubscriptions"].as_u64()),
        (Some(0), Some(0))
    );
    buy(p, "rita", "pro").await;
    buy(p, "sam", "max").await;
    let bought = revenue(dev, p).await;
    assert_eq!(
        (bought["mrrCents"].as_u64(), bought["activeSubscriptions"].as_u64()),
        (Some(3800), Some(2))
    );
    cancel(p, "rita").await;
    let r = revenue(dev, p).await;
    assert_eq!(r["currency"], "usd");
    assert_eq!((r["mrrCents"].as_u64(), r["activeSubscriptions"].as_u64()), (Some(2900), Some(1)));
    assert_eq!(r["byTier"], json!([{"tier": "max", "subscriptions": 1, "mrrCents": 2900}]));
    let daily = r["daily"].as_array().expect("daily");
    assert_eq!(daily.len(), 90);
    let today = daily.last().expect("today");
    assert_eq!(
        (&today["newSubscriptions"], &today["cancellations"], &today["mrrCents"]),
        (&json!(2), &json!(1), &json!(2900)),
        "Stripe delivered every event twice: each counted once"
    );
    assert!(daily[..89].iter().all(|d| d["mrrCents"] == 0 && d["newSubscriptions"] == 0));
    r
}

#[tokio::test]
async fn two_purchases_and_a_cancellation_in_preview_give_the_mrr_counts_and_todays_row() {
    let dev = Developer::sign_in(json!({})).await;
    let p = dev.credentials().await;
    let r = two_purchases_and_a_cancellation(&dev, &p).await;
    assert_eq!(r["preview"], true, "in preview");
}

#[tokio::test]
async fn two_purchases_and_a_cancellation_on_a_connected_account_give_the_same() {
    let dev = Developer::sign_in(json!({})).await;
    let p = dev.credentials().await;
    dev.upgrade(&p).await;
    connect(&dev, &p).await;
    let r = two_purchases_and_a_cancellation(&dev, &p).await;
    assert!(r.get("preview").is_none(), "production");
}

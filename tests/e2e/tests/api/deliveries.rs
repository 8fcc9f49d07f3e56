//! Webhooks delivered: what reaches a developer's server (the stand-ins' receiver on
//! `DREAM_RECEIVER_URL`), signed as Standard Webhooks says, through the api worker's
//! queue; the delivery history; retries with one `webhook-id`; `410`; and the events:
//! usage alerts decided once however many calls cross a threshold at once, the
//! platform's quota alerts, purchases and cancellations, key rotations.
//!
//! The default api worker retries after 1 s, 1 s and 1 s (`WEBHOOK_RETRY_SCHEDULE` in
//! `scripts/test.sh`). Signatures are checked here with an HMAC computed from the
//! specification, not with the worker's code (the official npm library checks them too:
//! `tests/fidelity/webhooks.test.js`).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use dream_e2e::{
    all_at_once, count_status, eventually, Developer, Platform, Quotas, StripeStandIn,
};
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;

fn receiver() -> String {
    std::env::var("DREAM_RECEIVER_URL").expect("set by scripts/test.sh")
}

/// A receiver path no other test (of this run or an earlier one) uses.
fn inbox() -> String {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("time")
        .as_nanos();
    format!("inbox-{nanos}-{n}")
}

/// What the receiver `name` got so far: headers and raw body of each request.
async fn received(name: &str) -> Vec<Value> {
    let url = format!("{}/dev/received/{name}", receiver());
    let answer: Value = reqwest::get(url).await.expect("the receiver").json().await.expect("JSON");
    answer["requests"].as_array().cloned().unwrap_or_default()
}

/// Waits until the receiver `name` has `n` requests (30 s at most), then 2 s more so
/// that one too many would show, and returns them.
async fn settled(name: &str, n: usize) -> Vec<Value> {
    let what = format!("{name} receiving {n} requests");
    dream_e2e::eventually(&what, || received(name), |requests| requests.len() >= n).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    received(name).await
}

async fn answer_with(name: &str, statuses: &[u16]) {
    let resp = reqwest::Client::new()
        .put(format!("{}/dev/answers/{name}", receiver()))
        .json(&json!({ "statuses": statuses }))
        .send()
        .await
        .expect("the receiver");
    assert_eq!(resp.status(), 204);
}

fn body(request: &Value) -> Value {
    serde_json::from_str(request["body"].as_str().expect("a body")).expect("a JSON body")
}

fn header<'a>(request: &'a Value, name: &str) -> &'a str {
    request["headers"][name].as_str().unwrap_or_else(|| panic!("no {name} in {request}"))
}

/// `v1,` + base64 HMAC-SHA256 of `"{id}.{timestamp}.{body}"`, keyed by the secret's
/// base64 part: the specification's signature, computed here.
fn expected_signature(secret: &str, request: &Value) -> String {
    use hmac::{Hmac, Mac};
    let key = STANDARD.decode(secret.trim_start_matches("whsec_")).expect("a base64 secret");
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(&key).expect("any key");
    let signed = format!(
        "{}.{}.{}",
        header(request, "webhook-id"),
        header(request, "webhook-timestamp"),
        request["body"].as_str().expect("a body")
    );
    mac.update(signed.as_bytes());
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// Adds an endpoint at the receiver `name` for `events`; its id and secret.
async fn endpoint(platform: &Platform, name: &str, events: &[&str]) -> (String, String) {
    let url = format!("{}/{name}", receiver());
    let created = platform
        .call(Method::POST, "/v1/webhooks")
        .json(&json!({ "url": url, "events": events }))
        .send()
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let field = |f: &str| created.body[f].as_str().expect(f).to_owned();
    (field("id"), field("secret"))
}

async fn deliveries(platform: &Platform, id: &str) -> Vec<Value> {
    let answer = platform.call(Method::GET, &format!("/v1/webhooks/{id}/deliveries")).send().await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.body["deliveries"].as_array().cloned().expect("deliveries")
}

async fn send_test(platform: &Platform, id: &str) -> String {
    let sent = platform.call(Method::POST, &format!("/v1/webhooks/{id}/test")).send().await;
    assert_eq!(sent.status, 202, "{}", sent.body);
    sent.body["messageId"].as_str().expect("messageId").to_owned()
}

#[tokio::test]
async fn a_test_message_arrives_signed_as_standard_webhooks_says_and_the_history_shows_it_delivered(
) {
    let p = Platform::register(Quotas::Default).await;
    let name = inbox();
    let (id, secret) = endpoint(&p, &name, &["key.rotated"]).await;
    let message_id = send_test(&p, &id).await;
    assert!(message_id.starts_with("msg_") && message_id.len() == 28, "{message_id}");

    let got = settled(&name, 1).await;
    assert_eq!(got.len(), 1, "{got:?}");
    let request = &got[0];
    assert_eq!(header(request, "webhook-id"), message_id);
    assert_eq!(header(request, "content-type"), "application/json");
    let sent_at: i64 = header(request, "webhook-timestamp").parse().expect("Unix seconds");
    assert!((sent_at - dream_e2e::now_seconds()).abs() < 60, "{sent_at}");
    assert_eq!(header(request, "webhook-signature"), expected_signature(&secret, request));
    let sent = body(request);
    assert_eq!(sent["type"], "webhook.test");
    assert_eq!(sent["data"], json!({}));
    assert!(sent["timestamp"].as_str().is_some_and(|t| t.ends_with('Z')), "{sent}");

    let history = deliveries(&p, &id).await;
    assert_eq!(history.len(), 1, "{history:?}");
    assert_eq!(history[0]["messageId"], message_id);
    assert_eq!(history[0]["type"], "webhook.test");
    assert_eq!(history[0]["attempts"], 1);
    assert_eq!(history[0]["lastStatus"], 200);
    assert!(history[0]["deliveredAt"].is_string(), "{history:?}");
    assert!(history[0]["nextAttemptAt"].is_null(), "{history:?}");
}

#[tokio::test]
async fn a_receiver_answering_500_twice_then_200_gets_one_message_three_times_and_the_history_says_three_attempts(
) {
    let p = Platform::register(Quotas::Default).await;
    let name = inbox();
    answer_with(&name, &[500, 500]).await;
    let (id, secret) = endpoint(&p, &name, &["webhook.test"]).await;
    let message_id = send_test(&p, &id).await;

    let got = settled(&name, 3).await;
    assert_eq!(got.len(), 3, "{got:?}");
    for request in &got {
        assert_eq!(header(request, "webhook-id"), message_id);
        assert_eq!(header(request, "webhook-signature"), expected_signature(&secret, request));
        assert_eq!(request["body"], got[0]["body"], "every attempt sends the same bytes");
    }
    let history = eventually(
        "the third attempt recorded",
        || p.call(Method::GET, &format!("/v1/webhooks/{id}/deliveries")).send(),
        |a| a.body["deliveries"][0]["deliveredAt"].is_string(),
    )
    .await;
    let record = &history.body["deliveries"][0];
    assert_eq!(record["attempts"], 3, "{record}");
    assert_eq!(record["lastStatus"], 200);
}

#[tokio::test]
async fn a_receiver_that_never_succeeds_is_given_up_after_the_last_retry() {
    let p = Platform::register(Quotas::Default).await;
    let name = inbox();
    answer_with(&name, &[503, 503, 503, 503, 503]).await;
    let (id, _) = endpoint(&p, &name, &["webhook.test"]).await;
    send_test(&p, &id).await;
    // The first attempt and three retries (1 s, 1 s, 1 s), then nothing more.
    let got = settled(&name, 4).await;
    assert_eq!(got.len(), 4, "{got:?}");
    let history = eventually(
        "the message given up",
        || p.call(Method::GET, &format!("/v1/webhooks/{id}/deliveries")).send(),
        |a| a.body["deliveries"][0]["attempts"] == 4,
    )
    .await;
    let record = &history.body["deliveries"][0];
    assert_eq!(record["lastStatus"], 503);
    assert!(record["deliveredAt"].is_null() && record["nextAttemptAt"].is_null(), "{record}");
}

#[tokio::test]
async fn an_endpoint_answering_410_is_disabled_and_gets_nothing_more() {
    let p = Platform::register(Quotas::Default).await;
    let name = inbox();
    answer_with(&name, &[410]).await;
    let (id, _) = endpoint(&p, &name, &["key.rotated", "webhook.test"]).await;
    send_test(&p, &id).await;
    let listed = eventually(
        "the endpoint disabled",
        || p.call(Method::GET, "/v1/webhooks").send(),
        |a| a.body["endpoints"][0]["disabled"] == true,
    )
    .await;
    assert_eq!(listed.body["endpoints"][0]["id"], id);
    let again = p.call(Method::POST, &format!("/v1/webhooks/{id}/test")).send().await;
    again.assert_error(409, "conflict");
    let rotated =
        p.call(Method::POST, "/v1/keys/rotate").json(&json!({"graceSeconds": 60})).send().await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(received(&name).await.len(), 1, "only the attempt answered 410");
}

#[tokio::test]
async fn a_rotated_secret_signs_beside_the_new_one_and_a_deleted_endpoint_gets_nothing_pending() {
    let p = Platform::register(Quotas::Default).await;
    let name = inbox();
    let (id, old) = endpoint(&p, &name, &["webhook.test"]).await;
    let rotated = p.call(Method::POST, &format!("/v1/webhooks/{id}/rotate-secret")).send().await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let new = rotated.body["secret"].as_str().expect("secret").to_owned();
    send_test(&p, &id).await;
    let got = settled(&name, 1).await;
    let signatures: Vec<&str> = header(&got[0], "webhook-signature").split(' ').collect();
    assert_eq!(
        signatures,
        [expected_signature(&new, &got[0]), expected_signature(&old, &got[0])],
        "the new secret's signature first, then the old one's"
    );

    // A message that keeps failing (four attempts over about 3 s), its endpoint deleted
    // after the first: nothing arrives after the deletion.
    let name = inbox();
    answer_with(&name, &[500, 500, 500, 500]).await;
    let (id, _) = endpoint(&p, &name, &["webhook.test"]).await;
    send_test(&p, &id).await;
    while received(&name).await.is_empty() {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let deleted = p.call(Method::DELETE, &format!("/v1/webhooks/{id}")).send().await;
    assert_eq!(deleted.status, 204, "{}", deleted.body);
    let at_deletion = received(&name).await.len();
    assert!(at_deletion < 4, "every attempt was made before the deletion");
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(
        received(&name).await.len(),
        at_deletion,
        "the retries were dropped with the endpoint"
    );
}

/// The requests of `got` with `type`, as parsed bodies.
fn of_type(got: &[Value], kind: &str) -> Vec<Value> {
    got.iter().map(body).filter(|b| b["type"] == kind).collect()
}

#[tokio::test]
async fn three_hundred_simultaneous_tracks_raise_the_80_and_100_percent_alerts_exactly_once_each() {
    let developer = Developer::sign_in(json!({})).await;
    let p = developer.credentials().await;
    developer.upgrade(&p).await;
    let tiers =
        p.put_tiers(json!([{"id": "free", "name": "Free", "priceCents": 0, "limit": 10}])).await;
    assert_eq!(tiers.status, 200, "{}", tiers.body);
    let alerts =
        p.call(Method::PUT, "/v1/alerts").json(&json!({"thresholds": [100, 80]})).send().await;
    assert_eq!(alerts.status, 200, "{}", alerts.body);
    let name = inbox();
    let (_, secret) = endpoint(&p, &name, &["usage.threshold_reached"]).await;

    let answers = all_at_once(300, |_| p.track("alice")).await;
    assert_eq!(count_status(&answers, 200), 10);
    let got = settled(&name, 2).await;
    let alerts = of_type(&got, "usage.threshold_reached");
    assert_eq!(alerts.len(), 2, "{got:?}");
    let mut thresholds: Vec<(u64, u64)> = alerts
        .iter()
        .map(|a| {
            assert_eq!(a["data"]["userId"], "alice");
            assert_eq!(a["data"]["plan"], "free");
            let threshold = a["data"]["threshold"].as_u64().expect("threshold");
            (threshold, a["data"]["usage"]["count"].as_u64().expect("count"))
        })
        .collect();
    thresholds.sort_unstable();
    assert_eq!(thresholds, [(80, 8), (100, 10)]);
    for request in &got {
        assert_eq!(header(request, "webhook-signature"), expected_signature(&secret, request));
    }
    assert_eq!(p.track("bob").await.status, 200, "another end-user's first call alerts nothing");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(received(&name).await.len(), 2);
}

#[tokio::test]
async fn the_platform_quota_alerts_fire_once_each_however_many_end_users_call_at_once() {
    // The default api worker's free plan meters 5 calls a month: 4 is 80 %, 5 is 100 %.
    let p = Platform::register(Quotas::Default).await;
    let name = inbox();
    endpoint(&p, &name, &["platform.quota_threshold_reached", "usage.threshold_reached"]).await;
    let answers = all_at_once(300, |i| p.track_body(json!({"userId": format!("user-{i}")}))).await;
    assert_eq!(count_status(&answers, 200), 5);
    let got = settled(&name, 2).await;
    let quota = of_type(&got, "platform.quota_threshold_reached");
    let mut thresholds: Vec<(u64, u64)> = quota
        .iter()
        .map(|a| {
            assert_eq!(a["data"]["plan"], "free");
            assert_eq!(a["data"]["usage"]["limit"], 5);
            (
                a["data"]["threshold"].as_u64().expect("threshold"),
                a["data"]["usage"]["count"].as_u64().expect("count"),
            )
        })
        .collect();
    thresholds.sort_unstable();
    assert_eq!(thresholds, [(80, 4), (100, 5)]);
    assert_eq!(got.len(), 2, "no end-user reached a threshold of their own: {got:?}");
}

#[tokio::test]
async fn a_rotation_sends_key_rotated_with_the_previous_keys_end() {
    let p = Platform::register(Quotas::Default).await;
    let name = inbox();
    endpoint(&p, &name, &["key.rotated"]).await;
    let rotated =
        p.call(Method::POST, "/v1/keys/rotate").json(&json!({"graceSeconds": 3600})).send().await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let got = settled(&name, 1).await;
    assert_eq!(got.len(), 1, "{got:?}");
    let sent = body(&got[0]);
    assert_eq!(sent["type"], "key.rotated");
    assert_eq!(sent["data"]["previousKeyExpiresAt"], rotated.body["previousKeyExpiresAt"]);
}

#[tokio::test]
async fn a_purchase_and_a_cancellation_through_stripe_send_subscription_created_and_canceled() {
    let developer = Developer::sign_in(json!({})).await;
    let p = developer.credentials().await;
    developer.upgrade(&p).await;
    let tiers = p
        .put_tiers(json!([
            {"id": "free", "name": "Free", "priceCents": 0, "limit": 5},
            {"id": "pro", "name": "Pro", "priceCents": 900, "limit": 50},
        ]))
        .await;
    assert_eq!(tiers.status, 200, "{}", tiers.body);
    let name = inbox();
    endpoint(&p, &name, &["subscription.created", "subscription.canceled"]).await;
    let stripe = StripeStandIn::from_env();
    let checkout = p
        .call(Method::POST, "/v1/checkout")
        .json(&json!({"userId": "carol", "tier": "pro", "successUrl": "https://app.example/ok",
            "cancelUrl": "https://app.example/no"}))
        .send()
        .await;
    assert_eq!(checkout.status, 200, "{}", checkout.body);
    stripe.pay(checkout.body["url"].as_str().expect("url")).await;
    eventually("the upgrade to Pro", || p.usage("carol"), |a| a.body["plan"] == "pro").await;
    let portal = p
        .call(Method::POST, "/v1/portal")
        .json(&json!({"userId": "carol", "returnUrl": "https://app.example/account"}))
        .send()
        .await;
    assert_eq!(portal.status, 200, "{}", portal.body);
    stripe.cancel_in_portal(portal.body["url"].as_str().expect("url")).await;
    eventually("the fall back to Free", || p.usage("carol"), |a| a.body["plan"] == "free").await;

    let got = settled(&name, 2).await;
    // Deliveries carry no order (Standard Webhooks promises none): compare them sorted.
    let mut data: Vec<(String, Value)> = got
        .iter()
        .map(body)
        .map(|b| (b["type"].as_str().unwrap_or_default().to_owned(), b["data"].clone()))
        .collect();
    data.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        data,
        [
            (
                "subscription.canceled".to_owned(),
                json!({"userId": "carol", "tier": "free", "previousTier": "pro"})
            ),
            (
                "subscription.created".to_owned(),
                json!({"userId": "carol", "tier": "pro", "previousTier": "free"})
            ),
        ],
        "each once, though Stripe delivered every event twice"
    );
}

#[tokio::test]
async fn the_dashboards_backend_sends_a_test_and_shows_its_history_for_the_developers_platform() {
    let developer = Developer::sign_in(json!({})).await;
    let p = developer.credentials().await;
    let name = inbox();
    let url = format!("{}/{name}", receiver());
    let created =
        developer.call(Method::POST, "/v1/webhooks").json(&json!({ "url": url })).send().await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["id"].as_str().expect("id");
    let sent = developer.call(Method::POST, &format!("/v1/webhooks/{id}/test")).send().await;
    assert_eq!(sent.status, 202, "{}", sent.body);
    settled(&name, 1).await;
    let history = eventually(
        "the delivery recorded",
        || developer.call(Method::GET, &format!("/v1/webhooks/{id}/deliveries?limit=1")).send(),
        |a| a.body["deliveries"][0]["deliveredAt"].is_string(),
    )
    .await;
    assert_eq!(history.body["deliveries"][0]["messageId"], sent.body["messageId"]);
    // The same endpoint through the api worker with the key.
    assert_eq!(deliveries(&p, id).await.len(), 1);
    // Another platform's endpoint id is not found, through either door.
    let other = Platform::register(Quotas::Default).await;
    for path in [format!("/v1/webhooks/{id}/test"), format!("/v1/webhooks/{id}/deliveries")] {
        let method = if path.ends_with("test") { Method::POST } else { Method::GET };
        other.call(method, &path).send().await.assert_error(404, "not_found");
    }
    p.call(Method::GET, &format!("/v1/webhooks/{id}/deliveries?limit=0"))
        .send()
        .await
        .assert_error(400, "invalid_request");
}

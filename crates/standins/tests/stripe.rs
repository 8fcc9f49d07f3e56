//! The Stripe stand-in's API over HTTP: objects, hosted checkout and portal, events,
//! idempotency, parameters it does not take, delays and faults.

mod common;

use axum::http::StatusCode;
use common::*;
use dream_standins::stripe::Delivery;
use serde_json::{json, Value};
use std::time::Duration;

#[tokio::test]
async fn paying_a_checkout_creates_a_subscription_and_delivers_signed_events_in_order() {
    let s = Setup::start(Delivery::default(), 0).await;
    let price = s.price(900).await;
    let session = s.checkout(&price).await;
    let location = s.pay(&session).await;
    assert_eq!(
        location,
        format!("http://127.0.0.1:8790/done?session={}", session["id"].as_str().expect("id"))
    );
    let events = s.wait_for_events(2).await;
    assert_eq!(kinds(&events), ["customer.subscription.created", "checkout.session.completed"]);
    let completed = &events[1]["data"]["object"];
    assert_eq!(completed["client_reference_id"], "user_1");
    assert_eq!(completed["status"], "complete");
    let subscription = &events[0]["data"]["object"];
    assert_eq!(completed["subscription"], subscription["id"]);
    assert_eq!(subscription["metadata"]["reference"], "user_1");
    assert_eq!(subscription["items"]["data"][0]["price"]["id"], price.as_str());
    assert!(
        events.iter().all(|e| e.get("account").is_none()),
        "the platform's own events name no account"
    );
}

#[tokio::test]
async fn cancelling_in_the_billing_portal_cancels_the_subscription_and_says_so() {
    let s = Setup::start(Delivery::default(), 0).await;
    let price = s.price(900).await;
    let session = s.checkout(&price).await;
    s.pay(&session).await;
    let events = s.wait_for_events(2).await;
    let subscription = events[0]["data"]["object"]["id"].as_str().expect("id").to_string();
    let customer = events[0]["data"]["object"]["customer"].clone();
    let (status, portal, _) = s
        .post(
            "/v1/billing_portal/sessions",
            json!({"customer": customer, "return_url": "http://127.0.0.1:8790/settings"}),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{portal}");
    let page = s
        .http
        .get(portal["url"].as_str().expect("url"))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(page.contains(&subscription) && page.contains("Cancel"));
    let back = s.cancel_in_portal(&portal, &subscription).await;
    assert_eq!(back, "http://127.0.0.1:8790/settings");
    let events = s.wait_for_events(3).await;
    assert_eq!(events[2]["type"], "customer.subscription.deleted");
    assert_eq!(events[2]["data"]["object"]["status"], "canceled");
}

#[tokio::test]
async fn bad_parameters_get_stripes_error_shape() {
    let s = Setup::start(Delivery::default(), 0).await;
    let (status, body, _) = s.post("/v1/products", json!({}), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["type"], "invalid_request_error");
    assert_eq!(body["error"]["code"], "parameter_missing");
    assert_eq!(body["error"]["param"], "name");
    let (status, body, _) = s
        .post("/v1/checkout/sessions", json!({"mode": "subscription", "success_url": "http://x", "line_items": [{"price": "price_nope"}]}), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "resource_missing");
    let resp = s
        .http
        .post(format!("{}/v1/products", s.base))
        .bearer_auth("sk_test_wrong")
        .send()
        .await
        .expect("answer");
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_idempotency_key_replays_the_first_answer_and_creates_nothing_twice() {
    let s = Setup::start(Delivery::default(), 0).await;
    let (_, first, _) = s.post("/v1/products", json!({"name": "Pro"}), Some("key-1")).await;
    let (_, again, headers) = s.post("/v1/products", json!({"name": "Pro"}), Some("key-1")).await;
    assert_eq!(first, again);
    assert_eq!(headers["idempotent-replayed"], "true");
    let (_, other, _) = s.post("/v1/products", json!({"name": "Pro"}), Some("key-2")).await;
    assert_ne!(other["id"], first["id"]);
}

#[tokio::test]
async fn a_request_named_for_a_delay_is_answered_no_sooner_than_the_delay() {
    let s = Setup::start(Delivery::default(), 0).await;
    let set = s
        .http
        .post(format!("{}/dev/delays", s.base))
        .json(&json!({"name": "Slow", "ms": 400}))
        .send()
        .await
        .expect("answer");
    assert!(set.status().is_success());
    let started = std::time::Instant::now();
    let (status, _, _) = s.post("/v1/products", json!({"name": "Pro"}), None).await;
    assert_eq!(
        (status.as_u16(), started.elapsed() < std::time::Duration::from_millis(300)),
        (200, true)
    );
    let started = std::time::Instant::now();
    let (status, product, _) = s.post("/v1/products", json!({"name": "Slow"}), None).await;
    assert_eq!(status.as_u16(), 200);
    assert_eq!(product["name"], "Slow");
    assert!(started.elapsed() >= std::time::Duration::from_millis(400));
}

#[tokio::test]
async fn deliveries_can_be_doubled_and_reversed() {
    let s = Setup::start(Delivery { twice: true, reversed: true }, 0).await;
    let price = s.price(900).await;
    s.pay(&s.checkout(&price).await).await;
    let events = s.wait_for_events(4).await;
    assert_eq!(
        kinds(&events),
        [
            "checkout.session.completed",
            "checkout.session.completed",
            "customer.subscription.created",
            "customer.subscription.created"
        ]
    );
    assert_eq!(events[0]["id"], events[1]["id"], "a double delivery repeats the same event");
}

#[tokio::test]
async fn a_failed_delivery_is_retried() {
    let s = Setup::start(Delivery::default(), 2).await;
    let price = s.price(900).await;
    s.pay(&s.checkout(&price).await).await;
    let events = s.wait_for_events(2).await;
    assert_eq!(kinds(&events), ["customer.subscription.created", "checkout.session.completed"]);
}

// Parameters: what each endpoint takes, and Stripe's refusal of anything else.

fn assert_unknown(status: StatusCode, body: &Value, param: &str) {
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(
        body["error"],
        json!({
            "type": "invalid_request_error",
            "message": format!("Received unknown parameter: {param}"),
            "param": param,
        })
    );
}

#[tokio::test]
async fn a_misspelt_parameter_is_refused_by_name_and_creates_nothing() {
    let s = Setup::start(Delivery::default(), 0).await;
    let price = s.price(900).await;
    let checkout = |line_item: Value| json!({"mode": "subscription", "success_url": "http://x", "line_items": [line_item]});
    let (status, body, _) =
        s.post("/v1/checkout/sessions", checkout(json!({"prise": price})), Some("k-typo")).await;
    assert_unknown(status, &body, "line_items[0][prise]");
    let mut misspelt = checkout(json!({"price": price}));
    misspelt["subscription_data"] = json!({"metdata": {"userId": "u1"}});
    let (status, body, _) = s.post("/v1/checkout/sessions", misspelt, None).await;
    assert_unknown(status, &body, "subscription_data[metdata]");
    let (status, body, _) =
        s.post("/v1/products", json!({"name": "Pro", "descripton": "x"}), None).await;
    assert_unknown(status, &body, "descripton");

    // A refused request is not an idempotent answer: the key still creates, once.
    let (status, session, headers) =
        s.post("/v1/checkout/sessions", checkout(json!({"price": price})), Some("k-typo")).await;
    assert_eq!(status, StatusCode::OK, "{session}");
    assert!(headers.get("idempotent-replayed").is_none());
}

#[tokio::test]
async fn a_retrieval_takes_expand_but_no_other_parameter() {
    let s = Setup::start(Delivery::default(), 0).await;
    let price = s.price(900).await;
    let (status, _) = s.get_as(None, &format!("/v1/prices/{price}?expand[]=product")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = s.get_as(None, &format!("/v1/prices/{price}?limit=3")).await;
    assert_unknown(status, &body, "limit");
}

#[tokio::test]
async fn every_parameter_the_workers_send_is_taken() {
    use dream_core::billing::{plan_prices, BillingAccount, CheckoutRequest, PricedTiers};
    use dream_core::ids::{PlatformId, UserId};
    use dream_core::tier::TierConfig;

    let s = Setup::start(Delivery::default(), 0).await;
    let platform = PlatformId::parse("plt_0123456789ab").expect("id");
    let tiers = TierConfig::from_request(&[
        json!({"id": "free", "name": "Free", "priceCents": 0, "limit": 10}),
        json!({"id": "pro", "name": "Pro", "priceCents": 900, "limit": 1000}),
    ])
    .expect("tiers");
    let previous = PricedTiers { config: TierConfig::default_for_new_platform(), account: None };
    let (_, to_create) = plan_prices(&platform, &previous, &tiers, &BillingAccount::Ours);
    let item = to_create.first().expect("a paid tier to price");
    let (status, product, _) =
        s.post("/v1/products", item.product.clone(), Some(&item.product_key)).await;
    assert_eq!(status, StatusCode::OK, "{product}");
    let mut price = item.price.clone();
    price["product"] = product["id"].clone();
    let (status, price, _) = s.post("/v1/prices", price, Some(&item.price_key)).await;
    assert_eq!(status, StatusCode::OK, "{price}");
    let price_id = price["id"].as_str().expect("id");

    let user = UserId::parse("user_1").expect("id");
    let tier = tiers.find("pro").expect("pro");
    let end_user = CheckoutRequest {
        platform: &platform,
        user: &user,
        tier,
        price_id,
        success_url: "http://127.0.0.1:8790/paid",
        cancel_url: "http://127.0.0.1:8790/",
        email: Some("end@example.com"),
        customer: None,
    };
    let plan = dream_core::platform::plan_checkout_params(
        &platform,
        price_id,
        "http://127.0.0.1:8790/dashboard",
        "http://127.0.0.1:8790/dashboard",
        Some("dev@example.com"),
    );
    for params in [end_user.params(), plan] {
        let (status, body, _) = s.post("/v1/checkout/sessions", params, Some("k")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let onboarding = json!({"type": "standard", "email": "dev@example.com",
        "metadata": {"platformId": platform.as_str()}});
    let (status, account, _) = s.post("/v1/accounts", onboarding, Some("onboarding:plt")).await;
    assert_eq!(status, StatusCode::OK, "{account}");
    let link = json!({"account": account["id"], "refresh_url": "http://r", "return_url": "http://t",
        "type": "account_onboarding"});
    let (status, body, _) = s.post("/v1/account_links", link, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

// Faults on demand.

async fn fault(s: &Setup, spec: Value) -> Value {
    let resp = s.http.post(format!("{}/dev/faults", s.base)).json(&spec).send().await.expect("set");
    assert_eq!(resp.status(), StatusCode::OK);
    resp.json().await.expect("JSON")
}

#[tokio::test]
async fn a_fault_fails_the_next_matching_requests_in_stripes_shape_and_records_nothing() {
    let s = Setup::start(Delivery::default(), 0).await;
    let set =
        fault(&s, json!({"method": "POST", "path": "/v1/products", "status": 500, "count": 2}))
            .await;
    assert_eq!((&set["remaining"], &set["hits"]), (&json!(2), &json!(0)));
    for _ in 0..2 {
        let (status, body, _) = s.post("/v1/products", json!({"name": "Pro"}), Some("k1")).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(body["error"]["type"], "api_error", "{body}");
        assert!(body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    let (status, product, headers) =
        s.post("/v1/products", json!({"name": "Pro"}), Some("k1")).await;
    assert_eq!(status, StatusCode::OK, "the fault was used up: {product}");
    assert!(headers.get("idempotent-replayed").is_none(), "the failures were not recorded");
    let listed: Value = s
        .http
        .get(format!("{}/dev/faults", s.base))
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("JSON");
    assert_eq!(
        (&listed["data"][0]["hits"], &listed["data"][0]["remaining"]),
        (&json!(2), &json!(0))
    );
}

#[tokio::test]
async fn a_fault_with_contains_fails_only_requests_carrying_that_text_until_cleared() {
    let s = Setup::start(Delivery::default(), 0).await;
    let set = fault(
        &s,
        json!({"path": "/v1/products", "status": 503, "contains": "plt_mine", "count": 100}),
    )
    .await;
    let mine = json!({"name": "Pro", "metadata": {"platformId": "plt_mine"}});
    let theirs = json!({"name": "Pro", "metadata": {"platformId": "plt_theirs"}});
    assert_eq!(s.post("/v1/products", mine.clone(), None).await.0, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(s.post("/v1/products", theirs, None).await.0, StatusCode::OK);
    let cleared = s
        .http
        .delete(format!("{}/dev/faults/{}", s.base, set["id"].as_str().expect("id")))
        .send()
        .await
        .expect("clear");
    assert_eq!(cleared.json::<Value>().await.expect("JSON")["cleared"], 1);
    assert_eq!(s.post("/v1/products", mine, None).await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_delaying_fault_answers_late_and_then_for_real() {
    let s = Setup::start(Delivery::default(), 0).await;
    fault(&s, json!({"path": "/v1/products", "ms": 300})).await;
    let started = std::time::Instant::now();
    let (status, _, _) = s.post("/v1/products", json!({"name": "Pro"}), None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_millis(300));
    let started = std::time::Instant::now();
    s.post("/v1/products", json!({"name": "Pro"}), None).await;
    assert!(started.elapsed() < Duration::from_millis(300), "one request only");
}

#[tokio::test]
async fn a_fault_that_could_never_fire_or_is_not_a_5xx_is_refused() {
    let s = Setup::start(Delivery::default(), 0).await;
    for spec in [json!({"path": "/v1/products", "status": 404}), json!({"path": "/v1/products"})] {
        let resp =
            s.http.post(format!("{}/dev/faults", s.base)).json(&spec).send().await.expect("set");
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{spec}");
    }
    let cleared = s.http.delete(format!("{}/dev/faults", s.base)).send().await.expect("clear");
    assert_eq!(cleared.json::<Value>().await.expect("JSON")["cleared"], 0);
}

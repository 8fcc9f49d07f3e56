//! The Stripe stand-in over HTTP, with a webhook receiver that checks every signature
//! with dream-core's verifier.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use dream_core::stripe::{verify, WebhookSecret};
use dream_core::stripe_form;
use dream_standins::stripe::{Delivery, Stripe, DEV_SECRET_KEY, DEV_WEBHOOK_SECRET};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Events received, in arrival order; the first `fail_first` deliveries get a 500.
#[derive(Clone, Default)]
struct Receiver {
    events: Arc<Mutex<Vec<Value>>>,
    fail_first: Arc<Mutex<usize>>,
}

async fn receive(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    {
        let mut fail = r.fail_first.lock().expect("lock");
        if *fail > 0 {
            *fail -= 1;
            return StatusCode::INTERNAL_SERVER_ERROR;
        }
    }
    let signature = headers["stripe-signature"].to_str().expect("ascii");
    let now =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("time").as_secs()
            as i64;
    if verify(&WebhookSecret::new(DEV_WEBHOOK_SECRET), signature, &body, now).is_err() {
        return StatusCode::BAD_REQUEST;
    }
    r.events.lock().expect("lock").push(serde_json::from_slice(&body).expect("JSON event"));
    StatusCode::OK
}

struct Setup {
    base: String,
    http: reqwest::Client,
    received: Receiver,
}

async fn listen(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    base
}

impl Setup {
    async fn start(delivery: Delivery, fail_first: usize) -> Self {
        let received =
            Receiver { fail_first: Arc::new(Mutex::new(fail_first)), ..Receiver::default() };
        let hook =
            listen(axum::Router::new().route("/hook", post(receive)).with_state(received.clone()))
                .await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let stripe = Stripe::new(
            DEV_SECRET_KEY.into(),
            DEV_WEBHOOK_SECRET.into(),
            vec![format!("{hook}/hook")],
            base.clone(),
            delivery,
        );
        let app = stripe.router();
        tokio::spawn(async move { axum::serve(listener, app).await });
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Self { base, http, received }
    }

    async fn post(
        &self,
        path: &str,
        params: Value,
        idempotency_key: Option<&str>,
    ) -> (StatusCode, Value, HeaderMap) {
        let mut req = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(DEV_SECRET_KEY)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(stripe_form::encode(&params));
        if let Some(key) = idempotency_key {
            req = req.header("Idempotency-Key", key);
        }
        let resp = req.send().await.expect("answer");
        let (status, headers) = (resp.status(), resp.headers().clone());
        (status, resp.json().await.expect("JSON"), headers)
    }

    async fn price(&self, cents: u32) -> String {
        let (_, product, _) = self.post("/v1/products", json!({"name": "Pro"}), None).await;
        let (status, price, _) = self
            .post(
                "/v1/prices",
                json!({"product": product["id"], "unit_amount": cents, "currency": "usd", "recurring": {"interval": "month"}}),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{price}");
        price["id"].as_str().expect("id").to_string()
    }

    async fn checkout(&self, price: &str) -> Value {
        let (status, session, _) = self
            .post(
                "/v1/checkout/sessions",
                json!({
                    "mode": "subscription",
                    "line_items": [{"price": price, "quantity": 1}],
                    "success_url": "http://127.0.0.1:8790/done?session={CHECKOUT_SESSION_ID}",
                    "cancel_url": "http://127.0.0.1:8790/cancelled",
                    "client_reference_id": "user_1",
                    "subscription_data": {"metadata": {"reference": "user_1"}},
                }),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{session}");
        session
    }

    async fn pay(&self, session: &Value) -> String {
        let url = session["url"].as_str().expect("url");
        let page = self.http.get(url).send().await.expect("page").text().await.expect("html");
        assert!(page.contains("Pay") && page.contains("$9.00"), "{page}");
        let resp = self.http.post(url).send().await.expect("pay");
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        resp.headers()["location"].to_str().expect("ascii").to_string()
    }

    async fn wait_for_events(&self, n: usize) -> Vec<Value> {
        for _ in 0..100 {
            let events = self.received.events.lock().expect("lock").clone();
            if events.len() >= n {
                return events;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("expected {n} events, got {:?}", self.received.events.lock().expect("lock"));
    }
}

fn kinds(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["type"].as_str().expect("type")).collect()
}

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
    let resp = s
        .http
        .post(format!("{}/cancel/{subscription}", portal["url"].as_str().expect("url")))
        .send()
        .await
        .expect("cancel");
    assert_eq!(resp.headers()["location"], "http://127.0.0.1:8790/settings");
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
